"""Fixtures for the emulator core tests: moto in-process with payctl's patches installed."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from moto import mock_aws

from payctl.local import install


@pytest.fixture
def aws() -> Iterator[None]:
    """moto in-process (`mock_aws`) with payctl's patches and providers installed."""
    install()
    with mock_aws(), warnings.catch_warnings():
        # moto warns about every resource type it does not model; tests assert what matters.
        warnings.simplefilter("ignore")
        yield
