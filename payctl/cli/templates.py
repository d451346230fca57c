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
    written = workspace.write(target, chosen(env, all_envs), fmt)  # type: ignore[arg-type]
    stderr().print(f"wrote {len(written)} files to {out}", highlight=False)


@app.command()
def validate(
    ctx: typer.Context,
    env: EnvArg = None,
    all_envs: AllOpt = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Lint everything again.")] = False,
) -> None:
    """Lint every rendered template with cfn-lint; findings point at the source fragments."""
    from payctl.errors import LintFailed
    from payctl.ui.problems import show_lint

    workspace = options(ctx).open_workspace()
    names = chosen(env, all_envs)
    report = workspace.validate(names, use_cache=not no_cache)
    show_lint(report, environments=names or workspace.environments.names())
    if report.errors:
        raise LintFailed(f"{len(report.errors)} lint errors")
