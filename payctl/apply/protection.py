"""Protected environments (terminationProtection: true, i.e. prod): which planned changes need an
explicit `--allow-replace`, and the stack policies that keep stateful resources in place. Pure.

Stack policies are set on every stack of a wave's tree, nested stacks included: a root stack's policy
does not reach into its nested stacks, where the data stores live. CloudFormation cannot take a
temporary policy when it executes a change set (and StackPolicyDuringUpdateBody of UpdateStack
covers only the stack it is given to), so a replacement named with --allow-replace is allowed by
setting a lifted policy on the stack that holds the resource for this one update, and the
protective policy is set again when the update ends, whatever its outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from payctl.errors import Refused
from payctl.plan.danger import STATEFUL_TYPES
from payctl.plan.model import Danger, EnvironmentPlan, ResourceChange, StackPlan, WavePlan

DENIED_ACTIONS = ("Update:Replace", "Update:Delete")


def protective_policy() -> dict[str, Any]:
    """Everything may be updated, but stateful resources are never replaced or deleted by an update."""
    return {
        "Statement": [
            {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": list(DENIED_ACTIONS), "Principal": "*", "Resource": "*",
             "Condition": {"StringEquals": {"ResourceType": sorted(STATEFUL_TYPES)}}},
        ]
    }


def lifted_policy(logical_ids: tuple[str, ...]) -> dict[str, Any]:
    """The protective policy with the named resources exempted (a Deny would override any Allow)."""
    exempt = [f"LogicalResourceId/{logical_id}" for logical_id in sorted(set(logical_ids))]
    return {
        "Statement": [
            {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": list(DENIED_ACTIONS), "Principal": "*", "NotResource": exempt,
             "Condition": {"StringEquals": {"ResourceType": sorted(STATEFUL_TYPES)}}},
        ]
    }


@dataclass(frozen=True)
class Destructive:
    """One destructive change in a planned stack tree."""

    wave: str
    region: str
    path: tuple[str, ...]  # nested stack logical ids from the wave's stack down to the resource's stack
    change: ResourceChange

    @property
    def name(self) -> str:
        """How --allow-replace may name it: the logical id, or Nested/LogicalId to be specific."""
        return "/".join((*self.path, self.change.logical_id))

    def named_by(self, allowed: frozenset[str]) -> bool:
        return self.change.logical_id in allowed or self.name in allowed

    def describe(self) -> str:
        finding = next((f.message for f in self.change.findings if f.danger == Danger.DESTRUCTIVE), "")
        return f"{self.wave}/{self.region}: {self.name}: {finding or self.change.action}"


def _walk(stack: StackPlan, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], StackPlan]]:
    yield path, stack
    for child in stack.children:
        yield from _walk(child, (*path, child.name))


def destructive_changes(waves: tuple[WavePlan, ...] | list[WavePlan]) -> list[Destructive]:
    return [Destructive(wave.wave, wave.region, path, change)
            for wave in waves for path, stack in _walk(wave.stack, ())
            for change in stack.changes if change.danger == Danger.DESTRUCTIVE]


def check_destructive(plan: EnvironmentPlan, *, protected: bool, allowed: frozenset[str]) -> list[Destructive]:
    """The destructive changes the user named (to lift the policy for); refuses the others in a
    protected environment, and names that match nothing (a typo must not pass silently)."""
    found = destructive_changes(plan.waves)
    named = [item for item in found if item.named_by(allowed)]
    if protected:
        missing = [item for item in found if not item.named_by(allowed)]
        if missing:
            lines = "\n  ".join(item.describe() for item in missing)
            flags = " ".join(f"--allow-replace {item.name}" for item in missing)
            raise Refused(f"{plan.environment} is protected and the plan has destructive changes:\n  {lines}",
                          hint=f"review them; to go ahead, name each one: {flags}")
    matched = {name for name in allowed if any(name in (item.change.logical_id, item.name) for item in found)}
    unknown = sorted(allowed - matched)
    if unknown:
        raise Refused(f"--allow-replace {', '.join(unknown)}: no destructive change in the plan of "
                      f"{plan.environment} has that name",
                      hint="use the names the plan shows (LogicalId, or Nested/LogicalId)")
    return named


def lifts(named: list[Destructive], wave: str, region: str) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Per stack of one wave's tree (by path), the logical ids whose replacement or deletion is allowed."""
    found: dict[tuple[str, ...], list[str]] = {}
    for item in named:
        if (item.wave, item.region) == (wave, region) and item.change.resource_type in STATEFUL_TYPES:
            found.setdefault(item.path, []).append(item.change.logical_id)
    return {path: tuple(ids) for path, ids in found.items()}
