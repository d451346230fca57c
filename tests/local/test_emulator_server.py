"""The real emulator process on 127.0.0.1: start, deploy into another account, reset, stop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from payctl.local import emulator
from payctl.local.organization import role_arn

pytestmark = pytest.mark.emulator

ACCOUNTS = ("111111111111", "222222222222", "333333333333")
ADMIN = "444444444444"

TEMPLATE = """
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties: {Name: /pay/mode, Type: String, Value: live}
Outputs:
  Mode: {Value: !Ref Setting}
"""


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[emulator.EmulatorInfo]:
    state = tmp_path_factory.mktemp("payctl-state")
    patch = pytest.MonkeyPatch()
    patch.setenv("PAYCTL_STATE_DIR", str(state))
    started = time.monotonic()
    info = emulator.start(ACCOUNTS, ADMIN)
    print(f"emulator started in {time.monotonic() - started:.2f}s")
    try:
        yield info
    finally:
        emulator.stop()
        patch.undo()


def _session(endpoint: str, account: str) -> boto3.Session:
    base = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    credentials = base.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn=role_arn(account), RoleSessionName="payctl-test"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name="eu-west-1",
    )


def test_status_reports_the_running_server(running: emulator.EmulatorInfo) -> None:
    status = emulator.status()
    assert status.running
    assert status.to_json()["endpoint"] == f"http://127.0.0.1:{running.port}"
    assert status.to_json()["running"] is True
    assert emulator.ensure_running(ACCOUNTS, ADMIN)[1] is False
    assert Path(emulator.state_file()).exists()


def test_deploy_to_staging_through_assume_role(running: emulator.EmulatorInfo) -> None:
    staging = _session(running.endpoint, "222222222222")
    assert (
        staging.client("sts", endpoint_url=running.endpoint).get_caller_identity()["Account"]
        == "222222222222"
    )
    cf = staging.client("cloudformation", endpoint_url=running.endpoint)
    cf.create_stack(StackName="payments", TemplateBody=TEMPLATE)

    stack = cf.describe_stacks(StackName="payments")["Stacks"][0]
    assert stack["StackId"].startswith("arn:aws:cloudformation:eu-west-1:222222222222:stack/payments/")
    assert stack["Outputs"] == [{"OutputKey": "Mode", "OutputValue": "/pay/mode"}]
    drift_id = cf.detect_stack_drift(StackName="payments")["StackDriftDetectionId"]
    assert (
        cf.describe_stack_drift_detection_status(StackDriftDetectionId=drift_id)["StackDriftStatus"]
        == "IN_SYNC"
    )
    # The stack lives in staging only.
    dev = _session(running.endpoint, "111111111111").client("cloudformation", endpoint_url=running.endpoint)
    assert dev.describe_stacks()["Stacks"] == []


def test_organization_is_seeded_with_the_given_accounts(running: emulator.EmulatorInfo) -> None:
    org = boto3.client(
        "organizations",
        endpoint_url=running.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert org.describe_organization()["Organization"]["MasterAccountId"] == ADMIN
    assert sorted(a["Id"] for a in org.list_accounts()["Accounts"]) == sorted([*ACCOUNTS, ADMIN])


def test_reset_forgets_resources_and_reseeds(running: emulator.EmulatorInfo) -> None:
    cf = _session(running.endpoint, "333333333333").client("cloudformation", endpoint_url=running.endpoint)
    cf.create_stack(StackName="temporary", TemplateBody=TEMPLATE)
    emulator.reset()
    cf = _session(running.endpoint, "333333333333").client("cloudformation", endpoint_url=running.endpoint)
    assert cf.describe_stacks()["Stacks"] == []


def test_stop_ends_the_process(running: emulator.EmulatorInfo) -> None:
    # Last test of the module: the fixture's own stop() then finds nothing to stop.
    import urllib.request

    assert emulator.stop() is True
    assert not emulator.status().running
    assert not emulator.state_file().exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(running.endpoint + "/payctl/health", timeout=1)
    assert emulator.stop() is False
