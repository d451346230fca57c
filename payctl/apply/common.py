"""What apply, recover, bootstrap and the StackSet applier share: confirmation requests, Ctrl-C
handling across worker threads, watching one stack operation, and cleaning up unused change sets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from payctl.apply.events import OnEvent, ResourceEvent
from payctl.aws.changesets import delete_change_set, delete_review_stack
from payctl.aws.deploy import STACK_BACKOFF, StackOutcome, StackWatcher
from payctl.aws.events import StackEvent, latest_event_id
from payctl.aws.poll import Backoff
from payctl.aws.stacks import describe_stack
from payctl.errors import AwsError
from payctl.plan.model import Plan

T = TypeVar("T")


@dataclass(frozen=True)
class ConfirmRequest:
    """What the user is asked to approve: the plan, and which protected environments it touches
    (those require typing the environment's name, not just yes)."""

    plan: Plan
    protected: tuple[str, ...]
    stage: Literal["plan", "replanned", "stack-sets", "recover"] = "plan"
    question: str = ""


Confirm = Callable[[ConfirmRequest], bool]


def refuse_all(_request: ConfirmRequest) -> bool:
    """The library default: nothing changes without an explicit answer (pass `confirm=approve_all` in CI)."""
    return False


def approve_all(_request: ConfirmRequest) -> bool:
    return True


class Stop:
    """Ctrl-C across threads: the main thread sets it, workers notice at their next sleep (each sleep
    is at most the poller's ceiling) and stop watching; what AWS is doing goes on."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.event = threading.Event()
        self._sleep = sleep

    def set(self) -> None:
        self.event.set()

    def sleep(self, seconds: float) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self._sleep(seconds)
        if self.event.is_set():
            raise KeyboardInterrupt


def run_all(jobs: Sequence[Callable[[], T]], *, workers: int, stop: Stop,
            name: str) -> tuple[list[Future[T]], bool]:
    """Run jobs in threads and wait for every one of them. Returns the futures and whether the run
    was interrupted (Ctrl-C in this thread, or a KeyboardInterrupt raised inside a job)."""
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs))), thread_name_prefix=name)
    futures = [pool.submit(job) for job in jobs]
    interrupted = False
    try:
        wait(futures)
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
        wait(futures)
    finally:
        pool.shutdown(wait=True)
    if any(isinstance(future.exception(), KeyboardInterrupt) for future in futures):
        interrupted = True
        stop.set()
    return futures, interrupted


def first_error(futures: Iterable[Future[Any]]) -> BaseException | None:
    for future in futures:
        error = future.exception()
        if error is not None and not isinstance(error, KeyboardInterrupt):
            return error
    return None


@dataclass(frozen=True)
class Place:
    """Where a watched stack belongs, for the events it produces."""

    environment: str
    wave: str
    region: str
    stack_name: str


def resource_event(place: Place, event: StackEvent, root_id: str) -> ResourceEvent:
    return ResourceEvent(
        environment=place.environment, wave=place.wave, region=place.region, root_stack=place.stack_name,
        stack_name=event.stack_name, nested=event.stack_id != root_id, logical_id=event.logical_id,
        resource_type=event.resource_type, status=event.status, reason=event.reason,
        timestamp=event.timestamp, is_stack=event.is_stack_level)


def watcher_for(cfn: Any, stack_id: str, place: Place, on_event: OnEvent, *, stop: Stop,
                backoff: Backoff = STACK_BACKOFF, after_event_id: str | None = None,
                since: Any = None, fresh: bool = True) -> StackWatcher:
    """A watcher emitting ResourceEvents; `fresh`: only events after the stack's newest one now."""
    if fresh and after_event_id is None and since is None:
        after_event_id = latest_event_id(cfn, stack_id)
    return StackWatcher(cfn, stack_id, after_event_id=after_event_id, since=since,
                        on_event=lambda event: on_event(resource_event(place, event, stack_id)),
                        backoff=backoff, sleep=stop.sleep, started_here=fresh)


def outcome_text(outcome: StackOutcome) -> str:
    """The failure as a user reads it: root cause first, then how the rollback ended."""
    lines = [f"{outcome.stack_name}: {outcome.status}"]
    if outcome.root_cause is not None:
        lines.append(f"  root cause: {outcome.root_cause}")
    elif outcome.status_reason:
        lines.append(f"  reason: {outcome.status_reason}")
    if outcome.status in ("UPDATE_ROLLBACK_FAILED", "ROLLBACK_FAILED"):
        lines.append("  the rollback failed: resources may be in an inconsistent state")
    elif outcome.rolled_back:
        lines.append("  rolled back: the stack is as it was before"
                     if outcome.status != "ROLLBACK_COMPLETE"
                     else "  rolled back: the stack holds no resources and can only be deleted")
    return "\n".join(lines)


def recovery_hint(status: str, environment: str) -> str | None:
    if status == "UPDATE_ROLLBACK_FAILED":
        return f"payctl recover {environment} continues the rollback (skipping resources you confirm)"
    if status == "ROLLBACK_COMPLETE":
        return f"payctl recover {environment} deletes the failed stack and creates it again"
    return None


def discard_change_set(cfn: Any, change_set_id: str | None, stack_name: str, change_set_type: str | None) -> None:
    """Delete a kept change set that will not be executed, and the empty stack a CREATE one made."""
    if not change_set_id:
        return
    try:
        delete_change_set(cfn, change_set_id)
        if change_set_type == "CREATE":
            info = describe_stack(cfn, stack_name)
            if info is not None and info.is_review:
                delete_review_stack(cfn, info.stack_id)
    except AwsError:  # cleanup is best effort: the change set may be gone already
        pass
