"""drift, status, outputs and destroy as a user runs them, against moto with the emulator's drift
APIs: exit codes 0/1/2, JSON on stdout, progress on stderr, notifications, confirmations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from operate_support import DR, PRIMARY, PROD, Cli, deploy, physical_id

from payctl.local import install


def open_ssh(region: str = PRIMARY) -> str:
    """Someone adds a rule by hand: port 22 from anywhere on the service security group."""
    group = physical_id(region, "payments-dev-001-foundation-Network", "ServiceSecurityGroup")
    boto3.client("ec2", region_name=region).authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    return group


def test_drift_exit_0_when_in_sync_with_json(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    deploy(workspace_root)
    code, out, err = cli(workspace_root, "drift", "dev", "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["status"] == "IN_SYNC" and document["exitCode"] == 0
    # foundation (master + 3 nested) in two regions, primary (master + 1 nested)
    assert document["summary"]["stacks"] == 10 and document["summary"]["drifted"] == 0
    labels = {(s["region"], s["wave"], tuple(s["nestedPath"])) for s in document["stacks"]}
    assert (DR, "foundation", ("Network",)) in labels and (PRIMARY, "primary", ("Data",)) in labels
    # Types the drift APIs do not check are listed, not hidden.
    network = next(s for s in document["stacks"] if s["nestedPath"] == ["Network"] and s["region"] == PRIMARY)
    assert [r["resourceType"] for r in network["notChecked"]] == ["AWS::EC2::VPC"]
    assert "detecting drift on payments-dev-001-foundation-Network" in err  # progress on stderr


def test_drift_exit_2_with_the_property_difference(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    deploy(workspace_root)
    group = open_ssh()

    code, out, _err = cli(workspace_root, "drift", "dev")

    assert code == 2
    assert "ServiceSecurityGroup" in out and "/SecurityGroupIngress/1" in out and "ADD" in out
    assert "dev: DRIFTED" in out
    code, out, _err = cli(workspace_root, "drift", "dev", "--json")
    document = json.loads(out)
    assert code == 2 and document["exitCode"] == 2
    [drifted] = [s for s in document["stacks"] if s["outcome"] == "DRIFTED"]
    assert drifted["resources"][0]["physicalResourceId"] == group
    [difference] = drifted["resources"][0]["propertyDifferences"]
    assert difference["propertyPath"] == "/SecurityGroupIngress/1" and difference["expectedValue"] == "null"
    assert json.loads(difference["actualValue"]) == {
        "CidrIp": "0.0.0.0/0",
        "FromPort": 22,
        "IpProtocol": "tcp",
        "ToPort": 22,
    }
    # status shows the drift CloudFormation recorded, without detecting again.
    code, out, _err = cli(workspace_root, "status", "dev", "--json")
    rows = {(r["region"], tuple(r["nestedPath"])): r for r in json.loads(out)["stacks"]}
    assert code == 0 and rows[(PRIMARY, ("Network",))]["driftStatus"] == "DRIFTED"
    assert rows[(DR, ("Network",))]["driftStatus"] == "IN_SYNC"


def test_drift_exit_1_when_nothing_is_deployed_or_the_scope_is_wrong(
    moto_dev: None, workspace_root: Path, cli: Cli
) -> None:
    code, out, _err = cli(workspace_root, "drift", "dev")
    assert code == 1 and "nothing deployed" in out and "NOT_DEPLOYED" in out
    code, _out, err = cli(workspace_root, "drift", "dev", "--all-accounts")
    assert code == 1 and "not both" in err


def test_notify_publishes_to_the_environment_drift_topic(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    deploy(workspace_root)
    topic = physical_id(PRIMARY, "payments-dev-001-foundation-Topics", "DriftTopic")
    boto3.client("ssm", region_name=PRIMARY).put_parameter(
        Name="/dev/monitoring/drift-topic-arn", Value=topic, Type="String"
    )
    sqs = boto3.client("sqs", region_name=PRIMARY)
    queue = sqs.create_queue(QueueName="drift-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=PRIMARY).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    code, _out, err = cli(workspace_root, "drift", "dev", "--notify")
    assert code == 0 and "nothing to notify" in err
    assert "Messages" not in sqs.receive_message(QueueUrl=queue)

    open_ssh()
    code, _out, err = cli(workspace_root, "drift", "dev", "--notify")
    assert code == 2 and f"published 1 message(s) to {topic}" in err
    [delivered] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(delivered["Body"])
    report = json.loads(envelope["Message"])
    assert envelope["MessageAttributes"]["type"]["Value"] == "StackDrift"
    assert envelope["Subject"].startswith("[DRIFT] dev payments-dev-001-foundation-Network-")
    assert report["type"] == "StackDrift" and report["source"] == "payctl drift"
    assert report["resources"][0]["propertyDifferences"][0]["differenceType"] == "ADD"


def test_status_and_outputs(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    deploy(workspace_root)
    code, out, _err = cli(workspace_root, "status", "dev", "--watch", "--json")
    document = json.loads(out)
    assert code == 0 and not document["inProgress"] and not document["failed"]
    assert [(r["wave"], r["region"], r["nestedPath"]) for r in document["stacks"]][:2] == [
        ("foundation", PRIMARY, []),
        ("foundation", PRIMARY, ["Network"]),
    ]
    assert {r["status"] for r in document["stacks"]} == {"CREATE_COMPLETE"}

    code, out, _err = cli(workspace_root, "status", "dev")
    assert code == 0 and "payments-dev-001-primary" in out and "dev: 10 stacks" in out

    code, out, _err = cli(workspace_root, "outputs", "dev", "--json")
    waves = json.loads(out)["waves"]
    assert code == 0
    assert waves["foundation"][PRIMARY]["stackName"] == "payments-dev-001-foundation"
    assert waves["foundation"][DR]["nested"]["Network"]["outputs"]["VpcId"].startswith("vpc-")
    assert waves["primary"][PRIMARY]["nested"]["Data"]["outputs"]["SessionTableName"] == "sessions-dev-001"
    code, out, _err = cli(workspace_root, "outputs", "dev")
    assert code == 0 and "SessionTableName" in out and "sessions-dev-001" in out


def test_destroy_asks_and_does_nothing_without_a_yes(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    deploy(workspace_root)
    code, out, err = cli(workspace_root, "destroy", "dev", stdin="n\n")
    assert code == 1 and "not confirmed: nothing was changed" in err
    assert "back up DynamoDB table sessions-dev-001" in out  # the plan was shown first
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    assert ddb.describe_table(TableName="sessions-dev-001")["Table"]["DeletionProtectionEnabled"] is True

    code, out, err = cli(workspace_root, "destroy", "dev", "--yes")
    assert code == 0, err
    assert "DynamoDB backup of sessions-dev-001 in us-east-1: sessions-dev-001-payctl-destroy-" in out
    assert "deleted primary · us-east-1 · payments-dev-001-primary" in err
    code, out, _err = cli(workspace_root, "destroy", "dev", "--yes")
    assert code == 0 and "nothing deployed, nothing to destroy" in out


@pytest.fixture
def moto_prod(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    install()
    monkeypatch.setenv("MOTO_ACCOUNT_ID", PROD)
    with mock_aws():
        yield


def test_destroying_prod_needs_the_flag_and_the_typed_name(moto_prod: None, workspace_root: Path, cli: Cli) -> None:
    deploy(workspace_root, "prod")
    ddb = boto3.client("dynamodb", region_name=PRIMARY)

    code, _out, err = cli(workspace_root, "destroy", "prod", "--yes")
    assert code == 1 and "--i-understand-data-loss" in err
    code, _out, err = cli(workspace_root, "destroy", "prod", "--yes", "--i-understand-data-loss", stdin="dev\n")
    assert code == 1 and "typed 'dev', not 'prod': nothing was changed" in err
    # Refusals lift nothing and back up nothing.
    assert ddb.describe_table(TableName="sessions-prod-001")["Table"]["DeletionProtectionEnabled"] is True
    assert ddb.list_backups(TableName="sessions-prod-001")["BackupSummaries"] == []

    code, out, err = cli(workspace_root, "destroy", "prod", "--i-understand-data-loss", stdin="prod\n")
    assert code == 0, err
    assert "lifted deletion protection of table sessions-prod-001 (us-east-1)" in out
    cfn = boto3.client("cloudformation", region_name=PRIMARY)
    assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"] if s["StackName"].startswith("payments-")] == []
