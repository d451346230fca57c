"""Planning an environment: verify the account, package, propose a change set per wave and region,
read them (nested ones too) and build the Plan. The only plan module that talks to AWS, always
through payctl.aws helpers.

Waves depend on earlier waves in the same region (SSM imports). When an earlier wave's stack does
not exist yet, a later wave cannot get a change set (its SSM parameters do not resolve); it is
planned from its templates alone and marked "deferred: would be created after <wave>".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from payctl.aws.artifacts import ArtifactStore
from payctl.aws.changesets import ChangeSetRequest, ChangeSetTree, compute_change_set
from payctl.aws.errors import aws_errors
from payctl.aws.poll import DEFAULT, Backoff
from payctl.aws.session import AwsSession, Target
from payctl.aws.stacks import NESTED_STACK_TYPE, StackInfo, deployed_template, describe_stack, nested_stacks
from payctl.config import Environment
from payctl.errors import PayctlError, StackBusy
from payctl.package import PackagedStack, package_stack, region_artifacts
from payctl.plan.build import Masker, StackInputs, build_stack
from payctl.plan.events import (
    AccountVerified,
    ArtifactsUploaded,
    ChangeSetStarted,
    OnEvent,
    PlanFinished,
    PlanStarted,
    StackPlanned,
    ignore,
)
from payctl.plan.fresh import CurrentState, StackKey
from payctl.plan.model import EnvironmentPlan, Fingerprint, Plan, StackPlan, WavePlan
from payctl.templates import RenderedSet, RenderedStack

T = TypeVar("T")
Deployed = dict[tuple[str, str], StackInfo | None]  # (stack name, region) -> the stack, if it exists


@dataclass(frozen=True)
class PlanOptions:
    keep: bool = False  # keep the change sets (and empty REVIEW_IN_PROGRESS stacks) for apply
    workers: int = 4  # stacks planned at once within one environment
    backoff: Backoff = DEFAULT
    create_missing_bucket: bool | None = None  # None: only against the local emulator


def stack_tags(env: Environment) -> dict[str, str]:
    return {"Environment": env.name, "Application": env.application, "CostCenter": env.cost_center}


def targets(env: Environment, regions: list[str]) -> dict[str, Target]:
    return {region: Target(env.account_id, region, env.access.profile, env.access.role_arn)
            for region in regions}


class EnvironmentPlanner:
    def __init__(self, rendered: RenderedSet, aws: AwsSession, root: Path, options: PlanOptions,
                 on_event: OnEvent = ignore) -> None:
        self.rendered = rendered
        self.env = rendered.environment
        self.aws = aws
        self.root = root
        self.options = options
        self.on_event = on_event
        regions = list(dict.fromkeys(stack.region for stack in rendered.stacks))
        self.targets = targets(self.env, regions)
        self.waves = list(dict.fromkeys(stack.wave for stack in rendered.stacks))
        self._packaged: list[PackagedStack] | None = None

    def cfn(self, region: str) -> Any:
        return self.aws.client("cloudformation", self.targets[region])

    # -- steps ------------------------------------------------------------------------------------
    def verify(self) -> None:
        """Before any other call: the credentials must reach the environment's account, per region."""
        for region, target in self.targets.items():
            with aws_errors(f"checking the credentials for {self.env.name} in {region}"):
                self.aws.verify_account(target, self.env.name)
            self.on_event(AccountVerified(self.env.name, self.env.account_id, region))

    def package(self) -> list[PackagedStack]:
        """Pure, but not thread-safe (one YAML emitter is shared): planners of several environments
        package in the calling thread before their AWS work fans out."""
        if self._packaged is None:
            self._packaged = [package_stack(stack, self.root, self.env.account_id)
                              for stack in self.rendered.stacks]
        return self._packaged

    def upload(self, pool: ThreadPoolExecutor, packaged: list[PackagedStack]) -> list[Future[None]]:
        create = self.options.create_missing_bucket
        if create is None:
            create = self.aws.local

        def put(region: str, bucket: str, artifacts: list[Any]) -> None:
            store = ArtifactStore(self.aws.client("s3", self.targets[region]), bucket, region)
            created = store.ensure_bucket(create=create)
            report = store.put_all(artifacts)
            self.on_event(ArtifactsUploaded(self.env.name, region, bucket, len(report.uploaded),
                                            len(report.skipped), created))

        return [pool.submit(put, region, bucket, artifacts)
                for (region, bucket), artifacts in region_artifacts(packaged).items()]

    def describe_all(self, pool: ThreadPoolExecutor) -> Callable[[], Deployed]:
        """Start describing every top-level stack; the returned function waits for the answers."""
        keys = [(stack.stack_name, stack.region) for stack in self.rendered.stacks]
        futures = [pool.submit(describe_stack, self.cfn(region), name) for name, region in keys]
        return lambda: dict(zip(keys, gather(futures), strict=True))

    def blocking_wave(self, stack: RenderedStack, deployed: Deployed) -> str | None:
        """The earliest earlier wave in this region whose stack is not deployed yet."""
        for earlier in self.rendered.stacks:
            is_earlier = self.waves.index(earlier.wave) < self.waves.index(stack.wave)
            if earlier.region != stack.region or not is_earlier:
                continue
            info = deployed[(earlier.stack_name, earlier.region)]
            if info is None or not info.exists:
                return earlier.wave
        return None

    def plan(self) -> EnvironmentPlan:
        started = time.monotonic()
        self.on_event(PlanStarted(self.env.name, self.env.account_id, len(self.rendered.stacks)))
        self.verify()
        packaged = self.package()
        with ThreadPoolExecutor(max_workers=max(1, self.options.workers),
                                thread_name_prefix=f"plan-{self.env.name}") as pool:
            deployed_later = self.describe_all(pool)
            gather(self.upload(pool, packaged))
            deployed = deployed_later()
            futures = [pool.submit(self.plan_stack, item, deployed[item.stack.stack_name, item.stack.region],
                                   self.blocking_wave(item.stack, deployed)) for item in packaged]
            waves = gather(futures)
        self.on_event(PlanFinished(self.env.name, time.monotonic() - started))
        return EnvironmentPlan(self.env.name, self.env.account_id, tuple(waves))

    # -- one stack --------------------------------------------------------------------------------
    def masker(self, stack: RenderedStack) -> Masker:
        names: set[str] = set()
        for template in stack.all_templates():
            for name, definition in (template.body.get("Parameters") or {}).items():
                if isinstance(definition, dict) and str(definition.get("NoEcho", "")).lower() == "true":
                    names.add(str(name))
        secrets = {value for values in stack.parameters.values() for name, value in values.items()
                   if name in names and value}
        return Masker(frozenset(secrets), frozenset(names))

    def plan_stack(self, item: PackagedStack, deployed: StackInfo | None, after: str | None) -> WavePlan:
        stack = item.stack
        live = deployed if deployed is not None and deployed.exists else None
        fingerprint = Fingerprint(item.template_sha256, item.parameters_sha256, None,
                                  live.stack_id if live else None, live.last_changed if live else None)
        if deployed is not None and deployed.is_busy:
            raise StackBusy(f"{stack.stack_name} in {stack.region} is {deployed.status}",
                            hint="wait for the running operation to finish, then plan again")
        if deployed is not None and deployed.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
            raise PayctlError(f"{stack.stack_name} in {stack.region} is {deployed.status}: its creation "
                              f"failed ({deployed.status_reason or 'no reason given'}) and CloudFormation "
                              "can only delete it", hint="delete the stack, then plan again")
        masker = self.masker(stack)
        if after is not None:
            plan = self.deferred(item, after, masker)
        else:
            plan = self.proposed(item, deployed, masker)
            fingerprint = replace(fingerprint, change_set_id=plan.change_set_id)
        self.on_event(StackPlanned(self.env.name, stack.wave, stack.region, stack.stack_name, plan.status,
                                   sum(len(level.changes) for level in plan.walk())))
        return WavePlan(stack.wave, stack.region, plan, fingerprint, after)

    def deferred(self, item: PackagedStack, after: str, masker: Masker) -> StackPlan:
        stack = item.stack
        inputs = StackInputs(stack.stack_name, item.master_text, stack_name=stack.stack_name,
                             nested={logical_id: StackInputs(logical_id, template.text)
                                     for logical_id, template in stack.templates.nested.items()})
        plan = build_stack(inputs, None, masker=masker, change_set_type="CREATE")
        return replace(plan, status="deferred",
                       note=f"would be created after wave {after} in {stack.region}: its SSM imports cannot "
                            "resolve until then, so changes are read from the templates")

    def proposed(self, item: PackagedStack, deployed: StackInfo | None, masker: Masker) -> StackPlan:
        stack = item.stack
        change_set_type = "UPDATE" if deployed is not None and deployed.exists else "CREATE"
        self.on_event(ChangeSetStarted(self.env.name, stack.wave, stack.region, stack.stack_name,
                                       change_set_type))  # type: ignore[arg-type]
        cfn = self.cfn(stack.region)
        request = ChangeSetRequest(
            stack_name=stack.stack_name,
            change_set_type=change_set_type,  # type: ignore[arg-type]
            parameters=item.parameters,
            tags=stack_tags(self.env),
            template_body=None if item.master_url else item.master_text,
            template_url=item.master_url,
            description=f"payctl plan {self.env.name}/{stack.wave}/{stack.region} "
                        f"template {item.template_sha256[:12]}",
        )
        outcome = compute_change_set(cfn, request, keep=self.options.keep, backoff=self.options.backoff,
                                     review_stack_is_ours=deployed is None)
        if outcome.no_changes:
            return StackPlan(stack.stack_name, "no-changes", "change-set", stack_name=stack.stack_name,
                             stack_id=deployed.stack_id if deployed else None)
        assert outcome.tree is not None
        inputs = self.inputs(cfn, item, deployed if change_set_type == "UPDATE" else None, outcome.tree)
        plan = build_stack(inputs, outcome.tree, masker=masker, change_set_type=change_set_type)
        return replace(plan, change_set_type=change_set_type, kept=outcome.kept,  # type: ignore[arg-type]
                       stack_id=outcome.stack_id or plan.stack_id)

    def inputs(self, cfn: Any, item: PackagedStack, deployed: StackInfo | None,
               tree: ChangeSetTree) -> StackInputs:
        """The planned templates, and for an update what is deployed: templates, parameters and outputs of
        the stack and of each nested stack the change set touches."""
        stack = item.stack
        nested_after = {logical_id: template.text for logical_id, template in stack.templates.nested.items()}
        if deployed is None:
            return StackInputs(stack.stack_name, item.master_text, stack_name=stack.stack_name,
                               parameters_after=item.parameters,
                               nested={logical_id: StackInputs(logical_id, text)
                                       for logical_id, text in nested_after.items()})
        touched = {str(change["LogicalResourceId"]) for change in tree.changes
                   if change.get("ResourceType") == NESTED_STACK_TYPE}
        physical = nested_stacks(cfn, deployed.stack_id) if touched else {}
        nested: dict[str, StackInputs] = {}
        for logical_id in sorted(touched):
            stack_id = physical.get(logical_id)
            info = describe_stack(cfn, stack_id) if stack_id else None
            nested[logical_id] = StackInputs(
                logical_id,
                nested_after.get(logical_id),
                template_before=deployed_template(cfn, info.stack_id) if info else None,
                stack_name=info.name if info else None,
                stack_id=stack_id,
                parameters_before=info.parameters if info else None,
                outputs_current=info.outputs if info else {},
            )
        return StackInputs(
            stack.stack_name,
            item.master_text,
            template_before=deployed_template(cfn, deployed.stack_id),
            stack_name=stack.stack_name,
            stack_id=deployed.stack_id,
            parameters_after=item.parameters,
            parameters_before=deployed.parameters,
            outputs_current=deployed.outputs,
            nested=nested,
        )

    # -- freshness --------------------------------------------------------------------------------
    def current_state(self) -> dict[StackKey, CurrentState]:
        """What a saved plan is compared with: templates and parameters as rendered now, stacks as
        deployed now."""
        self.verify()
        packaged = self.package()
        with ThreadPoolExecutor(max_workers=max(1, self.options.workers)) as pool:
            deployed = self.describe_all(pool)()
        state = {}
        for item in packaged:
            info = deployed[(item.stack.stack_name, item.stack.region)]
            state[(self.env.name, item.stack.wave, item.stack.region)] = CurrentState(
                item.template_sha256, item.parameters_sha256,
                info.stack_id if info and info.exists else None,
                info.last_changed if info and info.exists else None)
        return state


def gather(futures: list[Future[T]]) -> list[T]:
    """Every result in order, after all have finished (so each cleans up); then the first error."""
    errors = [future.exception() for future in futures]
    for error in errors:
        if error is not None:
            raise error
    return [future.result() for future in futures]


def plan_environments(planners: list[EnvironmentPlanner], *, parallel: int = 4,
                      now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Plan:
    """Plan several environments at once (bounded); one Plan for all of them."""
    created = now().isoformat(timespec="seconds")
    if len(planners) == 1:
        return Plan((planners[0].plan(),), created_at=created)
    for planner in planners:
        planner.package()
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(planners))),
                            thread_name_prefix="plan-env") as pool:
        plans = gather([pool.submit(planner.plan) for planner in planners])
    return Plan(tuple(plans), created_at=created)
