"""payctl render / validate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from payctl.cli import app, options

EnvArg = Annotated[str | None, typer.Argument(help="Environment name (envs/<name>.yaml).", show_default=False)]
AllOpt = Annotated[bool, typer.Option("--all", help="Every environment.")]


def chosen(env: str | None, all_envs: bool) -> list[str] | None:
    if env is None and not all_envs:
        raise typer.BadParameter("name an environment or pass --all")
    return None if all_envs else [env] if env else None


@app.command()
def render(
    ctx: typer.Context,
    env: EnvArg = None,
    all_envs: AllOpt = False,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("build"),
    fmt: Annotated[str, typer.Option("--format", help="yaml or json.")] = "yaml",
) -> None:
    """Write every wave's master and nested templates, with parameter files, per region."""
    from payctl.ui import stderr

    if fmt not in ("yaml", "json"):
        raise typer.BadParameter("--format must be yaml or json")
    workspace = options(ctx).open_workspace()
    target = out if out.is_absolute() else Path.cwd() / out
    written = workspace.write(target, chosen(env, all_envs), fmt)
    stderr().print(f"wrote {len(written)} files to {out}", highlight=False)


@app.command()
def validate(
    ctx: typer.Context,
    env: EnvArg = None,
    all_envs: AllOpt = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Check everything again.")] = False,
    no_scan: Annotated[bool, typer.Option("--no-scan", help="Skip the security scanner (checkov).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON (schema: docs/policy.md).",
                                          )] = False,
    sarif: Annotated[Path | None, typer.Option("--sarif", help="Also write SARIF 2.1.0 to FILE.",
                                               metavar="FILE")] = None,
) -> None:
    """cfn-lint, the platform rules and the security scanner over every rendered template;
    findings point at the source fragments. Exit 1 on any error not suppressed with a reason."""
    from payctl.errors import LintFailed
    from payctl.policy.report import cached_validation

    names = chosen(env, all_envs)
    # Nothing changed: the cached report, without loading the workspace (its imports cost more).
    report = None if no_cache else cached_validation(options(ctx).workspace, names, run_scan=not no_scan)
    if report is None:
        report = options(ctx).open_workspace().validate(names, use_cache=not no_cache, scan=not no_scan)
    if sarif is not None:
        from payctl.policy.sarif import write_sarif

        write_sarif(report, sarif, Path(report.root))
    if as_json:
        import json

        print(json.dumps(report.to_json(), indent=2))
    else:
        from payctl.ui.policy import show_validation

        show_validation(report)
    if report.failed:
        raise LintFailed(f"{len(report.errors)} lint, {len(report.policy.errors)} policy and "
                         f"{len(report.scan.errors)} scanner errors")
