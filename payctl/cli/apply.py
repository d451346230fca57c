"""payctl apply, recover and bootstrap (and the body of `payctl plan --all-accounts`).

Exit codes (docs/apply.md): 0 applied (or nothing to do), 1 error, refused or failed deployment
(the root cause is printed), 130 interrupted (CloudFormation keeps going; resume watching with
`payctl status ENV --watch`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from payctl.cli import app, options

if TYPE_CHECKING:
    from rich.console import Console

    from payctl.apply.common import ConfirmRequest
    from payctl.ui.progress import ApplyProgress

YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (CI); protected environments too.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]
AllAccountsOpt = Annotated[bool, typer.Option(
    "--all-accounts", help="Every environment account at once, each wave as a StackSet from the admin account.")]


class Asker:
    """The confirmation callback: shows what will change (stdout), then asks on the terminal.
    Protected environments (terminationProtection: true) must be typed by name."""

    def __init__(self, yes: bool, progress: ApplyProgress | None, out: Console, *, diff: bool = True) -> None:
        self.yes = yes
        self.progress = progress
        self.out = out
        self.diff = diff

    def __call__(self, request: ConfirmRequest) -> bool:
        from rich.text import Text

        from payctl.errors import Refused
        from payctl.ui.plan import render_plan

        if self.progress is not None:
            self.progress.close()  # the live view would overwrite the question
        if request.plan.environments:
            if request.stage == "replanned":
                self.out.print(Text("An earlier wave changed what this wave imports; its plan now is:", style="bold"))
            render_plan(request.plan, self.out, diff=self.diff)
        question = request.question or "Apply these changes?"
        if self.yes:
            return True
        if not stdin_is_terminal():
            raise Refused("no terminal to ask for confirmation on", hint="review the plan, then pass --yes")
        if request.protected:
            names = " ".join(request.protected)
            answer = typer.prompt(f"{question} {', '.join(request.protected)} is protected: type "
                                  f"'{names}' to confirm", default="", show_default=False)
            return bool(answer.strip() == names)
        return bool(typer.confirm(question, default=False))


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _progress(quiet: bool) -> ApplyProgress | None:
    from payctl.ui import stderr
    from payctl.ui.progress import ApplyProgress

    return None if quiet else ApplyProgress(stderr())


@app.command()
def apply(
    ctx: typer.Context,
    env: Annotated[str | None, typer.Argument(help="Environment name (envs/<name>.yaml).", show_default=False)]
    = None,
    plan_file: Annotated[Path | None, typer.Argument(
        help="A plan saved with `payctl plan ENV --out FILE`: applied only if still current.", show_default=False,
        exists=True, dir_okay=False)] = None,
    all_accounts: AllAccountsOpt = False,
    yes: YesOpt = False,
    allow_replace: Annotated[list[str] | None, typer.Option(
        "--allow-replace", metavar="LOGICAL_ID",
        help="Allow this destructive change (replacement or removal of a data store) in a protected "
             "environment; repeat for each.")] = None,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="With --all-accounts: re-run only the instances whose last operation failed.")]
    = False,
    diff: Annotated[bool, typer.Option("--diff/--no-diff", help="Show template diffs in the plan.")] = True,
    quiet: QuietOpt = False,
) -> None:
    """Deploy the waves in order (a wave's regions at once), executing the change sets the plan shows.

    Asks before changing anything (protected environments: type the name); --yes for CI."""
    from payctl.apply.stacks import ApplyOptions
    from payctl.apply.stacksets import StackSetOptions
    from payctl.plan import loads
    from payctl.ui import stdout

    if all_accounts == bool(env):
        raise typer.BadParameter("name an environment or pass --all-accounts (not both)")
    if retry_failed and not all_accounts:
        raise typer.BadParameter("--retry-failed goes with --all-accounts")
    workspace = options(ctx).aws_workspace()
    progress = _progress(quiet)
    on_event = progress if progress is not None else (lambda _event: None)
    ask = Asker(yes, progress, stdout(), diff=diff)
    allowed = frozenset(allow_replace or ())
    try:
        if all_accounts:
            if plan_file is not None:
                raise typer.BadParameter("a saved plan applies to one environment")
            result = workspace.apply_all_accounts(allow_replace=allowed,
                                                  options=StackSetOptions(retry_failed=retry_failed),
                                                  on_event=on_event, confirm=ask)
            for wave in result.waves:
                stdout().print(f"{wave.stack_set}: {wave.action}, {len(wave.operations)} operations", highlight=False)
            return
        saved = loads(plan_file.read_text(encoding="utf-8")) if plan_file is not None else None
        outcome = workspace.environment(env).apply(saved, options=ApplyOptions(allow_replace=allowed),
                                                   on_event=on_event, confirm=ask)
    finally:
        if progress is not None:
            progress.close()
    _report(outcome)


def _report(outcome: object) -> None:
    from payctl.apply.stacks import ApplyResult
    from payctl.ui import stdout
    from payctl.ui.progress import outputs_table

    assert isinstance(outcome, ApplyResult)
    rows = [(step.wave, step.region, path, name, value) for step in outcome.steps
            for path, name, value in step.outputs]
    if rows:
        stdout().print(outputs_table(rows))
    changed = sum(1 for step in outcome.steps if step.status != "no-changes")
    if not outcome.plan.has_changes:
        stdout().print("No changes: every stack matches its templates and parameters.", highlight=False)
    else:
        stdout().print(f"Apply complete: {changed} stacks changed, {len(outcome.steps) - changed} unchanged.",
                       highlight=False)


@app.command()
def recover(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="Environment name (envs/<name>.yaml).", show_default=False)],
    skip: Annotated[list[str] | None, typer.Option(
        "--skip", metavar="LOGICAL_ID",
        help="A resource blocking a failed rollback that CloudFormation may skip (NestedStack.LogicalId for "
             "nested ones); repeat for each.")] = None,
    yes: YesOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Continue a failed rollback (UPDATE_ROLLBACK_FAILED), delete and recreate a failed first creation
    (ROLLBACK_COMPLETE), or watch a running operation until it ends."""
    from payctl.apply.recover import RecoverOptions
    from payctl.ui import stdout

    workspace = options(ctx).aws_workspace()
    progress = _progress(quiet)
    on_event = progress if progress is not None else (lambda _event: None)
    try:
        done = workspace.environment(env).recover(options=RecoverOptions(skip=frozenset(skip or ())),
                                                  on_event=on_event, confirm=Asker(yes, progress, stdout()))
    finally:
        if progress is not None:
            progress.close()
    acted = [r for r in done if r.action != "none"]
    for r in acted:
        stdout().print(f"{r.wave}/{r.region} {r.stack_name}: {r.before} -> {r.after}", highlight=False)
    if not acted:
        stdout().print(f"{env}: nothing to recover", highlight=False)


@app.command()
def bootstrap(
    ctx: typer.Context,
    env: Annotated[str | None, typer.Argument(help="Environment name (envs/<name>.yaml).", show_default=False)]
    = None,
    all_accounts: Annotated[bool, typer.Option(
        "--all-accounts", help="Every environment account, and the StackSet administration role and "
                               "artifact buckets in the admin account.")] = False,
    yes: YesOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Deploy what the first apply needs (stacks/bootstrap): the StackSet execution role and artifact
    buckets in each account (and with --all-accounts the admin account's role and buckets)."""
    from payctl.ui import stdout

    if all_accounts == bool(env):
        raise typer.BadParameter("name an environment or pass --all-accounts (not both)")
    workspace = options(ctx).aws_workspace()
    progress = _progress(quiet)
    on_event = progress if progress is not None else (lambda _event: None)
    try:
        done = workspace.bootstrap(None if all_accounts else [env], admin=all_accounts, on_event=on_event,
                                   confirm=Asker(yes, progress, stdout()))
    finally:
        if progress is not None:
            progress.close()
    for stack, state in done:
        stdout().print(f"{stack.owner} {stack.account_id} {stack.region} {stack.stack_name}: {state}",
                       highlight=False)


def plan_all_accounts(ctx: typer.Context, *, json_output: bool, diff: bool, quiet: bool) -> int:
    """`payctl plan --all-accounts`: effective parameters per account and region, then each StackSet
    instance's changes as a Plan. Returns the plan's exit code (0, 2 or 3)."""
    from payctl.apply.api import plan_all_accounts as plan_accounts
    from payctl.cli.plan import plan_exit_code
    from payctl.plan import dumps
    from payctl.ui import stdout
    from payctl.ui.plan import render_plan
    from payctl.ui.stacksets import parameters_tables

    workspace = options(ctx).aws_workspace()
    progress = _progress(quiet)
    try:
        plan, waves = plan_accounts(workspace, on_event=progress if progress is not None else lambda _e: None)
    finally:
        if progress is not None:
            progress.close()
    if json_output:
        sys.stdout.write(dumps(plan))
        sys.stdout.flush()
    else:
        tables = parameters_tables(waves)
        if stdout().is_terminal:
            stdout().print(tables)
        else:  # a file or a pipe: every account's column in full rather than cut to 80 characters
            from rich.console import Console

            width = 40 + 24 * max((len(wave.instances) for wave in waves), default=1)
            Console(file=sys.stdout, width=width, soft_wrap=True).print(tables)
        render_plan(plan, stdout(), diff=diff)
    return plan_exit_code(plan)
