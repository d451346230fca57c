"""payctl local start|stop|status|reset: the local AWS emulator on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from payctl.cli import app, options

local_app = typer.Typer(help="The local AWS emulator (moto plus payctl's providers) on 127.0.0.1.",
                        no_args_is_help=True)
app.add_typer(local_app, name="local")


def _accounts(ctx: typer.Context) -> tuple[list[str], str]:
    envs = list(options(ctx).open_workspace().environments)
    return [env.account_id for env in envs], envs[0].stack_sets.admin_account


@local_app.command()
def start(ctx: typer.Context,
          port: Annotated[int | None, typer.Option(help="Port on 127.0.0.1 (default: a free one).")] = None) -> None:
    """Start the emulator with the workspace's accounts and the StackSet admin account."""
    from payctl.local.emulator import start as start_emulator
    from payctl.ui import stdout

    accounts, admin = _accounts(ctx)
    info = start_emulator(accounts, admin, port)
    stdout().print(f"local emulator running at {info.endpoint} (pid {info.pid}); "
                   f"accounts {', '.join(accounts)}, StackSet admin {admin}", highlight=False)


@local_app.command()
def stop() -> None:
    """Stop the emulator; every resource it held is gone."""
    from payctl.local.emulator import stop as stop_emulator
    from payctl.ui import stdout

    stdout().print("stopped the local emulator" if stop_emulator() else "the local emulator was not running")


@local_app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Whether the emulator runs, and where."""
    from payctl.local.emulator import status as emulator_status
    from payctl.ui import stdout

    current = emulator_status()
    if as_json:
        print(json.dumps(current.to_json(), sort_keys=True))
    elif current.running:
        stdout().print(f"running at {current.endpoint} (pid {current.pid}, since {current.started_at})",
                       highlight=False)
    else:
        stdout().print("not running (start it with `payctl local start`, or pass --local to any command)")


@local_app.command()
def reset() -> None:
    """Forget every resource and seed the organization and roles again."""
    from payctl.local.emulator import reset as reset_emulator
    from payctl.ui import stdout

    reset_emulator()
    stdout().print("the local emulator is empty again (organization and roles re-seeded)")
