"""Helpers for the operate tests (imported as `operate_support`; pytest puts this folder on sys.path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from payctl.automation import Workspace
from payctl.aws.session import AwsSession, Target
from payctl.plan.planner import PlanOptions

Run = tuple[int, str, str]  # exit code, stdout, stderr
Cli = Callable[..., Run]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEV = "111111111111"
STAGING = "222222222222"
PROD = "333333333333"
ADMIN = "444444444444"
PRIMARY, DR = "us-east-1", "eu-west-1"


def workspace(root: Path) -> Workspace:
    return Workspace(root, search=False, aws=AwsSession())


def deploy(root: Path, env: str = "dev") -> None:
    """Deploy every wave of the fixture workspace the way apply will: plan with kept change sets, execute.
    Twice: a wave whose earlier wave does not exist yet is only planned from its templates."""
    for _ in range(2):
        plan = (
            workspace(root).environment(env).plan(options=PlanOptions(keep=True, create_missing_bucket=True))
        )
        for _env, wave in plan.stacks():
            if wave.stack.change_set_id and wave.stack.kept:
                boto3.client("cloudformation", region_name=wave.region).execute_change_set(
                    ChangeSetName=wave.stack.change_set_id
                )


def physical_id(region: str, stack: str, logical_id: str) -> str:
    """A resource's physical id, looked up through the nested stack that holds it."""
    cfn = boto3.client("cloudformation", region_name=region)
    for summary in cfn.describe_stacks()["Stacks"]:
        if not summary["StackName"].startswith(stack):
            continue
        for resource in cfn.list_stack_resources(StackName=summary["StackId"])["StackResourceSummaries"]:
            if resource["LogicalResourceId"] == logical_id:
                return str(resource["PhysicalResourceId"])
    raise AssertionError(f"{logical_id} not found under {stack} in {region}")


def environment_key(
    env: str = "dev", suffix: str = "dev-001", regions: tuple[str, ...] = (PRIMARY, DR)
) -> None:
    """What the security layer leaves: the environment key behind alias/payments-<suffix> per region."""
    for region in regions:
        kms = boto3.client("kms", region_name=region)
        key = kms.create_key(Description=f"payments {suffix} data key")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=f"alias/payments-{suffix}", TargetKeyId=key)
    del env


class StubbedSession(AwsSession):
    """An AwsSession handing out the given (Stubber-wrapped) botocore clients per service, account
    and region: the code under test makes exactly the calls of the transcript, in order."""

    def __init__(self, clients: dict[tuple[str, str, str], Any]) -> None:
        super().__init__()
        self.stubbed = clients

    def client(self, service: str, target: Target) -> Any:
        return self.stubbed[(service, target.account_id, target.region)]


class Transcript:
    """Stubbed botocore clients per (service, account, region), checked for leftovers at the end."""

    def __init__(self) -> None:
        self.clients: dict[tuple[str, str, str], Any] = {}
        self.stubbers: dict[tuple[str, str, str], Stubber] = {}

    def __call__(self, service: str, account: str, region: str) -> Stubber:
        key = (service, account, region)
        if key not in self.stubbers:
            client = boto3.client(
                service, region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
            )
            self.clients[key] = client
            self.stubbers[key] = Stubber(client)
            self.stubbers[key].activate()
        return self.stubbers[key]

    def identity(self, account: str, region: str) -> None:
        self("sts", account, region).add_response(
            "get_caller_identity",
            {
                "UserId": "AROAEXAMPLE:payctl",
                "Account": account,
                "Arn": f"arn:aws:sts::{account}:assumed-role/payctl/payctl",
            },
            {},
        )

    def session(self) -> StubbedSession:
        return StubbedSession(self.clients)

    def done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()
