"""CloudFormation responses shaped like AWS's documented ones (API reference: DescribeStacks, Stack,
DescribeStackEvents, StackEvent, ListStackResources, StackResourceSummary, DescribeStackSet,
StackSet, ListStackInstances, StackInstanceSummary, DescribeStackInstance, StackInstance,
DescribeStackSetOperation, StackSetOperation, ListStackSetOperationResults,
StackSetOperationResultSummary), for what the local emulator cannot show: stack operations that
take time, rollbacks, failed rollbacks, failed StackSet instances.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.stub import ANY, Stubber

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
NESTED = "AWS::CloudFormation::Stack"


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stack_arn(account: str, region: str, name: str, suffix: str = "0a1b2c3d-0000-4000-8000-000000000001") -> str:
    return f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{suffix}"


def change_set_arn(account: str, region: str, name: str) -> str:
    return f"arn:aws:cloudformation:{region}:{account}:changeSet/{name}/0f1e2d3c-0000-4000-8000-00000000000a"


def stack(stack_id: str, status: str, *, reason: str | None = None, parent: str | None = None,
          protection: bool = False, outputs: dict[str, str] | None = None,
          parameters: dict[str, str] | None = None, updated: datetime | None = None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "StackId": stack_id,
        "StackName": stack_id.split("/")[1],
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
        "CreationTime": T0 - timedelta(days=30),
        "StackStatus": status,
        "DisableRollback": False,
        "NotificationARNs": [],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
        "Tags": [{"Key": "Environment", "Value": "dev"}, {"Key": "Application", "Value": "payments"}],
        "EnableTerminationProtection": protection,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    if updated is not None:
        raw["LastUpdatedTime"] = updated
    if reason:
        raw["StackStatusReason"] = reason
    if parent:
        raw["ParentId"] = parent
        raw["RootId"] = parent
    return raw


def describe_stacks(*stacks: dict[str, Any]) -> dict[str, Any]:
    return {"Stacks": list(stacks)}


def missing_stack(name: str) -> dict[str, Any]:
    """The error DescribeStacks answers for a stack that does not exist."""
    return {"service_error_code": "ValidationError", "service_message": f"Stack with id {name} does not exist",
            "http_status_code": 400}


class Events:
    """The event history of one stack; `page(...)` answers DescribeStackEvents (newest first)."""

    def __init__(self, stack_id: str) -> None:
        self.stack_id = stack_id
        self.name = stack_id.split("/")[1]
        self.events: list[dict[str, Any]] = []

    def add(self, seconds: int, logical_id: str, resource_type: str, status: str, reason: str = "",
            physical_id: str = "") -> dict[str, Any]:
        event: dict[str, Any] = {
            "StackId": self.stack_id,
            "EventId": f"{logical_id}-{status}-{seconds:05d}",
            "StackName": self.name,
            "LogicalResourceId": logical_id,
            "PhysicalResourceId": physical_id,
            "ResourceType": resource_type,
            "Timestamp": at(seconds),
            "ResourceStatus": status,
        }
        if reason:
            event["ResourceStatusReason"] = reason
        self.events.append(event)
        return event

    def stack_event(self, seconds: int, status: str, reason: str = "") -> dict[str, Any]:
        return self.add(seconds, self.name, NESTED, status, reason, self.stack_id)

    def page(self, upto: int | None = None, start: int = 0, size: int | None = None,
             token: str | None = None) -> dict[str, Any]:
        """Events [start:upto] of the history, newest first, optionally one page of `size` with a token."""
        chosen = list(reversed(self.events[start:upto]))
        if size is not None:
            chosen = chosen[:size]
        page: dict[str, Any] = {"StackEvents": chosen}
        if token:
            page["NextToken"] = token
        return page


def resources(*rows: tuple[str, str, str, str, str]) -> dict[str, Any]:
    """ListStackResources: (logical id, physical id, type, status, reason)."""
    return {"StackResourceSummaries": [
        {"LogicalResourceId": logical, "PhysicalResourceId": physical, "ResourceType": resource_type,
         "LastUpdatedTimestamp": T0, "ResourceStatus": status,
         **({"ResourceStatusReason": reason} if reason else {}),
         "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}}
        for logical, physical, resource_type, status, reason in rows]}


def expect(stubber: Stubber, method: str, response: dict[str, Any], params: dict[str, Any] | None = None) -> None:
    if "service_error_code" in response:
        stubber.add_client_error(method, expected_params=params, **response)
    else:
        stubber.add_response(method, response, params)


__all__ = ["ANY", "Events", "at", "change_set_arn", "describe_stacks", "expect", "missing_stack", "resources",
           "stack", "stack_arn"]
