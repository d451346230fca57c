"""Stack events: read only what is new, page by page, and find the root cause of a failure.

DescribeStackEvents answers newest first, a page at a time (`NextToken`). A reader remembers the
newest event it has seen and pages only until it meets it again, so a poll costs one call while
nothing happens. Nested stacks have event streams of their own; the watcher in payctl.aws.deploy
opens a reader per nested stack it discovers.

The root cause of a failed operation is the first `*_FAILED` event that is not CloudFormation
cancelling the siblings of the resource that really failed, followed down into the nested stack it
names, since a parent only says "Embedded stack ... was not successfully created".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from payctl.aws.errors import aws_errors
from payctl.aws.stacks import NESTED_STACK_TYPE

# Events CloudFormation writes for resources it stopped because another one failed: never the cause.
_CANCELLED = ("Resource creation cancelled", "Resource update cancelled", "Resource deletion cancelled")


@dataclass(frozen=True)
class StackEvent:
    """One StackEvent as DescribeStackEvents returns it."""

    event_id: str
    stack_id: str
    stack_name: str
    logical_id: str
    physical_id: str
    resource_type: str
    status: str
    reason: str
    timestamp: datetime

    @property
    def is_stack_level(self) -> bool:
        """The event is about the stack itself, not one of its resources."""
        return self.resource_type == NESTED_STACK_TYPE and (
            self.physical_id == self.stack_id or self.logical_id == self.stack_name)

    @property
    def is_nested_stack(self) -> bool:
        """The event is about a nested stack resource of this stack (its id names the nested stack)."""
        return (self.resource_type == NESTED_STACK_TYPE and not self.is_stack_level
                and self.physical_id.startswith("arn:"))

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED")

    @property
    def cancelled(self) -> bool:
        return any(self.reason.startswith(marker) for marker in _CANCELLED)


def stack_event(raw: dict[str, Any]) -> StackEvent:
    return StackEvent(
        event_id=str(raw.get("EventId", "")),
        stack_id=str(raw.get("StackId", "")),
        stack_name=str(raw.get("StackName", "")),
        logical_id=str(raw.get("LogicalResourceId", "")),
        physical_id=str(raw.get("PhysicalResourceId", "") or ""),
        resource_type=str(raw.get("ResourceType", "")),
        status=str(raw.get("ResourceStatus", "")),
        reason=str(raw.get("ResourceStatusReason", "") or ""),
        timestamp=raw["Timestamp"],
    )


def latest_event_id(cfn: Any, stack: str) -> str | None:
    """The newest event of a stack: where a reader for the next operation starts."""
    with aws_errors(f"reading the events of {stack}"):
        events = cfn.describe_stack_events(StackName=stack).get("StackEvents", [])
    return str(events[0]["EventId"]) if events else None


class EventReader:
    """Reads the events of one stack that it has not returned before, oldest first.

    `after_event_id`: events up to and including this one are old. `since`: events before this
    time are old (used for nested stacks, whose history predates the operation being watched).
    """

    def __init__(self, cfn: Any, stack_id: str, *, after_event_id: str | None = None,
                 since: datetime | None = None) -> None:
        self.cfn = cfn
        self.stack_id = stack_id
        self.last_seen = after_event_id
        self.since = since
        self.seen: list[StackEvent] = []  # everything returned so far, oldest first

    def read(self) -> list[StackEvent]:
        fresh: list[StackEvent] = []
        token: str | None = None
        with aws_errors(f"reading the events of {self.stack_id}"):
            while True:
                arguments: dict[str, Any] = {"StackName": self.stack_id}
                if token:
                    arguments["NextToken"] = token
                page = self.cfn.describe_stack_events(**arguments)
                done = False
                for raw in page.get("StackEvents", []):
                    event = stack_event(raw)
                    if event.event_id == self.last_seen or (self.since and event.timestamp < self.since):
                        done = True
                        break
                    fresh.append(event)
                token = page.get("NextToken")
                if done or not token:
                    break
        if fresh:
            self.last_seen = fresh[0].event_id
        fresh.reverse()
        self.seen.extend(fresh)
        return fresh


@dataclass(frozen=True)
class RootCause:
    """The resource whose failure made the operation fail, with the nested stacks leading to it."""

    path: tuple[str, ...]  # logical ids of the nested stacks from the root down to the failing one
    stack_name: str
    logical_id: str
    resource_type: str
    status: str
    reason: str

    def __str__(self) -> str:
        where = "/".join((*self.path, self.logical_id))
        return f"{where} ({self.resource_type}) {self.status}: {self.reason or 'no reason given'}"


EventsOf = Callable[[str], Sequence[StackEvent]]


def find_root_cause(events_of: EventsOf, stack_id: str, path: tuple[str, ...] = (),
                    seen: frozenset[str] = frozenset()) -> RootCause | None:
    """The first real failure in a stack's events (oldest first), followed into nested stacks.

    `events_of(stack_id)` returns the events of the operation being examined, oldest first."""
    events = list(events_of(stack_id))
    for event in events:
        if not event.failed or event.cancelled or event.is_stack_level:
            continue
        if event.is_nested_stack and event.physical_id not in seen:
            deeper = find_root_cause(events_of, event.physical_id, (*path, event.logical_id),
                                     seen | {stack_id})
            if deeper is not None:
                return deeper
        return RootCause(path, event.stack_name, event.logical_id, event.resource_type, event.status,
                         event.reason)
    # No resource failed: the stack itself did (a template or parameter error found at run time).
    for event in events:
        if event.failed and event.is_stack_level:
            return RootCause(path, event.stack_name, event.logical_id, event.resource_type, event.status,
                             event.reason)
    return None
