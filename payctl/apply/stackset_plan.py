"""`plan --all-accounts`: for each StackSet instance (environment account x region of a wave), what
applying the StackSet would change there, as the same Plan model `payctl plan` produces.

StackSets have no change sets, so each instance is compared from its templates: the StackSet's
template and nested templates against what the instance's stack holds in its account (read with
the environment's own access, as `payctl plan` reads it), and the instance's effective parameters
(its environment's values) against the stack's parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from payctl.apply.stackset_spec import Instance, StackSetSettings, StackSetWave
from payctl.aws.errors import aws_errors
from payctl.aws.session import AwsSession, Target
from payctl.aws.stacks import StackInfo, deployed_template, describe_stack, nested_stacks
from payctl.aws.stacksets import InstanceInfo, describe_stack_instance, describe_stack_set, list_stack_instances
from payctl.config.models import Environment
from payctl.package import parameters_sha256
from payctl.plan.build import Masker, StackInputs, build_stack
from payctl.plan.events import AccountVerified, OnEvent, ignore
from payctl.plan.model import EnvironmentPlan, Fingerprint, Plan, WavePlan
from payctl.plan.planner import gather
from payctl.templates import RenderedStack

Existing = dict[str, dict[tuple[str, str], InstanceInfo]]  # StackSet name -> (account, region) -> instance


def masker(stack: RenderedStack) -> Masker:
    """NoEcho parameter names of the stack's templates and the values payctl passes for them."""
    names = {str(name) for template in stack.all_templates()
             for name, definition in (template.body.get("Parameters") or {}).items()
             if isinstance(definition, dict) and str(definition.get("NoEcho", "")).lower() == "true"}
    secrets = {value for values in stack.parameters.values() for name, value in values.items()
               if name in names and value}
    return Masker(frozenset(secrets), frozenset(names))


def existing_instances(cfn: Any, waves: list[StackSetWave], call_as: str) -> Existing:
    found: Existing = {}
    for spec in waves:
        if describe_stack_set(cfn, spec.name, call_as) is None:
            found[spec.name] = {}
            continue
        found[spec.name] = {(i.account, i.region): describe_stack_instance(cfn, spec.name, i.account, i.region,
                                                                           call_as)
                            for i in list_stack_instances(cfn, spec.name, call_as)}
    return found


class StackSetPlanner:
    def __init__(self, aws: AwsSession, config: StackSetSettings, environments: dict[str, Environment],
                 on_event: OnEvent = ignore, workers: int = 8,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.aws = aws
        self.config = config
        self.environments = environments
        self.on_event = on_event
        self.workers = workers
        self.now = now

    def target(self, instance: Instance) -> Target:
        env = self.environments[instance.environment]
        return Target(env.account_id, instance.region, env.access.profile, env.access.role_arn)

    def verify(self, waves: list[StackSetWave]) -> None:
        """The credentials must reach each environment's account before anything is read there."""
        seen: set[tuple[str, str]] = set()
        for spec in waves:
            for instance in spec.instances:
                if instance.key in seen:
                    continue
                seen.add(instance.key)
                with aws_errors(f"checking the credentials for {instance.environment} in {instance.region}"):
                    self.aws.verify_account(self.target(instance), instance.environment)
                self.on_event(AccountVerified(instance.environment, instance.account_id, instance.region))

    def plan(self, waves: list[StackSetWave], existing: Existing | None = None) -> Plan:
        created = self.now().isoformat(timespec="seconds")
        self.verify(waves)
        admin = self.aws.client("cloudformation", Target(self.config.admin_account, self.config.home_region))
        existing = existing if existing is not None else existing_instances(admin, waves, self.config.call_as)
        jobs = [(spec, instance) for spec in waves for instance in spec.instances]
        with ThreadPoolExecutor(max_workers=max(1, self.workers), thread_name_prefix="plan-stacksets") as pool:
            planned = gather([pool.submit(self.plan_instance, spec, instance,
                                          existing.get(spec.name, {}).get(instance.key))
                              for spec, instance in jobs])
        by_env: dict[str, list[WavePlan]] = {}
        for (_spec, instance), wave in zip(jobs, planned, strict=True):
            by_env.setdefault(instance.environment, []).append(wave)
        ordered = sorted(by_env, key=lambda name: (self.environments[name].deploy_order, name))
        return Plan(tuple(EnvironmentPlan(name, self.environments[name].account_id, tuple(by_env[name]))
                          for name in ordered), created_at=created,
                    notes=(f"StackSets {', '.join(spec.name for spec in waves)} in account "
                           f"{self.config.admin_account} ({self.config.permission_model}); each instance is "
                           "compared from its templates (StackSets make no change sets)",))

    def plan_instance(self, spec: StackSetWave, instance: Instance, current: InstanceInfo | None) -> WavePlan:
        cfn = self.aws.client("cloudformation", self.target(instance))
        deployed = describe_stack(cfn, current.stack_id) if current is not None and current.stack_id else None
        if deployed is not None and not deployed.exists:
            deployed = None
        inputs = self.inputs(cfn, spec, instance, deployed)
        stack = build_stack(inputs, None, masker=masker(instance.stack),
                            change_set_type="CREATE" if deployed is None else None)
        note = f"StackSet {spec.name} instance in {instance.account_id}/{instance.region}"
        if current is not None and current.status != "CURRENT":
            note += f" ({current.status}, last operation {current.detailed_status or 'unknown'}"
            note += f": {current.reason})" if current.reason else ")"
        stack = replace(stack, note=(stack.note + "; " if stack.note else "") + note)
        fingerprint = Fingerprint(spec.template_sha256, parameters_sha256(instance.overrides), None,
                                  deployed.stack_id if deployed else None,
                                  deployed.last_changed if deployed else None)
        return WavePlan(spec.wave, instance.region, stack, fingerprint)

    def inputs(self, cfn: Any, spec: StackSetWave, instance: Instance, deployed: StackInfo | None) -> StackInputs:
        if deployed is None:
            return StackInputs(spec.name, spec.template_text, parameters_after=instance.overrides,
                               nested={logical_id: StackInputs(logical_id, text)
                                       for logical_id, text in spec.nested.items()})
        physical = nested_stacks(cfn, deployed.stack_id)
        nested: dict[str, StackInputs] = {}
        for logical_id in sorted(set(spec.nested) | set(physical)):
            info = describe_stack(cfn, physical[logical_id]) if logical_id in physical else None
            nested[logical_id] = StackInputs(
                logical_id, spec.nested.get(logical_id),
                template_before=deployed_template(cfn, info.stack_id) if info else None,
                stack_name=info.name if info else None, stack_id=info.stack_id if info else None,
                parameters_before=info.parameters if info else None,
                outputs_current=info.outputs if info else {})
        return StackInputs(
            spec.name, spec.template_text,
            template_before=deployed_template(cfn, deployed.stack_id),
            stack_name=deployed.name, stack_id=deployed.stack_id,
            parameters_after=instance.overrides, parameters_before=deployed.parameters,
            outputs_current=deployed.outputs, nested=nested)
