"""The README's main job, end to end: `payctl --local apply --all-accounts --yes` with the repository's
own stacks and environments deploys every wave as a StackSet to dev, staging and prod in both regions,
on a local emulator this test starts (and stops) itself. Select it with `pytest -m emulator`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from payctl.aws.session import AwsSession, Target
from payctl.local import emulator

pytestmark = pytest.mark.emulator

ADMIN = "444444444444"
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "payctl-state"
    monkeypatch.setenv("PAYCTL_STATE_DIR", str(folder))
    try:
        yield folder
    finally:
        emulator.stop()


def payctl(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "payctl", "--workspace", str(root), "--local", *args],
                          capture_output=True, text=True, timeout=900, env={**os.environ}, check=False)


def test_apply_all_accounts_deploys_the_platform_everywhere(repo_copy: Path, state: Path) -> None:
    started = time.monotonic()
    done = payctl(repo_copy, "apply", "--all-accounts", "--yes", "--no-diff")
    seconds = time.monotonic() - started
    print(f"payctl --local apply --all-accounts --yes: {seconds:.1f}s (emulator start included)")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "payments-foundation: create, 6 operations" in done.stdout
    assert "payments-primary: create, 3 operations" in done.stdout
    assert "payments-dr: create, 3 operations" in done.stdout

    endpoint = emulator.status().endpoint
    assert endpoint is not None and endpoint.startswith("http://127.0.0.1:")
    aws = AwsSession(endpoint_url=endpoint)

    def stack(account: str, region: str, stack_set: str) -> dict[str, Any]:
        stacks = aws.client("cloudformation", Target(account, region)).describe_stacks()["Stacks"]
        [found] = [s for s in stacks if s["StackName"].startswith(f"StackSet-{stack_set}-") and "ParentId" not in s]
        return {p["ParameterKey"]: p["ParameterValue"] for p in found["Parameters"]} | {"status": found["StackStatus"]}

    admin = aws.client("cloudformation", Target(ADMIN, "us-east-1"))
    for name, count in (("payments-foundation", 6), ("payments-primary", 3), ("payments-dr", 3)):
        instances = admin.list_stack_instances(StackSetName=name)["Summaries"]
        assert len(instances) == count and {i["Status"] for i in instances} == {"CURRENT"}
    # Each account's own stacks carry its environment file's values.
    assert stack(ACCOUNTS["dev"], "us-east-1", "payments-primary")["DbInstanceClass"] == "db.t3.medium"
    assert stack(ACCOUNTS["prod"], "us-east-1", "payments-primary")["DbInstanceClass"] == "db.r5.large"
    assert stack(ACCOUNTS["prod"], "eu-west-1", "payments-foundation")["VpcCidr"] == "10.102.0.0/16"
    assert stack(ACCOUNTS["staging"], "eu-west-1", "payments-dr")["EnvironmentName"] == "staging"
    assert stack(ACCOUNTS["dev"], "us-east-1", "payments-primary")["ArtifactBucket"] == \
        f"payctl-artifacts-{ADMIN}-us-east-1"

    again = payctl(repo_copy, "plan", "--all-accounts", "--no-diff")
    assert again.returncode == 0, again.stdout[-3000:]  # nothing left to change anywhere
