"""One jittered, deadline-bounded poller for AWS operations without a fitting botocore waiter.

Used for change sets (plan), stack operations and StackSet operations (apply), drift detection.
The check function returns a value when the operation reached a final state and None while it is
still going; the poller sleeps with exponential backoff and full jitter between checks, so many
planners polling at once do not hit CloudFormation's rate limits in step.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from payctl.errors import WaitTimedOut

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """How often to ask: first after `first` seconds, growing by `factor`, never above `ceiling`."""

    first: float = 0.5
    factor: float = 1.6
    ceiling: float = 10.0
    deadline: float = 900.0  # seconds from the first check until payctl gives up waiting

    def interval(self, attempt: int, rng: random.Random) -> float:
        base = min(self.ceiling, self.first * self.factor ** attempt)
        # Equal jitter: at least half the interval, so a fast answer is still not hammered.
        return base / 2 + rng.uniform(0, base / 2)


DEFAULT = Backoff()


def poll(check: Callable[[], T | None], *, what: str, backoff: Backoff = DEFAULT,
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
         rng: random.Random | None = None) -> T:
    """Call `check` until it returns a value; raise WaitTimedOut when the deadline passes first.

    The first check happens at once: emulators and small change sets are often ready immediately.
    """
    rng = rng or random.Random()
    started = clock()
    attempt = 0
    while True:
        result = check()
        if result is not None:
            return result
        remaining = backoff.deadline - (clock() - started)
        if remaining <= 0:
            raise WaitTimedOut(f"{what}: still not finished after {backoff.deadline:.0f}s",
                               hint="AWS keeps working on it; look at the stack events in the console, "
                                    "then run the command again")
        sleep(min(backoff.interval(attempt, rng), remaining))
        attempt += 1
