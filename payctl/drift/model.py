"""The drift model: what the last detection found, per stack (nested stacks too) and per StackSet
instance. Pure data; payctl.drift.serialize turns it into the JSON documented in docs/operations.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# payctl's verdict per stack, StackSet instance and StackSet. CloudFormation's own words
# (StackDriftStatus, DetectionStatus, StackResourceDriftStatus) are kept beside it.
Outcome = Literal["IN_SYNC", "DRIFTED", "FAILED", "NOT_DEPLOYED"]
DRIFTED_STATUSES = frozenset({"MODIFIED", "DELETED"})
NOT_CHECKED_REASON = ("CloudFormation did not check it: its resource type does not support drift "
                      "detection (or it was skipped by a ContinueUpdateRollback)")

EXIT_IN_SYNC = 0
EXIT_ERROR = 1
EXIT_DRIFTED = 2


@dataclass(frozen=True)
class PropertyDifference:
    """One PropertyDifference: a JSON pointer into the resource's properties."""

    path: str
    expected: str
    actual: str
    kind: str  # ADD | REMOVE | NOT_EQUAL


@dataclass(frozen=True)
class ResourceDrift:
    logical_id: str
    resource_type: str
    physical_id: str
    status: str  # MODIFIED | DELETED | NOT_CHECKED | UNKNOWN | UNSUPPORTED (| IN_SYNC)
    differences: tuple[PropertyDifference, ...] = ()
    reason: str = ""  # DriftStatusReason, or why payctl lists it as not checked
    checked_at: str = ""

    @property
    def drifted(self) -> bool:
        return self.status in DRIFTED_STATUSES


@dataclass(frozen=True)
class StackDrift:
    """One stack's drift: a wave's top-level stack, a nested stack (path), or a StackSet instance stack."""

    environment: str
    account_id: str
    region: str
    wave: str
    stack_name: str
    stack_id: str
    path: tuple[str, ...]  # () top level; ("Database",) a nested stack of it
    outcome: Outcome
    drift_status: str = ""  # StackDriftStatus: DRIFTED | IN_SYNC | UNKNOWN | NOT_CHECKED
    detection_status: str = ""  # DETECTION_COMPLETE | DETECTION_FAILED ("" when not started)
    reason: str = ""
    detection_id: str = ""
    checked_at: str = ""
    drifted: tuple[ResourceDrift, ...] = ()
    not_checked: tuple[ResourceDrift, ...] = ()
    in_sync_count: int = 0

    @property
    def label(self) -> str:
        return "/".join(self.path) if self.path else "(master)"


@dataclass(frozen=True)
class InstanceDrift:
    """A StackSet instance: AWS's verdict on its stack, and payctl's look at that stack and the
    stacks nested in it (which the StackSet's detection does not reach)."""

    stack_set: str
    account_id: str
    environment: str | None  # None: the account is no environment in envs/
    region: str
    stack_id: str
    status: str  # CURRENT | OUTDATED | INOPERABLE
    drift_status: str  # StackSet's view of the instance: DRIFTED | IN_SYNC | UNKNOWN | NOT_CHECKED
    last_check: str = ""
    reason: str = ""
    stacks: tuple[StackDrift, ...] = ()

    @property
    def outcome(self) -> Outcome:
        outcomes = {stack.outcome for stack in self.stacks}
        if self.drift_status == "DRIFTED" or "DRIFTED" in outcomes:
            return "DRIFTED"
        if self.drift_status != "IN_SYNC" or "FAILED" in outcomes or self.reason:
            return "FAILED"
        return "IN_SYNC"

    @property
    def hidden_drift(self) -> bool:
        """Drift only in nested stacks: the StackSet reports IN_SYNC, the instance is not."""
        return self.drift_status == "IN_SYNC" and any(s.outcome == "DRIFTED" for s in self.stacks)


@dataclass(frozen=True)
class StackSetDrift:
    name: str
    region: str  # where the StackSet lives in the admin account
    outcome: Outcome
    stack_set_id: str = ""
    operation_id: str = ""
    operation_status: str = ""  # SUCCEEDED | FAILED | STOPPED
    drift_status: str = ""  # DRIFTED | IN_SYNC | NOT_CHECKED
    detection_status: str = ""  # COMPLETED | FAILED | PARTIAL_SUCCESS | STOPPED
    reason: str = ""
    counts: tuple[tuple[str, int], ...] = ()  # the counters of StackSetDriftDetectionDetails
    instances: tuple[InstanceDrift, ...] = ()


@dataclass(frozen=True)
class DriftReport:
    scope: str  # the environment's name, or "all-accounts"
    started_at: str
    stacks: tuple[StackDrift, ...] = ()
    stack_sets: tuple[StackSetDrift, ...] = ()
    notes: tuple[str, ...] = ()

    def all_stacks(self) -> tuple[StackDrift, ...]:
        nested = (s for stack_set in self.stack_sets for i in stack_set.instances for s in i.stacks)
        return (*self.stacks, *nested)

    def outcomes(self) -> list[Outcome]:
        """Every verdict: stacks (nested and StackSet instance stacks too), instances, StackSets."""
        found: list[Outcome] = [stack.outcome for stack in self.all_stacks()]
        for stack_set in self.stack_sets:
            found.append(stack_set.outcome)
            found.extend(instance.outcome for instance in stack_set.instances)
        return found

    @property
    def drifted(self) -> bool:
        return "DRIFTED" in self.outcomes()

    @property
    def failed(self) -> bool:
        return "FAILED" in self.outcomes() or not self.checked

    @property
    def checked(self) -> bool:
        """Something was deployed and looked at."""
        return any(outcome != "NOT_DEPLOYED" for outcome in self.outcomes())

    @property
    def status(self) -> str:
        return "FAILED" if self.failed else "DRIFTED" if self.drifted else "IN_SYNC"

    @property
    def exit_code(self) -> int:
        """0 in sync, 2 drifted, 1 when any detection failed or nothing was deployed: an
        incomplete check must not pass for a clean one, even when it found drift."""
        if self.failed:
            return EXIT_ERROR
        return EXIT_DRIFTED if self.drifted else EXIT_IN_SYNC
