"""Drift detection against Stubber transcripts shaped like AWS's responses: nested stacks detected one
by one, polling until complete, NOT_CHECKED resources listed, a failed detection with AWS's reason,
StackSet drift with a drifted instance (resource detail read in the instance's account), drift that
hides in an instance's nested stacks, stored results for plan (no detection started), and --notify."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from botocore.stub import ANY, Stubber
from drift_transcripts import (
    CHECKED,
    MASTER,
    MASTER_ID,
    NETWORK,
    NETWORK_ID,
    SG_ACTUAL,
    SG_DIFFERENCE,
    SG_EXPECTED,
    SG_ID,
    TOPIC_FAILURE,
    TOPICS,
    TOPICS_ID,
    detection_status,
    instance,
    missing_stack,
    operation_result,
    resource_drift,
    resources,
    stack,
    stack_arn,
    stack_set,
    stack_set_missing,
    stack_set_operation,
    summary,
)
from operate_support import ADMIN, DEV, DR, PRIMARY, STAGING, Transcript
from rich.console import Console

from payctl.automation import Workspace
from payctl.aws.poll import Backoff
from payctl.drift import DriftOptions, dumps, last_known_drift
from payctl.drift.notify import messages_for
from payctl.operate.stacksets import DRIFT_PREFERENCES
from payctl.ui.drift import render_drift

FAST = DriftOptions(parallel=1, backoff=Backoff(first=0.001, factor=1.0, ceiling=0.001, deadline=5))
FILTERS = ["MODIFIED", "DELETED", "NOT_CHECKED", "UNKNOWN"]


def stored(cfn: Stubber, stack_id: str, listed: dict[str, Any], drifts: list[dict[str, Any]]) -> None:
    cfn.add_response("list_stack_resources", listed, {"StackName": stack_id})
    cfn.add_response(
        "describe_stack_resource_drifts",
        {"StackResourceDrifts": drifts},
        {"StackName": stack_id, "MaxResults": 100, "StackResourceDriftStatusFilters": FILTERS},
    )


def dev_foundation(t: Transcript) -> None:
    """Discovery then detection of dev's foundation wave in us-east-1 (see drift_transcripts)."""
    t.identity(DEV, PRIMARY)
    t.identity(DEV, DR)
    cfn, cfn_dr = t("cloudformation", DEV, PRIMARY), t("cloudformation", DEV, DR)
    master_resources = resources(
        summary("Network", NETWORK_ID, "AWS::CloudFormation::Stack"),
        summary("Topics", TOPICS_ID, "AWS::CloudFormation::Stack"),
        summary("SchemaSync", "2026/02/03/[$LATEST]schema-sync", "Custom::SchemaSync"),
    )
    network_resources = resources(
        summary("Vpc", "vpc-0f1e2d3c4b5a69788", "AWS::EC2::VPC", "IN_SYNC"),
        summary("ServiceSecurityGroup", SG_ID, "AWS::EC2::SecurityGroup", "MODIFIED"),
    )
    topic_arn = "arn:aws:sns:us-east-1:111111111111:payment-drift-dev-001"
    topics_resources = resources(
        summary("DriftTopic", topic_arn, "AWS::SNS::Topic", "IN_SYNC"),
        summary("DriftTopicPolicy", "payme-Drift-1XYZ", "AWS::SNS::TopicPolicy"),
    )
    # discovery: the master, then each nested stack by id
    cfn.add_response("describe_stacks", stack(MASTER, MASTER_ID), {"StackName": MASTER})
    cfn.add_response("list_stack_resources", master_resources, {"StackName": MASTER_ID})
    cfn.add_response(
        "describe_stacks", stack(NETWORK, NETWORK_ID, parent=MASTER_ID), {"StackName": NETWORK_ID}
    )
    cfn.add_response("list_stack_resources", network_resources, {"StackName": NETWORK_ID})
    cfn.add_response("describe_stacks", stack(TOPICS, TOPICS_ID, parent=MASTER_ID), {"StackName": TOPICS_ID})
    cfn.add_response("list_stack_resources", topics_resources, {"StackName": TOPICS_ID})
    cfn_dr.add_client_error("describe_stacks", **missing_stack(MASTER), expected_params={"StackName": MASTER})
    cfn.add_client_error(
        "describe_stacks",
        **missing_stack("payments-dev-001-primary"),
        expected_params={"StackName": "payments-dev-001-primary"},
    )
    # master: in sync; its custom resource is not checked (no drift support), nested stacks are their own
    cfn.add_response("detect_stack_drift", {"StackDriftDetectionId": "d-master"}, {"StackName": MASTER_ID})
    cfn.add_response(
        "describe_stack_drift_detection_status",
        detection_status(MASTER_ID, "d-master", drift="IN_SYNC"),
        {"StackDriftDetectionId": "d-master"},
    )
    stored(cfn, MASTER_ID, master_resources, [])
    # Network: in progress once, then drifted
    cfn.add_response("detect_stack_drift", {"StackDriftDetectionId": "d-network"}, {"StackName": NETWORK_ID})
    cfn.add_response(
        "describe_stack_drift_detection_status",
        detection_status(NETWORK_ID, "d-network", drift="", status="DETECTION_IN_PROGRESS"),
        {"StackDriftDetectionId": "d-network"},
    )
    cfn.add_response(
        "describe_stack_drift_detection_status",
        detection_status(NETWORK_ID, "d-network", drift="DRIFTED", drifted=1),
        {"StackDriftDetectionId": "d-network"},
    )
    stored(
        cfn,
        NETWORK_ID,
        network_resources,
        [
            resource_drift(
                NETWORK_ID,
                "ServiceSecurityGroup",
                SG_ID,
                "AWS::EC2::SecurityGroup",
                "MODIFIED",
                SG_EXPECTED,
                SG_ACTUAL,
                [SG_DIFFERENCE],
            )
        ],
    )
    # Topics: the detection fails on one resource; the topic it checked is in sync
    cfn.add_response("detect_stack_drift", {"StackDriftDetectionId": "d-topics"}, {"StackName": TOPICS_ID})
    cfn.add_response(
        "describe_stack_drift_detection_status",
        detection_status(
            TOPICS_ID, "d-topics", drift="UNKNOWN", status="DETECTION_FAILED", reason=TOPIC_FAILURE
        ),
        {"StackDriftDetectionId": "d-topics"},
    )
    unknown = {
        "StackId": TOPICS_ID,
        "LogicalResourceId": "DriftTopicPolicy",
        "PhysicalResourceId": "payme-Drift-1XYZ",
        "ResourceType": "AWS::SNS::TopicPolicy",
        "StackResourceDriftStatus": "UNKNOWN",
        "Timestamp": CHECKED,
        "DriftStatusReason": "Access denied for operation 'sns:GetTopicAttributes'.",
    }
    stored(cfn, TOPICS_ID, topics_resources, [unknown])


