"""Progress of apply, recover and bootstrap, as typed events passed to an `on_event` callback.

Same contract as payctl.plan.events (whose events an apply also emits while it plans): emitted from
worker threads, carrying no secrets; the returned result is the result. The CLI renders them on
stderr (payctl.ui.progress, payctl.ui.stacksets); a CI job may log `dataclasses.asdict(event)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from payctl.plan.events import PlanEvent

# -- stacks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyStarted:
    environment: str
    account_id: str
    steps: int  # wave x region stacks with changes


@dataclass(frozen=True)
class WaveStarted:
    environment: str
    wave: str
    regions: tuple[str, ...]


@dataclass(frozen=True)
class StepStarted:
    environment: str
    wave: str
    region: str
    stack_name: str
    operation: str  # CREATE, UPDATE, CONTINUE_UPDATE_ROLLBACK, DELETE, WATCH


@dataclass(frozen=True)
class StepSkipped:
    environment: str
    wave: str
    region: str
    stack_name: str
    reason: str


@dataclass(frozen=True)
class ResourceEvent:
    """A new stack event of the stack being changed or of one of its nested stacks."""

    environment: str
    wave: str
    region: str
    root_stack: str  # the wave's top-level stack
    stack_name: str  # the stack the event belongs to (a nested stack's own name for nested ones)
    nested: bool
    logical_id: str
    resource_type: str
    status: str
    reason: str
    timestamp: datetime
    is_stack: bool  # about the stack itself rather than a resource in it


@dataclass(frozen=True)
class StepFinished:
    environment: str
    wave: str
    region: str
    stack_name: str
    status: str  # the stack's final status
    succeeded: bool
    seconds: float
    root_cause: str = ""  # "Path/LogicalId (Type) STATUS: reason" when it failed
    outputs: tuple[tuple[str, str, str], ...] = ()  # (stack path, output, value)


@dataclass(frozen=True)
class ProtectionApplied:
    environment: str
    region: str
    stack_name: str
    termination_protection: Literal["enabled", "already enabled", "unavailable"]
    policies: int  # stacks of the tree given the stack policy


@dataclass(frozen=True)
class PolicyLifted:
    environment: str
    region: str
    stack_name: str
    path: str  # the nested stack whose policy allows the named replacements for this update
    resources: tuple[str, ...]
    restored: bool = False


@dataclass(frozen=True)
class ArtifactBucketCreated:
    """Local emulator only: the bucket `payctl bootstrap` would have created."""

    account_id: str
    region: str
    bucket: str


@dataclass(frozen=True)
class RollbackBlocked:
    """A stack in UPDATE_ROLLBACK_FAILED and the resources CloudFormation could not roll back."""

    environment: str
    wave: str
    region: str
    stack_name: str
    blockers: tuple[tuple[str, str, str], ...]  # (name for --skip, resource type, reason)


@dataclass(frozen=True)
class ApplyFinished:
    environment: str
    seconds: float
    succeeded: bool


@dataclass(frozen=True)
class Detached:
    """Ctrl-C: payctl stops watching; CloudFormation keeps going."""

    environment: str
    in_progress: tuple[str, ...]  # "wave/region stack" still changing


# -- StackSets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackSetStarted:
    wave: str
    stack_set: str
    action: Literal["create", "update", "unchanged", "retry"]
    instances: int


@dataclass(frozen=True)
class OperationStarted:
    wave: str
    stack_set: str
    operation_id: str
    action: str  # CREATE (instances), UPDATE (stack set), UPDATE_INSTANCES
    targets: tuple[tuple[str, str, str], ...]  # (environment, account, region)


@dataclass(frozen=True)
class InstanceStatus:
    wave: str
    stack_set: str
    environment: str
    account: str
    region: str
    status: str  # what the live table shows: PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, CURRENT, ...
    reason: str = ""


@dataclass(frozen=True)
class OperationFinished:
    wave: str
    stack_set: str
    operation_id: str
    status: str
    failed: tuple[tuple[str, str, str, str], ...] = ()  # (environment, account, region, reason)


@dataclass(frozen=True)
class StackSetFinished:
    wave: str
    stack_set: str
    succeeded: bool
    seconds: float


ApplyEvent = (ApplyStarted | WaveStarted | StepStarted | StepSkipped | ResourceEvent | StepFinished
              | ProtectionApplied | PolicyLifted | ArtifactBucketCreated | RollbackBlocked | ApplyFinished | Detached
              | StackSetStarted | OperationStarted | InstanceStatus | OperationFinished | StackSetFinished)
Event = ApplyEvent | PlanEvent
OnEvent = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """The default callback: nobody listens."""
