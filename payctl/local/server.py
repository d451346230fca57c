"""The emulator server: moto on 127.0.0.1 with payctl's patches and a seeded organization.

    python -m payctl.local.server --host 127.0.0.1 --port 4566 \\
        --accounts 111111111111,222222222222,333333333333 --admin-account 444444444444

Requests signed with any credentials land in the admin (management) account; a client reaches
account N by assuming `arn:aws:iam::N:role/OrganizationAccountAccessRole`.
`GET /payctl/health` answers once the patches are applied and the organization is seeded;
`POST /moto-api/reset` (moto's reset) is followed by a fresh seed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

ALLOWED_HOSTS = ("127.0.0.1", "localhost")
HEALTH_PATH = "/payctl/health"
RESET_PATH = "/moto-api/reset"
DEFAULT_ACCOUNTS = ("111111111111", "222222222222", "333333333333")
DEFAULT_ADMIN_ACCOUNT = "444444444444"

StartResponse = Callable[..., Any]


class EmulatorApp:
    """WSGI wrapper: health endpoint, reseed after reset, moto for everything else."""

    def __init__(
        self, moto_app: Any, seed: Callable[[], None], accounts: list[str], admin_account: str
    ) -> None:
        self._moto_app = moto_app
        self._seed = seed
        self._accounts = accounts
        self._admin_account = admin_account
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            body = json.dumps(
                {"ready": True, "accounts": self._accounts, "admin_account": self._admin_account}
            )
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body.encode()]
        if path == RESET_PATH and environ.get("REQUEST_METHOD") == "POST":
            with self._lock:
                result = list(self._moto_app(environ, start_response))
                self._seed()
            return result
        return self._moto_app(environ, start_response)  # type: ignore[no-any-return]


def build_app(accounts: list[str], admin_account: str) -> EmulatorApp:
    from moto.iam import models as iam_models
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from . import install
    from .organization import seed_organization

    # Unsigned-for-an-account requests (plain credentials) act in the management account.
    iam_models.DEFAULT_ACCOUNT_ID = admin_account  # type: ignore[attr-defined]
    install()

    def seed() -> None:
        seed_organization(admin_account, accounts)

    seed()
    return EmulatorApp(DomainDispatcherApplication(create_backend_app), seed, accounts, admin_account)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m payctl.local.server", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        choices=ALLOWED_HOSTS,
        help="the emulator only listens on the loopback interface",
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--accounts", default=",".join(DEFAULT_ACCOUNTS), help="comma-separated member account ids"
    )
    parser.add_argument(
        "--admin-account",
        default=DEFAULT_ADMIN_ACCOUNT,
        help="management and StackSet administrator account id",
    )
    args = parser.parse_args(argv)
    args.accounts = [a.strip() for a in args.accounts.split(",") if a.strip()]
    for account in [*args.accounts, args.admin_account]:
        if not (len(account) == 12 and account.isdigit()):
            parser.error(f"not a 12-digit account id: {account}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from werkzeug.serving import make_server

    app = build_app(args.accounts, args.admin_account)
    server = make_server(args.host, args.port, app, threaded=True)

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"payctl local emulator listening on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
