"""`apply --all-accounts`: every wave as a StackSet in the administrator account, with an instance per
environment account and region of the wave, each overriding the parameters with its environment's
values.

Per wave: upload the nested templates and Lambda code to the admin account's artifact bucket in each
region; create the StackSet or update its template and parameters; then, environment group by
environment group in deploy order (dev before staging before prod), add missing instances and
update those whose overrides changed or that are not current. Every operation is waited on with
payctl's poller while a live account x region table follows the instances. A failed operation
stops the run (later groups and waves do not start) and lists each failed instance with its reason.
`retry_failed` re-runs only the instances whose last operation failed or was cancelled.

One operation per instance: an operation takes one set of ParameterOverrides for all the accounts
and regions it targets, and every environment and region has its own values. The StackSet runs
with managed execution, so CloudFormation queues them instead of refusing them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from payctl.apply.common import Stop
from payctl.apply.events import (
    ArtifactBucketCreated,
    InstanceStatus,
    OnEvent,
    OperationFinished,
    OperationStarted,
    StackSetFinished,
    StackSetStarted,
    ignore,
)
from payctl.apply.stackset_spec import Instance, StackSetSettings, StackSetWave, preferences
from payctl.aws.artifacts import ArtifactStore
from payctl.aws.poll import Backoff
from payctl.aws.session import AwsSession, Target
from payctl.aws.stacksets import (
    OPERATION_BACKOFF,
    InstanceInfo,
    InstanceResult,
    OperationInfo,
    OperationInProgress,
    Targets,
    create_stack_instances,
    create_stack_set,
    describe_operation,
    describe_stack_instance,
    describe_stack_set,
    list_operations,
    list_stack_instances,
    operation_results,
    update_stack_instances,
    update_stack_set,
    wait_for_operations,
)
from payctl.config.models import Environment
from payctl.errors import DeploymentFailed, Interrupted, StackBusy


@dataclass(frozen=True)
class StackSetOptions:
    retry_failed: bool = False
    backoff: Backoff = OPERATION_BACKOFF
    sleep: Callable[[float], None] = time.sleep
    create_missing_bucket: bool | None = None  # None: only against the local emulator


@dataclass(frozen=True)
class WaveResult:
    wave: str
    stack_set: str
    action: str
    operations: tuple[str, ...] = ()
    instances: dict[tuple[str, str], str] = field(default_factory=dict)  # (account, region) -> status


@dataclass
class _Operation:
    operation_id: str
    action: str
    instances: tuple[Instance, ...]
    info: OperationInfo | None = None


class StackSetApplier:
    def __init__(self, aws: AwsSession, config: StackSetSettings, environments: dict[str, Environment],
                 options: StackSetOptions | None = None, on_event: OnEvent = ignore) -> None:
        self.aws = aws
        self.config = config
        self.environments = environments
        self.options = options or StackSetOptions()
        self.on_event = on_event
        self.stop = Stop(self.options.sleep)
        self.admin = Target(config.admin_account, config.home_region)
        self._lock = threading.Lock()
        self.running: list[str] = []
        self.shown: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}

    @property
    def cfn(self) -> Any:
        return self.aws.client("cloudformation", self.admin)

    def verify(self) -> None:
        self.aws.verify_account(self.admin, "StackSet administrator")

    # -- the run -------------------------------------------------------------------------------------
    def apply(self, waves: list[StackSetWave]) -> list[WaveResult]:
        results = []
        for spec in waves:
            results.append(self.apply_wave(spec))
        return results

    def apply_wave(self, spec: StackSetWave) -> WaveResult:
        started = time.monotonic()
        try:
            result = self._apply_wave(spec)
        except KeyboardInterrupt:
            self.on_event(StackSetFinished(spec.wave, spec.name, False, time.monotonic() - started))
            with self._lock:
                running = ", ".join(self.running)
            raise Interrupted(
                f"interrupted: payctl stopped watching StackSet {spec.name}"
                + (f"; CloudFormation keeps going with operations {running}" if running else ""),
                hint="resume watching: payctl status --all-accounts --watch; "
                     "failed instances: payctl apply --all-accounts --retry-failed") from None
        except DeploymentFailed:
            self.on_event(StackSetFinished(spec.wave, spec.name, False, time.monotonic() - started))
            raise
        self.on_event(StackSetFinished(spec.wave, spec.name, True, time.monotonic() - started))
        return result

    def _apply_wave(self, spec: StackSetWave) -> WaveResult:
        info = describe_stack_set(self.cfn, spec.name, self.config.call_as)
        existing = self.instances(spec.name) if info is not None else {}
        if self.options.retry_failed:
            return self._retry(spec, existing)
        self.upload(spec)
        parameters = spec.stack_set_parameters(info.parameters if info else None)
        if info is None:
            create_stack_set(self.cfn, self.config.request(spec, parameters=parameters))
            action = "create"
        else:
            changed = info.template_body != spec.template_text or info.parameters != parameters
            action = "update" if changed else "unchanged"
        self.on_event(StackSetStarted(spec.wave, spec.name, action, len(spec.instances)))  # type: ignore[arg-type]
        operations: list[str] = []
        statuses: dict[tuple[str, str], str] = {}
        # A template or parameter change reaches the first existing instance in deploy order through
        # UpdateStackSet; every other instance is then updated in its environment's turn.
        first_existing = next((i for i in spec.instances if i.key in existing), None)
        updated_by_stack_set = {first_existing.key} if action == "update" and first_existing else set()
        for index, (_order, group) in enumerate(spec.groups()):
            jobs: list[tuple[str, tuple[Instance, ...], Callable[[], str]]] = []
            env = self.environments[group[0].environment]
            if action == "update" and index == 0:
                reached: tuple[Instance, ...] = (first_existing,) if first_existing else ()
                request = self._request(spec, env, parameters)
                targets = self._targets(reached) if reached else None
                jobs.append(("UPDATE", reached, partial(update_stack_set, self.cfn, request, targets)))
            for instance in group:
                current = existing.get(instance.key)
                if current is None:
                    jobs.append(("CREATE", (instance,), self._creator(spec, instance)))
                elif instance.key in updated_by_stack_set:
                    if current.overrides != instance.overrides:
                        jobs.append(("UPDATE_INSTANCES", (instance,), self._updater(spec, instance)))
                elif (action == "update" or current.overrides != instance.overrides
                      or current.status != "CURRENT"):
                    jobs.append(("UPDATE_INSTANCES", (instance,), self._updater(spec, instance)))
            if not jobs:
                continue
            done = self._run(spec, jobs)
            operations += [operation.operation_id for operation in done]
            statuses.update(self._check(spec, done))
        return WaveResult(spec.wave, spec.name, action, tuple(operations), statuses)

    def _retry(self, spec: StackSetWave, existing: dict[tuple[str, str], InstanceInfo]) -> WaveResult:
        failed = [i for i in spec.instances if i.key in existing and existing[i.key].failed]
        self.on_event(StackSetStarted(spec.wave, spec.name, "retry", len(failed)))
        if not failed:
            return WaveResult(spec.wave, spec.name, "retry")
        self.upload(spec)
        operations: list[str] = []
        statuses: dict[tuple[str, str], str] = {}
        for order, _group in spec.groups():
            jobs = [("UPDATE_INSTANCES", (i,), self._updater(spec, i)) for i in failed if i.deploy_order == order]
            if jobs:
                done = self._run(spec, jobs)  # type: ignore[arg-type]
                operations += [operation.operation_id for operation in done]
                statuses.update(self._check(spec, done))
        return WaveResult(spec.wave, spec.name, "retry", tuple(operations), statuses)

    # -- reading -------------------------------------------------------------------------------------
    def instances(self, name: str) -> dict[tuple[str, str], InstanceInfo]:
        """Every instance with its overrides (ListStackInstances does not return them)."""
        call_as = self.config.call_as
        return {(i.account, i.region): describe_stack_instance(self.cfn, name, i.account, i.region, call_as)
                for i in list_stack_instances(self.cfn, name, call_as)}

    def upload(self, spec: StackSetWave) -> None:
        create = self.options.create_missing_bucket
        if create is None:
            create = self.aws.local
        for region, artifacts in spec.artifacts.items():
            bucket = self.config.admin_bucket(region)
            store = ArtifactStore(self.aws.client("s3", Target(self.config.admin_account, region)), bucket, region)
            if store.ensure_bucket(create=create):
                self.on_event(ArtifactBucketCreated(self.config.admin_account, region, bucket))
            store.put_all(list(artifacts))

    # -- operations ----------------------------------------------------------------------------------
    def _request(self, spec: StackSetWave, env: Environment, parameters: dict[str, str]) -> Any:
        return self.config.request(spec, preferences(env, self._regions(spec)), parameters)

    def _regions(self, spec: StackSetWave) -> tuple[str, ...]:
        return tuple(dict.fromkeys(instance.region for instance in spec.instances))

    def _targets(self, instances: tuple[Instance, ...]) -> Targets:
        return Targets(tuple(dict.fromkeys(i.account_id for i in instances)),
                       tuple(dict.fromkeys(i.region for i in instances)), self.config.organizational_units
                       if self.config.permission_model == "SERVICE_MANAGED" else ())

    def _creator(self, spec: StackSetWave, instance: Instance) -> Callable[[], str]:
        env = self.environments[instance.environment]
        return lambda: create_stack_instances(self.cfn, spec.name, self._targets((instance,)), instance.overrides,
                                              preferences(env, (instance.region,)), self.config.call_as)

    def _updater(self, spec: StackSetWave, instance: Instance) -> Callable[[], str]:
        env = self.environments[instance.environment]
        return lambda: update_stack_instances(self.cfn, spec.name, self._targets((instance,)), instance.overrides,
                                              preferences(env, (instance.region,)), self.config.call_as)

    def _run(self, spec: StackSetWave,
             jobs: list[tuple[str, tuple[Instance, ...], Callable[[], str]]]) -> list[_Operation]:
        """Start the operations (waiting for running ones when CloudFormation refuses a new one), then
        wait for all of them while reporting each instance's status."""
        outstanding: list[_Operation] = []
        for action, instances, start in jobs:
            while True:
                try:
                    operation_id = start()
                    break
                except OperationInProgress as busy:
                    if not outstanding:  # someone else's operation: do not queue behind it unasked
                        raise StackBusy(f"StackSet {spec.name}: {busy.message}",
                                        hint="wait for it: payctl status --all-accounts --watch") from None
                    self._wait(spec, outstanding)
            outstanding.append(_Operation(operation_id, action, instances))
            with self._lock:
                self.running.append(operation_id)
            self.on_event(OperationStarted(spec.wave, spec.name, operation_id, action,
                                           tuple((i.environment, i.account_id, i.region) for i in instances)))
        self._wait(spec, outstanding)
        return outstanding

    def _wait(self, spec: StackSetWave, operations: list[_Operation]) -> None:
        seen = self.shown.setdefault(spec.name, {})  # instance statuses already reported
        names = {(i.account_id, i.region): i.environment for i in spec.instances}

        def check() -> dict[str, OperationInfo] | None:
            pending = [o for o in operations if o.info is None or not o.info.finished]
            if len(pending) == 1:
                pending[0].info = describe_operation(self.cfn, spec.name, pending[0].operation_id,
                                                     self.config.call_as)
            elif pending:  # one listing instead of a describe per operation
                listed = list_operations(self.cfn, spec.name, {o.operation_id for o in pending}, self.config.call_as)
                for operation in pending:
                    operation.info = listed.get(operation.operation_id, operation.info)
            for instance in list_stack_instances(self.cfn, spec.name, self.config.call_as):
                key = (instance.account, instance.region)
                shown = (instance.detailed_status or instance.status, instance.reason)
                if seen.get(key) != shown:
                    seen[key] = shown
                    self.on_event(InstanceStatus(spec.wave, spec.name, names.get(key, "?"), instance.account,
                                                 instance.region, shown[0], shown[1]))
            if all(operation.info is not None and operation.info.finished for operation in operations):
                return {operation.operation_id: operation.info for operation in operations
                        if operation.info is not None}
            return None

        if operations:
            wait_for_operations(check, what=f"StackSet {spec.name} operations", backoff=self.options.backoff,
                                sleep=self.stop.sleep)

    def _check(self, spec: StackSetWave, operations: list[_Operation]) -> dict[tuple[str, str], str]:
        """Report each operation's outcome; raise DeploymentFailed listing every failed instance."""
        names = {(i.account_id, i.region): i.environment for i in spec.instances}
        statuses: dict[tuple[str, str], str] = {}
        failures: list[tuple[str, str, str, str]] = []
        for operation in operations:
            assert operation.info is not None
            results = operation_results(self.cfn, spec.name, operation.operation_id, self.config.call_as)
            failed = [r for r in results if r.status in ("FAILED", "CANCELLED")]
            if operation.info.status != "SUCCEEDED" and not failed:
                failed = [InstanceResult(i.account_id, i.region, operation.info.status,
                                         operation.info.status_reason or "the operation did not succeed")
                          for i in operation.instances]
            rows = tuple((names.get((r.account, r.region), "?"), r.account, r.region, f"{r.status}: {r.reason}")
                         for r in failed)
            statuses.update({(r.account, r.region): r.status for r in results})
            failures += rows
            with self._lock:
                if operation.operation_id in self.running:
                    self.running.remove(operation.operation_id)
            self.on_event(OperationFinished(spec.wave, spec.name, operation.operation_id, operation.info.status,
                                            rows))
        if failures:
            lines = "\n  ".join(f"{env} {account} {region}: {reason}" for env, account, region, reason in failures)
            raise DeploymentFailed(
                f"StackSet {spec.name}: {len(failures)} instance{'s' if len(failures) != 1 else ''} failed; "
                f"later environments and waves were not started\n  {lines}",
                hint="fix the cause above, then re-run only those: payctl apply --all-accounts --retry-failed")
        return statuses
