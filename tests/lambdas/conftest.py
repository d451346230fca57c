"""Fixtures for the Lambda functions under lambdas/.

The functions are deployables of their own, not part of the payctl package, so each test loads
``lambdas/<name>/handler.py`` afresh by path (a new module per test: no client cache survives).
AWS is moto's in-process ``mock_aws``; what a function publishes is read back from an SQS queue
subscribed to the SNS topic, the way a subscriber would see it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

# The helpers module sits beside this file; make it importable whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lambda_support import ACCOUNT, REGION


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    # moto serves the dev account, so ARNs in the CloudTrail fixtures match moto's resources.
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield
