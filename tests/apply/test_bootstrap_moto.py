"""payctl bootstrap on the local emulator (in-process): the artifact bucket stacks in every account and
region, the execution role where it is missing, and what exists already left as it is."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from apply_support import ADMIN, PROD, REGIONS, REPO, client, workspace

from payctl.apply.common import approve_all
from payctl.apply.events import StepSkipped
from payctl.errors import Refused

EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"


@pytest.fixture
def root(workspace_root: Path) -> Path:
    shutil.copytree(REPO / "stacks" / "bootstrap", workspace_root / "stacks" / "bootstrap")
    return workspace_root


def _drop_role(account: str, name: str) -> None:
    iam = client("iam", account)
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    iam.delete_role(RoleName=name)


def test_bootstrap_every_account_and_the_admin_account(emulator: None, root: Path) -> None:
    _drop_role(PROD, EXECUTION_ROLE)  # prod has never been bootstrapped; the others were set up by hand
    events: list[Any] = []
    done = workspace(root).bootstrap(admin=True, on_event=events.append, confirm=approve_all)

    states = {(s.owner, s.region, s.stack_name): state for s, state in done}
    assert states[("prod", "us-east-1", "payctl-bootstrap-stackset-execution")] == "deployed"
    assert states[("dev", "us-east-1", "payctl-bootstrap-stackset-execution")] == (
        f"left as it is: role {EXECUTION_ROLE} exists outside the bootstrap stack")
    for owner in ("shared", "dev", "staging", "prod"):
        for region in REGIONS:
            assert states[(owner, region, "payctl-bootstrap-artifacts")] == "deployed"
    role = client("iam", PROD).get_role(RoleName=EXECUTION_ROLE)["Role"]
    assert f"arn:aws:iam::{ADMIN}:root" in str(role["AssumeRolePolicyDocument"])  # trusts the admin account only
    for region in REGIONS:
        client("s3", ADMIN, region).head_bucket(Bucket=f"payctl-artifacts-{ADMIN}-{region}")
        client("s3", PROD, region).head_bucket(Bucket=f"payctl-artifacts-{PROD}-{region}")
    assert any(isinstance(e, StepSkipped) and "exists outside the bootstrap stack" in e.reason for e in events)

    again = workspace(root).bootstrap(admin=True, confirm=approve_all)
    assert {state for s, state in again if s.stack_name == "payctl-bootstrap-artifacts"} == {"no changes"}


def test_bootstrap_asks_first(emulator: None, root: Path) -> None:
    with pytest.raises(Refused):
        workspace(root).bootstrap(["dev"], confirm=lambda _request: False)
    stacks = client("cloudformation", "111111111111").describe_stacks()["Stacks"]
    assert stacks == []  # the proposed stacks are gone again
