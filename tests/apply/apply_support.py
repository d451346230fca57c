"""Helpers for apply tests (imported as `apply_support`; pytest puts this folder on sys.path)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from payctl.automation import Workspace
from payctl.aws.session import AwsSession, Target

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ADMIN = "444444444444"
DEV, STAGING, PROD = "111111111111", "222222222222", "333333333333"
ACCOUNTS = [DEV, STAGING, PROD]
REGIONS = ("us-east-1", "eu-west-1")


def local_session(**kwargs: Any) -> AwsSession:
    """A session that reaches each account as the local emulator lets it: by assuming
    OrganizationAccountAccessRole there (in-process moto answers the calls)."""
    session = AwsSession(**kwargs)
    session.local = True
    return session


def workspace(root: Path, **kwargs: Any) -> Workspace:
    return Workspace(root, search=False, aws=local_session(**kwargs))


_SESSION: list[AwsSession] = []


def reset_clients() -> None:
    """Forget cached clients (their credentials belong to the emulator state of one test)."""
    _SESSION.clear()


def client(service: str, account: str, region: str = "us-east-1") -> Any:
    """A client acting in `account` through its own credentials (what a user of that account sees)."""
    if not _SESSION:
        _SESSION.append(local_session())
    return _SESSION[0].client(service, Target(account, region))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
