"""`payctl --local drift` against the emulator server on 127.0.0.1: a security group rule added by
hand is found, with its property difference, and the exit code says so.

The fixture workspace is deployed with `payctl --local apply` (the emulator's drift readers cover
its security group, bucket and table, so an untouched deployment is in sync). A second test
deploys the real platform and finds the same kind of change there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from operate_support import DEV, PRIMARY, REPO

from payctl.local import emulator
from payctl.local.organization import role_arn

pytestmark = pytest.mark.emulator

ACCOUNTS = ("111111111111", "222222222222", "333333333333")
ADMIN = "444444444444"


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An emulator of this module's own (its state folder), stopped at the end."""
    folder = tmp_path_factory.mktemp("payctl-operate-state")
    patch = pytest.MonkeyPatch()
    patch.setenv("PAYCTL_STATE_DIR", str(folder))
    emulator.start(ACCOUNTS, ADMIN)
    try:
        yield folder
    finally:
        emulator.stop()
        patch.undo()


@pytest.fixture
def emulated(state: Path) -> Path:
    """The module's emulator, emptied (and its organization seeded again) for this test."""
    emulator.reset()
    return state


def payctl(state: Path, workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAYCTL_STATE_DIR": str(state), "COLUMNS": "250"}
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "payctl", "--local", "--workspace", str(workspace), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def dev_client(service: str) -> Any:
    endpoint = emulator.status().endpoint
    base = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=PRIMARY)
    credentials = base.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn=role_arn(DEV), RoleSessionName="payctl-test"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=PRIMARY,
        endpoint_url=endpoint,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def security_group(stack_prefix: str, logical_id: str) -> str:
    cfn = dev_client("cloudformation")
    for summary in cfn.describe_stacks()["Stacks"]:
        if summary["StackName"].startswith(stack_prefix):
            for resource in cfn.list_stack_resources(StackName=summary["StackId"])["StackResourceSummaries"]:
                if resource["LogicalResourceId"] == logical_id:
                    return str(resource["PhysicalResourceId"])
    raise AssertionError(f"{logical_id} not found in {stack_prefix}*")


def open_ssh(group: str) -> None:
    dev_client("ec2").authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )


def ssh_differences(document: dict[str, Any], group: str) -> list[dict[str, Any]]:
    return [
        difference
        for stack in document["stacks"]
        for resource in stack["resources"]
        if resource["physicalResourceId"] == group
        for difference in resource["propertyDifferences"]
    ]


def test_local_drift_finds_an_added_ingress_rule(emulated: Path, tmp_path: Path) -> None:
    state = emulated
    import shutil

    from operate_support import HERE

    workspace = tmp_path / "workspace"
    shutil.copytree(HERE / "fixtures" / "workspace", workspace)
    shutil.copytree(REPO / "envs", workspace / "envs")
    applied = payctl(state, workspace, "apply", "dev", "--yes", "--quiet")
    assert applied.returncode == 0, applied.stderr

    clean = payctl(state, workspace, "drift", "dev")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "dev: IN_SYNC" in clean.stdout

    group = security_group("payments-dev-001-foundation-Network", "ServiceSecurityGroup")
    open_ssh(group)
    drifted = payctl(state, workspace, "drift", "dev")
    assert drifted.returncode == 2, drifted.stdout + drifted.stderr
    assert "ServiceSecurityGroup" in drifted.stdout and "/SecurityGroupIngress/1" in drifted.stdout
    assert '"CidrIp":"0.0.0.0/0"' in drifted.stdout and "ADD" in drifted.stdout
    as_json = payctl(state, workspace, "drift", "dev", "--json")
    [difference] = ssh_differences(json.loads(as_json.stdout), group)
    assert difference["differenceType"] == "ADD" and json.loads(difference["actualValue"])["FromPort"] == 22


def test_local_drift_on_the_platform_reports_a_rule_added_to_the_alb_group(emulated: Path) -> None:
    """The real platform: the rule shows as a property difference of the network layer's ALB group
    (the one group whose ingress the template sets inline; drift compares only what a template sets).
    (The exit code is not asserted here: the emulator's readers do not yet cover every property the
    platform sets, see payctl/local/LIMITATIONS.md, so an untouched platform is not entirely in sync.)"""
    state = emulated
    applied = payctl(state, REPO, "apply", "dev", "--yes", "--quiet")
    assert applied.returncode == 0, applied.stderr
    group = security_group("payments-dev-001-foundation-Network", "AlbSecurityGroup")
    before = json.loads(payctl(state, REPO, "drift", "dev", "--json").stdout)
    assert ssh_differences(before, group) == []

    open_ssh(group)
    after = payctl(state, REPO, "drift", "dev", "--json")

    assert after.returncode in (1, 2)
    document = json.loads(after.stdout)
    added = [d for d in ssh_differences(document, group) if d["differenceType"] == "ADD"]
    assert [json.loads(d["actualValue"])["CidrIp"] for d in added] == ["0.0.0.0/0"]
    network = next(s for s in document["stacks"] if s["nestedPath"] == ["Network"] and s["region"] == PRIMARY)
    assert network["outcome"] == "DRIFTED"


def test_local_stack_sets_drift_then_destroy_one_environment(emulated: Path) -> None:
    """Every account through StackSets: drift finds what the StackSets' own detection cannot see (it
    never looks into nested stacks), and destroying dev's instances keeps the other environments."""
    state = emulated
    applied = payctl(state, REPO, "apply", "--all-accounts", "--yes", "--quiet")
    assert applied.returncode == 0, applied.stderr
    group = security_group("StackSet-payments-foundation-", "AlbSecurityGroup")  # dev, us-east-1
    open_ssh(group)

    drift = payctl(state, REPO, "drift", "--all-accounts", "--json")
    document = json.loads(drift.stdout)
    foundation = next(s for s in document["stackSets"] if s["stackSetName"] == "payments-foundation")
    assert foundation["driftStatus"] == "IN_SYNC"  # the StackSet's own view stops at nested stacks
    [dev] = [i for i in foundation["instances"] if i["environment"] == "dev" and i["region"] == PRIMARY]
    assert dev["outcome"] == "DRIFTED" and dev["driftOnlyInNestedStacks"]
    network = next(s for s in dev["stacks"] if s["nestedPath"] == ["Network"])
    added = [d for r in network["resources"] if r["physicalResourceId"] == group for d in r["propertyDifferences"]]
    assert [json.loads(d["actualValue"])["FromPort"] for d in added if d["differenceType"] == "ADD"] == [22]

    refused = payctl(state, REPO, "destroy", "--all-accounts", "--yes")
    assert refused.returncode == 1 and "--i-understand-data-loss" in refused.stderr  # prod is among them

    destroyed = payctl(state, REPO, "destroy", "--all-accounts", "dev", "--yes")
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert "DynamoDB backup of payment-sessions-dev-001 in us-east-1" in destroyed.stdout
    assert "aws kms cancel-key-deletion --key-id arn:aws:kms:us-east-1:111111111111:key/" in destroyed.stdout
    status = json.loads(payctl(state, REPO, "status", "--all-accounts", "--json").stdout)
    environments = {(i["stackSetName"], i["environment"]) for i in status["instances"]}
    assert ("payments-foundation", "dev") not in environments
    assert {
        ("payments-foundation", "staging"),
        ("payments-foundation", "prod"),
        ("payments-dr", "prod"),
    } <= environments