def test_environment_drift_nested_not_checked_and_failed_detection(workspace_root: Path) -> None:
    t = Transcript()
    dev_foundation(t)
    workspace = Workspace(workspace_root, search=False, aws=t.session())

    report = workspace.environment("dev").drift(options=FAST)

    t.done()  # every nested stack was detected on its own, in order, and nothing else was called
    by_label = {(s.region, s.wave, s.label): s for s in report.stacks}
    network = by_label[(PRIMARY, "foundation", "Network")]
    assert network.outcome == "DRIFTED" and network.stack_name == NETWORK
    [sg] = network.drifted
    assert (sg.logical_id, sg.status, sg.physical_id) == ("ServiceSecurityGroup", "MODIFIED", SG_ID)
    [difference] = sg.differences
    assert (difference.path, difference.expected, difference.kind) == (
        "/SecurityGroupIngress/1",
        "null",
        "ADD",
    )
    assert '"CidrIp":"0.0.0.0/0"' in difference.actual
    assert network.in_sync_count == 1  # the VPC

    master = by_label[(PRIMARY, "foundation", "(master)")]
    assert master.outcome == "IN_SYNC"
    # The custom resource is listed as not checked; the nested stack resources are not (checked on their own).
    assert [(r.logical_id, r.resource_type) for r in master.not_checked] == [
        ("SchemaSync", "Custom::SchemaSync")
    ]
    assert "does not support drift detection" in master.not_checked[0].reason

    topics = by_label[(PRIMARY, "foundation", "Topics")]
    assert topics.outcome == "FAILED" and topics.reason == TOPIC_FAILURE
    assert topics.detection_status == "DETECTION_FAILED"
    assert [(r.logical_id, r.status) for r in topics.not_checked] == [("DriftTopicPolicy", "UNKNOWN")]
    assert "sns:GetTopicAttributes" in topics.not_checked[0].reason

    assert [s.outcome for s in report.stacks if not s.stack_id] == ["NOT_DEPLOYED", "NOT_DEPLOYED"]
    # A failed detection makes the check incomplete: exit 1 even though drift was found.
    assert report.drifted and report.failed and report.exit_code == 1


