"""payctl graph: diagrams of what an environment deploys, from the rendered templates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from payctl.cli import app, options
from payctl.cli.templates import AllOpt, EnvArg, chosen


@app.command()
def graph(
    ctx: typer.Context,
    env: EnvArg = None,
    all_envs: AllOpt = False,
    fmt: Annotated[str, typer.Option("--format", help="mermaid (renders on code hosts) or dot (Graphviz).")]
    = "mermaid",
    level: Annotated[str | None, typer.Option(
        "--level", help="waves, stacks or resources (default: resources for one environment, "
                        "waves with --all).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")]
    = None,
) -> None:
    """Draw accounts, regions, waves, nested stacks and resources, with the values passed between
    stacks (outputs, SSM imports) and the cross-region replication. No AWS access."""
    from payctl.graph import FORMATS, LEVELS, build_graph, write_graph
    from payctl.ui import stderr

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    chosen_level = level or ("waves" if all_envs else "resources")
    if chosen_level not in LEVELS:
        raise typer.BadParameter(f"--level must be one of {', '.join(LEVELS)}")
    workspace = options(ctx).open_workspace()
    drawing = build_graph(workspace.render(chosen(env, all_envs)), stack_sets=all_envs)
    text = write_graph(drawing.collapse(chosen_level), fmt)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        stderr().print(f"wrote {out}", highlight=False)
