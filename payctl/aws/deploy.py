"""Changing stacks: execute a change set, watch the operation (nested stacks included) until it ends,
protect stacks (termination protection, stack policies), continue a failed rollback, delete.

    watcher = StackWatcher(cfn, stack_id, after_event_id=latest_event_id(cfn, stack_id), on_event=print)
    execute_change_set(cfn, change_set_id, stack_name)
    outcome = watcher.wait()          # StackOutcome: final status, root cause when it failed

Waiting uses payctl.aws.poll with a ceiling of two seconds, so a finished stack is noticed within
two seconds; each check costs one DescribeStacks plus one DescribeStackEvents per stack still
changing (usually a single page: readers stop at the last event they saw).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from payctl.aws.errors import aws_errors, error_code, error_message, translate
from payctl.aws.events import EventReader, RootCause, StackEvent, find_root_cause
from payctl.aws.poll import Backoff, poll
from payctl.aws.stacks import IN_PROGRESS_SUFFIX, REVIEW_IN_PROGRESS, describe_stack, nested_stacks
from payctl.errors import AwsError, StackBusy, StalePlan

# A stack operation may run for hours (an Aurora global database takes most of one); the ceiling of
# two seconds is what makes a finished stack visible within two seconds.
STACK_BACKOFF = Backoff(first=0.5, factor=1.5, ceiling=2.0, deadline=4 * 3600.0)
SUCCEEDED = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE"})
ROLLED_BACK = frozenset({"ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"})
_BUSY_MARKERS = ("_IN_PROGRESS state and can not be updated", "is in UPDATE_IN_PROGRESS", "is in CREATE_IN_PROGRESS",
                 "is in DELETE_IN_PROGRESS", "_IN_PROGRESS state and can not be")


# After ExecuteChangeSet a new stack leaves REVIEW_IN_PROGRESS at once; still there after this long,
# the change set did not start.
REVIEW_GRACE_SECONDS = 120.0


def is_terminal(status: str) -> bool:
    """No operation is running (REVIEW_IN_PROGRESS: a stack with an unexecuted CREATE change set)."""
    return not status.endswith(IN_PROGRESS_SUFFIX) or status == REVIEW_IN_PROGRESS


@dataclass(frozen=True)
class StackOutcome:
    """How a watched operation ended."""

    stack_id: str
    stack_name: str
    status: str
    status_reason: str
    outputs: dict[str, str] = field(default_factory=dict)
    root_cause: RootCause | None = None
    events: int = 0
    seconds: float = 0.0

    @property
    def succeeded(self) -> bool:
        return self.status in SUCCEEDED

    @property
    def rolled_back(self) -> bool:
        return self.status in ROLLED_BACK


def execute_change_set(cfn: Any, change_set_id: str, stack_name: str) -> None:
    """Start the operation a change set describes. A stack already changing is StackBusy; a change set
    that is gone or no longer executable means the plan is stale."""
    try:
        cfn.execute_change_set(ChangeSetName=change_set_id)
    except ClientError as error:
        code, message = error_code(error), error_message(error)
        if any(marker in message for marker in _BUSY_MARKERS):
            raise StackBusy(f"{stack_name}: {message}",
                            hint="another operation is running; wait for it (payctl status --watch)") from error
        if code in ("ChangeSetNotFound", "ChangeSetNotFoundException", "InvalidChangeSetStatus",
                    "InvalidChangeSetStatusException"):
            raise StalePlan(f"{stack_name}: the planned change set cannot be executed: {message}",
                            hint="plan again (the stack changed or the change set was deleted)") from error
        raise translate(error, f"executing the change set of {stack_name}") from error


class StackWatcher:
    """Follows one stack operation: streams new events of the stack and of its nested stacks, and
    returns when the stack reaches a final state.

    `after_event_id`: the newest event before the operation started (what is older is not shown).
    `since`: alternatively, the time the operation started (used to watch an operation already running).
    `started_here`: payctl has just started the operation (so REVIEW_IN_PROGRESS means "not yet").
    """

    def __init__(self, cfn: Any, stack_id: str, *, after_event_id: str | None = None,
                 since: datetime | None = None, on_event: Callable[[StackEvent], None] = lambda _e: None,
                 backoff: Backoff = STACK_BACKOFF, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, started_here: bool = True) -> None:
        self.cfn = cfn
        self.stack_id = stack_id
        self.on_event = on_event
        self.backoff = backoff
        self.sleep = sleep
        self.clock = clock
        self.root = EventReader(cfn, stack_id, after_event_id=after_event_id, since=since)
        self.since = since  # set from the first new root event when unknown
        self.nested: dict[str, EventReader] = {}  # nested stack id -> reader
        self.active: set[str] = set()  # nested stacks whose last known status is in progress
        self.count = 0
        self.executed = started_here
        self.review_since: float | None = None

    def _reader(self, stack_id: str) -> EventReader:
        if stack_id not in self.nested:
            self.nested[stack_id] = EventReader(self.cfn, stack_id, since=self.since)
        return self.nested[stack_id]

    def _take(self, events: list[StackEvent]) -> None:
        for event in events:
            if self.since is None:
                self.since = event.timestamp
            if event.is_nested_stack:
                self._reader(event.physical_id)
                if is_terminal(event.status):
                    self.active.discard(event.physical_id)
                else:
                    self.active.add(event.physical_id)
            self.count += 1
            self.on_event(event)

    def _read_nested(self, stack_ids: set[str]) -> None:
        for stack_id in sorted(stack_ids):
            self._take(self.nested[stack_id].read())

    def check(self) -> dict[str, Any] | None:
        """One poll: new events, then the stack's status; the DescribeStacks answer once it is final."""
        self._take(self.root.read())
        self._read_nested(set(self.active))
        with aws_errors(f"describing stack {self.stack_id}"):
            stack = self.cfn.describe_stacks(StackName=self.stack_id)["Stacks"][0]
        status = str(stack["StackStatus"])
        if status == REVIEW_IN_PROGRESS and self.executed:
            # Executed, but the stack has not left review yet: wait a little, not forever.
            if self.review_since is None:
                self.review_since = self.clock()
            if self.clock() - self.review_since < REVIEW_GRACE_SECONDS:
                return None
            raise AwsError(f"{stack['StackName']}: the change set was executed but the stack is still "
                           f"{REVIEW_IN_PROGRESS} after {REVIEW_GRACE_SECONDS:.0f}s")
        if not is_terminal(status):
            return None
        # The last events, written between the reads above and the final status, and those of nested
        # stacks that finished since they were last read.
        self._take(self.root.read())
        self._read_nested(set(self.nested))
        return dict(stack)

    def wait(self) -> StackOutcome:
        started = self.clock()
        stack = poll(self.check, what=f"stack {self.stack_id}", backoff=self.backoff, sleep=self.sleep,
                     clock=self.clock)
        status = str(stack["StackStatus"])
        cause = None if status in SUCCEEDED else find_root_cause(self.events_of, self.stack_id)
        return StackOutcome(
            stack_id=str(stack["StackId"]),
            stack_name=str(stack["StackName"]),
            status=status,
            status_reason=str(stack.get("StackStatusReason", "") or ""),
            outputs={o["OutputKey"]: str(o.get("OutputValue", "")) for o in stack.get("Outputs", [])},
            root_cause=cause,
            events=self.count,
            seconds=self.clock() - started,
        )

    def events_of(self, stack_id: str) -> list[StackEvent]:
        """Events of the watched operation in one stack of the tree (read now if never polled)."""
        if stack_id == self.stack_id:
            return list(self.root.seen)
        reader = self._reader(stack_id)
        if not reader.seen:
            try:
                reader.read()
            except AwsError:  # the nested stack may be deleted already; the parent's reason stands
                return []
        return list(reader.seen)


