from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_configure(config: pytest.Config) -> None:
    # Each test process keeps its own emulator state file, so parallel workers never share a
    # server and a developer's own emulator is never touched. Fixtures may still point elsewhere.
    os.environ["PAYCTL_STATE_DIR"] = tempfile.mkdtemp(prefix="payctl-state-")


@pytest.fixture(autouse=True)
def _isolated_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may reach a real AWS account or the developer's profiles."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("PAYCTL_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "payctl-cache"))


@pytest.fixture
def mini_workspace(tmp_path: Path) -> Path:
    """A copy of the small fixture workspace that a test may change freely."""
    target = tmp_path / "mini"
    shutil.copytree(FIXTURES / "mini", target)
    return target


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """A copy of the repository's envs/, stacks/ and lambdas/ that a test may change freely."""
    target = tmp_path / "repo"
    for folder in ("envs", "stacks", "lambdas"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return target
