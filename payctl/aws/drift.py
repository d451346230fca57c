"""CloudFormation drift APIs for stacks and StackSets: start, wait, read what the last detection found.

Results stay in AWS's shapes (DescribeStackDriftDetectionStatus, StackResourceDrift,
StackInstanceSummary, StackSetOperation dicts); payctl.drift reads them into its model.

    detection_id = start_stack_drift(cfn, stack_id)
    status = wait_for_stack_drift(cfn, detection_id)          # DETECTION_COMPLETE or DETECTION_FAILED
    drifts = resource_drifts(cfn, stack_id, DRIFT_FILTERS)    # stored results, no new detection

Nothing here starts a detection except the two `start_*` functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from payctl.aws.errors import aws_errors, error_code, error_message, translate
from payctl.aws.poll import DEFAULT, Backoff, poll
from payctl.errors import AwsError, StackBusy

DETECTION_IN_PROGRESS = "DETECTION_IN_PROGRESS"
# What a reader acts on: drifted resources, and resources CloudFormation could not or did not check.
DRIFTED_FILTERS = ("MODIFIED", "DELETED")
DRIFT_FILTERS = ("MODIFIED", "DELETED", "NOT_CHECKED", "UNKNOWN")
_OPERATION_DONE = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})
# DescribeStackResourceDrifts accepts at most 100 results per page.
_PAGE_SIZE = 100


@contextmanager
def readable(doing: str) -> Iterator[None]:
    """aws_errors, and answers botocore cannot parse (an HTML error page from a proxy or an emulator's
    internal error) as an AwsError too: one stack's failure must not end a whole drift check."""
    try:
        with aws_errors(doing):
            yield
    except ResponseParserError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise AwsError(f"{doing}: the answer could not be read ({first})") from error


def start_stack_drift(cfn: Any, stack: str) -> str:
    """Start DetectStackDrift on one stack (a nested stack is detected by its own id)."""
    try:
        with readable(f"starting drift detection on {stack}"):
            return str(cfn.detect_stack_drift(StackName=stack)["StackDriftDetectionId"])
    except AwsError as error:
        cause = error.__cause__
        # A stack in an operation cannot be checked: "... is in UPDATE_IN_PROGRESS state and can not be ..."
        if (isinstance(cause, ClientError) and error_code(cause) == "ValidationError"
                and "_IN_PROGRESS" in error_message(cause)):
            raise StackBusy(f"{stack}: {error_message(cause)}",
                            hint="wait for the stack operation to finish (`payctl status ENV --watch`)",
                            ) from cause
        raise


def stack_drift_status(cfn: Any, detection_id: str) -> dict[str, Any]:
    with readable(f"reading drift detection {detection_id}"):
        return dict(cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id))


def wait_for_stack_drift(cfn: Any, detection_id: str, *, backoff: Backoff = DEFAULT) -> dict[str, Any]:
    """Poll DescribeStackDriftDetectionStatus until the detection completed or failed."""

    def check() -> dict[str, Any] | None:
        status = stack_drift_status(cfn, detection_id)
        return None if status.get("DetectionStatus") == DETECTION_IN_PROGRESS else status

    return poll(check, what=f"drift detection {detection_id}", backoff=backoff)


