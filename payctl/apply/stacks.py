"""Applying one environment: the waves in order, each wave's regions at once, each step executing the
change set the plan showed, watched until CloudFormation is done.

    applier = EnvironmentApplier(planner, options, on_event, confirm)
    result = applier.apply()                 # plans (keeping change sets), asks, executes
    result = applier.apply(saved_plan)       # refuses when the plan is stale, asks, executes

A wave whose stack was deferred at plan time (an earlier wave did not exist yet), or whose change
set was computed before an earlier wave in its region changed the values it imports, is planned
again when its turn comes; the new plan is shown and asked for when it differs. A failed wave stops
the run: later waves do not start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from payctl.apply.common import (
    Confirm,
    ConfirmRequest,
    Place,
    Stop,
    discard_change_set,
    first_error,
    outcome_text,
    recovery_hint,
    refuse_all,
    run_all,
    watcher_for,
)
from payctl.apply.events import (
    ApplyFinished,
    ApplyStarted,
    Detached,
    OnEvent,
    PolicyLifted,
    ProtectionApplied,
    StepFinished,
    StepSkipped,
    StepStarted,
    WaveStarted,
    ignore,
)
from payctl.apply.protection import Destructive, check_destructive, lifted_policy, lifts, protective_policy
from payctl.aws.deploy import (
    STACK_BACKOFF,
    StackOutcome,
    execute_change_set,
    set_stack_policy,
    set_termination_protection,
    stack_tree,
    termination_protection,
)
from payctl.aws.poll import Backoff
from payctl.aws.stacks import describe_stack
from payctl.errors import DeploymentFailed, Interrupted, PayctlError, Refused, StackBusy, StalePlan
from payctl.plan.fresh import check_fresh
from payctl.plan.model import EnvironmentPlan, Plan, StackPlan, WavePlan
from payctl.plan.planner import EnvironmentPlanner, plan_environments

STATUS_HINT = "payctl status {env} --watch"


@dataclass(frozen=True)
class ApplyOptions:
    allow_replace: frozenset[str] = frozenset()  # logical ids (or Nested/LogicalId) allowed to be replaced
    workers: int = 4  # regions of one wave applied at once
    backoff: Backoff = STACK_BACKOFF
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class StepResult:
    wave: str
    region: str
    stack_name: str
    status: str  # final stack status, or "no-changes"
    succeeded: bool
    outputs: tuple[tuple[str, str, str], ...] = ()
    failure: str = ""


@dataclass(frozen=True)
class ApplyResult:
    environment: str
    plan: Plan
    steps: tuple[StepResult, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return any(step.status != "no-changes" for step in self.steps)


def protected(env: Any) -> bool:
    """Protected environments get termination protection and stack policies, refuse destructive changes
    unless named, and ask for their name to be typed."""
    return bool(env.termination_protection)


def shape(stack: StackPlan) -> set[tuple[str, str, str, str]]:
    """What a stack plan would do, for comparing a plan made again with the one shown before."""
    return {(level.name, change.logical_id, change.action, change.replacement or "")
            for level in stack.walk() for change in level.changes}


class EnvironmentApplier:
    def __init__(self, planner: EnvironmentPlanner, options: ApplyOptions | None = None,
                 on_event: OnEvent = ignore, confirm: Confirm = refuse_all) -> None:
        self.planner = planner
        self.env = planner.env
        self.aws = planner.aws
        self.options = options or ApplyOptions()
        self.on_event = on_event
        self.confirm = confirm
        self.protected = protected(self.env)
        self.stop = Stop(self.options.sleep)
        self._lock = threading.Lock()
        self.running: dict[tuple[str, str], str] = {}  # (wave, region) -> stack name, while it changes
        self.lifted: list[str] = []  # "stack path: ids" whose policy is lifted right now
        self.replaced_ids: set[str] = set()  # change sets superseded by a new plan of the same step

    def cfn(self, region: str) -> Any:
        return self.planner.cfn(region)

    # -- the run -------------------------------------------------------------------------------------
    def apply(self, saved: Plan | None = None) -> ApplyResult:
        started = time.monotonic()
        if saved is None:
            plan = plan_environments([self.planner])
            env_plan = plan.environments[0]
        else:
            env_plan = self._saved(saved)
            plan = replace(saved, environments=(env_plan,))
        named = check_destructive(env_plan, protected=self.protected, allowed=self.options.allow_replace)
        pending = list(env_plan.waves)
        if plan.has_changes and not self._approved(ConfirmRequest(plan, self._protected_names()),
                                                    pending if saved is None else []):
            raise Refused("apply cancelled: nothing was changed")
        self.on_event(ApplyStarted(self.env.name, self.env.account_id,
                                   sum(1 for wave in env_plan.waves if wave.stack.status != "no-changes")))
        results: list[StepResult] = []
        changed_regions: set[str] = set()
        try:
            for wave_name in dict.fromkeys(wave.wave for wave in env_plan.waves):
                steps = [wave for wave in pending if wave.wave == wave_name]
                pending = [wave for wave in pending if wave.wave != wave_name]
                steps = self._refresh(steps, changed_regions, named)
                self.on_event(WaveStarted(self.env.name, wave_name, tuple(step.region for step in steps)))
                wave_results = self._run_wave(steps, named, pending)
                results += wave_results
                changed_regions |= {r.region for r in wave_results if r.status != "no-changes"}
                failed = [r for r in wave_results if not r.succeeded]
                if failed:
                    self._discard(pending)
                    self._fail(failed, wave_name)
        except BaseException:
            self.on_event(ApplyFinished(self.env.name, time.monotonic() - started, False))
            raise
        self.on_event(ApplyFinished(self.env.name, time.monotonic() - started, True))
        return ApplyResult(self.env.name, plan, tuple(results))

    def _approved(self, request: ConfirmRequest, discard_unless: list[WavePlan]) -> bool:
        """Ask; when the answer is no (or asking fails), the change sets that will not run are deleted."""
        try:
            approved = self.confirm(request)
        except BaseException:
            self._discard(discard_unless)
            raise
        if not approved:
            self._discard(discard_unless)
        return approved

    def _protected_names(self) -> tuple[str, ...]:
        return (self.env.name,) if self.protected else ()

    def _saved(self, saved: Plan) -> EnvironmentPlan:
        """The saved plan's part for this environment, refused when a stack is busy or the world moved."""
        env_plan = next((env for env in saved.environments if env.environment == self.env.name), None)
        if env_plan is None:
            raise StalePlan(f"the plan file has no plan for {self.env.name}",
                            hint=f"payctl plan {self.env.name} --out plan.json")
        for wave in env_plan.waves:
            self._refuse_busy(wave.region, wave.stack.stack_name or wave.stack.name)
        differences = check_fresh(replace(saved, environments=(env_plan,)), self.planner.current_state())
        if differences:
            raise StalePlan("the plan is stale:\n  " + "\n  ".join(str(d) for d in differences),
                            hint=f"plan again: payctl plan {self.env.name} --out plan.json")
        missing = [wave for wave in env_plan.waves if wave.stack.status in ("create", "update")
                   and not (wave.stack.kept and wave.stack.change_set_id)]
        if missing:
            raise StalePlan("the plan file kept no change sets (it was made without --out)",
                            hint=f"payctl plan {self.env.name} --out plan.json")
        return env_plan

    def _refuse_busy(self, region: str, stack_name: str) -> None:
        info = describe_stack(self.cfn(region), stack_name)
        if info is not None and info.is_busy:
            raise StackBusy(f"{stack_name} in {region} is {info.status}: another operation is running",
                            hint=f"wait for it: {STATUS_HINT.format(env=self.env.name)}")

    # -- plan again where the plan cannot stand ------------------------------------------------------
    def _refresh(self, steps: list[WavePlan], changed_regions: set[str],
                 named: list[Destructive]) -> list[WavePlan]:
        stale = [step for step in steps if step.stack.status == "deferred"
                 or (step.region in changed_regions and step.stack.status != "no-changes")]
        if not stale:
            return steps
        packaged = {(item.stack.wave, item.stack.region): item for item in self.planner.package()}
        fresh: dict[tuple[str, str], WavePlan] = {}
        for step in stale:
            item = packaged[(step.wave, step.region)]
            deployed = describe_stack(self.cfn(step.region), item.stack.stack_name)
            again = self.planner.plan_stack(item, deployed, None)
            if step.stack.change_set_id and step.stack.change_set_id != again.stack.change_set_id:
                discard_change_set(self.cfn(step.region), step.stack.change_set_id, item.stack.stack_name, None)
            fresh[(step.wave, step.region)] = again
        changed = [again for key, again in fresh.items()
                   if again.stack.has_changes and shape(again.stack) != shape(
                       next(s for s in stale if (s.wave, s.region) == key).stack)]
        if changed:
            partial = Plan((EnvironmentPlan(self.env.name, self.env.account_id, tuple(changed)),))
            named += check_destructive(partial.environments[0], protected=self.protected,
                                       allowed=self.options.allow_replace)
            if not self._approved(ConfirmRequest(partial, self._protected_names(), stage="replanned"),
                                  list(fresh.values())):
                raise Refused("apply stopped: the new plan of a wave was not approved; "
                              "earlier waves are applied")
        return [fresh.get((step.wave, step.region), step) for step in steps]

    # -- one wave ------------------------------------------------------------------------------------
    def _run_wave(self, steps: list[WavePlan], named: list[Destructive],
                  pending: list[WavePlan]) -> list[StepResult]:
        jobs = [partial(self._run_step, step, named) for step in steps]
        futures, interrupted = run_all(jobs, workers=self.options.workers, stop=self.stop,
                                       name=f"apply-{self.env.name}")
        if interrupted:
            self._discard(pending)
            self._detach()
        error = first_error(futures)
        if error is not None:
            self._discard(pending)
            raise error
        return [future.result() for future in futures]

    def _detach(self) -> None:
        with self._lock:
            running = tuple(f"{wave}/{region} {name}" for (wave, region), name in sorted(self.running.items()))
            lifted = list(self.lifted)
        self.on_event(Detached(self.env.name, running))
        message = "interrupted: payctl stopped watching"
        if running:
            message += "; CloudFormation keeps going with " + ", ".join(running)
        if lifted:
            message += ("\n  the stack policy still allows the replacements named for this update on "
                        + ", ".join(lifted) + f"; `payctl recover {self.env.name}` restores it once the stack is done")
        raise Interrupted(message, hint=f"resume watching: {STATUS_HINT.format(env=self.env.name)}")

    def _run_step(self, step: WavePlan, named: list[Destructive]) -> StepResult:
        stack = step.stack
        name = stack.stack_name or stack.name
        cfn = self.cfn(step.region)
        if stack.status == "no-changes":
            self.on_event(StepSkipped(self.env.name, step.wave, step.region, name, "no changes"))
            if self.protected and stack.stack_id:
                self.protect(cfn, step.region, name, stack.stack_id)
            return StepResult(step.wave, step.region, name, "no-changes", True)
        if not (stack.change_set_id and stack.kept):
            raise PayctlError(f"{step.wave}/{step.region}: the plan kept no change set to execute")
        info = describe_stack(cfn, name)
        if info is not None and info.is_busy:
            raise StackBusy(f"{name} in {step.region} is {info.status}: another operation is running",
                            hint=f"wait for it: {STATUS_HINT.format(env=self.env.name)}")
        # The stack the change set belongs to (a CREATE change set made it, in REVIEW_IN_PROGRESS).
        stack_id = stack.stack_id or (info.stack_id if info is not None else "")
        place = Place(self.env.name, step.wave, step.region, name)
        lifted = self._lift(cfn, place, stack_id, lifts(named, step.wave, step.region)) if info and info.exists \
            else {}
        watcher = watcher_for(cfn, stack_id, place, self.on_event, stop=self.stop, backoff=self.options.backoff)
        self.on_event(StepStarted(self.env.name, step.wave, step.region, name, stack.change_set_type or "UPDATE"))
        try:
            execute_change_set(cfn, stack.change_set_id, name)
        except PayctlError:
            self._restore(cfn, place, lifted)  # nothing started: the protective policy goes back at once
            raise
        with self._lock:
            self.running[(step.wave, step.region)] = name
        outcome = watcher.wait()  # KeyboardInterrupt from the poller leaves the step running in AWS
        with self._lock:
            self.running.pop((step.wave, step.region), None)
        self._restore(cfn, place, lifted)
        return self._finish(cfn, step, place, outcome)

    def _finish(self, cfn: Any, step: WavePlan, place: Place, outcome: StackOutcome) -> StepResult:
        outputs: tuple[tuple[str, str, str], ...] = ()
        if outcome.succeeded:
            tree = stack_tree(cfn, outcome.stack_id)
            if self.protected:
                self.protect(cfn, step.region, place.stack_name, outcome.stack_id, tree)
            outputs = self._outputs(cfn, tree)
        failure = "" if outcome.succeeded else outcome_text(outcome)
        self.on_event(StepFinished(self.env.name, step.wave, step.region, place.stack_name, outcome.status,
                                   outcome.succeeded, outcome.seconds,
                                   str(outcome.root_cause) if outcome.root_cause else outcome.status_reason,
                                   outputs))
        return StepResult(step.wave, step.region, place.stack_name, outcome.status, outcome.succeeded,
                          outputs, failure)

    @staticmethod
    def _outputs(cfn: Any, tree: dict[tuple[str, ...], str]) -> tuple[tuple[str, str, str], ...]:
        rows = []
        for path, stack_id in sorted(tree.items()):
            info = describe_stack(cfn, stack_id)
            for key, value in sorted((info.outputs if info else {}).items()):
                rows.append(("/".join(path) or "(root)", key, value))
        return tuple(rows)

    def _fail(self, failed: list[StepResult], wave: str) -> None:
        hints = {hint for r in failed if (hint := recovery_hint(r.status, self.env.name))}
        raise DeploymentFailed(
            f"wave {wave} of {self.env.name} failed; later waves were not started\n"
            + "\n".join(f"{r.wave}/{r.region} {r.failure}" for r in failed),
            hint="; ".join(sorted(hints)) or "fix the cause above, then plan and apply again")

    # -- protection ----------------------------------------------------------------------------------
    def protect(self, cfn: Any, region: str, name: str, stack_id: str,
                tree: dict[tuple[str, ...], str] | None = None) -> None:
        """Termination protection on the root, the protective stack policy on every stack of the tree."""
        if self.aws.local:
            state = "unavailable"  # the emulator does not implement UpdateTerminationProtection
        elif termination_protection(cfn, stack_id):
            state = "already enabled"
        else:
            set_termination_protection(cfn, stack_id, True)
            state = "enabled"
        tree = tree if tree is not None else stack_tree(cfn, stack_id)
        for stack in tree.values():
            set_stack_policy(cfn, stack, protective_policy())
        self.on_event(ProtectionApplied(self.env.name, region, name, state, len(tree)))  # type: ignore[arg-type]

    def _lift(self, cfn: Any, place: Place, stack_id: str,
              wanted: dict[tuple[str, ...], tuple[str, ...]]) -> dict[tuple[str, ...], str]:
        if not wanted or not self.protected:
            return {}
        tree = stack_tree(cfn, stack_id)
        lifted: dict[tuple[str, ...], str] = {}
        for path, ids in wanted.items():
            target = tree.get(path)
            if target is None:  # the nested stack is new in this update: no policy holds it yet
                continue
            set_stack_policy(cfn, target, lifted_policy(ids))
            lifted[path] = target
            label = "/".join(path) or "(root)"
            with self._lock:
                self.lifted.append(f"{place.stack_name} {label}: {', '.join(ids)}")
            self.on_event(PolicyLifted(self.env.name, place.region, place.stack_name, label, ids))
        return lifted

    def _restore(self, cfn: Any, place: Place, lifted: dict[tuple[str, ...], str]) -> None:
        for path, target in lifted.items():
            set_stack_policy(cfn, target, protective_policy())
            label = "/".join(path) or "(root)"
            with self._lock:
                self.lifted = [item for item in self.lifted if not item.startswith(f"{place.stack_name} {label}:")]
            self.on_event(PolicyLifted(self.env.name, place.region, place.stack_name, label, (), restored=True))

    # -- cleanup ------------------------------------------------------------------------------------
    def _discard(self, waves: list[WavePlan]) -> None:
        """Change sets that will not be executed now are deleted (and the empty stacks of CREATE ones)."""
        for wave in waves:
            stack = wave.stack
            if stack.kept and stack.change_set_id:
                discard_change_set(self.cfn(wave.region), stack.change_set_id, stack.stack_name or stack.name,
                                   stack.change_set_type)
