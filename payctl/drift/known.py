"""What the last drift detection found, read without starting one: for `payctl plan`, which warns
when a change touches a resource that had drifted.

A change set is computed from the template and the stack's recorded state, not from what really
exists, so changing a drifted resource can fail or silently keep or overwrite the manual change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from payctl.aws.drift import DRIFTED_FILTERS, resource_drifts
from payctl.aws.session import AwsSession, Target
from payctl.aws.stacks import describe_stack
from payctl.drift.detect import read_resource
from payctl.drift.model import ResourceDrift

if TYPE_CHECKING:
    from payctl.config import Environments
    from payctl.plan.model import Plan


@dataclass(frozen=True)
class KnownDrift:
    """Drifted resources (MODIFIED or DELETED) by (stack id, logical id), as last detected."""

    resources: dict[tuple[str, str], ResourceDrift] = field(default_factory=dict)

    def get(self, stack_id: str | None, logical_id: str) -> ResourceDrift | None:
        return self.resources.get((stack_id, logical_id)) if stack_id else None

    def __bool__(self) -> bool:
        return bool(self.resources)


def last_known_drift(aws: AwsSession, target: Target, stack_ids: Iterable[str]) -> KnownDrift:
    """DescribeStackResourceDrifts (MODIFIED, DELETED) of each stack: the stored results of its
    latest detection. Never starts a detection; a stack that was never checked contributes nothing,
    and so does one that no longer exists."""
    cfn = aws.client("cloudformation", target)
    found: dict[tuple[str, str], ResourceDrift] = {}
    for stack_id in dict.fromkeys(stack_ids):
        info = describe_stack(cfn, stack_id)
        if info is None or info.is_review:  # gone, or only a CREATE change set: nothing to have drifted
            continue
        for drift in resource_drifts(cfn, stack_id, DRIFTED_FILTERS):
            resource = read_resource(drift)
            found[(stack_id, resource.logical_id)] = resource
    return KnownDrift(found)


@dataclass(frozen=True)
class DriftWarning:
    environment: str
    wave: str
    region: str
    stack: str  # the plan's stack block: top-level name, or nested logical id
    logical_id: str
    resource_type: str
    action: str  # the planned change: Modify, Remove, ...
    drift: ResourceDrift

    @property
    def message(self) -> str:
        properties = len(self.drift.differences)
        detail = f", {properties} propert{'y' if properties == 1 else 'ies'} differ" if properties else ""
        when = f" at {self.drift.checked_at}" if self.drift.checked_at else ""
        return (f"{self.stack}/{self.logical_id} ({self.resource_type}) was {self.drift.status}{detail} "
                f"at the last drift detection{when}; the planned {self.action} is computed from the "
                f"template, not from what exists (see `payctl drift {self.environment}`)")


def plan_drift_warnings(aws: AwsSession, plan: Plan, environments: Environments) -> list[DriftWarning]:
    """Planned changes that touch a resource which had drifted at its stack's last detection."""
    from payctl.operate.inventory import environment_target

    warnings: list[DriftWarning] = []
    for env_plan in plan.environments:
        env = environments[env_plan.environment]
        for wave in env_plan.waves:
            # Only stacks that exist and change: a new stack has nothing that could have drifted.
            stacks = [s for s in wave.stack.walk() if s.stack_id and s.changes and s.status == "update"]
            if not stacks:
                continue
            target = environment_target(env, wave.region)
            known = last_known_drift(aws, target, [s.stack_id or "" for s in stacks])
            for stack in stacks:
                for change in stack.changes:
                    drift = known.get(stack.stack_id, change.logical_id)
                    if drift is not None:
                        warnings.append(DriftWarning(env.name, wave.wave, wave.region, stack.name,
                                                     change.logical_id, change.resource_type, change.action,
                                                     drift))
    return warnings
