"""`payctl apply`, `recover`, `bootstrap` and `plan --all-accounts` as a user runs them: exit codes,
what is asked, what is printed where (data on stdout, progress and errors on stderr)."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from apply_support import DEV, PROD, client, local_session

from payctl.automation import Workspace
from payctl.cli import Options, main

Run = tuple[int, str, str]
Cli = Callable[..., Run]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Runs payctl's entry point against the in-process emulator; `answer` is typed on a terminal."""
    hooks: list[tuple[str, Any]] = []

    def aws_workspace(self: Options) -> Workspace:
        return Workspace(self.workspace, search=False, aws=local_session(event_hooks=hooks))

    monkeypatch.setattr(Options, "aws_workspace", aws_workspace)

    def invoke(root: Path, *args: str, answer: str | None = None, event_hooks: Any = ()) -> Run:
        hooks[:] = list(event_hooks)
        monkeypatch.setattr("payctl.cli.apply.stdin_is_terminal", lambda: answer is not None)
        monkeypatch.setattr(sys, "stdin", io.StringIO(f"{answer}\n" if answer is not None else ""))
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["payctl", "--workspace", str(root), *args])
        with pytest.raises(SystemExit) as done:
            main()
        out, err = capsys.readouterr()
        return int(done.value.code or 0), out, err

    return invoke


def _stacks(account: str, region: str = "us-east-1") -> dict[str, str]:
    stacks = client("cloudformation", account, region).describe_stacks()["Stacks"]
    return {s["StackName"]: s["StackStatus"] for s in stacks if "ParentId" not in s}


def test_an_environment_or_all_accounts_must_be_named(emulator: None, workspace_root: Path, cli: Cli) -> None:
    code, _out, err = cli(workspace_root, "apply")
    assert code == 2 and "name an environment or pass --all-accounts" in err  # a usage error
    code, _out, err = cli(workspace_root, "apply", "dev", "--retry-failed")
    assert code == 2 and "--retry-failed goes with --all-accounts" in err


def test_without_a_terminal_apply_needs_yes(emulator: None, workspace_root: Path, cli: Cli) -> None:
    code, out, err = cli(workspace_root, "apply", "dev")
    assert code == 1
    assert "Plan: " in out  # the plan is shown first
    assert "no terminal to ask for confirmation on" in err and "--yes" in err
    assert _stacks(DEV) == {}


def test_apply_with_yes_deploys_and_prints_outputs(emulator: None, workspace_root: Path, cli: Cli) -> None:
    code, out, err = cli(workspace_root, "apply", "dev", "--yes", "--no-diff")
    assert code == 0, err
    assert "Apply complete: 3 stacks changed, 0 unchanged." in out
    assert "SessionTableName" in out and "sessions-dev-001" in out  # the outputs table, on stdout
    assert "dev: wave foundation in us-east-1, eu-west-1" in err  # progress, on stderr
    assert "created artifact bucket payctl-artifacts-111111111111-us-east-1, as `payctl bootstrap` would" in err
    assert _stacks(DEV) == {"payments-dev-001-foundation": "CREATE_COMPLETE", "payments-dev-001-app": "CREATE_COMPLETE"}

    code, out, _err = cli(workspace_root, "apply", "dev", "--yes")
    assert code == 0 and "No changes" in out


def test_a_yes_is_not_enough_for_prod(emulator: None, workspace_root: Path, cli: Cli) -> None:
    code, out, err = cli(workspace_root, "apply", "prod", "--no-diff", answer="yes")
    assert code == 1
    assert "prod is protected: type 'prod' to confirm" in out
    assert "apply cancelled: nothing was changed" in err
    assert _stacks(PROD) == {}

    code, _out, err = cli(workspace_root, "apply", "prod", "--no-diff", answer="prod")
    assert code == 0, err
    assert set(_stacks(PROD).values()) == {"CREATE_COMPLETE"}