def test_report_shows_differences_and_json_follows_the_schema(workspace_root: Path) -> None:
    t = Transcript()
    dev_foundation(t)
    report = Workspace(workspace_root, search=False, aws=t.session()).environment("dev").drift(options=FAST)

    console = Console(width=200, record=True)
    render_drift(report, console)
    text = console.export_text()
    assert "/SecurityGroupIngress/1" in text and "ADD" in text and "MODIFIED" in text
    assert "not checked (1): SchemaSync (Custom::SchemaSync)" in text
    assert TOPIC_FAILURE in text
    assert "dev: FAILED" in text and "1 drifted (1 resources), 1 failed" in text

    document = json.loads(dumps(report))
    assert document["schemaVersion"] == 1 and document["scope"] == "dev"
    assert document["status"] == "FAILED" and document["exitCode"] == 1
    assert document["summary"] == {
        "stacks": 3,
        "inSync": 1,
        "drifted": 1,
        "failed": 1,
        "notDeployed": 2,
        "driftedResources": 1,
        "notCheckedResources": 2,
    }
    network = next(s for s in document["stacks"] if s["nestedPath"] == ["Network"])
    assert network["resources"][0]["propertyDifferences"] == [
        {
            "propertyPath": "/SecurityGroupIngress/1",
            "expectedValue": "null",
            "actualValue": SG_DIFFERENCE["ActualValue"],
            "differenceType": "ADD",
        }
    ]
    assert network["stackDriftStatus"] == "DRIFTED" and network["detectionId"] == "d-network"


def test_notify_messages_have_the_drift_detector_shape(workspace_root: Path) -> None:
    t = Transcript()
    dev_foundation(t)
    report = Workspace(workspace_root, search=False, aws=t.session()).environment("dev").drift(options=FAST)

    [drift, failed] = messages_for(report)["dev"]
    assert drift.attributes == {"type": "StackDrift", "stack": NETWORK}
    assert drift.subject == f"[DRIFT] dev {NETWORK}: 1 resources"
    body = json.loads(drift.text)
    # The drift detector Lambda's schema (lambdas/drift_detector/handler.py), field for field.
    assert set(body) - {"source"} == drift_detector_keys()
    assert body["stackDriftStatus"] == "DRIFTED" and body["region"] == PRIMARY and body["account"] == DEV
    assert body["resources"][0]["propertyDifferences"][0]["propertyPath"] == "/SecurityGroupIngress/1"
    failure = json.loads(failed.text)
    assert failure["type"] == "DriftDetectionFailed"
    assert failure["failures"] == [
        {
            "stackName": TOPICS,
            "stackId": TOPICS_ID,
            "detectionId": "d-topics",
            "detectionStatus": "DETECTION_FAILED",
            "reason": TOPIC_FAILURE,
        }
    ]


# ---- StackSets ----------------------------------------------------------------------------------

FOUNDATION_SET_ID = "payments-foundation:5e6f7a8b-0000-4000-8000-000000000001"
DEV_INSTANCE = "StackSet-payments-foundation-3c1d9e2a-7b4f-4e8a-9d1c-0a2b3c4d5e6f"
STAGING_INSTANCE = "StackSet-payments-foundation-8f7e6d5c-4b3a-4291-8e0f-1a2b3c4d5e6f"
DEV_INSTANCE_ID = stack_arn(DEV_INSTANCE, "aaaa0000-0000-4000-8000-00000000000a")
STAGING_INSTANCE_ID = stack_arn(STAGING_INSTANCE, "bbbb0000-0000-4000-8000-00000000000b", account=STAGING)


