"""payctl compare."""

from __future__ import annotations

from typing import Annotated

import typer

from payctl.cli import app, options


@app.command()
def compare(
    ctx: typer.Context,
    first: Annotated[str, typer.Argument(metavar="ENV_A", help="Environment name (envs/<name>.yaml).")],
    second: Annotated[str, typer.Argument(metavar="ENV_B", help="Environment name to compare it with.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print every difference as JSON (docs/policy.md).")
    ] = False,
    show_all: Annotated[bool, typer.Option("--all", help="List parameter-driven differences too.")] = False,
) -> None:
    """Prove two environments differ only by parameters: every difference between their effective
    templates, classified parameter-driven or structural. Exit 2 when any is structural."""
    from payctl.compare import compare as compare_environments

    workspace = options(ctx).open_workspace()
    first_set, second_set = workspace.render([first, second])
    comparison = compare_environments(first_set, second_set)
    if as_json:
        import json

        print(json.dumps(comparison.to_json(), indent=2))
    else:
        from payctl.ui.policy import show_comparison

        show_comparison(comparison, structural_only=not show_all)
    # SystemExit, not typer.Exit: click drops an Exit's code outside standalone mode.
    raise SystemExit(comparison.exit_code)
