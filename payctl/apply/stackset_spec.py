"""What `apply --all-accounts` deploys, as data: one StackSet per wave, its instances per environment
account and region, each with the environment's parameter values as ParameterOverrides. Pure.

The wave templates are environment-independent by design (every difference is a parameter), so one
master template per wave serves every account. Its nested stacks are read from the StackSet
administrator account's artifact bucket in the instance's own region (Lambda code must come from
the function's region), hence a TemplateURL built with `${AWS::Region}` instead of a literal URL.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from payctl.aws.artifacts import Artifact
from payctl.aws.changesets import CAPABILITIES, TEMPLATE_BODY_LIMIT
from payctl.aws.stacksets import ADMINISTRATION_ROLE, EXECUTION_ROLE, StackSetRequest
from payctl.config.models import Environment
from payctl.config.parameters import artifact_bucket
from payctl.errors import PayctlError
from payctl.package import YAML_TYPE, package_stack, sha256, template_key
from payctl.templates import RenderedSet, RenderedStack
from payctl.yamlio import dump

NESTED_STACK = "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class Instance:
    """One stack instance: an environment's account in one region of the wave."""

    environment: str
    account_id: str
    region: str
    deploy_order: int
    overrides: dict[str, str]  # every parameter, as the environment file gives it
    stack: RenderedStack

    @property
    def key(self) -> tuple[str, str]:
        return (self.account_id, self.region)


@dataclass(frozen=True)
class StackSetWave:
    wave: str
    name: str  # <application>-<wave>
    template_text: str
    template_sha256: str
    nested: dict[str, str]  # nested stack logical id -> template text
    parameters: dict[str, str]  # the StackSet's own values (every instance overrides them all)
    varying: frozenset[str]  # parameters whose values differ between instances
    tags: dict[str, str]
    instances: tuple[Instance, ...]
    artifacts: dict[str, tuple[Artifact, ...]]  # region -> what the admin bucket there must hold
    template_key: str | None  # set when the template is too large for TemplateBody (uploaded, home region)
    no_echo: frozenset[str] = frozenset()  # parameters whose values are never shown

    def stack_set_parameters(self, deployed: dict[str, str] | None) -> dict[str, str]:
        """The StackSet's own values: a value that differs between instances keeps what the StackSet
        has (every instance overrides it), so changing one environment's value touches only its instances."""
        deployed = deployed or {}
        return {name: deployed[name] if name in self.varying and name in deployed else value
                for name, value in self.parameters.items()}

    def groups(self) -> list[tuple[int, tuple[Instance, ...]]]:
        """Instances by deploy order: dev before staging before prod."""
        orders = sorted({instance.deploy_order for instance in self.instances})
        return [(order, tuple(i for i in self.instances if i.deploy_order == order)) for order in orders]


@dataclass(frozen=True)
class StackSetSettings:
    """The StackSet settings every environment must agree on (envs/_defaults.yaml stackSets)."""

    admin_account: str
    home_region: str
    permission_model: str
    call_as: str
    organizational_units: tuple[str, ...]
    application: str
    cost_center: str

    def admin_bucket(self, region: str) -> str:
        return artifact_bucket(self.admin_account, region)

    def request(self, spec: StackSetWave, preferences: dict[str, Any] | None = None,
                parameters: dict[str, str] | None = None) -> StackSetRequest:
        self_managed = self.permission_model == "SELF_MANAGED"
        return StackSetRequest(
            name=spec.name,
            description=f"payctl {spec.wave} wave of {self.application}: every environment account",
            parameters=spec.parameters if parameters is None else parameters,
            tags=spec.tags,
            capabilities=CAPABILITIES,
            permission_model=self.permission_model,
            administration_role_arn=f"arn:aws:iam::{self.admin_account}:role/{ADMINISTRATION_ROLE}"
            if self_managed else None,
            execution_role_name=EXECUTION_ROLE if self_managed else None,
            template_body=None if spec.template_key else spec.template_text,
            template_url=None if spec.template_key is None
            else f"https://{self.admin_bucket(self.home_region)}.s3.{self.home_region}.amazonaws.com/"
                 f"{spec.template_key}",
            call_as=self.call_as,
            preferences=preferences or {},
        )


def settings(environments: list[Environment]) -> StackSetSettings:
    first = environments[0]
    for env in environments[1:]:
        for field in ("admin_account", "permission_model", "call_as", "organizational_unit_ids"):
            if getattr(env.stack_sets, field) != getattr(first.stack_sets, field):
                raise PayctlError(f"envs/{env.name}.yaml stackSets.{field} differs from envs/{first.name}.yaml: "
                                  "one StackSet serves every environment",
                                  hint="set it once in envs/_defaults.yaml")
        if env.application != first.application:
            raise PayctlError(f"envs/{env.name}.yaml application differs: StackSets are named per application")
    return StackSetSettings(
        admin_account=first.stack_sets.admin_account,
        home_region=first.regions.primary,
        permission_model=first.stack_sets.permission_model,
        call_as=first.stack_sets.call_as,
        organizational_units=tuple(first.stack_sets.organizational_unit_ids),
        application=first.application,
        cost_center=first.cost_center,
    )


