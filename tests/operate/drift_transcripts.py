"""CloudFormation drift responses shaped like AWS's documented ones (API reference:
DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts, StackResourceDrift,
PropertyDifference, ListStackResources, DetectStackSetDrift, DescribeStackSetOperation,
StackSetDriftDetectionDetails, ListStackInstances, StackInstanceSummary), for what moto cannot
produce: detections in progress and failed, nested stacks, NOT_CHECKED resources, StackSet drift.

Scenario "dev": the fixture workspace's foundation wave in us-east-1 is deployed with two nested
stacks; eu-west-1 and the primary wave are not deployed.
  master:   Network and Topics (nested stacks) and a custom resource (drift detection does not
            support custom resources: listed NOT_CHECKED).
  Network:  the service security group gained an ingress rule (22 from 0.0.0.0/0): MODIFIED;
            the VPC is IN_SYNC. The first status poll says DETECTION_IN_PROGRESS.
  Topics:   the detection fails for one resource (DETECTION_FAILED, with AWS's reason), but the
            topic it did check is IN_SYNC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

ACCOUNT = "111111111111"
REGION = "us-east-1"
WHEN = datetime(2026, 2, 3, 9, 30, 0, tzinfo=UTC)
CHECKED = datetime(2026, 2, 3, 9, 31, 12, tzinfo=UTC)


def stack_arn(name: str, suffix: str, account: str = ACCOUNT, region: str = REGION) -> str:
    return f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{suffix}"


MASTER = "payments-dev-001-foundation"
NETWORK = f"{MASTER}-Network-1A2B3C4D5E6F"
TOPICS = f"{MASTER}-Topics-7G8H9I0J1K2L"
MASTER_ID = stack_arn(MASTER, "11111111-aaaa-4aaa-8aaa-111111111111")
NETWORK_ID = stack_arn(NETWORK, "22222222-bbbb-4bbb-8bbb-222222222222")
TOPICS_ID = stack_arn(TOPICS, "33333333-cccc-4ccc-8ccc-333333333333")
SG_ID = "sg-0a1b2c3d4e5f60718"
TOPIC_FAILURE = (
    "Failed to detect drift on resource [DriftTopicPolicy]: Access denied for operation "
    "'sns:GetTopicAttributes'."
)


def stack(
    name: str,
    stack_id: str,
    *,
    status: str = "CREATE_COMPLETE",
    parent: str | None = None,
    drift: str = "NOT_CHECKED",
    outputs: dict[str, str] | None = None,
    termination_protection: bool = False,
) -> dict[str, Any]:
    described: dict[str, Any] = {
        "StackId": stack_id,
        "StackName": name,
        "Parameters": [{"ParameterKey": "EnvironmentName", "ParameterValue": "dev"}],
        "CreationTime": WHEN,
        "RollbackConfiguration": {},
        "StackStatus": status,
        "DisableRollback": False,
        "NotificationARNs": [],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
        "Tags": [{"Key": "Environment", "Value": "dev"}],
        "EnableTerminationProtection": termination_protection,
        "DriftInformation": {"StackDriftStatus": drift},
    }
    if parent:
        described["ParentId"] = parent
        described["RootId"] = parent
    return {"Stacks": [described]}


def missing_stack(name: str) -> dict[str, Any]:
    """DescribeStacks on a stack that does not exist: ValidationError (HTTP 400)."""
    return {
        "service_error_code": "ValidationError",
        "service_message": f"Stack with id {name} does not exist",
        "http_status_code": 400,
    }


def summary(
    logical_id: str,
    physical_id: str,
    resource_type: str,
    drift: str = "NOT_CHECKED",
    status: str = "CREATE_COMPLETE",
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceType": resource_type,
        "LastUpdatedTimestamp": WHEN,
        "ResourceStatus": status,
        "DriftInformation": {"StackResourceDriftStatus": drift},
    }
    if drift != "NOT_CHECKED":
        entry["DriftInformation"]["LastCheckTimestamp"] = CHECKED
    return entry


def resources(*summaries: dict[str, Any]) -> dict[str, Any]:
    return {"StackResourceSummaries": list(summaries)}


def detection_status(
    stack_id: str,
    detection_id: str,
    *,
    drift: str,
    status: str = "DETECTION_COMPLETE",
    drifted: int = 0,
    reason: str | None = None,
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "StackId": stack_id,
        "StackDriftDetectionId": detection_id,
        "DetectionStatus": status,
        "Timestamp": CHECKED,
    }
    if status != "DETECTION_IN_PROGRESS":
        response["StackDriftStatus"] = drift
        response["DriftedStackResourceCount"] = drifted
    if reason:
        response["DetectionStatusReason"] = reason
    return response


def resource_drift(
    stack_id: str,
    logical_id: str,
    physical_id: str,
    resource_type: str,
    status: str,
    expected: str,
    actual: str,
    differences: list[dict[str, str]],
) -> dict[str, Any]:
    return {
        "StackId": stack_id,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical_id,
        "ResourceType": resource_type,
        "ExpectedProperties": expected,
        "ActualProperties": actual,
        "PropertyDifferences": differences,
        "StackResourceDriftStatus": status,
        "Timestamp": CHECKED,
    }


SG_EXPECTED = (
    '{"GroupDescription":"payment service","SecurityGroupIngress":[{"CidrIp":"10.0.0.0/16",'
    '"FromPort":443,"IpProtocol":"tcp","ToPort":443}],"VpcId":"vpc-0f1e2d3c4b5a69788"}'
)
SG_ACTUAL = (
    '{"GroupDescription":"payment service","SecurityGroupIngress":[{"CidrIp":"10.0.0.0/16",'
    '"FromPort":443,"IpProtocol":"tcp","ToPort":443},{"CidrIp":"0.0.0.0/0","FromPort":22,'
    '"IpProtocol":"tcp","ToPort":22}],"VpcId":"vpc-0f1e2d3c4b5a69788"}'
)
SG_DIFFERENCE = {
    "PropertyPath": "/SecurityGroupIngress/1",
    "ExpectedValue": "null",
    "ActualValue": '{"CidrIp":"0.0.0.0/0","FromPort":22,"IpProtocol":"tcp","ToPort":22}',
    "DifferenceType": "ADD",
}


def stack_set(name: str, stack_set_id: str) -> dict[str, Any]:
    return {
        "StackSet": {
            "StackSetName": name,
            "StackSetId": stack_set_id,
            "Status": "ACTIVE",
            "PermissionModel": "SELF_MANAGED",
            "StackSetDriftDetectionDetails": {
                "DriftStatus": "NOT_CHECKED",
                "TotalStackInstancesCount": 0,
                "DriftedStackInstancesCount": 0,
                "InSyncStackInstancesCount": 0,
                "InProgressStackInstancesCount": 0,
                "FailedStackInstancesCount": 0,
            },
        }
    }


def stack_set_missing(name: str) -> dict[str, Any]:
    return {
        "service_error_code": "StackSetNotFoundException",
        "service_message": f"StackSet {name} not found",
        "http_status_code": 404,
    }


def stack_set_operation(
    operation_id: str,
    stack_set_id: str,
    *,
    status: str,
    drift: str,
    detection: str,
    total: int,
    drifted: int,
    in_sync: int,
    failed: int = 0,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "OperationId": operation_id,
        "StackSetId": stack_set_id,
        "Action": "DETECT_DRIFT",
        "Status": status,
        "OperationPreferences": {
            "RegionConcurrencyType": "PARALLEL",
            "FailureTolerancePercentage": 100,
            "MaxConcurrentPercentage": 100,
        },
        "CreationTimestamp": WHEN,
    }
    if status != "RUNNING":
        operation["EndTimestamp"] = CHECKED
        operation["StackSetDriftDetectionDetails"] = {
            "DriftStatus": drift,
            "DriftDetectionStatus": detection,
            "LastDriftCheckTimestamp": CHECKED,
            "TotalStackInstancesCount": total,
            "DriftedStackInstancesCount": drifted,
            "InSyncStackInstancesCount": in_sync,
            "InProgressStackInstancesCount": 0,
            "FailedStackInstancesCount": failed,
        }
    else:
        operation["StackSetDriftDetectionDetails"] = {
            "DriftDetectionStatus": "IN_PROGRESS",
            "TotalStackInstancesCount": total,
            "DriftedStackInstancesCount": 0,
            "InSyncStackInstancesCount": 0,
            "InProgressStackInstancesCount": total,
            "FailedStackInstancesCount": 0,
        }
    return {"StackSetOperation": operation}


def instance(stack_set_id: str, account: str, region: str, stack_id: str, drift: str) -> dict[str, Any]:
    return {
        "StackSetId": stack_set_id,
        "Region": region,
        "Account": account,
        "StackId": stack_id,
        "Status": "CURRENT",
        "StackInstanceStatus": {"DetailedStatus": "SUCCEEDED"},
        "DriftStatus": drift,
        "LastDriftCheckTimestamp": CHECKED,
        "LastOperationId": "op-drift-1",
    }


def operation_result(account: str, region: str) -> dict[str, Any]:
    return {
        "Account": account,
        "Region": region,
        "Status": "SUCCEEDED",
        "AccountGateResult": {
            "Status": "SKIPPED",
            "StatusReason": "Function not found: arn:aws:lambda:::function:AWSCloudFormation"
            "StackSetAccountGate",
        },
    }
