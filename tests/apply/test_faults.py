"""Faults: CloudFormation, S3 and STS throttling a third of all calls (injected through botocore's event
hooks, as AWS answers ThrottlingException, against the emulator server so that a throttled request
never reaches it), and Ctrl-C landing in the poller."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from apply_support import ACCOUNTS, ADMIN, DEV, PROD, REGIONS, STAGING, client, workspace
from botocore.awsrequest import AWSResponse

from payctl.apply.common import approve_all
from payctl.automation import Workspace
from payctl.aws.session import AwsSession, Target
from payctl.errors import Interrupted
from payctl.local import emulator as local_emulator

THROTTLED = (b"<ErrorResponse><Error><Type>Sender</Type><Code>ThrottlingException</Code>"
             b"<Message>Rate exceeded</Message></Error><RequestId>5e1f3f0c-0000-4000-8000-000000000001</RequestId>"
             b"</ErrorResponse>")


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_kwargs: Any) -> Any:
        yield self.body


class Throttle:
    """Answers every third request with ThrottlingException before it reaches the service."""

    def __init__(self) -> None:
        self.calls = itertools.count(1)
        self.lock = threading.Lock()
        self.throttled: list[str] = []

    def __call__(self, request: Any, event_name: str = "", **_kwargs: Any) -> AWSResponse | None:
        with self.lock:
            if next(self.calls) % 3:
                return None
            self.throttled.append(event_name.removeprefix("before-send."))
        return AWSResponse(request.url, 400, {"Content-Type": "text/xml"}, _Body(THROTTLED))

    def hooks(self) -> list[tuple[str, Any]]:
        return [(f"before-send.{service}", self) for service in ("cloudformation", "s3", "sts")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    patch = pytest.MonkeyPatch()
    patch.setenv("PAYCTL_STATE_DIR", str(tmp_path_factory.mktemp("payctl-state")))
    info = local_emulator.start(ACCOUNTS, ADMIN)
    try:
        yield info.endpoint
    finally:
        local_emulator.stop()
        patch.undo()


@pytest.fixture
def endpoint(server: str) -> str:
    local_emulator.reset()
    return server


def _server_client(endpoint: str, service: str, account: str, region: str = "us-east-1") -> Any:
    return AwsSession(endpoint_url=endpoint).client(service, Target(account, region))


@pytest.mark.emulator
def test_all_accounts_completes_correctly_under_throttling(endpoint: str, workspace_root: Path) -> None:
    throttle = Throttle()
    aws = AwsSession(endpoint_url=endpoint, event_hooks=throttle.hooks())
    result = Workspace(workspace_root, search=False, aws=aws).apply_all_accounts(confirm=approve_all)

    assert len(throttle.throttled) >= 25  # a third of all calls
    # Calls that start work were throttled too, and retried without starting it twice (checked below).
    assert {"cloudformation.CreateStackSet", "cloudformation.CreateStackInstances"} <= set(throttle.throttled)
    assert [(w.stack_set, w.action) for w in result.waves] == [("payments-foundation", "create"),
                                                                ("payments-app", "create")]
    for account, env, cidrs in ((DEV, "dev", ("10.0.0.0/16", "10.100.0.0/16")),
                                (STAGING, "staging", ("10.1.0.0/16", "10.101.0.0/16")),
                                (PROD, "prod", ("10.2.0.0/16", "10.102.0.0/16"))):
        for region, cidr in zip(REGIONS, cidrs, strict=True):
            stacks = _server_client(endpoint, "cloudformation", account, region).describe_stacks()["Stacks"]
            [instance] = [s for s in stacks if s["StackName"].startswith("StackSet-payments-foundation-")
                          and "ParentId" not in s]
            values = {p["ParameterKey"]: p["ParameterValue"] for p in instance["Parameters"]}
            assert (values["EnvironmentName"], values["VpcCidr"]) == (env, cidr)
    # Exactly one instance per account and region: no retried call started a second operation.
    admin = _server_client(endpoint, "cloudformation", ADMIN)
    assert len(admin.list_stack_instances(StackSetName="payments-foundation")["Summaries"]) == 6
    operations = admin.list_stack_set_operations(StackSetName="payments-foundation")["Summaries"]
    assert len(operations) == 6


@pytest.mark.emulator
def test_environment_apply_completes_correctly_under_throttling(endpoint: str, workspace_root: Path) -> None:
    throttle = Throttle()
    # Standard retry mode here (the all-accounts test keeps payctl's default, adaptive, whose client-side
    # rate limiting makes the same run several times slower).
    aws = AwsSession(endpoint_url=endpoint, event_hooks=throttle.hooks(), retry_mode="standard")
    result = Workspace(workspace_root, search=False, aws=aws).environment("dev").apply(confirm=approve_all)

    assert throttle.throttled
    assert [(s.wave, s.region, s.status) for s in result.steps] == [
        ("foundation", "us-east-1", "CREATE_COMPLETE"), ("foundation", "eu-west-1", "CREATE_COMPLETE"),
        ("app", "us-east-1", "CREATE_COMPLETE")]
    outputs = {name: value for s in result.steps for _path, name, value in s.outputs}
    ssm = _server_client(endpoint, "ssm", DEV)
    assert outputs["ServiceVpc"] == ssm.get_parameter(Name="/dev/network/vpc-id")["Parameter"]["Value"]
    cfn = _server_client(endpoint, "cloudformation", DEV)
    assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"] if "ParentId" not in s] == [
        "payments-dev-001-foundation", "payments-dev-001-app"]  # once each


def test_ctrl_c_while_watching_detaches_without_leaving_change_sets(emulator: None, workspace_root: Path) -> None:
    def interrupt_the_watch(params: dict[str, Any], **_kwargs: Any) -> None:
        # The watcher describes the stack by its id (an ARN); Ctrl-C lands during that call.
        if str(params.get("StackName", "")).startswith("arn:"):
            raise KeyboardInterrupt

    ws = workspace(workspace_root, event_hooks=[("before-parameter-build.cloudformation.DescribeStacks",
                                                 interrupt_the_watch)])
    with pytest.raises(Interrupted) as stopped:
        ws.environment("dev").apply(confirm=approve_all)

    assert stopped.value.exit_code == 130
    assert "CloudFormation keeps going with foundation/" in stopped.value.message
    assert stopped.value.hint == "resume watching: payctl status dev --watch"
    for region in REGIONS:
        cfn = client("cloudformation", DEV, region)
        stacks = [s["StackName"] for s in cfn.describe_stacks()["Stacks"] if "ParentId" not in s]
        assert stacks == ["payments-dev-001-foundation"]  # the app wave never started, not even planned
        pending = [c for c in cfn.list_change_sets(StackName=stacks[0])["Summaries"]
                   if c["ExecutionStatus"] != "EXECUTE_COMPLETE"]
        assert pending == []
