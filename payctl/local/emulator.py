"""Start, stop, reset and inspect the local emulator server process (used by `payctl local ...`).

State lives in `$PAYCTL_STATE_DIR/local.json` (default `~/.local/state/payctl/local.json`) while the
server runs; the server's log is `local.log` beside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from payctl.errors import PayctlError

from .server import DEFAULT_ACCOUNTS, DEFAULT_ADMIN_ACCOUNT, HEALTH_PATH, RESET_PATH

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


class EmulatorError(PayctlError):
    """The emulator could not be started, reached or stopped."""


@dataclass(frozen=True)
class EmulatorInfo:
    endpoint: str
    pid: int
    port: int


@dataclass(frozen=True)
class EmulatorStatus:
    running: bool
    endpoint: str | None = None
    pid: int | None = None
    started_at: str | None = None
    accounts: tuple[str, ...] = ()
    admin_account: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["accounts"] = list(self.accounts)
        return data


def state_dir() -> Path:
    configured = os.environ.get("PAYCTL_STATE_DIR")
    return Path(configured) if configured else Path.home() / ".local" / "state" / "payctl"


def state_file() -> Path:
    return state_dir() / "local.json"


def log_file() -> Path:
    return state_dir() / "local.log"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _healthy(endpoint: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(endpoint + HEALTH_PATH, timeout=timeout) as response:
            return bool(json.load(response).get("ready"))
    except (OSError, ValueError):
        return False


def _read_state() -> dict[str, Any] | None:
    try:
        data = json.loads(state_file().read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def status() -> EmulatorStatus:
    state = _read_state()
    if not state or not _pid_alive(int(state.get("pid", 0))) or not _healthy(str(state.get("endpoint"))):
        return EmulatorStatus(running=False)
    return EmulatorStatus(
        running=True,
        endpoint=str(state["endpoint"]),
        pid=int(state["pid"]),
        started_at=state.get("started_at"),
        accounts=tuple(state.get("accounts", ())),
        admin_account=state.get("admin_account"),
    )


def start(
    accounts: Sequence[str] = DEFAULT_ACCOUNTS,
    admin_account: str = DEFAULT_ADMIN_ACCOUNT,
    port: int | None = None,
) -> EmulatorInfo:
    """Start the server in the background and wait until it answers; refuses if one already runs."""
    current = status()
    if current.running:
        raise EmulatorError(f"the emulator already runs at {current.endpoint} (pid {current.pid})")
    port = port or _free_port()
    endpoint = f"http://{HOST}:{port}"
    state_dir().mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "payctl.local.server",
        "--host",
        HOST,
        "--port",
        str(port),
        "--accounts",
        ",".join(accounts),
        "--admin-account",
        admin_account,
    ]
    with log_file().open("ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not _healthy(endpoint, timeout=0.5):
        if process.poll() is not None:
            raise EmulatorError(f"the emulator exited with code {process.returncode}; see {log_file()}")
        if time.monotonic() > deadline:
            _terminate(process.pid)
            raise EmulatorError(
                f"the emulator did not answer within {START_TIMEOUT_SECONDS:.0f}s; see {log_file()}"
            )
        time.sleep(0.05)
    state = {
        "pid": process.pid,
        "port": port,
        "endpoint": endpoint,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "accounts": list(accounts),
        "admin_account": admin_account,
    }
    state_file().write_text(json.dumps(state, indent=2) + "\n")
    return EmulatorInfo(endpoint=endpoint, pid=process.pid, port=port)


def _terminate(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while _pid_alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> None:
    """Collect the exit status when the server is our own child (otherwise it lingers as a zombie)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop() -> bool:
    """Stop the running emulator; returns whether one was running."""
    state = _read_state()
    state_file().unlink(missing_ok=True)
    if not state or not _pid_alive(int(state.get("pid", 0))):
        return False
    _terminate(int(state["pid"]))
    return True


def reset() -> None:
    """Forget every resource (moto's reset) and seed the organization again."""
    current = status()
    if not current.running or current.endpoint is None:
        raise EmulatorError("the emulator is not running")
    request = urllib.request.Request(current.endpoint + RESET_PATH, method="POST", data=b"")
    try:
        with urllib.request.urlopen(request, timeout=30):
            pass
    except urllib.error.URLError as error:
        raise EmulatorError(f"reset failed: {error}") from error


def ensure_running(
    accounts: Sequence[str] = DEFAULT_ACCOUNTS,
    admin_account: str = DEFAULT_ADMIN_ACCOUNT,
    port: int | None = None,
) -> tuple[EmulatorStatus, bool]:
    """The running emulator, starting one if needed; the flag says whether this call started it."""
    current = status()
    if current.running:
        return current, False
    start(accounts, admin_account, port)
    return status(), True
