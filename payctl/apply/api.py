"""The apply entry points behind `payctl.automation` (Workspace.apply_all_accounts, EnvironmentHandle.apply,
.recover, Workspace.bootstrap); each builds its applier from a workspace and runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from payctl.apply.bootstrap import BootstrapOptions, Bootstrapper, BootstrapStack
from payctl.apply.common import Confirm, ConfirmRequest, refuse_all
from payctl.apply.events import OnEvent, ignore
from payctl.apply.protection import check_destructive
from payctl.apply.recover import Recoverer, RecoverOptions, Recovery
from payctl.apply.stacks import ApplyOptions, ApplyResult, EnvironmentApplier, protected
from payctl.apply.stackset_plan import StackSetPlanner, existing_instances
from payctl.apply.stackset_spec import StackSetWave, build_waves, settings
from payctl.apply.stacksets import StackSetApplier, StackSetOptions, WaveResult
from payctl.aws.session import Target
from payctl.errors import Refused
from payctl.plan.model import Plan
from payctl.plan.planner import PlanOptions

if TYPE_CHECKING:
    from payctl.automation import EnvironmentHandle, Workspace


def apply_environment(handle: EnvironmentHandle, plan: Plan | None = None, *, options: ApplyOptions | None = None,
                      on_event: OnEvent = ignore, confirm: Confirm = refuse_all) -> ApplyResult:
    planner = handle.planner(PlanOptions(keep=True), on_event)
    return EnvironmentApplier(planner, options, on_event, confirm).apply(plan)


def recover_environment(handle: EnvironmentHandle, *, options: RecoverOptions | None = None,
                        on_event: OnEvent = ignore, confirm: Confirm = refuse_all) -> list[Recovery]:
    return Recoverer(handle.planner(PlanOptions(keep=True), on_event), options, on_event, confirm,
                     apply_again=lambda: apply_environment(handle, on_event=on_event, confirm=confirm)).recover()


@dataclass(frozen=True)
class AllAccountsResult:
    plan: Plan | None  # None for --retry-failed, which changes no template
    waves: tuple[WaveResult, ...]


def plan_all_accounts(workspace: Workspace, *, on_event: OnEvent = ignore) -> tuple[Plan, list[StackSetWave]]:
    """What applying every wave as a StackSet would change in each account and region."""
    rendered = workspace.render()
    environments = [item.environment for item in rendered]
    config = settings(environments)
    waves = build_waves(rendered, workspace.root, config)
    planner = StackSetPlanner(workspace.aws, config, {env.name: env for env in environments}, on_event)
    return planner.plan(waves), waves


def apply_all_accounts(workspace: Workspace, *, allow_replace: frozenset[str] = frozenset(),
                       options: StackSetOptions | None = None, on_event: OnEvent = ignore,
                       confirm: Confirm = refuse_all) -> AllAccountsResult:
    rendered = workspace.render()
    environments = [item.environment for item in rendered]
    by_name = {env.name: env for env in environments}
    config = settings(environments)
    waves = build_waves(rendered, workspace.root, config)
    options = options or StackSetOptions()
    applier = StackSetApplier(workspace.aws, config, by_name, options, on_event)
    applier.verify()
    if options.retry_failed:
        return AllAccountsResult(None, tuple(applier.apply(waves)))
    admin = workspace.aws.client("cloudformation", Target(config.admin_account, config.home_region))
    existing = existing_instances(admin, waves, config.call_as)
    plan = StackSetPlanner(workspace.aws, config, by_name, on_event).plan(waves, existing)
    touched = []
    for env_plan in plan.environments:
        env = by_name[env_plan.environment]
        check_destructive(env_plan, protected=protected(env), allowed=allow_replace)
        if protected(env) and any(wave.stack.has_changes or wave.stack.status == "create" for wave in env_plan.waves):
            touched.append(env.name)
    if plan.has_changes and not confirm(ConfirmRequest(plan, tuple(touched), stage="stack-sets")):
        raise Refused("apply cancelled: nothing was changed")
    return AllAccountsResult(plan, tuple(applier.apply(waves)))


def bootstrap(workspace: Workspace, names: list[str] | None = None, *, admin: bool = False,
              options: BootstrapOptions | None = None, on_event: OnEvent = ignore,
              confirm: Confirm = refuse_all) -> list[tuple[BootstrapStack, str]]:
    environments = [handle.config for handle in workspace.select(names)]
    return Bootstrapper(workspace.aws, workspace.standalone_templates(), environments, options, on_event,
                        confirm).run(admin=admin)