def stack_set_start(t: Transcript, *, drifted: int) -> Stubber:
    t.identity(ADMIN, PRIMARY)
    admin = t("cloudformation", ADMIN, PRIMARY)
    admin.add_response(
        "describe_stack_set",
        stack_set("payments-foundation", FOUNDATION_SET_ID),
        {"StackSetName": "payments-foundation", "CallAs": "SELF"},
    )
    admin.add_response(
        "detect_stack_set_drift",
        {"OperationId": "op-drift-1"},
        {"StackSetName": "payments-foundation", "CallAs": "SELF", "OperationPreferences": DRIFT_PREFERENCES},
    )
    admin.add_response(
        "describe_stack_set_operation",
        stack_set_operation(
            "op-drift-1",
            FOUNDATION_SET_ID,
            status="RUNNING",
            drift="",
            detection="IN_PROGRESS",
            total=2,
            drifted=0,
            in_sync=0,
        ),
        {"StackSetName": "payments-foundation", "OperationId": "op-drift-1", "CallAs": "SELF"},
    )
    admin.add_response(
        "describe_stack_set_operation",
        stack_set_operation(
            "op-drift-1",
            FOUNDATION_SET_ID,
            status="SUCCEEDED",
            drift="DRIFTED" if drifted else "IN_SYNC",
            detection="COMPLETED",
            total=2,
            drifted=drifted,
            in_sync=2 - drifted,
        ),
        {"StackSetName": "payments-foundation", "OperationId": "op-drift-1", "CallAs": "SELF"},
    )
    admin.add_response(
        "list_stack_set_operation_results",
        {"Summaries": [operation_result(DEV, PRIMARY), operation_result(STAGING, PRIMARY)]},
        {"StackSetName": "payments-foundation", "OperationId": "op-drift-1", "CallAs": "SELF"},
    )
    admin.add_response(
        "list_stack_instances",
        {
            "Summaries": [
                instance(
                    FOUNDATION_SET_ID, DEV, PRIMARY, DEV_INSTANCE_ID, "DRIFTED" if drifted else "IN_SYNC"
                ),
                instance(FOUNDATION_SET_ID, STAGING, PRIMARY, STAGING_INSTANCE_ID, "IN_SYNC"),
            ]
        },
        {"StackSetName": "payments-foundation", "CallAs": "SELF"},
    )
    return admin


def stack_set_end(admin: Stubber) -> None:
    admin.add_client_error(
        "describe_stack_set",
        **stack_set_missing("payments-primary"),
        expected_params={"StackSetName": "payments-primary", "CallAs": "SELF"},
    )


def test_stack_set_drift_reads_the_drifted_instance_in_its_account(workspace_root: Path) -> None:
    t = Transcript()
    admin = stack_set_start(t, drifted=1)
    # dev's instance: AWS says DRIFTED; payctl reads the stored resource drift through dev's account.
    t.identity(DEV, PRIMARY)
    dev = t("cloudformation", DEV, PRIMARY)
    dev_resources = resources(
        summary("ServiceSecurityGroup", SG_ID, "AWS::EC2::SecurityGroup", "MODIFIED"),
        summary("Marker", "payments-foundation-marker", "AWS::CloudFormation::WaitConditionHandle"),
    )
    dev.add_response(
        "describe_stacks",
        stack(DEV_INSTANCE, DEV_INSTANCE_ID, drift="DRIFTED"),
        {"StackName": DEV_INSTANCE_ID},
    )
    stored(
        dev,
        DEV_INSTANCE_ID,
        dev_resources,
        [
            resource_drift(
                DEV_INSTANCE_ID,
                "ServiceSecurityGroup",
                SG_ID,
                "AWS::EC2::SecurityGroup",
                "MODIFIED",
                SG_EXPECTED,
                SG_ACTUAL,
                [SG_DIFFERENCE],
            )
        ],
    )
    dev.add_response(
        "list_stack_resources", dev_resources, {"StackName": DEV_INSTANCE_ID}
    )  # no nested stacks
    # staging's instance: in sync, nothing nested
    t.identity(STAGING, PRIMARY)
    staging = t("cloudformation", STAGING, PRIMARY)
    staging_resources = resources(
        summary("ServiceSecurityGroup", "sg-0ffee0ffee0ffee00", "AWS::EC2::SecurityGroup", "IN_SYNC")
    )
    staging.add_response(
        "describe_stacks",
        stack(STAGING_INSTANCE, STAGING_INSTANCE_ID, drift="IN_SYNC"),
        {"StackName": STAGING_INSTANCE_ID},
    )
    stored(staging, STAGING_INSTANCE_ID, staging_resources, [])
    staging.add_response("list_stack_resources", staging_resources, {"StackName": STAGING_INSTANCE_ID})
    stack_set_end(admin)

    report = Workspace(workspace_root, search=False, aws=t.session()).drift_all_accounts(options=FAST)

    t.done()
    foundation, primary = report.stack_sets
    assert primary.name == "payments-primary" and primary.outcome == "NOT_DEPLOYED"
    assert foundation.outcome == "DRIFTED" and foundation.operation_id == "op-drift-1"
    assert dict(foundation.counts)["DriftedStackInstancesCount"] == 1
    dev_instance, staging_instance = foundation.instances
    assert (dev_instance.environment, dev_instance.outcome) == ("dev", "DRIFTED")
    [dev_stack] = dev_instance.stacks
    assert dev_stack.drifted[0].differences[0].path == "/SecurityGroupIngress/1"
    assert [r.logical_id for r in dev_stack.not_checked] == ["Marker"]
    assert (staging_instance.environment, staging_instance.outcome) == ("staging", "IN_SYNC")
    assert report.exit_code == 2

    document = json.loads(dumps(report))
    instance_json = document["stackSets"][0]["instances"][0]
    assert instance_json["driftStatus"] == "DRIFTED" and instance_json["environment"] == "dev"
    assert instance_json["stacks"][0]["resources"][0]["logicalResourceId"] == "ServiceSecurityGroup"
    assert document["stackSets"][0]["counts"]["driftedStackInstancesCount"] == 1