def resource_drifts(cfn: Any, stack: str, statuses: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every StackResourceDrift the stack's latest detection recorded (all pages), optionally
    only those with the given statuses. Reads stored results: it never starts a detection."""
    found: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"StackName": stack, "MaxResults": _PAGE_SIZE}
    if statuses:
        arguments["StackResourceDriftStatusFilters"] = list(statuses)
    with readable(f"reading the resource drift of {stack}"):
        while True:
            page = cfn.describe_stack_resource_drifts(**arguments)
            found.extend(page.get("StackResourceDrifts", []))
            token = page.get("NextToken")
            if not token:
                return found
            arguments["NextToken"] = token


def stack_resources(cfn: Any, stack: str) -> list[dict[str, Any]]:
    """ListStackResources, all pages: each summary carries its DriftInformation."""
    found: list[dict[str, Any]] = []
    with readable(f"listing the resources of {stack}"):
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack):
            found.extend(page.get("StackResourceSummaries", []))
    return found


# ---- StackSets -----------------------------------------------------------------------------------


def describe_stack_set(cfn: Any, name: str, call_as: str = "SELF") -> dict[str, Any] | None:
    """The StackSet, or None when it does not exist."""
    try:
        return dict(cfn.describe_stack_set(StackSetName=name, CallAs=call_as)["StackSet"])
    except ClientError as error:
        if error_code(error) == "StackSetNotFoundException":
            return None
        raise translate(error, f"describing StackSet {name}") from error


def start_stack_set_drift(cfn: Any, name: str, call_as: str = "SELF",
                          preferences: dict[str, Any] | None = None) -> str:
    """DetectStackSetDrift; AWS runs one drift detection per StackSet at a time."""
    arguments: dict[str, Any] = {"StackSetName": name, "CallAs": call_as}
    if preferences:
        arguments["OperationPreferences"] = preferences
    try:
        return str(cfn.detect_stack_set_drift(**arguments)["OperationId"])
    except ClientError as error:
        if error_code(error) == "OperationInProgressException":
            raise AwsError(f"StackSet {name}: another operation is running ({error_message(error)})",
                           hint="wait for it to finish (a StackSet runs one operation at a time), "
                                "then run the command again") from error
        raise translate(error, f"starting drift detection on StackSet {name}") from error


def wait_for_stack_set_operation(cfn: Any, name: str, operation_id: str, call_as: str = "SELF", *,
                                 backoff: Backoff = DEFAULT) -> dict[str, Any]:
    """Poll DescribeStackSetOperation until the operation succeeded, failed or was stopped."""

    def check() -> dict[str, Any] | None:
        with readable(f"reading StackSet operation {operation_id} of {name}"):
            operation = cfn.describe_stack_set_operation(StackSetName=name, OperationId=operation_id,
                                                         CallAs=call_as)["StackSetOperation"]
        return dict(operation) if operation.get("Status") in _OPERATION_DONE else None

    return poll(check, what=f"StackSet {name} operation {operation_id}", backoff=backoff)


def stack_instances(cfn: Any, name: str, call_as: str = "SELF", *,
                    drift_status: str | None = None) -> list[dict[str, Any]]:
    """ListStackInstances (all pages), each summary with its DriftStatus and LastDriftCheckTimestamp."""
    arguments: dict[str, Any] = {"StackSetName": name, "CallAs": call_as}
    if drift_status:
        # StackInstanceFilter.Values is one string, not a list.
        arguments["Filters"] = [{"Name": "DRIFT_STATUS", "Values": drift_status}]
    found: list[dict[str, Any]] = []
    with readable(f"listing the instances of StackSet {name}"):
        while True:
            page = cfn.list_stack_instances(**arguments)
            found.extend(page.get("Summaries", []))
            token = page.get("NextToken")
            if not token:
                return found
            arguments["NextToken"] = token


def operation_results(cfn: Any, name: str, operation_id: str, call_as: str = "SELF") -> list[dict[str, Any]]:
    """ListStackSetOperationResults (all pages): per account and region, the status and reason."""
    arguments: dict[str, Any] = {"StackSetName": name, "OperationId": operation_id, "CallAs": call_as}
    found: list[dict[str, Any]] = []
    with readable(f"reading the results of StackSet operation {operation_id}"):
        while True:
            page = cfn.list_stack_set_operation_results(**arguments)
            found.extend(page.get("Summaries", []))
            token = page.get("NextToken")
            if not token:
                return found
            arguments["NextToken"] = token


# ---- notifications -------------------------------------------------------------------------------


def publish(sns: Any, topic_arn: str, subject: str, message: str, attributes: dict[str, str]) -> str:
    """Publish one message; returns its MessageId."""
    with readable(f"publishing to {topic_arn}"):
        response = sns.publish(
            TopicArn=topic_arn, Subject=subject, Message=message,
            MessageAttributes={key: {"DataType": "String", "StringValue": value}
                               for key, value in attributes.items()},
        )
    return str(response["MessageId"])


def drift_information(cfn: Any, stack: str) -> tuple[str, str]:
    """(StackDriftStatus, LastCheckTimestamp) as DescribeStacks records them; ("", "") when gone."""
    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if error_code(error) == "ValidationError" and "does not exist" in error_message(error):
            return "", ""
        raise translate(error, f"describing stack {stack}") from error
    info = (stacks[0].get("DriftInformation") or {}) if stacks else {}
    checked: Any = info.get("LastCheckTimestamp")
    return str(info.get("StackDriftStatus", "")), checked.isoformat() if hasattr(checked, "isoformat") else ""
