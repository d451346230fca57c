"""lambdas/drift_detector: scheduled detection and drift status events.

moto has no drift APIs, so the CloudFormation client is driven by botocore's Stubber with
responses shaped like AWS's (the Stubber validates them against the service model); SNS is
moto, read back through a subscribed SQS queue.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from botocore.stub import Stubber
from lambda_support import ACCOUNT, REGION, LambdaContext, TopicReader, load_event, load_handler

PREFIX = "payments-dev-001"
NOW = datetime(2024, 5, 14, 12, 0, 0, tzinfo=UTC)
STATUSES = [
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
]
DRIFT_FILTERS = ["MODIFIED", "DELETED"]


def stack_id(name: str, guid: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/{guid}"


FOUNDATION = stack_id(f"{PREFIX}-foundation", "0a6c7d10-11f1-11ef-8e1b-0e2f3a4b5c6d")
NETWORK = stack_id(f"{PREFIX}-foundation-Network-1Q2W3E4R5T6Y", "1b7d8e20-11f1-11ef-8e1b-0e2f3a4b5c6d")
STORAGE = stack_id(f"{PREFIX}-primary-Storage-1A2B3C4D5E6F7", "5e1d0c80-11f1-11ef-9b3a-0a1b2c3d4e5f")


@pytest.fixture
def drift(aws: None, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, Stubber, TopicReader, TopicReader]:
    drift_topic = TopicReader("payments-drift-dev-001")
    alert_topic = TopicReader("payments-alerts-dev-001")
    monkeypatch.setenv("ENVIRONMENT_NAME", "dev")
    monkeypatch.setenv("STACK_NAME_PREFIX", PREFIX)
    monkeypatch.setenv("DRIFT_TOPIC_ARN", drift_topic.arn)
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_topic.arn)
    module = load_handler("drift_detector")
    stubber = Stubber(module.client("cloudformation"))
    stubber.activate()
    yield module, stubber, drift_topic, alert_topic
    stubber.deactivate()


def summary(
    name: str, sid: str, status: str = "UPDATE_COMPLETE", parent: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "StackId": sid,
        "StackName": name,
        "TemplateDescription": "payments platform",
        "CreationTime": NOW,
        "LastUpdatedTime": NOW,
        "StackStatus": status,
        "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
    }
    if parent:
        entry.update(ParentId=parent, RootId=parent)
    return entry


def stub_list_stacks(stubber: Stubber) -> None:
    stubber.add_response(
        "list_stacks",
        {
            "StackSummaries": [
                summary(f"{PREFIX}-primary-Storage-1A2B3C4D5E6F7", STORAGE, "CREATE_COMPLETE"),
                summary("CDKToolkit", stack_id("CDKToolkit", "2c8e9f30-11f1-11ef-8e1b-0e2f3a4b5c6d")),
            ],
            "NextToken": "page-2",
        },
        {"StackStatusFilter": STATUSES},
    )
    stubber.add_response(
        "list_stacks",
        {
            "StackSummaries": [
                summary(f"{PREFIX}-foundation-Network-1Q2W3E4R5T6Y", NETWORK, parent=FOUNDATION),
                summary(f"{PREFIX}-foundation", FOUNDATION),
                summary(
                    "payments-sandbox-001-foundation",
                    stack_id("payments-sandbox-001-foundation", "3d9f0a40-0000"),
                ),
            ]
        },
        {"StackStatusFilter": STATUSES, "NextToken": "page-2"},
    )


def status(
    detection_id: str, sid: str, detection: str, drift: str | None = None, **extra: Any
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "StackId": sid,
        "StackDriftDetectionId": detection_id,
        "DetectionStatus": detection,
        "Timestamp": NOW,
    }
    if drift:
        response["StackDriftStatus"] = drift
    response.update(extra)
    return response


TABLE_DRIFT = {
    "StackId": STORAGE,
    "LogicalResourceId": "SessionTable",
    "PhysicalResourceId": "payments-sessions-dev-001",
    "PhysicalResourceIdContext": [],
    "ResourceType": "AWS::DynamoDB::GlobalTable",
    "ExpectedProperties": json.dumps(
        {"Replicas": [{"Region": "us-east-1", "DeletionProtectionEnabled": True}]}
    ),
    "ActualProperties": json.dumps(
        {"Replicas": [{"Region": "us-east-1", "DeletionProtectionEnabled": False}]}
    ),
    "PropertyDifferences": [
        {
            "PropertyPath": "/Replicas/0/DeletionProtectionEnabled",
            "ExpectedValue": "true",
            "ActualValue": "false",
            "DifferenceType": "NOT_EQUAL",
        }
    ],
    "StackResourceDriftStatus": "MODIFIED",
    "Timestamp": NOW,
}
POLICY_DRIFT = {
    "StackId": STORAGE,
    "LogicalResourceId": "DocumentsBucketPolicy",
    "PhysicalResourceId": "payments-documents-dev-001-us-east-1-111111111111",
    "ResourceType": "AWS::S3::BucketPolicy",
    "ExpectedProperties": json.dumps({"Bucket": "payments-documents-dev-001-us-east-1-111111111111"}),
    "StackResourceDriftStatus": "DELETED",
    "Timestamp": NOW,
}


def stub_storage_drifts(stubber: Stubber) -> None:
    stubber.add_response(
        "describe_stack_resource_drifts",
        {"StackResourceDrifts": [TABLE_DRIFT], "NextToken": "drifts-2"},
        {"StackName": STORAGE, "StackResourceDriftStatusFilters": DRIFT_FILTERS, "MaxResults": 100},
    )
    stubber.add_response(
        "describe_stack_resource_drifts",
        {"StackResourceDrifts": [POLICY_DRIFT]},
        {
            "StackName": STORAGE,
            "StackResourceDriftStatusFilters": DRIFT_FILTERS,
            "MaxResults": 100,
            "NextToken": "drifts-2",
        },
    )


EXPECTED_RESOURCES = [
    {
        "logicalResourceId": "SessionTable",
        "resourceType": "AWS::DynamoDB::GlobalTable",
        "physicalResourceId": "payments-sessions-dev-001",
        "driftStatus": "MODIFIED",
        "propertyDifferences": [
            {
                "propertyPath": "/Replicas/0/DeletionProtectionEnabled",
                "expectedValue": "true",
                "actualValue": "false",
                "differenceType": "NOT_EQUAL",
            }
        ],
    },
    {
        "logicalResourceId": "DocumentsBucketPolicy",
        "resourceType": "AWS::S3::BucketPolicy",
        "physicalResourceId": "payments-documents-dev-001-us-east-1-111111111111",
        "driftStatus": "DELETED",
        "propertyDifferences": [],
    },
]


# --------------------------------------------------------------------------- scheduled


def test_scheduled_run_detects_every_environment_stack_and_reports_drift_and_failures(drift, monkeypatch):
    module, stubber, drift_topic, alert_topic = drift
    context = LambdaContext(budget_ms=900_000)
    monkeypatch.setattr(module, "sleep", context.sleep)
    stub_list_stacks(stubber)
    # Nested stacks are detected on their own; stacks of other owners are left alone.
    for sid, detection in (
        (FOUNDATION, "det-foundation"),
        (NETWORK, "det-network"),
        (STORAGE, "det-storage"),
    ):
        stubber.add_response("detect_stack_drift", {"StackDriftDetectionId": detection}, {"StackName": sid})
    stubber.add_response(
        "describe_stack_drift_detection_status",
        status("det-foundation", FOUNDATION, "DETECTION_IN_PROGRESS"),
        {"StackDriftDetectionId": "det-foundation"},
    )
    stubber.add_response(
        "describe_stack_drift_detection_status",
        status("det-network", NETWORK, "DETECTION_COMPLETE", "IN_SYNC", DriftedStackResourceCount=0),
        {"StackDriftDetectionId": "det-network"},
    )
    stubber.add_response(
        "describe_stack_drift_detection_status",
        status("det-storage", STORAGE, "DETECTION_COMPLETE", "DRIFTED", DriftedStackResourceCount=2),
        {"StackDriftDetectionId": "det-storage"},
    )
    stub_storage_drifts(stubber)
    reason = (
        "Failed to detect drift on resource [PaymentsKey]: User is not authorized to perform kms:DescribeKey"
    )
    stubber.add_response(
        "describe_stack_drift_detection_status",
        status("det-foundation", FOUNDATION, "DETECTION_FAILED", "IN_SYNC", DetectionStatusReason=reason),
        {"StackDriftDetectionId": "det-foundation"},
    )

    result = module.handler(load_event("scheduled-event.json"), context)

    stubber.assert_no_pending_responses()
    [report] = drift_topic.messages()
    assert report.message == {
        "schemaVersion": "1.0",
        "type": "StackDrift",
        "environment": "dev",
        "account": ACCOUNT,
        "region": REGION,
        "stackName": f"{PREFIX}-primary-Storage-1A2B3C4D5E6F7",
        "stackId": STORAGE,
        "detectionId": "det-storage",
        "stackDriftStatus": "DRIFTED",
        "detectionStatus": "DETECTION_COMPLETE",
        "driftedResourceCount": 2,
        "resources": EXPECTED_RESOURCES,
        "truncated": False,
        "omittedResourceCount": 0,
    }
    assert report.subject == f"[DRIFT] dev {PREFIX}-primary-Storage-1A2B3C4D5E6F7: 2 resources"
    assert report.attributes == {"type": "StackDrift", "stack": f"{PREFIX}-primary-Storage-1A2B3C4D5E6F7"}
    [alert] = alert_topic.messages()
    assert alert.message["type"] == "DriftDetectionFailed"
    assert alert.message["failures"] == [
        {
            "stackName": f"{PREFIX}-foundation",
            "stackId": FOUNDATION,
            "detectionId": "det-foundation",
            "detectionStatus": "DETECTION_FAILED",
            "reason": reason,
        }
    ]
    assert result == {
        "status": "checked",
        "stacks": 3,
        "drifted": [f"{PREFIX}-primary-Storage-1A2B3C4D5E6F7"],
        "failed": [f"{PREFIX}-foundation"],
    }
    # Backoff between polls: 2 s, then 4 s.
    assert context.elapsed_ms == 6_000


def test_scheduled_run_with_everything_in_sync_publishes_nothing(drift, monkeypatch):
    module, stubber, drift_topic, alert_topic = drift
    context = LambdaContext()
    monkeypatch.setattr(module, "sleep", context.sleep)
    stubber.add_response(
        "list_stacks",
        {"StackSummaries": [summary(f"{PREFIX}-foundation", FOUNDATION)]},
        {"StackStatusFilter": STATUSES},
    )
    stubber.add_response("detect_stack_drift", {"StackDriftDetectionId": "det-1"}, {"StackName": FOUNDATION})
    stubber.add_response(
        "describe_stack_drift_detection_status",
        status("det-1", FOUNDATION, "DETECTION_COMPLETE", "IN_SYNC", DriftedStackResourceCount=0),
        {"StackDriftDetectionId": "det-1"},
    )

    result = module.handler(load_event("scheduled-event.json"), context)

    stubber.assert_no_pending_responses()
    assert drift_topic.messages() == []
    assert alert_topic.messages() == []
    assert result["drifted"] == [] and result["failed"] == []


def test_detections_still_running_when_time_runs_out_are_reported_not_waited_for(drift, monkeypatch):
    module, stubber, drift_topic, alert_topic = drift
    context = LambdaContext(budget_ms=62_000)
    monkeypatch.setattr(module, "sleep", context.sleep)
    stubber.add_response(
        "list_stacks",
        {"StackSummaries": [summary(f"{PREFIX}-foundation", FOUNDATION)]},
        {"StackStatusFilter": STATUSES},
    )
    stubber.add_response("detect_stack_drift", {"StackDriftDetectionId": "det-1"}, {"StackName": FOUNDATION})
    # Waits of 2, 4, 8, 16 s, then the 12 s left before the 20 s publishing margin.
    for _ in range(5):
        stubber.add_response(
            "describe_stack_drift_detection_status",
            status("det-1", FOUNDATION, "DETECTION_IN_PROGRESS"),
            {"StackDriftDetectionId": "det-1"},
        )

    module.handler(load_event("scheduled-event.json"), context)

    stubber.assert_no_pending_responses()
    assert context.get_remaining_time_in_millis() == 20_000
    [alert] = alert_topic.messages()
    [failure] = alert.message["failures"]
    assert failure["detectionStatus"] == "DETECTION_IN_PROGRESS"
    assert "time ran out" in failure["reason"]
    assert drift_topic.messages() == []


def test_at_most_the_in_flight_limit_runs_and_stacks_left_unstarted_are_named(drift):
    module, stubber, _, _ = drift
    context = LambdaContext(budget_ms=65_000)
    stacks = [module.StackRef(FOUNDATION, f"{PREFIX}-foundation"), module.StackRef(NETWORK, "network")]
    stubber.add_response("detect_stack_drift", {"StackDriftDetectionId": "det-1"}, {"StackName": FOUNDATION})
    stubber.add_response(
        "describe_stack_drift_detection_status",
        status("det-1", FOUNDATION, "DETECTION_IN_PROGRESS"),
        {"StackDriftDetectionId": "det-1"},
    )
    stubber.add_response(
        "describe_stack_drift_detection_status",
        status("det-1", FOUNDATION, "DETECTION_COMPLETE", "IN_SYNC", DriftedStackResourceCount=0),
        {"StackDriftDetectionId": "det-1"},
    )
    finished = []

    detections = module.detect_all(
        module.client("cloudformation"),
        stacks,
        context.get_remaining_time_in_millis,
        context.sleep,
        finished.append,
        max_in_flight=1,
    )

    stubber.assert_no_pending_responses()
    # With one slot, the second stack waits; after 6 s less than the start margin is left.
    assert [(d.stack.stack_name, d.detection_status) for d in detections] == [
        (f"{PREFIX}-foundation", "DETECTION_COMPLETE"),
        ("network", "NOT_STARTED"),
    ]
    assert [d.stack.stack_name for d in finished] == [f"{PREFIX}-foundation"]


def test_a_stack_that_refuses_detection_is_reported_and_the_others_still_run(drift, monkeypatch):
    module, stubber, drift_topic, alert_topic = drift
    context = LambdaContext()
    monkeypatch.setattr(module, "sleep", context.sleep)
    stubber.add_response(
        "list_stacks",
        {"StackSummaries": [summary(f"{PREFIX}-foundation", FOUNDATION), summary(f"{PREFIX}-zz", NETWORK)]},
        {"StackStatusFilter": STATUSES},
    )
    stubber.add_client_error(
        "detect_stack_drift",
        service_error_code="ValidationError",
        service_message="Stack is in UPDATE_IN_PROGRESS state and can not be checked for drift",
        http_status_code=400,
        expected_params={"StackName": FOUNDATION},
    )
    stubber.add_response("detect_stack_drift", {"StackDriftDetectionId": "det-2"}, {"StackName": NETWORK})
    stubber.add_response(
        "describe_stack_drift_detection_status",
        status("det-2", NETWORK, "DETECTION_COMPLETE", "IN_SYNC", DriftedStackResourceCount=0),
        {"StackDriftDetectionId": "det-2"},
    )

    module.handler(load_event("scheduled-event.json"), context)

    stubber.assert_no_pending_responses()
    [alert] = alert_topic.messages()
    [failure] = alert.message["failures"]
    assert failure["stackName"] == f"{PREFIX}-foundation"
    assert "UPDATE_IN_PROGRESS" in failure["reason"]
    assert drift_topic.messages() == []


# --------------------------------------------------------------------------- status change events


def test_drifted_event_publishes_the_resource_drifts_at_once(drift):
    module, stubber, drift_topic, alert_topic = drift
    stub_storage_drifts(stubber)

    result = module.handler(load_event("cfn-drift-status-drifted.json"), LambdaContext())

    stubber.assert_no_pending_responses()
    [report] = drift_topic.messages()
    assert report.message["stackName"] == f"{PREFIX}-primary-Storage-1A2B3C4D5E6F7"
    assert report.message["detectionId"] == "b78ac9b0-dec1-11e7-a451-50d5cd16c001"
    assert report.message["driftedResourceCount"] == 2
    assert report.message["resources"] == EXPECTED_RESOURCES
    assert alert_topic.messages() == []
    assert result["status"] == "reported"


def test_in_sync_event_publishes_nothing_and_calls_nothing(drift):
    module, stubber, drift_topic, alert_topic = drift

    result = module.handler(load_event("cfn-drift-status-in-sync.json"), LambdaContext())

    stubber.assert_no_pending_responses()
    assert drift_topic.messages() == [] and alert_topic.messages() == []
    assert result["status"] == "in-sync"


def test_failed_detection_event_publishes_an_alert_with_the_reason(drift):
    module, stubber, drift_topic, alert_topic = drift
    reason = "Failed to detect drift on resource [ServiceRole]: Rate exceeded"
    stubber.add_response(
        "describe_stack_drift_detection_status",
        status(
            "b78ac9b0-dec1-11e7-a451-50d5cd16c003",
            STORAGE,
            "DETECTION_FAILED",
            "UNKNOWN",
            DetectionStatusReason=reason,
        ),
        {"StackDriftDetectionId": "b78ac9b0-dec1-11e7-a451-50d5cd16c003"},
    )

    module.handler(load_event("cfn-drift-status-failed.json"), LambdaContext())

    stubber.assert_no_pending_responses()
    [alert] = alert_topic.messages()
    assert alert.message["failures"][0]["reason"] == reason
    assert alert.subject == f"[DRIFT CHECK FAILED] dev {PREFIX}-primary-Storage-1A2B3C4D5E6F7"
    assert drift_topic.messages() == []


def test_failed_detections_go_to_the_drift_topic_when_no_alert_topic_is_set(drift, monkeypatch):
    module, stubber, drift_topic, alert_topic = drift
    monkeypatch.delenv("ALERT_TOPIC_ARN")
    stubber.add_response(
        "describe_stack_drift_detection_status",
        status("b78ac9b0-dec1-11e7-a451-50d5cd16c003", STORAGE, "DETECTION_FAILED", "UNKNOWN"),
        {"StackDriftDetectionId": "b78ac9b0-dec1-11e7-a451-50d5cd16c003"},
    )

    module.handler(load_event("cfn-drift-status-failed.json"), LambdaContext())

    [alert] = drift_topic.messages()
    assert alert.message["failures"][0]["reason"] == "CloudFormation gave no reason"
    assert alert_topic.messages() == []


@pytest.mark.parametrize(
    "event",
    [
        load_event("cfn-drift-status-other-environment.json"),
        {
            **load_event("cfn-drift-status-drifted.json"),
            "detail": {
                **load_event("cfn-drift-status-drifted.json")["detail"],
                "status-details": {
                    "stack-drift-status": "UNKNOWN",
                    "detection-status": "DETECTION_IN_PROGRESS",
                },
                "drift-detection-details": {"drifted-stack-resource-count": -1},
            },
        },
        load_event("ec2-run-instances.json"),
    ],
    ids=["other-environment", "in-progress", "unrelated-event"],
)
def test_events_needing_no_report_are_ignored(drift, event):
    module, stubber, drift_topic, alert_topic = drift

    result = module.handler(event, LambdaContext())

    stubber.assert_no_pending_responses()
    assert result["status"] == "ignored"
    assert drift_topic.messages() == [] and alert_topic.messages() == []


# --------------------------------------------------------------------------- SNS size limit


def big_drift(index: int) -> dict[str, Any]:
    return {
        **TABLE_DRIFT,
        "LogicalResourceId": f"Queue{index:04d}",
        "ResourceType": "AWS::SQS::Queue",
        "PhysicalResourceId": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/payments-queue-{index:04d}",
        "PropertyDifferences": [
            {
                "PropertyPath": f"/RedrivePolicy/{n}",
                "ExpectedValue": "e" * 1500,
                "ActualValue": "a" * 1500,
                "DifferenceType": "NOT_EQUAL",
            }
            for n in range(3)
        ],
    }


def test_a_report_too_big_for_sns_is_cut_to_fit_and_says_so(drift):
    module, stubber, drift_topic, _ = drift
    for page in range(4):
        request = {"StackName": STORAGE, "StackResourceDriftStatusFilters": DRIFT_FILTERS, "MaxResults": 100}
        response: dict[str, Any] = {"StackResourceDrifts": [big_drift(page * 100 + i) for i in range(100)]}
        if page:
            request["NextToken"] = f"page-{page}"
        if page < 3:
            response["NextToken"] = f"page-{page + 1}"
        stubber.add_response("describe_stack_resource_drifts", response, request)

    module.handler(load_event("cfn-drift-status-drifted.json"), LambdaContext())

    [report] = drift_topic.messages()
    assert report.size <= 256 * 1024 - 6 * 1024
    message = report.message
    assert message["truncated"] is True
    assert message["driftedResourceCount"] == 2  # as the event counted
    kept = message["resources"]
    assert len(kept) + message["omittedResourceCount"] == 400
    assert 0 < len(kept) < 400
    assert [r["logicalResourceId"] for r in kept] == [f"Queue{i:04d}" for i in range(len(kept))]
    assert kept[0]["propertyDifferences"][0]["expectedValue"].endswith("...[476 more characters]")


def test_fit_to_sns_leaves_small_reports_alone_and_caps_differences_per_resource():
    module = load_handler("drift_detector")
    small = {"resources": [{"propertyDifferences": []}], "truncated": False, "omittedResourceCount": 0}
    assert module.fit_to_sns(small) is small

    many = {
        "resources": [
            {
                "logicalResourceId": "Role",
                "propertyDifferences": [
                    {"propertyPath": f"/Policies/{n}", "expectedValue": "x" * 900, "actualValue": None}
                    for n in range(400)
                ],
            }
        ],
        "truncated": False,
        "omittedResourceCount": 0,
    }
    fitted = module.fit_to_sns(many)
    [resource] = fitted["resources"]
    assert len(resource["propertyDifferences"]) == 50
    assert resource["omittedDifferenceCount"] == 350
    assert fitted["truncated"] is True and fitted["omittedResourceCount"] == 0


def test_stack_name_is_read_from_a_stack_arn():
    module = load_handler("drift_detector")
    assert module.stack_name_from_id(STORAGE) == f"{PREFIX}-primary-Storage-1A2B3C4D5E6F7"
    assert (
        module.stack_name_from_id("arn:aws:cloudformation:us-west-1:111122223333:stack/teststack")
        == "teststack"
    )
    assert module.stack_name_from_id("plain-name") == "plain-name"
