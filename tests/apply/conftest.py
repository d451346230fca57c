"""Fixtures for apply tests: a small workspace that deploys on the local emulator (in-process moto with
payctl's patches and providers), the organization seeded as the emulator server seeds it."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from apply_support import ACCOUNTS, ADMIN, HERE, REPO, reset_clients
from moto import mock_aws

from payctl.local import install
from payctl.local.organization import seed_organization


@pytest.fixture(autouse=True)
def _no_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("PAYCTL_LOCAL", raising=False)
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)  # it would pin every request to one account


@pytest.fixture
def workspace_root(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    shutil.copytree(HERE / "fixtures" / "workspace", root, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "envs", root / "envs")
    return root


@pytest.fixture
def emulator() -> Iterator[None]:
    """moto in-process with payctl's patches and providers, and the organization with its roles."""
    install()
    with mock_aws(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns about every type it does not model
        seed_organization(ADMIN, ACCOUNTS)
        reset_clients()
        yield
        reset_clients()
