"""StackSets from the administrator account: the stack set, its instances, operations and their results.

Every function takes the CloudFormation client of the administrator account in the StackSet's home
region and `call_as` ("SELF", or "DELEGATED_ADMIN" for a delegated administrator of a
service-managed StackSet). Operations are asynchronous: each call that starts one returns its id,
and `wait_for_operation` polls it with payctl's poller.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from payctl.aws.errors import aws_errors, error_code, translate
from payctl.aws.poll import Backoff, poll
from payctl.errors import AwsError

OPERATION_BACKOFF = Backoff(first=1.0, factor=1.5, ceiling=10.0, deadline=4 * 3600.0)
OPERATION_FINAL = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})
# StackSets in SELF_MANAGED mode: the names AWS looks the roles up by.
ADMINISTRATION_ROLE = "AWSCloudFormationStackSetAdministrationRole"
EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"


class OperationInProgress(AwsError):
    """CloudFormation refused a new operation because another one runs on the StackSet."""


_IN_PROGRESS_CODES = frozenset({"OperationInProgressException", "OperationInProgress"})


def _starting(doing: str, start: Callable[[], dict[str, Any]]) -> str:
    """Start an operation; OperationInProgress when one runs already (the caller waits and retries)."""
    try:
        return str(start()["OperationId"])
    except ClientError as error:
        if error_code(error) in _IN_PROGRESS_CODES:
            raise OperationInProgress(f"{doing}: another operation is running") from error
        raise translate(error, doing) from error


@dataclass(frozen=True)
class StackSetInfo:
    name: str
    stack_set_id: str
    status: str
    template_body: str
    parameters: dict[str, str]
    permission_model: str
    managed_execution: bool


@dataclass(frozen=True)
class InstanceInfo:
    """A stack instance: ListStackInstances gives no overrides (None), DescribeStackInstance does."""

    account: str
    region: str
    status: str  # CURRENT, OUTDATED, INOPERABLE
    detailed_status: str  # PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, INOPERABLE, SKIPPED_SUSPENDED_ACCOUNT
    reason: str
    stack_id: str | None
    last_operation_id: str | None
    overrides: dict[str, str] | None = None

    @property
    def failed(self) -> bool:
        return self.detailed_status in ("FAILED", "CANCELLED", "INOPERABLE")


@dataclass(frozen=True)
class OperationInfo:
    operation_id: str
    action: str
    status: str  # QUEUED, RUNNING, SUCCEEDED, FAILED, STOPPING, STOPPED
    status_reason: str
    failed_instances: int

    @property
    def finished(self) -> bool:
        return self.status in OPERATION_FINAL


@dataclass(frozen=True)
class InstanceResult:
    """One row of ListStackSetOperationResults."""

    account: str
    region: str
    status: str  # PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED
    reason: str


@dataclass(frozen=True)
class StackSetRequest:
    """Everything CreateStackSet/UpdateStackSet take from payctl."""

    name: str
    description: str
    parameters: dict[str, str]
    tags: dict[str, str]
    capabilities: tuple[str, ...]
    permission_model: str  # SELF_MANAGED or SERVICE_MANAGED
    administration_role_arn: str | None
    execution_role_name: str | None
    template_body: str | None = None
    template_url: str | None = None
    call_as: str = "SELF"
    preferences: dict[str, Any] = field(default_factory=dict)


def _call_as(call_as: str) -> dict[str, str]:
    # Only a delegated administrator must say so; SELF is the default and what plain accounts use.
    return {"CallAs": call_as} if call_as != "SELF" else {}


def _parameters(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def describe_stack_set(cfn: Any, name: str, call_as: str = "SELF") -> StackSetInfo | None:
    try:
        raw = cfn.describe_stack_set(StackSetName=name, **_call_as(call_as))["StackSet"]
    except ClientError as error:
        if error_code(error) in ("StackSetNotFoundException", "StackSetNotFound"):
            return None
        raise translate(error, f"describing StackSet {name}") from error
    if raw.get("Status") == "DELETED":
        return None
    return StackSetInfo(
        name=str(raw.get("StackSetName", name)),
        stack_set_id=str(raw.get("StackSetId", "")),
        status=str(raw.get("Status", "")),
        template_body=str(raw.get("TemplateBody", "")),
        parameters={p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in raw.get("Parameters", [])},
        permission_model=str(raw.get("PermissionModel", "SELF_MANAGED")),
        managed_execution=bool((raw.get("ManagedExecution") or {}).get("Active", False)),
    )


def _stack_set_arguments(request: StackSetRequest) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "StackSetName": request.name,
        "Description": request.description[:1024],
        "Parameters": _parameters(request.parameters),
        "Tags": [{"Key": key, "Value": value} for key, value in request.tags.items()],
        "Capabilities": list(request.capabilities),
        "PermissionModel": request.permission_model,
        # Queue operations instead of refusing them while one runs (each instance's overrides are
        # their own operation).
        "ManagedExecution": {"Active": True},
        **_call_as(request.call_as),
    }
    if request.template_url:
        arguments["TemplateURL"] = request.template_url
    else:
        arguments["TemplateBody"] = request.template_body
    if request.permission_model == "SELF_MANAGED":
        arguments["AdministrationRoleARN"] = request.administration_role_arn
        arguments["ExecutionRoleName"] = request.execution_role_name
    else:
        # Instances are added explicitly per account (each with its own overrides), never by
        # Organizations moving an account into an OU.
        arguments["AutoDeployment"] = {"Enabled": False}
    return arguments


def create_stack_set(cfn: Any, request: StackSetRequest) -> str:
    with aws_errors(f"creating StackSet {request.name}"):
        return str(cfn.create_stack_set(**_stack_set_arguments(request))["StackSetId"])


def update_stack_set(cfn: Any, request: StackSetRequest, targets: Targets | None) -> str:
    """Change template and parameters; the operation deploys them to `targets` (every instance when None)."""
    arguments = _stack_set_arguments(request)
    for key in ("PermissionModel", "AutoDeployment"):  # cannot change in place
        arguments.pop(key, None)
    arguments["OperationId"] = new_operation_id()
    if request.preferences:
        arguments["OperationPreferences"] = request.preferences
    if targets is not None:
        arguments.update(targets.arguments())
    return _starting(f"updating StackSet {request.name}", lambda: cfn.update_stack_set(**arguments))


@dataclass(frozen=True)
class Targets:
    """Which instances an operation reaches: accounts (self-managed) or OU-filtered accounts
    (service-managed), in the given regions."""

    accounts: tuple[str, ...]
    regions: tuple[str, ...]
    organizational_units: tuple[str, ...] = ()

    def arguments(self) -> dict[str, Any]:
        if self.organizational_units:
            # The accounts named, and only those, within the OUs.
            return {"DeploymentTargets": {"OrganizationalUnitIds": list(self.organizational_units),
                                          "Accounts": list(self.accounts),
                                          "AccountFilterType": "INTERSECTION"},
                    "Regions": list(self.regions)}
        return {"Accounts": list(self.accounts), "Regions": list(self.regions)}


def new_operation_id() -> str:
    """Also an idempotency token: a retried call with the same id starts the operation only once."""
    return f"payctl-{uuid.uuid4()}"


def create_stack_instances(cfn: Any, name: str, targets: Targets, overrides: dict[str, str],
                           preferences: dict[str, Any], call_as: str = "SELF") -> str:
    arguments = {"StackSetName": name, "ParameterOverrides": _parameters(overrides),
                 "OperationPreferences": preferences, "OperationId": new_operation_id(),
                 **targets.arguments(), **_call_as(call_as)}
    return _starting(f"adding instances to StackSet {name}", lambda: cfn.create_stack_instances(**arguments))


def update_stack_instances(cfn: Any, name: str, targets: Targets, overrides: dict[str, str],
                           preferences: dict[str, Any], call_as: str = "SELF") -> str:
    arguments = {"StackSetName": name, "ParameterOverrides": _parameters(overrides),
                 "OperationPreferences": preferences, "OperationId": new_operation_id(),
                 **targets.arguments(), **_call_as(call_as)}
    return _starting(f"updating instances of StackSet {name}", lambda: cfn.update_stack_instances(**arguments))


def _instance(raw: dict[str, Any], with_overrides: bool) -> InstanceInfo:
    return InstanceInfo(
        account=str(raw.get("Account", "")),
        region=str(raw.get("Region", "")),
        status=str(raw.get("Status", "")),
        detailed_status=str((raw.get("StackInstanceStatus") or {}).get("DetailedStatus", "")),
        reason=str(raw.get("StatusReason", "") or ""),
        stack_id=raw.get("StackId") or None,
        last_operation_id=raw.get("LastOperationId") or None,
        overrides={p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in raw.get("ParameterOverrides", [])}
        if with_overrides else None,
    )


def list_stack_instances(cfn: Any, name: str, call_as: str = "SELF") -> list[InstanceInfo]:
    found: list[InstanceInfo] = []
    token: str | None = None
    with aws_errors(f"listing the instances of StackSet {name}"):
        while True:
            arguments: dict[str, Any] = {"StackSetName": name, **_call_as(call_as)}
            if token:
                arguments["NextToken"] = token
            page = cfn.list_stack_instances(**arguments)
            found += [_instance(raw, False) for raw in page.get("Summaries", [])]
            token = page.get("NextToken")
            if not token:
                return found


def describe_stack_instance(cfn: Any, name: str, account: str, region: str,
                            call_as: str = "SELF") -> InstanceInfo:
    with aws_errors(f"describing the instance of StackSet {name} in {account}/{region}"):
        raw = cfn.describe_stack_instance(StackSetName=name, StackInstanceAccount=account,
                                          StackInstanceRegion=region, **_call_as(call_as))["StackInstance"]
    return _instance(raw, True)


def describe_operation(cfn: Any, name: str, operation_id: str, call_as: str = "SELF") -> OperationInfo:
    with aws_errors(f"describing operation {operation_id} of StackSet {name}"):
        raw = cfn.describe_stack_set_operation(StackSetName=name, OperationId=operation_id,
                                               **_call_as(call_as))["StackSetOperation"]
    return _operation(raw, operation_id)


def _operation(raw: dict[str, Any], operation_id: str = "") -> OperationInfo:
    return OperationInfo(
        operation_id=str(raw.get("OperationId", operation_id)),
        action=str(raw.get("Action", "")),
        status=str(raw.get("Status", "")),
        status_reason=str(raw.get("StatusReason", "") or ""),
        failed_instances=int((raw.get("StatusDetails") or {}).get("FailedStackInstancesCount", 0) or 0),
    )


def list_operations(cfn: Any, name: str, wanted: set[str], call_as: str = "SELF") -> dict[str, OperationInfo]:
    """The named operations as ListStackSetOperations reports them (newest first): one call for many
    operations instead of a DescribeStackSetOperation each; paging stops once all are found."""
    found: dict[str, OperationInfo] = {}
    token: str | None = None
    with aws_errors(f"listing the operations of StackSet {name}"):
        while True:
            arguments: dict[str, Any] = {"StackSetName": name, **_call_as(call_as)}
            if token:
                arguments["NextToken"] = token
            page = cfn.list_stack_set_operations(**arguments)
            for raw in page.get("Summaries", []):
                if raw.get("OperationId") in wanted:
                    found[str(raw["OperationId"])] = _operation(raw)
            token = page.get("NextToken")
            if not token or wanted <= set(found):
                return found


def operation_results(cfn: Any, name: str, operation_id: str, call_as: str = "SELF") -> list[InstanceResult]:
    found: list[InstanceResult] = []
    token: str | None = None
    with aws_errors(f"listing the results of operation {operation_id} of StackSet {name}"):
        while True:
            arguments: dict[str, Any] = {"StackSetName": name, "OperationId": operation_id,
                                         **_call_as(call_as)}
            if token:
                arguments["NextToken"] = token
            page = cfn.list_stack_set_operation_results(**arguments)
            found += [InstanceResult(str(raw.get("Account", "")), str(raw.get("Region", "")),
                                     str(raw.get("Status", "")), str(raw.get("StatusReason", "") or ""))
                      for raw in page.get("Summaries", [])]
            token = page.get("NextToken")
            if not token:
                return found


def wait_for_operations(check: Callable[[], dict[str, OperationInfo] | None], *, what: str,
                        backoff: Backoff = OPERATION_BACKOFF,
                        sleep: Callable[[float], None] | None = None) -> dict[str, OperationInfo]:
    """Poll `check` (which describes the outstanding operations and returns them all once every one is
    final) with payctl's jittered, deadline-bounded poller."""
    if sleep is None:
        return poll(check, what=what, backoff=backoff)
    return poll(check, what=what, backoff=backoff, sleep=sleep)


def organization_id(org: Any) -> str:
    """The organization the account belongs to, or "" when it belongs to none (or may not ask)."""
    try:
        return str(org.describe_organization()["Organization"]["Id"])
    except ClientError as error:
        if error_code(error) in ("AWSOrganizationsNotInUseException", "AccessDeniedException", "AccessDenied"):
            return ""
        raise translate(error, "describing the organization") from error


def role_exists(iam: Any, name: str) -> bool:
    try:
        iam.get_role(RoleName=name)
        return True
    except ClientError as error:
        if error_code(error) in ("NoSuchEntity", "NoSuchEntityException"):
            return False
        raise translate(error, f"looking up role {name}") from error
