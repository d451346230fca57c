"""StackSets that deploy, update and report like AWS's self-managed and service-managed StackSets.

Replaces moto's StackSet behaviour (see `payctl.local.patches.stacksets` for the gaps):
instance stacks are named `StackSet-<name>-<uuid>` and really created, updated and deleted in the
target account and region; `ParameterOverrides` are merged over the StackSet's parameters;
operations run target by target with per-instance results, failure tolerance and realistic
statuses; self-managed targets need the execution role, as in AWS.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.core.utils import utcnow
from moto.moto_api._internal import mock_random

SUCCEEDED, FAILED, CANCELLED = "SUCCEEDED", "FAILED", "CANCELLED"


class StackInstanceNotFoundException(CloudFormationError):
    code = "StackInstanceNotFoundException"


class OperationIdAlreadyExistsException(CloudFormationError):
    code = "OperationIdAlreadyExistsException"


class StackInstanceRecord:
    """One stack instance: where it lives, its overrides and the stack deployed for it."""

    def __init__(self, stack_set: PayctlStackSet, account: str, region: str, ou_id: str | None) -> None:
        self.stack_set = stack_set
        self.account_id = account
        self.region_name = region
        self.organizational_unit_id = ou_id
        self.parameters: list[dict[str, Any]] = []  # ParameterOverrides, as AWS reports them
        self.stack_id: str | None = None
        self.status = "OUTDATED"
        self.detailed_status = "PENDING"
        self.status_reason: str | None = None
        self.drift_status = "NOT_CHECKED"
        self.last_drift_check: Any = None
        self.last_operation_id: str | None = None

    @property
    def overrides(self) -> dict[str, Any]:
        return {p["ParameterKey"]: p["ParameterValue"] for p in self.parameters if "ParameterValue" in p}

    @property
    def backend(self) -> Any:
        return cfn_models.cloudformation_backends[self.account_id][self.region_name]

    def stack(self) -> Any:
        if self.stack_id is None:
            return None
        stack = self.backend.stacks.get(self.stack_id)
        return stack

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "StackSetId": self.stack_set.id,
            "Region": self.region_name,
            "Account": self.account_id,
            "StackId": self.stack_id,
            "ParameterOverrides": self.parameters,
            "Status": self.status,
            "StackInstanceStatus": {"DetailedStatus": self.detailed_status},
            "StatusReason": self.status_reason,
            "DriftStatus": self.drift_status,
            "LastDriftCheckTimestamp": self.last_drift_check,
            "LastOperationId": self.last_operation_id,
        }
        if self.organizational_unit_id:
            result["OrganizationalUnitId"] = self.organizational_unit_id
        return {k: v for k, v in result.items() if v is not None}


class PayctlStackInstances:
    """Container moto's StackSet expects as `self.instances` (same constructor arguments)."""

    def __init__(self, **_: Any) -> None:
        self.stack_instances: list[StackInstanceRecord] = []

    def get_instance(self, account: str, region: str) -> StackInstanceRecord:
        for instance in self.stack_instances:
            if instance.account_id == account and instance.region_name == region:
                return instance
        raise StackInstanceNotFoundException(
            f"Stack instance for account {account} in region {region} not found"
        )

    def find(self, account: str, region: str) -> StackInstanceRecord | None:
        try:
            return self.get_instance(account, region)
        except StackInstanceNotFoundException:
            return None


def _tolerance(preferences: dict[str, Any], targets_in_region: int) -> int:
    if "FailureToleranceCount" in preferences:
        return int(preferences["FailureToleranceCount"])
    if "FailureTolerancePercentage" in preferences:
        return math.floor(int(preferences["FailureTolerancePercentage"]) * targets_in_region / 100)
    return 0


def _ordered_regions(targets: list[tuple[str, str]], preferences: dict[str, Any]) -> list[str]:
    regions = list(dict.fromkeys(region for _, region in targets))
    order = [r for r in preferences.get("RegionOrder") or [] if r in regions]
    return order + [r for r in regions if r not in order]