def test_yes_no_question_for_an_unprotected_environment(emulator: None, workspace_root: Path, cli: Cli) -> None:
    code, out, err = cli(workspace_root, "apply", "dev", "--no-diff", answer="n")
    assert code == 1 and "Apply these changes? [y/N]" in out and "nothing was changed" in err
    code, _out, _err = cli(workspace_root, "apply", "dev", "--no-diff", answer="y")
    assert code == 0


def test_stale_saved_plan_exits_1(emulator: None, workspace_root: Path, cli: Cli, tmp_path: Path) -> None:
    from apply_support import edit, workspace

    from payctl.plan import dumps
    from payctl.plan.planner import PlanOptions

    cli(workspace_root, "apply", "dev", "--yes")
    logs = workspace_root / "stacks" / "storage" / "logs.yaml"
    edit(logs, "alerts-${EnvironmentSuffix}", "alerts-v2-${EnvironmentSuffix}")
    saved = tmp_path / "plan.json"  # what `payctl plan dev --out plan.json` writes
    saved.write_text(dumps(workspace(workspace_root).environment("dev").plan(options=PlanOptions(keep=True))))
    edit(logs, "alerts-v2-${EnvironmentSuffix}", "alerts-v3-${EnvironmentSuffix}")  # changed after the plan

    code, _out, err = cli(workspace_root, "apply", "dev", str(saved), "--yes")

    assert code == 1
    assert "the plan is stale" in err and "foundation/us-east-1: template changed since the plan" in err
    assert "hint: plan again: payctl plan dev --out plan.json" in err


def test_ctrl_c_exits_130_with_the_resume_hint(emulator: None, workspace_root: Path, cli: Cli) -> None:
    def interrupt(params: dict[str, Any], **_kwargs: Any) -> None:
        if str(params.get("StackName", "")).startswith("arn:"):
            raise KeyboardInterrupt

    code, _out, err = cli(workspace_root, "apply", "dev", "--yes",
                          event_hooks=[("before-parameter-build.cloudformation.DescribeStacks", interrupt)])
    assert code == 130
    assert "interrupted: payctl stopped watching; CloudFormation keeps going with foundation/" in err
    assert "hint: resume watching: payctl status dev --watch" in err


def test_all_accounts_plan_apply_and_failed_instances(emulator: None, workspace_root: Path, cli: Cli) -> None:
    code, out, _err = cli(workspace_root, "plan", "--all-accounts", "--no-diff")
    assert code == 2
    assert "payments-foundation: effective parameters per account and region" in out
    assert "10.102.0.0/16" in out  # prod's DR CIDR, in its own column

    iam = client("iam", PROD)
    for policy in iam.list_role_policies(RoleName="AWSCloudFormationStackSetExecutionRole")["PolicyNames"]:
        iam.delete_role_policy(RoleName="AWSCloudFormationStackSetExecutionRole", PolicyName=policy)
    iam.delete_role(RoleName="AWSCloudFormationStackSetExecutionRole")
    code, _out, err = cli(workspace_root, "apply", "--all-accounts", "--yes", "--no-diff")
    assert code == 1
    assert "StackSet payments-foundation: 2 instances failed" in err
    assert f"prod {PROD} eu-west-1: FAILED" in err and "--retry-failed" in err

    from payctl.local.organization import seed_organization

    seed_organization("444444444444", [DEV, "222222222222", PROD])
    code, out, err = cli(workspace_root, "apply", "--all-accounts", "--retry-failed", "--yes")
    assert code == 0, err
    assert "payments-foundation: retry, 2 operations" in out
    code, out, err = cli(workspace_root, "apply", "--all-accounts", "--yes", "--no-diff")
    assert code == 0, err
    assert "payments-app: create, 3 operations" in out
    code, _out, _err = cli(workspace_root, "plan", "--all-accounts")
    assert code == 0


def test_recover_with_nothing_to_recover(emulator: None, workspace_root: Path, cli: Cli) -> None:
    code, out, _err = cli(workspace_root, "recover", "dev")
    assert code == 0 and "dev: nothing to recover" in out
