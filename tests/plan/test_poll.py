"""The shared poller: first look at once, jittered backoff within bounds, a deadline that holds."""

from __future__ import annotations

import random

import pytest

from payctl.aws.poll import Backoff, poll
from payctl.errors import WaitTimedOut


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_the_first_final_answer_without_sleeping_when_ready() -> None:
    time = FakeTime()
    assert poll(lambda: "done", what="x", clock=time.clock, sleep=time.sleep) == "done"
    assert time.sleeps == []


def test_backs_off_with_jitter_up_to_the_ceiling() -> None:
    time = FakeTime()
    answers = iter([None] * 8 + ["ready"])
    backoff = Backoff(first=1.0, factor=2.0, ceiling=8.0, deadline=1000)
    assert poll(lambda: next(answers), what="x", backoff=backoff, clock=time.clock, sleep=time.sleep,
                rng=random.Random(7)) == "ready"
    bases = [min(8.0, 2.0 ** attempt) for attempt in range(8)]
    assert all(base / 2 <= slept <= base for slept, base in zip(time.sleeps, bases, strict=True))
    assert len(set(time.sleeps)) == len(time.sleeps)  # jittered, not in lockstep


def test_deadline_bounds_the_wait() -> None:
    time = FakeTime()
    backoff = Backoff(first=1.0, factor=2.0, ceiling=30.0, deadline=20.0)
    with pytest.raises(WaitTimedOut, match="change set X: still not finished after 20s"):
        poll(lambda: None, what="change set X", backoff=backoff, clock=time.clock, sleep=time.sleep)
    assert time.now == pytest.approx(20.0)  # the last sleep is cut to the deadline
