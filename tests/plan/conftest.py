"""Fixtures for plan tests: a small workspace that deploys on plain moto, and moto itself in-process.

The workspace is tests/plan/fixtures/workspace (stacks/, lambdas/) with the repository's own envs/,
so the environment model under test is always the real one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws
from plan_support import DEV, HERE, REPO


@pytest.fixture(autouse=True)
def _no_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("PAYCTL_LOCAL", raising=False)


@pytest.fixture
def workspace_root(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    shutil.copytree(HERE / "fixtures" / "workspace", root, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "envs", root / "envs")
    return root


@pytest.fixture
def moto_dev(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process with the emulator's extensions (plan reads stored drift results), and the
    default credentials reaching the dev account."""
    from payctl.local import install

    install()
    monkeypatch.setenv("MOTO_ACCOUNT_ID", DEV)
    with mock_aws():
        yield