def test_drift_hidden_in_an_instances_nested_stack_is_found(workspace_root: Path) -> None:
    """payctl's wave templates hold only nested stacks, which a StackSet's drift detection does not
    check: AWS calls every instance IN_SYNC; payctl detects each nested stack in the instance's account."""
    t = Transcript()
    admin = stack_set_start(t, drifted=0)
    nested_name = f"{DEV_INSTANCE}-Network-1QWERTYUIOPA"
    nested_id = stack_arn(nested_name, "cccc0000-0000-4000-8000-00000000000c")
    t.identity(DEV, PRIMARY)
    dev = t("cloudformation", DEV, PRIMARY)
    top = resources(summary("Network", nested_id, "AWS::CloudFormation::Stack"))
    network = resources(summary("ServiceSecurityGroup", SG_ID, "AWS::EC2::SecurityGroup", "MODIFIED"))
    dev.add_response(
        "describe_stacks",
        stack(DEV_INSTANCE, DEV_INSTANCE_ID, drift="IN_SYNC"),
        {"StackName": DEV_INSTANCE_ID},
    )
    stored(dev, DEV_INSTANCE_ID, top, [])
    dev.add_response("list_stack_resources", top, {"StackName": DEV_INSTANCE_ID})
    dev.add_response(
        "describe_stacks", stack(nested_name, nested_id, parent=DEV_INSTANCE_ID), {"StackName": nested_id}
    )
    dev.add_response("list_stack_resources", network, {"StackName": nested_id})
    dev.add_response("detect_stack_drift", {"StackDriftDetectionId": "d-nested"}, {"StackName": nested_id})
    dev.add_response(
        "describe_stack_drift_detection_status",
        detection_status(nested_id, "d-nested", drift="DRIFTED", drifted=1),
        {"StackDriftDetectionId": "d-nested"},
    )
    stored(
        dev,
        nested_id,
        network,
        [
            resource_drift(
                nested_id,
                "ServiceSecurityGroup",
                SG_ID,
                "AWS::EC2::SecurityGroup",
                "MODIFIED",
                SG_EXPECTED,
                SG_ACTUAL,
                [SG_DIFFERENCE],
            )
        ],
    )
    t.identity(STAGING, PRIMARY)
    staging = t("cloudformation", STAGING, PRIMARY)
    staging.add_response(
        "describe_stacks",
        stack(STAGING_INSTANCE, STAGING_INSTANCE_ID, drift="IN_SYNC"),
        {"StackName": STAGING_INSTANCE_ID},
    )
    stored(staging, STAGING_INSTANCE_ID, resources(), [])
    staging.add_response("list_stack_resources", resources(), {"StackName": STAGING_INSTANCE_ID})
    stack_set_end(admin)

    report = Workspace(workspace_root, search=False, aws=t.session()).drift_all_accounts(options=FAST)

    t.done()
    foundation = report.stack_sets[0]
    assert foundation.drift_status == "IN_SYNC"  # AWS's verdict
    dev_instance = foundation.instances[0]
    assert dev_instance.drift_status == "IN_SYNC" and dev_instance.outcome == "DRIFTED"
    assert dev_instance.hidden_drift
    assert [s.label for s in dev_instance.stacks] == ["(master)", "Network"]
    assert foundation.outcome == "DRIFTED" and report.exit_code == 2
    console = Console(width=200, record=True)
    render_drift(report, console)
    assert "drift in nested stacks, which the StackSet's detection does not check" in console.export_text()


# ---- stored results, for plan -------------------------------------------------------------------


