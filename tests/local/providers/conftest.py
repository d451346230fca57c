"""Every test here runs in-process on moto with payctl's providers registered."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from moto import mock_aws
from provider_stacks import Stacks

from payctl.local.providers import register_all


@pytest.fixture
def stacks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stacks]:
    # Loading moto's AMI catalogue costs half a second per region; nothing here needs it.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws(), warnings.catch_warnings():
        # moto warns about every type it does not model; the test asserts what matters.
        warnings.simplefilter("ignore")
        register_all()
        yield Stacks()
