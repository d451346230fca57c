"""payctl drift, status, outputs, destroy and params: operating the platform day to day.

Exit codes (docs/operations.md): drift 0 in sync, 2 drifted, 1 error (a failed detection included);
the other commands 0 on success and 1 on error. Errors map to exit codes in payctl.cli.main.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from payctl.cli import app, options
from payctl.cli.templates import EnvArg

if TYPE_CHECKING:
    from payctl.operate.status import StatusReport

AllAccountsOpt = Annotated[bool, typer.Option(
    "--all-accounts", help="Every account, through the platform's StackSets (one per wave).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Write the result as JSON (schema v1) to stdout.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]
ParallelOpt = Annotated[int, typer.Option("--parallel", min=1, max=16,
                                          help="Stacks worked on at once (AWS throttles beyond a few).")]


def _one_scope(env: str | None, all_accounts: bool) -> None:
    # A PayctlError (exit 1), not a usage error: click's usage exit code 2 means "drifted" here.
    from payctl.errors import PayctlError

    if bool(env) == all_accounts:
        raise PayctlError("name an environment or pass --all-accounts (not both)")


@app.command()
def drift(
    ctx: typer.Context,
    env: EnvArg = None,
    all_accounts: AllAccountsOpt = False,
    notify: Annotated[bool, typer.Option(
        "--notify", help="Publish drift and failed detections to the environment's drift topic.")] = False,
    json_output: JsonOpt = False,
    parallel: ParallelOpt = 4,
    quiet: QuietOpt = False,
) -> None:
    """Detect drift on every stack of every wave and region, nested stacks included (or on every
    StackSet instance with --all-accounts), and show property-level differences.

    Exit code: 0 in sync, 2 drifted, 1 error (including a detection that failed)."""
    from payctl.drift import DriftOptions, dumps, ignore
    from payctl.ui import stderr, stdout
    from payctl.ui.drift import DriftProgress, render_drift

    _one_scope(env, all_accounts)
    workspace = options(ctx).aws_workspace()
    progress = DriftProgress(stderr())
    on_event = ignore if quiet else progress
    drift_options = DriftOptions(parallel=parallel)
    if all_accounts:
        report = workspace.drift_all_accounts(options=drift_options, on_event=on_event)
    else:
        report = workspace.environment(env).drift(options=drift_options, on_event=on_event)
    if json_output:
        sys.stdout.write(dumps(report))
        sys.stdout.flush()
    else:
        render_drift(report, stdout())
    if notify:
        sent = workspace.publish_drift(report, on_event=progress)
        if not sent:
            stderr().print("nothing to notify: no drift and no failed detection", highlight=False)
    # SystemExit, not typer.Exit: click drops an Exit's code outside standalone mode.
    raise SystemExit(report.exit_code)


@app.command()
def status(
    ctx: typer.Context,
    env: EnvArg = None,
    all_accounts: AllAccountsOpt = False,
    watch: Annotated[bool, typer.Option("--watch", "-w", help="Follow stacks in progress until they end.")]
    = False,
    interval: Annotated[float, typer.Option("--interval", min=1.0, help="Seconds between refreshes.")] = 5.0,
    json_output: JsonOpt = False,
    parallel: ParallelOpt = 4,
) -> None:
    """Every stack of every wave and region (nested stacks too): status, last update, drift status.
    With --all-accounts, every StackSet instance.

    Exit code: 0; with --watch, 1 when a stack ended in a failed or rolled-back state."""
    import json

    from payctl.operate.status import follow, status_json
    from payctl.ui import stdout
    from payctl.ui.status import Watch, render_status

    _one_scope(env, all_accounts)
    workspace = options(ctx).aws_workspace()

    def fetch() -> StatusReport:
        if all_accounts:
            return workspace.stack_set_status(parallel=parallel)  # type: ignore[no-any-return]
        return workspace.environment(env).status(parallel=parallel)  # type: ignore[no-any-return]

    if watch and not json_output:
        with Watch(stdout()) as view:
            def show(r: StatusReport) -> None:
                view.show(r, "watching: Ctrl-C stops watching, not AWS" if r.in_progress else "")

            if all_accounts:
                report = follow(fetch, show, interval=interval)
            else:  # an environment's stacks: their new events scroll above the table
                report = workspace.environment(env).watch(show, view.events, interval=interval,
                                                          parallel=parallel)
    else:
        report = follow(fetch, lambda _r: None, interval=interval) if watch else fetch()
        if json_output:
            sys.stdout.write(json.dumps(status_json(report), indent=2) + "\n")
        else:
            render_status(report, stdout())
    raise SystemExit(1 if watch and report.failed else 0)


@app.command()
def outputs(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="Environment name (envs/<name>.yaml).", show_default=False)],
    json_output: JsonOpt = False,
    parallel: ParallelOpt = 4,
) -> None:
    """Outputs of every stack (top-level and nested), grouped by wave, region and stack."""
    import json

    from payctl.operate.status import outputs_json
    from payctl.ui import stdout
    from payctl.ui.status import render_outputs

    workspace = options(ctx).aws_workspace()
    found = workspace.environment(env).outputs(parallel=parallel)
    if json_output:
        sys.stdout.write(json.dumps(outputs_json(env, found), indent=2) + "\n")
    else:
        render_outputs(env, found, stdout())


@app.command()
def destroy(
    ctx: typer.Context,
    env: EnvArg = None,
    all_accounts: Annotated[bool, typer.Option(
        "--all-accounts", help="Delete the StackSets' instances (only ENV's, if named), then the StackSets.")]
    = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (not enough for prod).")] = False,
    data_loss: Annotated[bool, typer.Option(
        "--i-understand-data-loss", help="Required for prod, together with typing its name.")] = False,
) -> None:
    """Delete an environment's stacks, waves in reverse order, after backing up its data.

    Shows the plan first. DynamoDB tables are backed up, Aurora keeps a final snapshot
    (DeletionPolicy Snapshot), versioned buckets are emptied, termination and deletion protection
    are lifted only after confirmation. prod needs --i-understand-data-loss and its name typed.
    Stops at the first failure; running it again continues from there. Exit code: 0 done, 1 error."""
    from payctl.errors import Refused
    from payctl.ui import stderr, stdout
    from payctl.ui.status import DestroyProgress, render_destroy_plan, render_destroy_result

    if not env and not all_accounts:
        raise Refused("name an environment, or pass --all-accounts")
    workspace = options(ctx).aws_workspace()
    if env and not all_accounts:  # deployed by `apply --all-accounts`: its StackSet instances go
        from payctl.apply.placement import managed_by_stack_sets

        waves = [wave.name for wave in workspace.composer.waves]
        all_accounts = env in managed_by_stack_sets(workspace.aws, workspace.environments, waves, [env])
    plan = (workspace.destroy_plan_all_accounts(env) if all_accounts
            else workspace.environment(env).destroy_plan())
    render_destroy_plan(plan, stdout())
    if plan.empty:
        raise SystemExit(0)
    if plan.touches_prod and not data_loss:
        raise Refused("destroying prod deletes its databases, tables and buckets",
                      hint="pass --i-understand-data-loss, then type the environment name when asked")
    if plan.touches_prod:
        typed = typer.prompt(f"Type {plan.scope!r} to destroy it", default="", show_default=False, err=True)
        if typed.strip() != plan.scope:
            raise Refused(f"typed {typed.strip()!r}, not {plan.scope!r}: nothing was changed")
    elif not yes and not typer.confirm(f"Destroy {plan.scope}?", default=False, err=True):
        raise Refused("not confirmed: nothing was changed")
    result = workspace.destroy(plan, confirmed=True, allow_data_loss=data_loss,
                               on_event=DestroyProgress(stderr()))
    render_destroy_result(result, stdout())
    raise SystemExit(1 if result.failure else 0)


# ---- payctl params ------------------------------------------------------------------------------

params_app = typer.Typer(
    name="params", no_args_is_help=True, rich_markup_mode=None,
    help="SecureString parameters under /{environment}/{service}/{parameter}, written through the SSM API "
         "with the environment's KMS key. Values are read from a hidden prompt or stdin, never from the "
         "command line, and shown only with `get --reveal`.")
app.add_typer(params_app)

EnvName = Annotated[str, typer.Argument(help="Environment name (envs/<name>.yaml).", show_default=False)]
PathArg = Annotated[str, typer.Argument(
    help="/{environment}/{service}/{parameter}, or {service}/{parameter}.", show_default=False)]
RegionOpt = Annotated[str | None, typer.Option("--region", help="One region (default: see each command).")]


def read_secret(prompt: str) -> str:
    """The value from stdin when it is not a terminal (one trailing newline dropped), else from a
    hidden prompt typed twice. Never an argument: command lines end up in shell history and `ps`."""
    if not sys.stdin.isatty():
        value = sys.stdin.read()
        return value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") else value
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True, err=True))


@params_app.command("set")
def params_set(
    ctx: typer.Context,
    env: EnvName,
    path: PathArg,
    region: RegionOpt = None,
    description: Annotated[str, typer.Option("--description", help="Stored with the version.")] = "",
    advanced: Annotated[bool, typer.Option("--advanced", help="Advanced tier (values up to 8 KB; charged).")]
    = False,
) -> None:
    """Write a new version of a SecureString in every region of the environment (or --region)."""
    from payctl.ui import stderr

    store = options(ctx).aws_workspace().environment(env).parameters()
    name = store.path(path)  # validated before asking for the value
    value = read_secret(f"value for {name}")
    written = store.write(name, value, regions=[region] if region else None, description=description,
                          advanced=advanced)
    del value
    for item in written:
        stderr().print(f"{name} ({item.region}): {'created' if item.created else 'updated'}, version "
                       f"{item.version}, encrypted with {store.key_alias}", highlight=False)


@params_app.command("get")
def params_get(
    ctx: typer.Context,
    env: EnvName,
    path: PathArg,
    region: RegionOpt = None,
    version: Annotated[int | None, typer.Option("--version", min=1, help="A version instead of the latest.")]
    = None,
    label: Annotated[str | None, typer.Option("--label", help="The version carrying this label.")] = None,
    reveal: Annotated[bool, typer.Option("--reveal", help="Print the decrypted value (alone) on stdout.")]
    = False,
) -> None:
    """Show a SecureString's version and metadata (primary region by default); the value only with
    --reveal, then alone on stdout."""
    from payctl.ui import stdout
    from payctl.ui.status import render_parameter

    if version is not None and label:
        raise typer.BadParameter("--version or --label, not both")
    store = options(ctx).aws_workspace().environment(env).parameters()
    found = store.read(store.path(path), region=region, version=version, label=label, reveal=reveal)
    if reveal:
        sys.stdout.write(found.value + "\n")
        sys.stdout.flush()
    else:
        render_parameter(found, stdout())


@params_app.command("list")
def params_list(
    ctx: typer.Context,
    env: EnvName,
    prefix: Annotated[str | None, typer.Argument(help="A service, to list only its subtree.")] = None,
    region: RegionOpt = None,
) -> None:
    """Every parameter under /{environment} (or one service's subtree), without values."""
    from payctl.ui import stdout
    from payctl.ui.status import render_parameters

    store = options(ctx).aws_workspace().environment(env).parameters()
    found = store.listing(prefix, region=region)
    render_parameters(found, stdout(), f"/{env}{'/' + prefix.strip('/') if prefix else ''} "
                                       f"({region or store.regions[0]})")


@params_app.command("history")
def params_history(ctx: typer.Context, env: EnvName, path: PathArg, region: RegionOpt = None) -> None:
    """Every version: who wrote it, when, and its labels (no values)."""
    from payctl.ui import stdout
    from payctl.ui.status import render_history

    store = options(ctx).aws_workspace().environment(env).parameters()
    render_history(store.history(store.path(path), region=region), stdout())


@params_app.command("label")
def params_label(
    ctx: typer.Context,
    env: EnvName,
    path: PathArg,
    version: Annotated[int, typer.Option("--version", min=1, help="The version to label.")],
    labels: Annotated[list[str], typer.Option("--label", help="A label, e.g. promoted (repeatable).")],
    region: RegionOpt = None,
) -> None:
    """Move labels such as `promoted` to a version, in every region (or --region). A label is on one
    version at a time; every region must hold the same value at that version."""
    from payctl.errors import PayctlError
    from payctl.ui import stderr

    store = options(ctx).aws_workspace().environment(env).parameters()
    name = store.path(path)
    refused = store.label(name, version, labels, regions=[region] if region else None)
    for where, invalid in refused.items():
        applied = [label for label in labels if label not in invalid]
        if applied:
            stderr().print(f"{name} ({where}): version {version} labelled {', '.join(applied)}",
                           highlight=False)
    rejected = sorted({label for invalid in refused.values() for label in invalid})
    if rejected:
        raise PayctlError(f"SSM refused the labels {', '.join(rejected)}")
