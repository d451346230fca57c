"""Progress of a drift check, as typed events for an `on_event` callback (the CLI prints them on
stderr). The DriftReport returned at the end is the result; events carry no results beyond a verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DetectionStarted:
    environment: str
    region: str
    stack_name: str


@dataclass(frozen=True)
class DetectionFinished:
    environment: str
    region: str
    stack_name: str
    outcome: str
    drifted_resources: int


@dataclass(frozen=True)
class StackSetDetectionStarted:
    stack_set: str
    operation_id: str


@dataclass(frozen=True)
class StackSetDetectionFinished:
    stack_set: str
    drift_status: str
    detection_status: str


@dataclass(frozen=True)
class NotificationPublished:
    environment: str
    topic_arn: str
    messages: int


DriftEvent = (DetectionStarted | DetectionFinished | StackSetDetectionStarted | StackSetDetectionFinished
              | NotificationPublished)
OnDriftEvent = Callable[[DriftEvent], None]


def ignore(_event: DriftEvent) -> None:
    """The default callback: no progress."""
