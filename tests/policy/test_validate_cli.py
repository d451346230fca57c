"""payctl validate as a user and a CI job meet it: exit codes, the located findings, suppressions
with their reasons, the scanner's status, --json and --sarif."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

UNBOUNDED_ROLE = "stacks/app/fn.yaml"


def payctl(*args: str, cwd: Path, checkov: str = "/nonexistent/checkov") -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PAYCTL_CHECKOV": checkov, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "payctl", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=environment)


APP_FRAGMENT = """\
Parameters:
  VpcId:
    Type: AWS::EC2::VPC::Id
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
Outputs:
  FnVpc:
    Value: !Ref VpcId
"""


@pytest.fixture
def workspace(mini_workspace: Path) -> Path:
    """The mini workspace with an application layer whose role has no permissions boundary (PAY004)."""
    (mini_workspace / UNBOUNDED_ROLE).write_text(APP_FRAGMENT)
    return mini_workspace


def suppress_boundary(workspace: Path, reason: str) -> None:
    path = workspace / UNBOUNDED_ROLE
    path.write_text(path.read_text().replace(
        "  Role:\n    Type: AWS::IAM::Role\n",
        "  Role:\n    Type: AWS::IAM::Role\n    Metadata:\n      payctl:\n        suppress:\n"
        f"          - {{rule: PAY004, reason: {json.dumps(reason)}}}\n", 1))


def test_policy_error_fails_with_the_fragment_line(workspace: Path) -> None:
    result = payctl("validate", "--all", cwd=workspace)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "PAY004" in result.stdout and f"{UNBOUNDED_ROLE}:7" in result.stdout
    assert "no PermissionsBoundary" in result.stdout
    assert "1 policy" in result.stderr
    assert "Traceback" not in result.stderr


def test_scanner_not_installed_is_said_not_skipped_silently(workspace: Path) -> None:
    result = payctl("validate", "--all", cwd=workspace)
    assert "scanner not run: checkov is not installed" in result.stderr


def test_suppression_with_reason_passes_and_shows_the_reason(workspace: Path) -> None:
    suppress_boundary(workspace, "The fixture role predates the boundary.")
    result = payctl("validate", "--all", cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Suppressed, with the reasons given" in result.stdout
    assert "The fixture role predates the boundary." in result.stdout
    assert "1 suppressed" in result.stderr


def test_suppression_without_reason_is_an_error(workspace: Path) -> None:
    suppress_boundary(workspace, "")
    result = payctl("validate", "--all", "--json", cwd=workspace)
    assert result.returncode == 1
    rules = {(f["rule"], f["suppressed"] is None) for f in json.loads(result.stdout)["findings"]}
    assert ("PAY000", True) in rules and ("PAY004", True) in rules


def test_json_report(workspace: Path) -> None:
    result = payctl("validate", "--all", "--json", cwd=workspace)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["schema"] == "payctl.validate/1"
    assert report["environments"] == ["dev", "staging", "prod"]
    assert report["scanner"]["status"] == "not-installed"
    assert report["summary"]["errors"] == 1
    (finding,) = [f for f in report["findings"] if f["rule"] == "PAY004"]
    assert finding == {
        "tool": "payctl", "rule": "PAY004", "severity": "error",
        "title": "Every IAM role has the environment's permissions boundary",
        "message": "no PermissionsBoundary",
        "hint": "Add PermissionsBoundary: !Ref PermissionsBoundaryArn (imported from the security layer).",
        "file": UNBOUNDED_ROLE, "line": 7, "resource": "Role", "path": "Properties",
        "where": ["dev/primary/us-east-1/app", "prod/primary/us-east-1/app", "staging/primary/us-east-1/app"],
        "suppressed": None,
    }
    again = payctl("validate", "--all", "--json", cwd=workspace)
    assert json.loads(again.stdout)["summary"]["from_cache"] is True
    assert json.loads(again.stdout)["findings"] == report["findings"]


def test_sarif_report(workspace: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "payctl.sarif"
    result = payctl("validate", "--all", "--sarif", str(target), cwd=workspace)
    assert result.returncode == 1
    sarif = json.loads(target.read_text())
    assert sarif["version"] == "2.1.0"
    runs = {run["tool"]["driver"]["name"]: run for run in sarif["runs"]}
    assert set(runs) == {"cfn-lint", "payctl"}
    (result_,) = runs["payctl"]["results"]
    assert result_["ruleId"] == "PAY004" and result_["level"] == "error"
    location = result_["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": UNBOUNDED_ROLE, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 7}}
    rule = runs["payctl"]["tool"]["driver"]["rules"][result_["ruleIndex"]]
    assert rule["id"] == "PAY004" and rule["defaultConfiguration"]["level"] == "error"
    assert runs["payctl"]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == workspace.resolve().as_uri() + "/"


def test_sarif_carries_suppressions(workspace: Path, tmp_path: Path) -> None:
    suppress_boundary(workspace, "The fixture role predates the boundary.")
    target = tmp_path / "payctl.sarif"
    assert payctl("validate", "--all", "--sarif", str(target), cwd=workspace).returncode == 0
    runs = {run["tool"]["driver"]["name"]: run for run in json.loads(target.read_text())["runs"]}
    (result_,) = runs["payctl"]["results"]
    assert result_["suppressions"] == [{"kind": "inSource",
                                        "justification": "The fixture role predates the boundary."}]
