"""The CI workflow in docs/examples: plan on pull requests with the exit code as a gate, apply
saved plans on merge, OIDC roles only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from payctl.plan import Plan, dumps

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples"


def workflow(name: str) -> Any:
    return yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))


def step(job: Any, name: str) -> Any:
    return next(s for s in job["steps"] if s.get("name", "").startswith(name))


@pytest.mark.parametrize(("code", "approved", "expected"), [
    ("0", "false", 0), ("2", "false", 0), ("3", "false", 3), ("3", "true", 0), ("1", "false", 1),
])
def test_the_pull_request_gate_blocks_exit_3_unless_approved(code: str, approved: str, expected: int) -> None:
    gate = step(workflow("github-actions-deploy.yml")["jobs"]["plan-pr"], "gate on the exit code")
    script = gate["run"].replace("${{ matrix.env }}", "prod")
    done = subprocess.run(["bash", "-c", script], env={**os.environ, "CODE": code, "APPROVED": approved},
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == expected, done.stdout + done.stderr
    if expected == 3:
        assert "destructive-change-approved" in done.stdout


def test_the_summary_snippet_renders_a_saved_plan(tmp_path: Path) -> None:
    run = step(workflow("github-actions-deploy.yml")["jobs"]["plan-pr"], "payctl plan")["run"]
    snippet = re.search(r"<<'PY'\n(.*?)\nPY\n", run, re.S)
    assert snippet is not None
    saved = tmp_path / "plan-prod.json"
    saved.write_text(dumps(Plan(environments=())), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", snippet.group(1), str(saved)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_credentials_come_from_oidc_roles_of_the_example_accounts() -> None:
    texts = "\n".join(path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob("*.yml")))
    assert "secrets." not in texts and "aws-access-key-id" not in texts
    accounts = set(re.findall(r"\b\d{12}\b", texts))
    assert accounts == {"111111111111", "222222222222", "333333333333"}
    for name in ("github-actions-deploy.yml", "github-actions-deploy-environment.yml"):
        assert workflow(name)["permissions"]["id-token"] == "write"


def test_merge_applies_the_saved_plan_behind_an_environment() -> None:
    jobs = workflow("github-actions-deploy-environment.yml")["jobs"]
    plan_run = step(jobs["plan"], "payctl plan")["run"]
    assert "--out plan-${{ inputs.env }}.json" in plan_run
    apply_runs = [s["run"] for s in jobs["apply"]["steps"] if "run" in s]
    assert apply_runs[-1] == "payctl apply ${{ inputs.env }} plan-${{ inputs.env }}.json --yes"
    assert jobs["apply"]["environment"] == "${{ inputs.env }}"
    assert jobs["apply"]["concurrency"]["group"] == jobs["plan"]["concurrency"]["group"]
    order = workflow("github-actions-deploy.yml")["jobs"]
    assert order["deploy-staging"]["needs"] == "deploy-dev"
    assert order["deploy-prod"]["needs"] == "deploy-staging"
