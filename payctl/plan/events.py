"""Progress of a plan, as typed events passed to an `on_event` callback.

The API emits them from worker threads while change sets are computed; the CLI renders them on
stderr, a CI job may log them as JSON (`dataclasses.asdict`). They carry no secrets and no results:
the Plan returned at the end is the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class PlanStarted:
    environment: str
    account_id: str
    stacks: int


@dataclass(frozen=True)
class AccountVerified:
    environment: str
    account_id: str
    region: str


@dataclass(frozen=True)
class ArtifactsUploaded:
    environment: str
    region: str
    bucket: str
    uploaded: int
    skipped: int
    bucket_created: bool = False


@dataclass(frozen=True)
class ChangeSetStarted:
    environment: str
    wave: str
    region: str
    stack_name: str
    change_set_type: Literal["CREATE", "UPDATE"]


@dataclass(frozen=True)
class StackPlanned:
    environment: str
    wave: str
    region: str
    stack_name: str
    status: str  # create, update, no-changes, deferred
    changes: int


@dataclass(frozen=True)
class PlanFinished:
    environment: str
    seconds: float


PlanEvent = PlanStarted | AccountVerified | ArtifactsUploaded | ChangeSetStarted | StackPlanned | PlanFinished
OnEvent = Callable[[PlanEvent], None]


def ignore(_event: PlanEvent) -> None:
    """The default callback: nobody listens."""