# -- protection ----------------------------------------------------------------------------------
def termination_protection(cfn: Any, stack: str) -> bool:
    with aws_errors(f"describing stack {stack}"):
        raw = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    return bool(raw.get("EnableTerminationProtection", False))


def set_termination_protection(cfn: Any, stack: str, enabled: bool) -> None:
    """On the root stack only: nested stacks take their root's setting."""
    with aws_errors(f"setting termination protection of {stack}"):
        cfn.update_termination_protection(StackName=stack, EnableTerminationProtection=enabled)


def set_stack_policy(cfn: Any, stack: str, policy: dict[str, Any]) -> None:
    with aws_errors(f"setting the stack policy of {stack}"):
        cfn.set_stack_policy(StackName=stack, StackPolicyBody=json.dumps(policy, sort_keys=True))


def stack_policy(cfn: Any, stack: str) -> dict[str, Any] | None:
    with aws_errors(f"reading the stack policy of {stack}"):
        body = cfn.get_stack_policy(StackName=stack).get("StackPolicyBody")
    return json.loads(body) if body else None


def stack_tree(cfn: Any, stack_id: str, path: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    """Every stack of a tree by its path of nested stack logical ids (the root is `()`)."""
    found = {path: stack_id}
    for logical_id, nested_id in nested_stacks(cfn, stack_id).items():
        found.update(stack_tree(cfn, nested_id, (*path, logical_id)))
    return found


# -- recovery ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BlockingResource:
    """A resource CloudFormation could not roll back (its status is UPDATE_FAILED)."""

    path: tuple[str, ...]  # nested stack logical ids from the root
    logical_id: str
    resource_type: str
    status: str
    reason: str

    @property
    def skip_name(self) -> str:
        """How ContinueUpdateRollback's ResourcesToSkip names it: NestedStack.LogicalId for nested ones."""
        return ".".join((self.path[-1], self.logical_id)) if self.path else self.logical_id


def blocking_resources(cfn: Any, stack_id: str, path: tuple[str, ...] = ()) -> list[BlockingResource]:
    """Resources left UPDATE_FAILED by a failed rollback, in the stack and its nested stacks."""
    found: list[BlockingResource] = []
    with aws_errors(f"listing the resources of {stack_id}"):
        summaries = [summary for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id)
                     for summary in page["StackResourceSummaries"]]
    for summary in summaries:
        status = str(summary.get("ResourceStatus", ""))
        nested = summary.get("ResourceType") == "AWS::CloudFormation::Stack" and summary.get("PhysicalResourceId")
        if nested:
            info = describe_stack(cfn, str(summary["PhysicalResourceId"]))
            if info is not None and info.status == "UPDATE_ROLLBACK_FAILED":
                found += blocking_resources(cfn, info.stack_id, (*path, str(summary["LogicalResourceId"])))
                continue
        if status == "UPDATE_FAILED":
            found.append(BlockingResource(path, str(summary["LogicalResourceId"]), str(summary["ResourceType"]),
                                          status, str(summary.get("ResourceStatusReason", "") or "")))
    return found


def continue_update_rollback(cfn: Any, stack: str, skip: list[str]) -> None:
    arguments: dict[str, Any] = {"StackName": stack}
    if skip:
        arguments["ResourcesToSkip"] = skip
    with aws_errors(f"continuing the rollback of {stack}"):
        cfn.continue_update_rollback(**arguments)


def delete_stack(cfn: Any, stack_id: str) -> None:
    with aws_errors(f"deleting stack {stack_id}"):
        cfn.delete_stack(StackName=stack_id)


def operation_started(raw_stack: dict[str, Any]) -> datetime | None:
    """When the stack's current (or last) operation began: its last update, else its creation."""
    started = raw_stack.get("LastUpdatedTime") or raw_stack.get("CreationTime")
    return started if isinstance(started, datetime) else None


def describe_raw(cfn: Any, stack: str) -> dict[str, Any]:
    with aws_errors(f"describing stack {stack}"):
        return dict(cfn.describe_stacks(StackName=stack)["Stacks"][0])