def test_last_known_drift_reads_stored_results_without_detecting(workspace_root: Path) -> None:
    t = Transcript()
    cfn = t("cloudformation", DEV, PRIMARY)
    cfn.add_response(
        "describe_stacks", stack(NETWORK, NETWORK_ID, drift="DRIFTED"), {"StackName": NETWORK_ID}
    )
    cfn.add_response(
        "describe_stack_resource_drifts",
        {
            "StackResourceDrifts": [
                resource_drift(
                    NETWORK_ID,
                    "ServiceSecurityGroup",
                    SG_ID,
                    "AWS::EC2::SecurityGroup",
                    "MODIFIED",
                    SG_EXPECTED,
                    SG_ACTUAL,
                    [SG_DIFFERENCE],
                )
            ]
        },
        {
            "StackName": NETWORK_ID,
            "MaxResults": 100,
            "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"],
        },
    )
    gone = stack_arn("payments-dev-001-foundation-Old-0000", "dddd0000-0000-4000-8000-00000000000d")
    cfn.add_client_error("describe_stacks", **missing_stack(gone), expected_params={"StackName": gone})
    from payctl.aws.session import Target

    known = last_known_drift(t.session(), Target(DEV, PRIMARY), [NETWORK_ID, gone, NETWORK_ID])

    t.done()  # no DetectStackDrift: a transcript without one would have failed on it
    drift = known.get(NETWORK_ID, "ServiceSecurityGroup")
    assert drift is not None and drift.status == "MODIFIED" and drift.checked_at == CHECKED.isoformat()
    assert known.get(NETWORK_ID, "Vpc") is None and known.get(None, "ServiceSecurityGroup") is None


def test_plan_warnings_name_changes_to_drifted_resources(workspace_root: Path) -> None:
    from payctl.plan.model import EnvironmentPlan, Fingerprint, Plan, ResourceChange, StackPlan, WavePlan

    t = Transcript()
    cfn = t("cloudformation", DEV, PRIMARY)
    cfn.add_response(
        "describe_stacks", stack(NETWORK, NETWORK_ID, drift="DRIFTED"), {"StackName": NETWORK_ID}
    )
    cfn.add_response(
        "describe_stack_resource_drifts",
        {
            "StackResourceDrifts": [
                resource_drift(
                    NETWORK_ID,
                    "ServiceSecurityGroup",
                    SG_ID,
                    "AWS::EC2::SecurityGroup",
                    "MODIFIED",
                    SG_EXPECTED,
                    SG_ACTUAL,
                    [SG_DIFFERENCE],
                )
            ]
        },
        {"StackName": NETWORK_ID, "MaxResults": 100, "StackResourceDriftStatusFilters": ANY},
    )
    network = StackPlan(
        name="Network",
        status="update",
        source="change-set",
        stack_name=NETWORK,
        stack_id=NETWORK_ID,
        changes=(
            ResourceChange("Modify", "ServiceSecurityGroup", "AWS::EC2::SecurityGroup", SG_ID),
            ResourceChange("Modify", "Vpc", "AWS::EC2::VPC", "vpc-0f1e2d3c4b5a69788"),
        ),
    )
    master = StackPlan(
        name=MASTER,
        status="update",
        source="change-set",
        stack_name=MASTER,
        stack_id=MASTER_ID,
        children=(network,),
    )
    plan = Plan(
        (
            EnvironmentPlan(
                "dev", DEV, (WavePlan("foundation", PRIMARY, master, Fingerprint("", "", None, None, None)),)
            ),
        )
    )
    workspace = Workspace(workspace_root, search=False, aws=t.session())

    [warning] = workspace.drift_warnings(plan)

    t.done()
    assert (warning.stack, warning.logical_id, warning.action) == (
        "Network",
        "ServiceSecurityGroup",
        "Modify",
    )
    assert "MODIFIED, 1 property differ" in warning.message and "payctl drift dev" in warning.message


def drift_detector_keys() -> set[str]:
    """The keys of the drift detector Lambda's StackDrift report, from its own report builder (the
    Lambda is a deployable of its own, loaded here from its file)."""
    import importlib.util
    import sys

    from operate_support import REPO

    spec = importlib.util.spec_from_file_location(
        "payctl_lambda_drift_detector_shape", REPO / "lambdas" / "drift_detector" / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    detection = module.Detection(stack=module.StackRef("arn:aws:cloudformation:us-east-1:1:stack/x/y", "x"))
    return set(module.drift_report(detection, module.Settings("dev", "payments-dev-001", "arn:t", "arn:t")))
