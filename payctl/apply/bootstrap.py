"""`payctl bootstrap`: what must exist before the first apply, from stacks/bootstrap/.

- every environment account: AWSCloudFormationStackSetExecutionRole (once, primary region; IAM is
  global) and an artifact bucket per region;
- with the StackSet administrator (`--all-accounts`): AWSCloudFormationStackSetAdministrationRole
  in the admin account and its artifact bucket per region.

Each is a stack (`payctl-bootstrap-*`), proposed as a change set, shown as a Plan and asked for, then
executed and watched like any apply step. A role or bucket that already exists outside these stacks
(created by hand, seeded by the local emulator, or a bucket made by `payctl --local apply`) is left
as it is and reported: CloudFormation would fail to create it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    refuse_all,
    run_all,
    watcher_for,
)
from payctl.apply.events import OnEvent, StepFinished, StepSkipped, StepStarted, ignore
from payctl.aws.artifacts import ArtifactStore
from payctl.aws.changesets import ChangeSetRequest, compute_change_set
from payctl.aws.deploy import STACK_BACKOFF, execute_change_set
from payctl.aws.poll import Backoff
from payctl.aws.session import AwsSession, Target
from payctl.aws.stacks import describe_stack
from payctl.aws.stacksets import ADMINISTRATION_ROLE, EXECUTION_ROLE, organization_id, role_exists
from payctl.config.models import Environment
from payctl.config.parameters import artifact_bucket
from payctl.errors import ArtifactBucketMissing, DeploymentFailed, Interrupted, PayctlError, Refused, StackBusy
from payctl.plan.build import Masker, StackInputs, build_stack
from payctl.plan.model import EnvironmentPlan, Fingerprint, Plan, WavePlan
from payctl.templates.compose import Template

ADMIN_TEMPLATE = "bootstrap/admin"
TARGET_TEMPLATE = "bootstrap/target"
ARTIFACTS_TEMPLATE = "bootstrap/artifacts"
SHARED = "shared"


@dataclass(frozen=True)
class BootstrapOptions:
    backoff: Backoff = STACK_BACKOFF
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class BootstrapStack:
    """One bootstrap stack to deploy: which template, where, with which parameters."""

    owner: str  # environment name, or "shared" for the StackSet administrator account
    account_id: str
    region: str
    stack_name: str
    template: str  # key of Workspace.standalone_templates()
    parameters: dict[str, str]
    exists_outside: str = ""  # what already exists outside the stack (then it is not deployed)

    @property
    def wave(self) -> str:
        return self.template.split("/")[-1]


def bootstrap_stacks(environments: list[Environment], *, admin: bool, organization: str) -> list[BootstrapStack]:
    """Every stack `payctl bootstrap` deploys, in order: admin account first, then each environment."""
    first = environments[0]
    common = {"ApplicationName": first.application, "CostCenter": first.cost_center}
    found: list[BootstrapStack] = []
    if admin:
        account = first.stack_sets.admin_account
        found.append(BootstrapStack(SHARED, account, first.regions.primary, "payctl-bootstrap-stackset-admin",
                                    ADMIN_TEMPLATE, {**common, "EnvironmentName": SHARED, "TargetAccountIds":
                                                     ",".join(env.account_id for env in environments)}))
        regions = dict.fromkeys(region for env in environments for region in (env.regions.primary, env.regions.dr))
        found += [BootstrapStack(SHARED, account, region, "payctl-bootstrap-artifacts", ARTIFACTS_TEMPLATE,
                                 {**common, "EnvironmentName": SHARED, "OrganizationId": organization})
                  for region in regions]
    for env in environments:
        values = {"ApplicationName": env.application, "CostCenter": env.cost_center, "EnvironmentName": env.name}
        found.append(BootstrapStack(env.name, env.account_id, env.regions.primary,
                                    "payctl-bootstrap-stackset-execution", TARGET_TEMPLATE,
                                    {**values, "AdministratorAccountId": env.stack_sets.admin_account,
                                     "AllowedRegions": f"{env.regions.primary},{env.regions.dr}"}))
        found += [BootstrapStack(env.name, env.account_id, region, "payctl-bootstrap-artifacts",
                                 ARTIFACTS_TEMPLATE, {**values, "OrganizationId": organization})
                  for region in (env.regions.primary, env.regions.dr)]
    return found


class Bootstrapper:
    def __init__(self, aws: AwsSession, templates: dict[str, Template], environments: list[Environment],
                 options: BootstrapOptions | None = None, on_event: OnEvent = ignore,
                 confirm: Confirm = refuse_all) -> None:
        self.aws = aws
        self.templates = templates
        self.environments = environments
        self.by_name = {env.name: env for env in environments}
        self.options = options or BootstrapOptions()
        self.on_event = on_event
        self.confirm = confirm
        self.stop = Stop(self.options.sleep)

    def target(self, stack: BootstrapStack) -> Target:
        env = self.by_name.get(stack.owner)
        if env is None:
            return Target(stack.account_id, stack.region)
        return Target(env.account_id, stack.region, env.access.profile, env.access.role_arn)

    def cfn(self, stack: BootstrapStack) -> Any:
        return self.aws.client("cloudformation", self.target(stack))

    def organization(self, admin: bool) -> str:
        account = self.environments[0].stack_sets.admin_account if admin else self.environments[0].account_id
        region = self.environments[0].regions.primary
        target = Target(account, region) if admin else self.target(
            BootstrapStack(self.environments[0].name, account, region, "", "", {}))
        return organization_id(self.aws.client("organizations", target))

    def run(self, *, admin: bool) -> list[tuple[BootstrapStack, str]]:
        stacks = bootstrap_stacks(self.environments, admin=admin, organization=self.organization(admin))
        for stack in stacks:
            self.aws.verify_account(self.target(stack), stack.owner)
        stacks = [replace(stack, exists_outside=self._outside(stack)) for stack in stacks]
        planned = [(stack, self._propose(stack)) for stack in stacks]
        plan = self._plan(planned)
        to_run = [(stack, wave) for stack, wave in planned
                  if wave is not None and wave.stack.status != "no-changes"]
        protected = tuple(sorted({stack.owner for stack, _ in to_run
                                  if stack.owner in self.by_name and self.by_name[stack.owner].termination_protection}))
        if to_run:
            try:
                approved = self.confirm(ConfirmRequest(plan, protected))
            except BaseException:
                approved = False
                raise
            finally:
                if not approved:
                    for item, proposed in to_run:
                        discard_change_set(self.cfn(item), proposed.stack.change_set_id, item.stack_name,
                                           proposed.stack.change_set_type)
            if not approved:
                raise Refused("bootstrap cancelled: nothing was changed")
        for stack, wave in planned:
            if stack.exists_outside:
                self.on_event(StepSkipped(stack.owner, stack.wave, stack.region, stack.stack_name,
                                          f"{stack.exists_outside} exists outside the bootstrap stack: left as it is"))
            elif wave is not None and wave.stack.status == "no-changes":
                self.on_event(StepSkipped(stack.owner, stack.wave, stack.region, stack.stack_name, "no changes"))
        jobs = [partial(self._execute, stack, wave) for stack, wave in to_run]
        futures, interrupted = run_all(jobs, workers=4, stop=self.stop, name="bootstrap")
        if interrupted:
            raise Interrupted("interrupted: payctl stopped watching; CloudFormation keeps going",
                              hint="run `payctl bootstrap` again once the stacks are done")
        error = first_error(futures)
        if error is not None:
            raise error
        outcomes = [future.result() for future in futures]
        failed = [text for text in outcomes if text]
        if failed:
            raise DeploymentFailed("bootstrap failed:\n" + "\n".join(failed))
        return [(stack, "deployed" if wave is not None and wave.stack.status != "no-changes"
                 else f"left as it is: {stack.exists_outside} exists outside the bootstrap stack"
                 if stack.exists_outside else "no changes") for stack, wave in planned]

    def _outside(self, stack: BootstrapStack) -> str:
        """A fixed-name resource the stack would create that exists already without the stack."""
        if describe_stack(self.cfn(stack), stack.stack_name) is not None:
            return ""
        target = self.target(stack)
        if stack.template in (ADMIN_TEMPLATE, TARGET_TEMPLATE):
            role = ADMINISTRATION_ROLE if stack.template == ADMIN_TEMPLATE else EXECUTION_ROLE
            return f"role {role}" if role_exists(self.aws.client("iam", target), role) else ""
        bucket = artifact_bucket(stack.account_id, stack.region)
        try:
            ArtifactStore(self.aws.client("s3", target), bucket, stack.region).ensure_bucket(create=False)
        except ArtifactBucketMissing:
            return ""
        return f"bucket {bucket}"

    def _propose(self, stack: BootstrapStack) -> WavePlan | None:
        if stack.exists_outside:
            return None
        cfn = self.cfn(stack)
        info = describe_stack(cfn, stack.stack_name)
        if info is not None and info.is_busy:
            raise StackBusy(f"{stack.stack_name} in {stack.account_id}/{stack.region} is {info.status}")
        if info is not None and info.status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
            raise PayctlError(f"{stack.stack_name} in {stack.account_id}/{stack.region} is {info.status}: its "
                              "creation failed and CloudFormation can only delete it",
                              hint=f"delete it (aws cloudformation delete-stack --stack-name {stack.stack_name}), "
                                   "then bootstrap again")
        text = self.templates[stack.template].text
        change_set_type = "UPDATE" if info is not None and info.exists else "CREATE"
        request = ChangeSetRequest(stack.stack_name, change_set_type, stack.parameters,  # type: ignore[arg-type]
                                   {"Application": stack.parameters["ApplicationName"],
                                    "CostCenter": stack.parameters["CostCenter"],
                                    "Environment": stack.parameters["EnvironmentName"]},
                                   template_body=text, description=f"payctl bootstrap {stack.template}")
        outcome = compute_change_set(cfn, request, keep=True, backoff=self.options.backoff,
                                     review_stack_is_ours=info is None)
        fingerprint = Fingerprint("", "", outcome.change_set_id, info.stack_id if info else None, None)
        if outcome.no_changes or outcome.tree is None:
            from payctl.plan.model import StackPlan

            return WavePlan(stack.wave, stack.region, StackPlan(stack.stack_name, "no-changes", "change-set",
                                                                stack_name=stack.stack_name), fingerprint)
        inputs = StackInputs(stack.stack_name, text, stack_name=stack.stack_name, parameters_after=stack.parameters)
        planned = build_stack(inputs, outcome.tree, masker=Masker(), change_set_type=change_set_type)
        planned = replace(planned, change_set_type=change_set_type, kept=outcome.kept,  # type: ignore[arg-type]
                          stack_id=outcome.stack_id)
        return WavePlan(stack.wave, stack.region, planned, fingerprint)

    def _plan(self, planned: list[tuple[BootstrapStack, WavePlan | None]]) -> Plan:
        owners = list(dict.fromkeys(stack.owner for stack, _ in planned))
        return Plan(tuple(
            EnvironmentPlan(owner, next(stack.account_id for stack, _ in planned if stack.owner == owner),
                            tuple(wave for stack, wave in planned if stack.owner == owner and wave is not None))
            for owner in owners))

    def _execute(self, stack: BootstrapStack, wave: WavePlan) -> str:
        cfn = self.cfn(stack)
        assert wave.stack.change_set_id and wave.stack.stack_id
        place = Place(stack.owner, stack.wave, stack.region, stack.stack_name)
        watcher = watcher_for(cfn, wave.stack.stack_id, place, self.on_event, stop=self.stop,
                              backoff=self.options.backoff)
        self.on_event(StepStarted(stack.owner, stack.wave, stack.region, stack.stack_name,
                                  wave.stack.change_set_type or "UPDATE"))
        execute_change_set(cfn, wave.stack.change_set_id, stack.stack_name)
        outcome = watcher.wait()
        self.on_event(StepFinished(stack.owner, stack.wave, stack.region, stack.stack_name, outcome.status,
                                   outcome.succeeded, outcome.seconds,
                                   str(outcome.root_cause) if outcome.root_cause else outcome.status_reason))
        return "" if outcome.succeeded else f"{stack.owner} {stack.account_id}/{stack.region} " + outcome_text(outcome)