def preferences(env: Environment, regions: tuple[str, ...]) -> dict[str, Any]:
    """OperationPreferences from the environment's stackSets.operationPreferences."""
    given = env.stack_sets.operation_preferences
    found: dict[str, Any] = {"RegionConcurrencyType": given.region_concurrency_type,
                             "RegionOrder": list(regions), "ConcurrencyMode": given.concurrency_mode}
    if given.max_concurrent_count is not None:
        found["MaxConcurrentCount"] = given.max_concurrent_count
    elif given.max_concurrent_percentage is not None:
        found["MaxConcurrentPercentage"] = given.max_concurrent_percentage
    if given.failure_tolerance_count is not None:
        found["FailureToleranceCount"] = given.failure_tolerance_count
    elif given.failure_tolerance_percentage is not None:
        found["FailureTolerancePercentage"] = given.failure_tolerance_percentage
    return found


def region_relative_url(admin_account: str, key: str) -> dict[str, str]:
    """The nested template in the admin account's artifact bucket of the region the instance runs in."""
    bucket = artifact_bucket(admin_account, "${AWS::Region}")
    return {"Fn::Sub": f"https://{bucket}.s3.${{AWS::Region}}.amazonaws.com/{key}"}


def master_text(stack: RenderedStack, admin_account: str) -> str:
    master = copy.deepcopy(stack.master.body)
    by_file = {f"{template.name}.yaml": logical_id for logical_id, template in stack.templates.nested.items()}
    for resource in (master.get("Resources") or {}).values():
        if resource.get("Type") != NESTED_STACK:
            continue
        properties = resource.get("Properties") or {}
        logical_id = by_file.get(str(properties.get("TemplateURL", "")))
        if logical_id is not None:
            properties["TemplateURL"] = region_relative_url(
                admin_account, template_key(stack.templates.nested[logical_id].text))
    return dump(master)


def build_waves(rendered: list[RenderedSet], root: Path, config: StackSetSettings) -> list[StackSetWave]:
    """One StackSetWave per wave, in wave order, with instances in deploy order."""
    by_order = sorted(rendered, key=lambda item: (item.environment.deploy_order, item.environment.name))
    waves = list(dict.fromkeys(stack.wave for item in by_order for stack in item.stacks))
    found = []
    for wave in waves:
        instances = []
        for item in by_order:
            env = item.environment
            for stack in item.stacks:
                if stack.wave != wave:
                    continue
                overrides = dict(stack.parameters.get("master", {}))
                if "ArtifactBucket" in overrides:  # Lambda code comes from the admin account's bucket
                    overrides["ArtifactBucket"] = config.admin_bucket(stack.region)
                instances.append(Instance(env.name, env.account_id, stack.region, env.deploy_order, overrides,
                                          stack))
        if not instances:
            continue
        found.append(_wave(wave, tuple(instances), root, config))
    return found


def _wave(wave: str, instances: tuple[Instance, ...], root: Path, config: StackSetSettings) -> StackSetWave:
    first = instances[0].stack
    text = master_text(first, config.admin_account)
    artifacts: dict[str, dict[str, Artifact]] = {}
    # Templates and code are the same for every environment: package once per region.
    for instance in {instance.region: instance for instance in reversed(instances)}.values():
        bucket = config.admin_bucket(instance.region)
        as_admin = replace(instance.stack, parameters={
            **instance.stack.parameters,
            "master": {**instance.stack.parameters.get("master", {}), "ArtifactBucket": bucket}})
        packaged = package_stack(as_admin, root, config.admin_account)
        region = artifacts.setdefault(instance.region, {})
        for artifact in packaged.artifacts:
            if artifact.key.startswith("templates/") and artifact.key == template_key(packaged.master_text):
                continue  # the packaged master (literal URLs) is not what the StackSet deploys
            region.setdefault(artifact.key, artifact)
    key = None
    if len(text.encode("utf-8")) > TEMPLATE_BODY_LIMIT:
        key = template_key(text)
        artifacts.setdefault(config.home_region, {})[key] = Artifact(key, text.encode("utf-8"), YAML_TYPE)
    names = list(dict.fromkeys(name for instance in instances for name in instance.overrides))
    parameters = {}
    varying = set()
    for name in names:
        values = [instance.overrides[name] for instance in instances if name in instance.overrides]
        # A value common to all instances, else the first environment's: every instance overrides it anyway.
        parameters[name] = values[0]
        if len(set(values)) > 1 or len(values) < len(instances):
            varying.add(name)
    return StackSetWave(
        wave=wave,
        name=f"{config.application}-{wave}",
        template_text=text,
        template_sha256=sha256(text),
        nested={logical_id: template.text for logical_id, template in first.templates.nested.items()},
        parameters=parameters,
        varying=frozenset(varying),
        tags={"Application": config.application, "CostCenter": config.cost_center},
        instances=instances,
        artifacts={region: tuple(items.values()) for region, items in artifacts.items()},
        template_key=key,
        no_echo=frozenset(str(name) for name, definition in (first.master.body.get("Parameters") or {}).items()
                          if isinstance(definition, dict) and str(definition.get("NoEcho", "")).lower() == "true"),
    )
