"""Fixtures for the operate tests: a small workspace with the repository's envs/, moto in-process
with payctl's emulator patches (drift APIs, providers), and the command line as a user runs it."""

from __future__ import annotations

import shutil
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws
from operate_support import DEV, HERE, REPO, Cli, Run

from payctl.cli import main
from payctl.local import install


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("PAYCTL_LOCAL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def workspace_root(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    shutil.copytree(HERE / "fixtures" / "workspace", root)
    shutil.copytree(REPO / "envs", root / "envs")
    return root


@pytest.fixture
def moto_dev(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process with payctl's patches; the default credentials reach the dev account."""
    install()
    monkeypatch.setenv("MOTO_ACCOUNT_ID", DEV)
    with mock_aws(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns about every resource type it does not model
        yield


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `payctl --workspace ROOT ARGS...` through main(): exit code, stdout, stderr."""

    def invoke(root: Path, *args: str, stdin: str | None = None) -> Run:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["payctl", "--workspace", str(root), *args])
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", _Input(stdin))
        with pytest.raises(SystemExit) as done:
            main()
        out, err = capsys.readouterr()
        return int(done.value.code or 0), out, err

    return invoke


class _Input:
    """Piped stdin: not a terminal, read whole (payctl reads secrets this way) or line by line (prompts)."""

    def __init__(self, text: str) -> None:
        import io

        self._buffer = io.StringIO(text)

    def isatty(self) -> bool:
        return False

    def read(self, size: int = -1) -> str:
        return self._buffer.read(size)

    def readline(self, size: int = -1) -> str:
        return self._buffer.readline(size)
