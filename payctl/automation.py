"""The importable API. The CLI is one consumer; CI jobs and scripts are others.

    ws = Workspace("path/to/checkout")
    rendered = ws.environment("prod").render()
    report = ws.validate()
    plan = ws.environment("prod").plan(on_event=print)   # change sets, deleted again afterwards
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from payctl.config import Environment, Environments, find_workspace, load_environments
from payctl.templates import Composer, RenderedSet, render_environment
from payctl.templates.compose import Template
from payctl.templates.render import Format

if TYPE_CHECKING:  # boto3 is imported only by commands that talk to AWS
    from payctl.apply.api import AllAccountsResult
    from payctl.apply.bootstrap import BootstrapOptions, BootstrapStack
    from payctl.apply.common import Confirm
    from payctl.apply.events import OnEvent as OnApplyEvent
    from payctl.apply.recover import RecoverOptions, Recovery
    from payctl.apply.stacks import ApplyOptions, ApplyResult
    from payctl.apply.stacksets import StackSetOptions
    from payctl.aws.events import StackEvent
    from payctl.aws.session import AwsSession
    from payctl.drift import DriftOptions, DriftReport, DriftWarning, OnDriftEvent
    from payctl.operate.destroy import DestroyPlan, DestroyResult, OnDestroyEvent
    from payctl.operate.params import ParameterStore
    from payctl.operate.stacksets import StackSetScope
    from payctl.operate.status import StackOutputs, StackRow, StatusReport
    from payctl.plan import Difference, Plan
    from payctl.plan.events import OnEvent
    from payctl.plan.fresh import CurrentState, StackKey
    from payctl.plan.planner import EnvironmentPlanner, PlanOptions
    from payctl.policy.report import ValidationReport


class Workspace:
    """A checkout holding envs/, stacks/ and lambdas/."""

    def __init__(self, path: Path | str | None = None, *, search: bool = True,
                 aws: AwsSession | None = None) -> None:
        start = Path(path) if path is not None else Path.cwd()
        self.root = find_workspace(start) if search else find_workspace(start, explicit=start)
        self._aws = aws

    @property
    def aws(self) -> AwsSession:
        """Clients for every account and region; pass `aws=AwsSession(endpoint_url=...)` for an emulator."""
        if self._aws is None:
            from payctl.aws.session import AwsSession

            self._aws = AwsSession()
        return self._aws

    @cached_property
    def environments(self) -> Environments:
        return load_environments(self.root)

    @cached_property
    def composer(self) -> Composer:
        return Composer(self.root, self.cache_dir / "render")

    @property
    def cache_dir(self) -> Path:
        return Path(os.environ.get("PAYCTL_CACHE_DIR") or self.root / ".payctl" / "cache")

    def environment(self, name: str) -> EnvironmentHandle:
        return EnvironmentHandle(self, self.environments[name])

    def select(self, names: list[str] | None) -> list[EnvironmentHandle]:
        """The named environments, or all of them in deploy order."""
        chosen = names or self.environments.names()
        return [self.environment(name) for name in chosen]

    def standalone_templates(self) -> dict[str, Template]:
        return self.composer.standalone()

    def render(self, names: list[str] | None = None) -> list[RenderedSet]:
        return [handle.render() for handle in self.select(names)]

    def write(self, out: Path, names: list[str] | None = None, fmt: Format = "yaml") -> list[Path]:
        from payctl.templates.render import template_text

        written = [path for rendered in self.render(names) for path in rendered.write(out, fmt)]
        for folder, template in self.standalone_templates().items():
            target = out / "_standalone" / f"{folder.replace('/', '-')}.{fmt}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(template_text(template, fmt), encoding="utf-8")
            written.append(target)
        return written

    def validate(self, names: list[str] | None = None, *, use_cache: bool = True,
                 scan: bool = True) -> ValidationReport:
        """cfn-lint, the platform rules and (when installed) the security scanner; a run with
        nothing changed is answered from the cache without rendering."""
        from payctl.policy.report import fingerprint, read_cached, write_cached
        from payctl.policy.validate import validate

        key = fingerprint(self.root, names, scan) if use_cache else ""
        if use_cache and (cached := read_cached(self.cache_dir, key, self.root)) is not None:
            return cached
        report = validate(self.root, self.render(names), list(self.standalone_templates().values()),
                          self.cache_dir if use_cache else None, run_scan=scan)
        if use_cache:
            write_cached(self.cache_dir, key, report)
        return report

    def plan(self, names: list[str] | None = None, *, options: PlanOptions | None = None,
             on_event: OnEvent | None = None, parallel: int = 4) -> Plan:
        """One Plan for the named environments (all by default), planned concurrently."""
        from payctl.plan.planner import plan_environments

        planners = [handle.planner(options, on_event) for handle in self.select(names)]
        return plan_environments(planners, parallel=parallel)

    def current_state(self, names: list[str] | None = None) -> dict[StackKey, CurrentState]:
        """Templates and parameters as rendered now, stacks as deployed now: what a saved plan is
        checked against."""
        state: dict[StackKey, CurrentState] = {}
        for handle in self.select(names):
            state.update(handle.planner().current_state())
        return state

    def check_plan(self, saved: Plan) -> list[Difference]:
        """Why a saved plan is stale (empty when it still describes what would happen)."""
        from payctl.plan import check_fresh

        return check_fresh(saved, self.current_state([env.environment for env in saved.environments]))

    # -- operating the platform (payctl.drift, payctl.operate) ----------------------------------
    def stack_set_scope(self) -> StackSetScope:
        """The platform's StackSets (`<application>-<wave>`), their admin account and instances' owners."""
        from payctl.operate.stacksets import stack_set_scope

        return stack_set_scope(self.environments, [wave.name for wave in self.composer.waves])

    def drift_all_accounts(self, *, options: DriftOptions | None = None,
                           on_event: OnDriftEvent | None = None) -> DriftReport:
        """DetectStackSetDrift on every wave's StackSet, then each instance's stacks from its account."""
        from payctl.drift import detect_all_accounts, ignore

        return detect_all_accounts(self.aws, self.stack_set_scope(), options, on_event or ignore)

    def stack_set_status(self, *, parallel: int = 4) -> StatusReport:
        """Every instance of every wave's StackSet: status, detailed status, drift status."""
        from payctl.operate.status import stack_set_status

        return stack_set_status(self.aws, self.stack_set_scope(), parallel=parallel)

    def destroy_plan_all_accounts(self, environment: str | None = None) -> DestroyPlan:
        """Read-only: every StackSet instance (only `environment`'s, if named) in reverse wave order."""
        from payctl.operate.destroy import plan_destroy_stack_sets

        return plan_destroy_stack_sets(self.aws, self.stack_set_scope(), environment)

    def destroy(self, plan: DestroyPlan, *, confirmed: bool, allow_data_loss: bool = False,
                on_event: OnDestroyEvent | None = None) -> DestroyResult:
        """Carry out a destroy plan: backups, protections lifted, buckets emptied, stacks deleted in
        reverse wave order. Refuses unless confirmed; prod also needs allow_data_loss."""
        from payctl.operate.destroy import destroy, ignore

        return destroy(self.aws, plan, confirmed=confirmed, allow_data_loss=allow_data_loss,
                       on_event=on_event or ignore)

    def publish_drift(self, report: DriftReport, *, on_event: OnDriftEvent | None = None) -> int:
        """Publish a report's drift and failed detections to each environment's drift topic."""
        from payctl.drift import ignore, publish_report

        return publish_report(self.aws, report, self.environments, on_event or ignore)

    def drift_warnings(self, plan: Plan) -> list[DriftWarning]:
        """Planned changes touching resources that had drifted at the last detection (none started)."""
        from payctl.drift import plan_drift_warnings

        return plan_drift_warnings(self.aws, plan, self.environments)

    # -- applying (payctl.apply) ------------------------------------------------------------------
    def plan_all_accounts(self, *, on_event: OnApplyEvent | None = None) -> Plan:
        """Every wave as a StackSet: per account and region, what applying it would change there."""
        from payctl.apply.api import plan_all_accounts

        return plan_all_accounts(self, on_event=on_event or _ignore)[0]

    def apply_all_accounts(self, *, allow_replace: frozenset[str] = frozenset(),
                           options: StackSetOptions | None = None, on_event: OnApplyEvent | None = None,
                           confirm: Confirm | None = None) -> AllAccountsResult:
        """Every wave as a StackSet from the admin account, an instance per environment account and region."""
        from payctl.apply.api import apply_all_accounts
        from payctl.apply.common import refuse_all

        return apply_all_accounts(self, allow_replace=allow_replace, options=options,
                                  on_event=on_event or _ignore, confirm=confirm or refuse_all)

    def bootstrap(self, names: list[str] | None = None, *, admin: bool = False,
                  options: BootstrapOptions | None = None, on_event: OnApplyEvent | None = None,
                  confirm: Confirm | None = None) -> list[tuple[BootstrapStack, str]]:
        """Execution roles and artifact buckets (and with admin, the StackSet administration role)."""
        from payctl.apply.api import bootstrap
        from payctl.apply.common import refuse_all

        return bootstrap(self, names, admin=admin, options=options, on_event=on_event or _ignore,
                         confirm=confirm or refuse_all)


