"""payctl plan: change sets for every wave and region, shown as a reviewable diff.

Exit codes (docs/plan.md): 0 no changes, 1 error, 2 changes, 3 destructive or security-sensitive
changes. The mapping of a Plan to 0/2/3 lives here; errors map to 1 in payctl.cli.main.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from payctl.cli import Options, app, options
from payctl.cli.templates import AllOpt, EnvArg, chosen

if TYPE_CHECKING:
    from payctl.automation import Workspace
    from payctl.plan import Plan

EXIT_NO_CHANGES = 0
EXIT_CHANGES = 2
EXIT_DANGEROUS = 3


def _plan_where_deployed(workspace: Workspace, names: list[str] | None, plan_options: Any,
                         progress: Any) -> Plan:
    """Plan each environment against what runs: its own stacks, or the StackSet instances
    `apply --all-accounts` deployed (then the StackSet planner compares them; no change sets)."""
    from dataclasses import replace

    from payctl.apply.placement import managed_by_stack_sets
    from payctl.errors import PayctlError
    from payctl.plan.model import Plan

    wanted = names or workspace.environments.names()
    waves = [wave.name for wave in workspace.composer.waves]
    try:
        in_stack_sets = managed_by_stack_sets(workspace.aws, workspace.environments, waves, wanted)
    except PayctlError:  # the StackSet admin account is out of these credentials' reach: own stacks only
        in_stack_sets = set()
    own = [name for name in wanted if name not in in_stack_sets]
    plans = [workspace.plan(own, options=plan_options, on_event=progress)] if own else []
    if in_stack_sets:
        everything = workspace.plan_all_accounts()
        plans.append(replace(everything, environments=tuple(
            e for e in everything.environments if e.environment in in_stack_sets)))
    return Plan(tuple(e for p in plans for e in p.environments),
                created_at=max(p.created_at for p in plans), notes=tuple(n for p in plans for n in p.notes))


def plan_exit_code(plan: Plan) -> int:
    summary = plan.summary()
    if summary.dangerous:
        return EXIT_DANGEROUS
    return EXIT_CHANGES if summary.has_changes else EXIT_NO_CHANGES


def aws_workspace(opts: Options) -> Workspace:
    """The workspace with its AWS session: real AWS (AWS_PROFILE/AWS_ENDPOINT_URL honoured), or the
    local emulator with --local, started if it is not running."""
    from payctl.automation import Workspace
    from payctl.aws.session import AwsSession

    endpoint = None
    if opts.local:
        from payctl.errors import PayctlError
        from payctl.local.emulator import EmulatorError, ensure_running

        try:
            status, _started = ensure_running()
        except EmulatorError as error:
            raise PayctlError(f"the local emulator did not start: {error}",
                              hint="see `payctl local status` and its log") from None
        endpoint = status.endpoint
    workspace = opts.open_workspace()
    assert isinstance(workspace, Workspace)
    return Workspace(workspace.root, search=False, aws=AwsSession(endpoint_url=endpoint))


@app.command()
def plan(
    ctx: typer.Context,
    env: EnvArg = None,
    all_envs: AllOpt = False,
    json_output: Annotated[bool, typer.Option("--json", help="Write the plan as JSON (schema v1) to stdout.")]
    = False,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Save the plan (JSON) for `payctl apply`; keeps its change sets.")] = None,
    keep: Annotated[bool, typer.Option(
        "--keep", help="Keep the change sets (and empty new stacks) instead of deleting them.")] = False,
    diff: Annotated[bool, typer.Option("--diff/--no-diff", help="Show template diffs.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    all_accounts: Annotated[bool, typer.Option(
        "--all-accounts", help="Every wave as a StackSet: effective parameters and changes per account and "
                               "region (payctl apply --all-accounts).")] = False,
) -> None:
    """Show what CloudFormation would change in each wave and region, nested stacks included.

    Exit code: 0 no changes, 2 changes, 3 destructive or security-sensitive changes, 1 error."""
    if all_accounts:
        from payctl.cli.apply import plan_all_accounts

        raise SystemExit(plan_all_accounts(ctx, json_output=json_output, diff=diff, quiet=quiet))
    from payctl.errors import PayctlError
    from payctl.plan import dumps
    from payctl.plan.events import ignore
    from payctl.plan.planner import PlanOptions
    from payctl.ui import stderr, stdout
    from payctl.ui.plan import PlanProgress, render_plan

    names = chosen(env, all_envs)
    workspace = aws_workspace(options(ctx))
    progress = ignore if quiet else PlanProgress(stderr())
    result = _plan_where_deployed(workspace, names, PlanOptions(keep=keep or out is not None), progress)
    # Stored drift results only: planning never starts a detection.
    try:
        for warning in workspace.drift_warnings(result):
            stderr().print(f"[yellow]warning:[/yellow] {warning.message}", highlight=False)
    except PayctlError as error:  # e.g. no permission to read drift results: the plan itself stands
        stderr().print(f"[yellow]warning:[/yellow] last drift results not read: {error.message}", highlight=False)
    if out is not None:
        out.write_text(dumps(result), encoding="utf-8")
        stderr().print(f"saved the plan to {out}", highlight=False)
    if json_output:
        sys.stdout.write(dumps(result))
        sys.stdout.flush()
    else:
        render_plan(result, stdout(), diff=diff)
    # SystemExit, not typer.Exit: click returns (and main() drops) an Exit's code outside standalone mode.
    raise SystemExit(plan_exit_code(result))
