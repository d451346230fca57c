"""`payctl recover ENV`: bring each of the environment's stacks back to a state apply can work with.

- UPDATE_ROLLBACK_FAILED: show the resources blocking the rollback and continue it
  (ContinueUpdateRollback), skipping only the resources the user names with --skip and confirms.
- ROLLBACK_COMPLETE (its first creation failed; CloudFormation can only delete it): delete it, then
  apply the environment again, which plans, shows and asks as usual.
- *_IN_PROGRESS: watch until CloudFormation is done.
In a protected environment, the protective stack policy is set again on every healthy stack (an
interrupted apply may have left a policy lifted for a named replacement).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from payctl.apply.common import Confirm, ConfirmRequest, Place, Stop, refuse_all, watcher_for
from payctl.apply.events import OnEvent, RollbackBlocked, StepFinished, StepSkipped, StepStarted, ignore
from payctl.apply.protection import protective_policy
from payctl.apply.stacks import STATUS_HINT, protected
from payctl.aws.deploy import (
    STACK_BACKOFF,
    BlockingResource,
    StackOutcome,
    blocking_resources,
    continue_update_rollback,
    delete_stack,
    describe_raw,
    is_terminal,
    operation_started,
    set_stack_policy,
    stack_tree,
)
from payctl.aws.poll import Backoff
from payctl.aws.stacks import StackInfo, describe_stack
from payctl.errors import DeploymentFailed, Interrupted, Refused
from payctl.plan.model import Plan
from payctl.plan.planner import EnvironmentPlanner


@dataclass(frozen=True)
class RecoverOptions:
    skip: frozenset[str] = frozenset()  # resources to skip when continuing a rollback
    backoff: Backoff = STACK_BACKOFF
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class Recovery:
    wave: str
    region: str
    stack_name: str
    before: str  # status found
    after: str  # status reached ("" when nothing was done)
    action: str  # none, continue-rollback, watch, delete


class Recoverer:
    def __init__(self, planner: EnvironmentPlanner, options: RecoverOptions | None = None,
                 on_event: OnEvent = ignore, confirm: Confirm = refuse_all,
                 apply_again: Callable[[], Any] | None = None) -> None:
        self.planner = planner
        self.env = planner.env
        self.options = options or RecoverOptions()
        self.on_event = on_event
        self.confirm = confirm
        self.apply_again = apply_again
        self.stop = Stop(self.options.sleep)

    def recover(self) -> list[Recovery]:
        self.planner.verify()
        found = self._survey()
        known = {name for _stack, _info, blockers in found for b in blockers for name in (b.skip_name, b.logical_id)}
        unknown = sorted(self.options.skip - known)
        if unknown:  # checked before anything changes: a mistyped name must not let a rollback go on unskipped
            raise Refused(f"--skip {', '.join(unknown)}: no resource of that name blocks a rollback",
                          hint="use the names shown for the blocking resources (NestedStack.LogicalId)")
        done: list[Recovery] = []
        try:
            for (wave, region, name), info, blockers in found:
                done.append(self._one(wave, region, name, info, blockers))
        except KeyboardInterrupt:
            raise Interrupted("interrupted: payctl stopped watching; CloudFormation keeps going",
                              hint=f"resume watching: {STATUS_HINT.format(env=self.env.name)}") from None
        expected = {"continue-rollback": "UPDATE_ROLLBACK_COMPLETE", "delete": "DELETE_COMPLETE"}
        failed = [r for r in done if r.after.endswith("_FAILED")
                  or (r.action in expected and r.after != expected[r.action])]
        if failed:
            raise DeploymentFailed("recovery did not finish:\n  " + "\n  ".join(
                f"{r.wave}/{r.region} {r.stack_name}: {r.before} -> {r.after}" for r in failed))
        if protected(self.env):
            self._protect(done)
        if any(r.action == "delete" for r in done) and self.apply_again is not None:
            self.apply_again()
        return done

    def _survey(self) -> list[tuple[tuple[str, str, str], StackInfo | None, list[BlockingResource]]]:
        """Every stack of the environment as it is, with what blocks a failed rollback (read only)."""
        found = []
        for stack in self.planner.rendered.stacks:
            cfn = self.planner.cfn(stack.region)
            info = describe_stack(cfn, stack.stack_name)
            blockers = blocking_resources(cfn, info.stack_id) if info and info.status == "UPDATE_ROLLBACK_FAILED" \
                else []
            found.append(((stack.wave, stack.region, stack.stack_name), info, blockers))
        return found

    def _one(self, wave: str, region: str, name: str, info: StackInfo | None,
             blockers: list[BlockingResource]) -> Recovery:
        if info is None:
            return Recovery(wave, region, name, "", "", "none")
        cfn = self.planner.cfn(region)
        place = Place(self.env.name, wave, region, name)
        status = info.status
        if status == "UPDATE_ROLLBACK_FAILED":
            return self._continue_rollback(cfn, place, info.stack_id, blockers)
        if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
            return self._delete(cfn, place, info.stack_id, status, info.status_reason)
        if not is_terminal(status):
            self.on_event(StepStarted(self.env.name, wave, region, name, "WATCH"))
            raw = describe_raw(cfn, info.stack_id)
            outcome = watcher_for(cfn, info.stack_id, place, self.on_event, stop=self.stop,
                                  backoff=self.options.backoff, since=operation_started(raw), fresh=False).wait()
            self._finished(place, outcome)
            return Recovery(wave, region, name, status, outcome.status, "watch")
        self.on_event(StepSkipped(self.env.name, wave, region, name, f"{status}: nothing to recover"))
        return Recovery(wave, region, name, status, "", "none")

    def _continue_rollback(self, cfn: Any, place: Place, stack_id: str,
                           blockers: list[BlockingResource]) -> Recovery:
        self.on_event(RollbackBlocked(place.environment, place.wave, place.region, place.stack_name,
                                      tuple((b.skip_name, b.resource_type, b.reason) for b in blockers)))
        skip = [b.skip_name for b in blockers
                if b.skip_name in self.options.skip or b.logical_id in self.options.skip]
        question = (f"continue the rollback of {place.stack_name} in {place.region}"
                    + (f", skipping {', '.join(skip)} (CloudFormation marks them rolled back without "
                       "changing them; fix them by hand afterwards)" if skip else "") + "?")
        if not self.confirm(ConfirmRequest(Plan(()), self._protected(), stage="recover", question=question)):
            raise Refused(f"recovery of {place.stack_name} cancelled: nothing was changed")
        watcher = watcher_for(cfn, stack_id, place, self.on_event, stop=self.stop, backoff=self.options.backoff)
        self.on_event(StepStarted(place.environment, place.wave, place.region, place.stack_name,
                                  "CONTINUE_UPDATE_ROLLBACK"))
        continue_update_rollback(cfn, stack_id, skip)
        outcome = watcher.wait()
        self._finished(place, outcome)
        return Recovery(place.wave, place.region, place.stack_name, "UPDATE_ROLLBACK_FAILED", outcome.status,
                        "continue-rollback")

    def _delete(self, cfn: Any, place: Place, stack_id: str, status: str, reason: str) -> Recovery:
        question = (f"{place.stack_name} in {place.region} is {status} (its creation failed: "
                    f"{reason or 'no reason given'}); CloudFormation can only delete it. "
                    "Delete it and create it again?")
        if not self.confirm(ConfirmRequest(Plan(()), self._protected(), stage="recover", question=question)):
            raise Refused(f"recovery of {place.stack_name} cancelled: nothing was changed")
        watcher = watcher_for(cfn, stack_id, place, self.on_event, stop=self.stop, backoff=self.options.backoff)
        self.on_event(StepStarted(place.environment, place.wave, place.region, place.stack_name, "DELETE"))
        delete_stack(cfn, stack_id)
        outcome = watcher.wait()
        self._finished(place, outcome)
        return Recovery(place.wave, place.region, place.stack_name, status, outcome.status, "delete")

    def _finished(self, place: Place, outcome: StackOutcome) -> None:
        self.on_event(StepFinished(place.environment, place.wave, place.region, place.stack_name, outcome.status,
                                   not outcome.status.endswith("_FAILED"), outcome.seconds,
                                   str(outcome.root_cause) if outcome.root_cause else ""))

    def _protected(self) -> tuple[str, ...]:
        return (self.env.name,) if protected(self.env) else ()

    def _protect(self, done: list[Recovery]) -> None:
        for recovery in done:
            cfn = self.planner.cfn(recovery.region)
            info = describe_stack(cfn, recovery.stack_name)
            if info is None or not is_terminal(info.status) or info.status in ("ROLLBACK_COMPLETE",):
                continue
            for stack in stack_tree(cfn, info.stack_id).values():
                set_stack_policy(cfn, stack, protective_policy())