class PayctlStackSet(cfn_models.StackSet):
    """moto's StackSet with AWS's deployment semantics (bound in place of moto's class)."""

    instances: PayctlStackInstances  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stack_set_drift_detection_details: dict[str, Any] = {"DriftStatus": "NOT_CHECKED"}
        self.organizational_unit_ids: list[str] = []

    # ---- helpers -------------------------------------------------------------------------------

    @property
    def admin_account_id(self) -> str:
        return str(self.arn.split(":")[4])

    def _org_backend(self) -> Any:
        from moto.organizations.models import organizations_backends

        return organizations_backends[self.admin_account_id]["aws"]

    def _check_execution_role(self, account: str) -> None:
        if self.permission_model != "SELF_MANAGED":
            return
        from moto.iam.models import iam_backends

        admin_role_name = self.administration_role_arn.split("/")[-1]
        admin_account = self.administration_role_arn.split(":")[4]
        if not _role_exists(iam_backends[admin_account]["global"], admin_role_name):
            raise ValidationError(
                message=f"Account {admin_account} should have '{admin_role_name}' role with trust "
                "relationship to CloudFormation service."
            )
        if not _role_exists(iam_backends[account]["global"], self.execution_role_name):
            raise ValidationError(
                message=f"Account {account} should have '{self.execution_role_name}' role with trust "
                f"relationship to Role '{admin_role_name}'."
            )

    def _effective_parameters(self, instance: StackInstanceRecord) -> dict[str, Any]:
        # AWS: the StackSet's parameters, with this instance's overrides on top.
        return {**self.parameters, **instance.overrides}

    def _deploy(self, instance: StackInstanceRecord) -> None:
        self._check_execution_role(instance.account_id)
        parameters = self._effective_parameters(instance)
        stack = instance.stack()
        if stack is not None and stack.status != "CREATE_FAILED":
            stack.update(self.template, role_arn=None, parameters=parameters, tags=self.tags or None)
            return
        if stack is not None:
            instance.backend.delete_stack(stack.stack_id)
        name = f"StackSet-{self.name}-{mock_random.uuid4()}"
        try:
            created = instance.backend.create_stack(
                name=name, template=self.template, parameters=parameters, tags=dict(self.tags or {})
            )
        except Exception:
            for candidate in instance.backend.stacks.values():
                if candidate.name == name:
                    # moto cannot roll back: the partial stack stays, marked as failed.
                    candidate.status = "CREATE_FAILED"
                    instance.stack_id = candidate.stack_id
            raise
        instance.stack_id = created.stack_id

    def _remove(self, instance: StackInstanceRecord, retain_stack: bool) -> None:
        stack = instance.stack()
        if stack is not None and not retain_stack:
            instance.backend.delete_stack(stack.stack_id)
        self.instances.stack_instances.remove(instance)

    def _targets(
        self, accounts: list[str], regions: list[str], deployment_targets: dict[str, Any] | None
    ) -> list[tuple[str, str, str | None]]:
        """(account, region, organizational unit) for each requested instance."""
        deployment_targets = deployment_targets or {}
        accounts = list(accounts or []) + list(deployment_targets.get("Accounts") or [])
        targets: list[tuple[str, str, str | None]] = [(a, r, None) for r in regions for a in accounts]
        ou_ids = deployment_targets.get("OrganizationalUnitIds") or []
        if ou_ids:
            org = self._org_backend()
            wanted = set(ou_ids)
            # Child OUs are included, as in AWS.
            changed = True
            while changed:
                before = len(wanted)
                wanted |= {ou.id for ou in org.ou if ou.parent_id in wanted}
                changed = len(wanted) != before
            management = org.org.master_account_id if org.org else None
            for region in regions:
                for account in org.accounts:
                    # AWS never deploys a service-managed StackSet to the management account.
                    if account.parent_id in wanted and account.id != management:
                        targets.append((account.id, region, account.parent_id))
            self.organizational_unit_ids = sorted(set(self.organizational_unit_ids) | set(ou_ids))
        return targets

    def _new_operation(
        self, action: str, operation_id: str | None, preferences: dict[str, Any] | None, **extra: Any
    ) -> dict[str, Any]:
        operation_id = operation_id or str(mock_random.uuid4())
        if any(op["OperationId"] == operation_id for op in self.operations):
            raise OperationIdAlreadyExistsException(f"Operation {operation_id} already exists")
        operation: dict[str, Any] = {
            "OperationId": operation_id,
            "StackSetId": self.id,
            "Action": action,
            "Status": "RUNNING",
            "CreationTimestamp": utcnow(),
            "OperationPreferences": preferences or {},
            "AdministrationRoleARN": self.administration_role_arn,
            "ExecutionRoleName": self.execution_role_name,
            "Instances": [],
            "Results": [],
            **extra,
        }
        self.operations.append(operation)
        return operation

    def _run(
        self, operation: dict[str, Any], targets: list[tuple[str, str]], work: Callable[[str, str], None]
    ) -> dict[str, Any]:
        """Run `work` per target, region by region, honouring the failure tolerance like AWS."""
        preferences = operation["OperationPreferences"]
        failed_total = 0
        cancel_rest = False
        for region in _ordered_regions(targets, preferences):
            accounts = [a for a, r in targets if r == region]
            tolerance = _tolerance(preferences, len(accounts))
            failed_here = 0
            for account in accounts:
                result: dict[str, Any] = {"Account": account, "Region": region}
                instance = self.instances.find(account, region)
                if instance is not None and instance.organizational_unit_id:
                    result["OrganizationalUnitId"] = instance.organizational_unit_id
                if cancel_rest:
                    result.update(
                        Status=CANCELLED, StatusReason="Cancelled since failure tolerance has exceeded"
                    )
                else:
                    try:
                        work(account, region)
                        result["Status"] = SUCCEEDED
                    except Exception as error:  # any failure becomes this instance's result, as in AWS
                        failed_here += 1
                        result.update(Status=FAILED, StatusReason=_reason(error))
                result["AccountGateResult"] = {
                    "Status": "SKIPPED",
                    "StatusReason": "Function not found: arn:aws:lambda:"
                    f"{region}:{account}:function:AWSCloudFormationStackSetAccountGate",
                }
                operation["Results"].append(result)
                operation["Instances"].append({account: region})
                if instance is not None and instance in self.instances.stack_instances:
                    instance.last_operation_id = operation["OperationId"]
                    _record_outcome(instance, result)
            failed_total += failed_here
            if failed_here > tolerance:
                cancel_rest = True
        operation["Status"] = FAILED if cancel_rest else SUCCEEDED
        operation["StatusDetails"] = {"FailedStackInstancesCount": failed_total}
        operation["EndTimestamp"] = utcnow()
        return operation

    # ---- moto's StackSet interface, with AWS semantics ------------------------------------------

    def create_stack_instances(
        self,
        accounts: list[str],
        regions: list[str],
        deployment_targets: dict[str, Any] | None,
        parameters: list[dict[str, Any]] | None,
        operation_id: str | None = None,
        preferences: dict[str, Any] | None = None,
    ) -> str:
        if self.permission_model == "SERVICE_MANAGED":
            if not deployment_targets or "OrganizationalUnitIds" not in deployment_targets:
                raise ValidationError(
                    message="StackSets with SERVICE_MANAGED permission model can only have "
                    "OrganizationalUnit as target"
                )
        elif deployment_targets and "OrganizationalUnitIds" in deployment_targets:
            raise ValidationError(
                message="StackSets with SELF_MANAGED permission model can only have accounts as target"
            )
        targets = self._targets(accounts, regions, deployment_targets)
        operation = self._new_operation(
            "CREATE", operation_id, preferences, DeploymentTargets=deployment_targets
        )
        for account, region, ou_id in targets:
            instance = self.instances.find(account, region)
            if instance is None:
                instance = StackInstanceRecord(self, account, region, ou_id)
                self.instances.stack_instances.append(instance)
            instance.parameters = [dict(p) for p in parameters or []]

        def create(account: str, region: str) -> None:
            self._deploy(self.instances.get_instance(account, region))

        self._run(operation, [(a, r) for a, r, _ in targets], create)
        return str(operation["OperationId"])

    def update_instances(
        self,
        accounts: list[str],
        regions: list[str],
        parameters: list[dict[str, Any]] | None,
        operation_id: str | None = None,
        preferences: dict[str, Any] | None = None,
        deployment_targets: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        targets = [(a, r) for a, r, _ in self._targets(accounts, regions, deployment_targets)]
        instances = [self.instances.get_instance(a, r) for a, r in targets]
        if parameters is not None:
            for instance in instances:
                instance.parameters = _merge_overrides(instance, parameters, self.parameters)
        operation = self._new_operation("UPDATE", operation_id, preferences)

        def update(account: str, region: str) -> None:
            self._deploy(self.instances.get_instance(account, region))

        return self._run(operation, targets, update)

    def update(
        self,
        template: str,
        description: str,
        parameters: dict[str, str],
        tags: dict[str, str],
        admin_role: str,
        execution_role: str,
        accounts: list[str],
        regions: list[str],
        operation_id: str | None,
        preferences: dict[str, Any] | None = None,
        deployment_targets: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        changes_template = bool(template and template != self.template) or bool(
            parameters and parameters != self.parameters
        )
        self.template = template or self.template
        self.description = description if description is not None else self.description
        self.parameters = parameters or self.parameters
        self.tags = tags or self.tags
        self.administration_role_arn = admin_role or self.administration_role_arn
        self.execution_role_name = execution_role or self.execution_role_name
        if changes_template:
            # AWS marks every instance OUTDATED before updating the requested ones.
            for instance in self.instances.stack_instances:
                instance.status = "OUTDATED"
        if (accounts or deployment_targets) and regions:
            targets = [(a, r) for a, r, _ in self._targets(accounts, regions, deployment_targets)]
            for account, region in targets:
                self.instances.get_instance(account, region)
        else:
            # No accounts/regions: the update reaches every instance, as in AWS.
            targets = [(i.account_id, i.region_name) for i in self.instances.stack_instances]
        operation = self._new_operation("UPDATE", operation_id, preferences)

        def update(account: str, region: str) -> None:
            self._deploy(self.instances.get_instance(account, region))

        return self._run(operation, targets, update)

    def delete_stack_instances(
        self,
        accounts: list[str],
        regions: list[str],
        retain_stacks: bool = False,
        operation_id: str | None = None,
        preferences: dict[str, Any] | None = None,
        deployment_targets: dict[str, Any] | None = None,
    ) -> None:
        wanted = {(a, r) for a, r, _ in self._targets(accounts, regions, deployment_targets)}
        targets = [
            (i.account_id, i.region_name)
            for i in self.instances.stack_instances
            if (i.account_id, i.region_name) in wanted
        ]
        operation = self._new_operation("DELETE", operation_id, preferences, RetainStacks=retain_stacks)

        def delete(account: str, region: str) -> None:
            self._remove(self.instances.get_instance(account, region), retain_stacks)

        self._run(operation, targets, delete)

    def detect_drift(
        self, operation_id: str | None = None, preferences: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        from . import drift

        operation = self._new_operation("DETECT_DRIFT", operation_id, preferences)
        checked_at = utcnow()

        def detect(account: str, region: str) -> None:
            instance = self.instances.get_instance(account, region)
            stack = instance.stack()
            if stack is None:
                instance.drift_status = "UNKNOWN"
                raise ValidationError(message=f"Stack instance in {account}/{region} has no stack")
            detection = drift.detect_stack_drift(stack)
            instance.drift_status = detection.stack_drift_status
            instance.last_drift_check = checked_at

        targets = [(i.account_id, i.region_name) for i in self.instances.stack_instances]
        self._run(operation, targets, detect)
        statuses = [i.drift_status for i in self.instances.stack_instances]
        failed = operation["StatusDetails"]["FailedStackInstancesCount"]
        details = {
            "DriftStatus": "DRIFTED"
            if "DRIFTED" in statuses
            else ("IN_SYNC" if statuses and not failed else "NOT_CHECKED"),
            "DriftDetectionStatus": "COMPLETED"
            if not failed
            else ("FAILED" if failed == len(statuses) else "PARTIAL_SUCCESS"),
            "LastDriftCheckTimestamp": checked_at,
            "TotalStackInstancesCount": len(statuses),
            "DriftedStackInstancesCount": statuses.count("DRIFTED"),
            "InSyncStackInstancesCount": statuses.count("IN_SYNC"),
            "InProgressStackInstancesCount": 0,
            "FailedStackInstancesCount": failed,
        }
        operation["StackSetDriftDetectionDetails"] = details
        self.stack_set_drift_detection_details = details
        return operation


def _role_exists(iam_backend: Any, name: str) -> bool:
    return any(role.name == name for role in iam_backend.roles.values())


def _reason(error: Exception) -> str:
    message = getattr(error, "message", None) or str(error)
    return str(message)


def _record_outcome(instance: StackInstanceRecord, result: dict[str, Any]) -> None:
    if result["Status"] == SUCCEEDED:
        instance.status, instance.detailed_status, instance.status_reason = "CURRENT", SUCCEEDED, None
    elif result["Status"] == FAILED:
        instance.status, instance.detailed_status = "OUTDATED", FAILED
        instance.status_reason = result.get("StatusReason")
    else:
        instance.status, instance.detailed_status = "OUTDATED", CANCELLED
        instance.status_reason = result.get("StatusReason")


def _merge_overrides(
    instance: StackInstanceRecord, incoming: list[dict[str, Any]], stack_set_parameters: dict[str, Any]
) -> list[dict[str, Any]]:
    """UpdateStackInstances semantics: listed keys are set (or kept with UsePreviousValue); unlisted
    keys go back to the StackSet's value."""
    previous = instance.overrides
    merged: list[dict[str, Any]] = []
    for parameter in incoming:
        key = parameter["ParameterKey"]
        if key not in stack_set_parameters:
            raise ValidationError(
                message=f"Parameter '{key}' is not part of the stack set; "
                "only its parameters can be overridden"
            )
        if parameter.get("UsePreviousValue"):
            if key in previous:
                merged.append({"ParameterKey": key, "ParameterValue": previous[key]})
        else:
            merged.append({"ParameterKey": key, "ParameterValue": parameter["ParameterValue"]})
    return merged


# ---- CloudFormation API responses (bound onto moto's CloudFormationResponse) --------------------


def _stack_set(response: Any) -> PayctlStackSet:
    stack_set = response.cloudformation_backend.describe_stack_set(response._get_param("StackSetName"))
    if not isinstance(stack_set, PayctlStackSet):
        raise ValidationError(message="StackSet was created before payctl's emulator patches were installed")
    return stack_set


def _action_result(value: Any) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(value)


def create_stack_instances(response: Any) -> Any:
    stack_set = _stack_set(response)
    operation_id = stack_set.create_stack_instances(
        accounts=response._get_param("Accounts", []),
        regions=response._get_param("Regions", []),
        deployment_targets=response._get_param("DeploymentTargets"),
        parameters=response._get_param("ParameterOverrides", []),
        operation_id=response._get_param("OperationId"),
        preferences=response._get_param("OperationPreferences"),
    )
    return _action_result({"OperationId": operation_id})


def update_stack_instances(response: Any) -> Any:
    stack_set = _stack_set(response)
    overrides = response._get_param("ParameterOverrides")
    operation = stack_set.update_instances(
        accounts=response._get_param("Accounts", []),
        regions=response._get_param("Regions", []),
        parameters=overrides,
        operation_id=response._get_param("OperationId"),
        preferences=response._get_param("OperationPreferences"),
        deployment_targets=response._get_param("DeploymentTargets"),
    )
    return _action_result({"OperationId": operation["OperationId"]})


def update_stack_set(response: Any) -> Any:
    stack_set = _stack_set(response)
    template = response._get_param("TemplateBody")
    if response._get_param("TemplateURL"):
        template = response._get_stack_from_s3_url(response._get_param("TemplateURL"))
    elif response._get_bool_param("UsePreviousTemplate", False):
        template = stack_set.template
    parameters = response.cloudformation_backend._resolve_update_parameters(
        instance=stack_set, incoming_params=response._get_param("Parameters", [])
    )
    tags = {item["Key"]: item["Value"] for item in response._get_param("Tags", [])}
    operation = stack_set.update(
        template=template,
        description=response._get_param("Description"),
        parameters=parameters,
        tags=tags,
        admin_role=response._get_param("AdministrationRoleARN"),
        execution_role=response._get_param("ExecutionRoleName"),
        accounts=response._get_param("Accounts", []),
        regions=response._get_param("Regions", []),
        operation_id=response._get_param("OperationId"),
        preferences=response._get_param("OperationPreferences"),
        deployment_targets=response._get_param("DeploymentTargets"),
    )
    return _action_result({"OperationId": operation["OperationId"]})


def delete_stack_instances(response: Any) -> Any:
    stack_set = _stack_set(response)
    stack_set.delete_stack_instances(
        accounts=response._get_param("Accounts", []),
        regions=response._get_param("Regions", []),
        retain_stacks=bool(response._get_bool_param("RetainStacks", False)),
        operation_id=response._get_param("OperationId"),
        preferences=response._get_param("OperationPreferences"),
        deployment_targets=response._get_param("DeploymentTargets"),
    )
    return _action_result({"OperationId": stack_set.operations[-1]["OperationId"]})


def describe_stack_instance(response: Any) -> Any:
    stack_set = _stack_set(response)
    instance = stack_set.instances.get_instance(
        response._get_param("StackInstanceAccount"), response._get_param("StackInstanceRegion")
    )
    return _action_result({"StackInstance": instance.to_dict()})


_INSTANCE_FILTERS: dict[str, Callable[[StackInstanceRecord], str]] = {
    "DETAILED_STATUS": lambda i: i.detailed_status,
    "LAST_OPERATION_ID": lambda i: i.last_operation_id or "",
    "DRIFT_STATUS": lambda i: i.drift_status,
}


def list_stack_instances(response: Any) -> Any:
    stack_set = _stack_set(response)
    account = response._get_param("StackInstanceAccount")
    region = response._get_param("StackInstanceRegion")
    filters = response._get_param("Filters", [])
    summaries = []
    for instance in stack_set.instances.stack_instances:
        if (account and instance.account_id != account) or (region and instance.region_name != region):
            continue
        if any(
            _INSTANCE_FILTERS[f["Name"]](instance) != f["Values"]
            for f in filters
            if f["Name"] in _INSTANCE_FILTERS
        ):
            continue
        summaries.append(instance.to_dict())
    return _action_result({"Summaries": summaries})


def describe_stack_set_operation(response: Any) -> Any:
    stack_set = _stack_set(response)
    operation = stack_set.get_operation(response._get_param("OperationId"))
    public = {k: v for k, v in operation.items() if k not in ("Instances", "Results")}
    return _action_result({"StackSetOperation": public})


def list_stack_set_operation_results(response: Any) -> Any:
    stack_set = _stack_set(response)
    operation = stack_set.get_operation(response._get_param("OperationId"))
    return _action_result({"Summaries": operation.get("Results", [])})


def detect_stack_set_drift(response: Any) -> Any:
    stack_set = _stack_set(response)
    operation = stack_set.detect_drift(
        operation_id=response._get_param("OperationId"),
        preferences=response._get_param("OperationPreferences"),
    )
    return _action_result({"OperationId": operation["OperationId"]})


RESPONSES: dict[str, Callable[[Any], Any]] = {
    "create_stack_instances": create_stack_instances,
    "update_stack_instances": update_stack_instances,
    "update_stack_set": update_stack_set,
    "delete_stack_instances": delete_stack_instances,
    "describe_stack_instance": describe_stack_instance,
    "list_stack_instances": list_stack_instances,
    "describe_stack_set_operation": describe_stack_set_operation,
    "list_stack_set_operation_results": list_stack_set_operation_results,
    "detect_stack_set_drift": detect_stack_set_drift,
}

__all__ = ["RESPONSES", "PayctlStackInstances", "PayctlStackSet", "StackInstanceRecord"]
