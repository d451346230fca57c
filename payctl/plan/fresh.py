"""Is a saved plan still what would happen? Pure comparison of a saved Plan with the current state.

`apply plan.json` gathers the current state (`Workspace.current_state`: templates and parameters as
rendered now, stacks as deployed now) and refuses when `check_fresh` returns any difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from payctl.plan.model import Plan

StackKey = tuple[str, str, str]  # environment, wave, region


@dataclass(frozen=True)
class CurrentState:
    template_sha256: str
    parameters_sha256: str
    deployed_stack_id: str | None
    deployed_last_changed: str | None


@dataclass(frozen=True)
class Difference:
    environment: str
    wave: str
    region: str
    what: str  # template, parameters, deployed stack, stack
    saved: str
    current: str

    def __str__(self) -> str:
        return (f"{self.environment}/{self.wave}/{self.region}: {self.what} changed since the plan "
                f"(plan: {self.saved or 'none'}, now: {self.current or 'none'})")


def check_fresh(saved: Plan, current: Mapping[StackKey, CurrentState]) -> list[Difference]:
    """Every way the world moved since `saved` was made; empty when the plan can be applied as is."""
    differences: list[Difference] = []
    seen: set[StackKey] = set()
    for env, wave in saved.stacks():
        key = (env.environment, wave.wave, wave.region)
        seen.add(key)
        state = current.get(key)
        if state is None:
            differences.append(Difference(*key, "stack", "planned", "no longer rendered"))
            continue
        printed = wave.fingerprint
        for what, before, now in (
            ("template", printed.template_sha256, state.template_sha256),
            ("parameters", printed.parameters_sha256, state.parameters_sha256),
            ("deployed stack", printed.deployed_stack_id or "", state.deployed_stack_id or ""),
            ("deployed stack's last change", printed.deployed_last_changed or "",
             state.deployed_last_changed or ""),
        ):
            if before != now:
                differences.append(Difference(*key, what, before, now))
    planned_envs = {env.environment for env in saved.environments}
    for key in sorted(set(current) - seen):
        if key[0] in planned_envs:
            differences.append(Difference(*key, "stack", "", "rendered now but not in the plan"))
    return differences