@dataclass(frozen=True)
class EnvironmentHandle:
    workspace: Workspace
    config: Environment

    @property
    def name(self) -> str:
        return self.config.name

    def render(self) -> RenderedSet:
        return render_environment(self.workspace.composer, self.config)

    def planner(self, options: PlanOptions | None = None,
                on_event: OnEvent | None = None) -> EnvironmentPlanner:
        from payctl.plan.events import ignore
        from payctl.plan.planner import EnvironmentPlanner, PlanOptions

        return EnvironmentPlanner(self.render(), self.workspace.aws, self.workspace.root,
                                  options or PlanOptions(), on_event or ignore)

    def plan(self, *, options: PlanOptions | None = None, on_event: OnEvent | None = None) -> Plan:
        """Change sets for every wave and region of this environment, read into a Plan."""
        from payctl.plan.planner import plan_environments

        return plan_environments([self.planner(options, on_event)])

    def drift(self, *, options: DriftOptions | None = None,
              on_event: OnDriftEvent | None = None) -> DriftReport:
        """Detect drift on every deployed stack of every wave and region, nested stacks included."""
        from payctl.drift import detect_environment, ignore

        return detect_environment(self.workspace.aws, self.render(), options, on_event or ignore)

    def status(self, *, parallel: int = 4) -> StatusReport:
        """Every stack (nested too): status, last update, drift status of the last detection."""
        from payctl.operate.status import environment_status

        return environment_status(self.workspace.aws, self.render(), parallel=parallel)

    def parameters(self) -> ParameterStore:
        """The environment's SecureStrings (`payctl params`), in its regions, with its KMS key."""
        from payctl.operate.params import ParameterStore, secure_services

        return ParameterStore(self.workspace.aws, self.config, secure_services(self.render()))

    def destroy_plan(self, *, parallel: int = 4) -> DestroyPlan:
        """Read-only: what `destroy` would delete, back up and unprotect, in reverse wave order."""
        from payctl.operate.destroy import plan_destroy

        return plan_destroy(self.workspace.aws, self.render(), parallel=parallel)

    def watch(self, on_update: Callable[[StatusReport], None],
              on_events: Callable[[list[tuple[StackRow, StackEvent]]], None], *, interval: float = 5.0,
              parallel: int = 4) -> StatusReport:
        """The status, refreshed with new events of stacks in progress, until none is in progress."""
        from payctl.operate.status import watch_environment

        return watch_environment(self.workspace.aws, self.render(), on_update, on_events, interval=interval,
                                 parallel=parallel)

    def outputs(self, *, parallel: int = 4) -> list[StackOutputs]:
        """Outputs of every deployed stack, top-level and nested, in deploy order."""
        from payctl.operate.status import environment_outputs

        return environment_outputs(self.workspace.aws, self.render(), parallel=parallel)

    def apply(self, plan: Plan | None = None, *, options: ApplyOptions | None = None,
              on_event: OnApplyEvent | None = None, confirm: Confirm | None = None) -> ApplyResult:
        """Execute the plan (or plan now, keeping change sets), wave by wave. `confirm` approves the plan
        shown to it; without one nothing is changed."""
        from payctl.apply.api import apply_environment
        from payctl.apply.common import refuse_all

        return apply_environment(self, plan, options=options, on_event=on_event or _ignore,
                                 confirm=confirm or refuse_all)

    def recover(self, *, options: RecoverOptions | None = None, on_event: OnApplyEvent | None = None,
                confirm: Confirm | None = None) -> list[Recovery]:
        """Continue failed rollbacks, delete and recreate failed creations, watch running operations."""
        from payctl.apply.api import recover_environment
        from payctl.apply.common import refuse_all

        return recover_environment(self, options=options, on_event=on_event or _ignore,
                                   confirm=confirm or refuse_all)


def _ignore(_event: object) -> None:
    """No listener for progress events."""
