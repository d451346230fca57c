"""The command line: Typer only. Each command parses options, calls one API function and hands
the result to payctl.ui. Errors are mapped to exit codes here, once."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from payctl import __version__

app = typer.Typer(
    name="payctl",
    help="Plan, deploy and watch the payment platform's CloudFormation across accounts and regions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
)


@dataclass
class Options:
    workspace: Path | None
    debug: bool
    local: bool

    def open_workspace(self) -> Any:
        from payctl.automation import Workspace

        return Workspace(self.workspace or Path.cwd(), search=self.workspace is None)

    def aws_workspace(self) -> Any:
        """The workspace with its AWS session: real AWS (profiles, AWS_ENDPOINT_URL honoured), or
        with --local the emulator on 127.0.0.1, started for the workspace's accounts if needed."""
        from payctl.automation import Workspace
        from payctl.aws.session import AwsSession

        workspace = self.open_workspace()
        endpoint = local_endpoint(workspace) if self.local else None
        return Workspace(workspace.root, search=False, aws=AwsSession(endpoint_url=endpoint))


def local_endpoint(workspace: Any) -> str:
    """Start the emulator if it is not running (saying so) and return its endpoint."""
    from payctl.local import LIMITATIONS_BANNER
    from payctl.local.emulator import ensure_running
    from payctl.ui import stderr

    envs = list(workspace.environments)
    accounts = [env.account_id for env in envs]
    admin = envs[0].stack_sets.admin_account if envs else "444444444444"
    status, started = ensure_running(accounts, admin)
    if started:
        stderr().print(f"started the local emulator at {status.endpoint} (stop it with `payctl local stop`)",
                       highlight=False)
    stderr().print(f"[dim]{LIMITATIONS_BANNER}[/dim]", highlight=False)
    assert status.endpoint is not None
    return status.endpoint


def _version(value: bool) -> None:
    if value:
        print(f"payctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: Annotated[Path | None, typer.Option(
        "--workspace", "-w", help="Workspace folder (default: the one containing the current directory).",
        envvar="PAYCTL_WORKSPACE")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and AWS call details.")] = False,
    local: Annotated[bool, typer.Option(
        "--local", help="Run against the local AWS emulator on 127.0.0.1 (started if needed).",
        envvar="PAYCTL_LOCAL")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = Options(workspace=workspace, debug=debug, local=local)


def options(ctx: typer.Context) -> Options:
    obj = ctx.find_root().obj
    assert isinstance(obj, Options)
    return obj


COMMAND_MODULES = ("templates", "policy", "plan", "apply", "operate", "graph", "local")


def _register() -> None:
    """Each module adds its commands to `app` when imported; commands import their own heavy parts."""
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(f"payctl.cli.{module}")


def _usage_error_class() -> type[Exception]:
    """click's ClickException as Typer raises it: recent Typer releases ship their own copy of click."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main() -> None:
    """Entry point: run the app and map errors to exit codes in this one place."""
    from payctl.errors import PayctlError, ProblemsError

    usage_error = _usage_error_class()

    _register()
    debug = "--debug" in sys.argv or os.environ.get("PAYCTL_DEBUG") == "1"
    try:
        # Without standalone mode click returns the code of `raise typer.Exit(n)` instead of exiting.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except usage_error as usage:
        usage.show()  # type: ignore[attr-defined]
        sys.exit(usage.exit_code)  # type: ignore[attr-defined]
    except typer.Abort:
        sys.exit(130)
    except PayctlError as error:
        from rich.markup import escape

        from payctl.ui import stderr
        from payctl.ui.problems import show_problems

        if debug:
            stderr().print_exception()
        if isinstance(error, ProblemsError):
            show_problems(error)
        stderr().print(f"[red]error:[/red] {escape(error.message)}", highlight=False)
        if error.hint:
            stderr().print(f"  hint: {escape(error.hint)}", highlight=False)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception:
        if debug:
            raise
        import traceback

        print(f"payctl {__version__}: unexpected error (a bug; please report it with --debug output):\n"
              f"  {traceback.format_exc().strip().splitlines()[-1]}", file=sys.stderr)
        sys.exit(70)
