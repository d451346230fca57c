"""Live progress of apply, recover and bootstrap on stderr, from their events; never touches AWS.

On a terminal: a Rich live view with one row per stack being changed (resources done, in progress,
failed, elapsed) and, for StackSets, the account x region table, while each new stack event is
printed above it. Elsewhere (CI, pipes): one line per event. A failure's root cause is printed in a
red panel the moment its step ends.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from payctl.apply.events import (
    ApplyFinished,
    ApplyStarted,
    ArtifactBucketCreated,
    Detached,
    Event,
    InstanceStatus,
    OperationFinished,
    OperationStarted,
    PolicyLifted,
    ProtectionApplied,
    ResourceEvent,
    RollbackBlocked,
    StackSetFinished,
    StackSetStarted,
    StepFinished,
    StepSkipped,
    StepStarted,
    WaveStarted,
)
from payctl.plan.events import ArtifactsUploaded
from payctl.ui.plan import progress_line
from payctl.ui.stacksets import WaveView, failed_instances, instance_table


def status_style(status: str) -> str:
    if status.endswith("_FAILED") or status in ("FAILED", "UPDATE_ROLLBACK_FAILED"):
        return "bold red"
    if "ROLLBACK" in status or status.startswith("DELETE"):
        return "yellow"
    if status.endswith("_IN_PROGRESS"):
        return "cyan"
    if status.endswith("_COMPLETE"):
        return "green"
    return ""


@dataclass
class StepView:
    """One stack being changed: its resources' latest statuses."""

    title: str
    started: float
    resources: dict[tuple[str, str], str] = field(default_factory=dict)  # (stack, logical id) -> status
    status: str = "STARTING"
    finished: float | None = None

    def counts(self) -> tuple[int, int, int]:
        done = in_progress = failed = 0
        for status in self.resources.values():
            if status.endswith("_FAILED"):
                failed += 1
            elif status.endswith("_IN_PROGRESS"):
                in_progress += 1
            else:
                done += 1
        return done, in_progress, failed


class ApplyProgress:
    """An `on_event` callback for apply, recover, bootstrap and apply --all-accounts (thread-safe)."""

    def __init__(self, console: Console, *, live: bool | None = None) -> None:
        self.console = console
        self.live_enabled = console.is_terminal if live is None else live
        self.lock = threading.RLock()
        self.steps: dict[tuple[str, str, str, str], StepView] = {}  # (env, wave, region, stack)
        self.waves: dict[str, WaveView] = {}
        self.live: Live | None = None

    # -- the callback -------------------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        with self.lock:
            self._take(event)

    def close(self) -> None:
        with self.lock:
            if self.live is not None:
                self.live.stop()
                self.live = None

    def _print(self, renderable: RenderableType) -> None:
        # Above the live view when there is one (Rich keeps the view at the bottom).
        self.console.print(renderable, highlight=False)

    def _start_live(self) -> None:
        if self.live_enabled and self.live is None:
            self.live = Live(console=self.console, get_renderable=self._render, refresh_per_second=4,
                             transient=True, redirect_stdout=False, redirect_stderr=False)
            self.live.start()

    def _take(self, event: Event) -> None:
        if isinstance(event, ArtifactsUploaded) and event.bucket_created:
            self._print(Text(f"{event.environment}: {event.region}: created artifact bucket {event.bucket}, as "
                             "`payctl bootstrap` would (local emulator)", style="yellow"))
            return
        line = progress_line(event)  # type: ignore[arg-type]
        if line is not None:
            self._print(line)
            return
        if isinstance(event, ApplyStarted):
            self._print(Text(f"{event.environment}: applying {event.steps} stacks in account {event.account_id}",
                             style="bold"))
        elif isinstance(event, WaveStarted):
            self._print(Text(f"{event.environment}: wave {event.wave} in {', '.join(event.regions)}", style="bold"))
        elif isinstance(event, StepStarted):
            key = (event.environment, event.wave, event.region, event.stack_name)
            self.steps[key] = StepView(f"{event.environment} {event.wave} {event.region} {event.stack_name}",
                                       time.monotonic(), status=f"{event.operation}")
            self._start_live()
            if not self.live:
                self._print(Text(f"{event.environment}: {event.wave} {event.region}: {event.operation} "
                                 f"{event.stack_name}"))
        elif isinstance(event, ResourceEvent):
            self._resource(event)
        elif isinstance(event, StepSkipped):
            self._print(Text(f"{event.environment}: {event.wave} {event.region}: {event.stack_name}: {event.reason}",
                             style="dim"))
        elif isinstance(event, StepFinished):
            self._finished(event)
        elif isinstance(event, ProtectionApplied):
            self._print(Text(f"{event.environment}: {event.region}: {event.stack_name}: termination protection "
                             f"{event.termination_protection}"
                             + (" (not implemented by the local emulator)"
                                if event.termination_protection == "unavailable" else "")
                             + f"; stack policy on {event.policies} stacks denies replacing or deleting data stores",
                             style="dim"))
        elif isinstance(event, PolicyLifted):
            verb = "restored the protective stack policy on" if event.restored else \
                f"stack policy lifted for {', '.join(event.resources)} on"
            self._print(Text(f"{event.environment}: {event.region}: {verb} {event.stack_name} {event.path}",
                             style="yellow"))
        elif isinstance(event, ArtifactBucketCreated):
            self._print(Text(f"created artifact bucket {event.bucket} in {event.account_id}/{event.region}, as "
                             "`payctl bootstrap` would (local emulator)", style="yellow"))
        elif isinstance(event, RollbackBlocked):
            self._blocked(event)
        elif isinstance(event, StackSetStarted | OperationStarted | InstanceStatus | OperationFinished
                        | StackSetFinished):
            self._stack_set(event)
        elif isinstance(event, Detached):
            self.close()
        elif isinstance(event, ApplyFinished):
            self.close()
            style = "green" if event.succeeded else "red"
            self._print(Text(f"{event.environment}: apply {'finished' if event.succeeded else 'stopped'} "
                             f"after {event.seconds:.1f}s", style=style))

    def _resource(self, event: ResourceEvent) -> None:
        key = (event.environment, event.wave, event.region, event.root_stack)
        step = self.steps.get(key)
        if step is not None:
            if event.is_stack and not event.nested:
                step.status = event.status
            else:
                step.resources[(event.stack_name, event.logical_id)] = event.status
        where = f"{event.stack_name.removeprefix(event.root_stack + '-')}/" if event.nested else ""
        line = Text(f"{event.timestamp:%H:%M:%S} {event.environment} {event.wave} {event.region} ", style="dim")
        line.append(f"{where}{event.logical_id} ")
        line.append(event.status, style=status_style(event.status))
        if event.reason:
            line.append(f"  {event.reason}", style="red" if event.status.endswith("_FAILED") else "dim")
        self._print(line)

    def _finished(self, event: StepFinished) -> None:
        key = (event.environment, event.wave, event.region, event.stack_name)
        step = self.steps.get(key)
        if step is not None:
            step.status, step.finished = event.status, time.monotonic()
        if event.succeeded:
            self._print(Text(f"{event.environment}: {event.wave} {event.region}: {event.stack_name} "
                             f"{event.status} in {event.seconds:.1f}s", style="green"))
            return
        body = Text(f"{event.stack_name} ({event.wave}, {event.region}) ended {event.status}\n", style="bold")
        if event.root_cause:
            body.append("root cause: ", style="bold red")
            body.append(event.root_cause)
        self._print(Panel(body, title=f"{event.environment}: deployment failed", border_style="red"))

    def _blocked(self, event: RollbackBlocked) -> None:
        table = Table(title=f"{event.environment}: {event.stack_name} ({event.region}) is UPDATE_ROLLBACK_FAILED; "
                            "these resources block the rollback", title_justify="left")
        for column in ("resource (--skip name)", "type", "reason"):
            table.add_column(column)
        for name, resource_type, reason in event.blockers:
            table.add_row(name, resource_type, escape(reason))
        self._print(table)

    def _stack_set(self, event: StackSetStarted | OperationStarted | InstanceStatus | OperationFinished
                   | StackSetFinished) -> None:
        view = self.waves.setdefault(event.wave, WaveView(event.wave, event.stack_set))
        view.take(event)
        if isinstance(event, StackSetStarted):
            self._print(Text(f"wave {event.wave}: StackSet {event.stack_set}: {event.action} "
                             f"({event.instances} instances)", style="bold"))
            self._start_live()
        elif isinstance(event, OperationStarted) and not self.live:
            targets = ", ".join(f"{env} {account} {region}" for env, account, region in event.targets)
            self._print(Text(f"  {event.action} operation {event.operation_id}" + (f": {targets}" if targets else ""),
                             style="dim"))
        elif isinstance(event, InstanceStatus) and not self.live:
            line = Text(f"  {event.environment} {event.account} {event.region}: ")
            line.append(event.status, style=status_style(event.status) or "")
            if event.reason:
                line.append(f"  {event.reason}", style="dim")
            self._print(line)
        elif isinstance(event, OperationFinished):
            for line in failed_instances(event):
                self._print(line)
        elif isinstance(event, StackSetFinished):
            if self.live is not None:
                self.close()
            if view.cells:
                self._print(instance_table(view))
            self._print(Text(f"wave {event.wave}: StackSet {event.stack_set} "
                             f"{'done' if event.succeeded else 'failed'} in {event.seconds:.1f}s",
                             style="green" if event.succeeded else "bold red"))

    # -- the live view -----------------------------------------------------------------------------
    def _render(self) -> RenderableType:
        with self.lock:
            parts: list[RenderableType] = []
            active = [step for step in self.steps.values() if step.finished is None]
            if active:
                table = Table(title="stacks", title_justify="left")
                for column in ("stack", "status", "done", "in progress", "failed", "elapsed"):
                    table.add_column(column)
                now = time.monotonic()
                for step in active:
                    done, in_progress, failed = step.counts()
                    table.add_row(step.title, Text(step.status, style=status_style(step.status)), str(done),
                                  str(in_progress), Text(str(failed), style="red" if failed else ""),
                                  f"{now - step.started:.0f}s")
                parts.append(table)
            for view in self.waves.values():
                if view.done is None:
                    parts.append(instance_table(view))
            return Group(*parts)


def outputs_table(rows: list[tuple[str, str, str, str, str]]) -> Table:
    """(wave, region, stack path, output, value) rows, as printed after a successful apply."""
    table = Table(title="outputs", title_justify="left")
    for column in ("wave", "region", "stack", "output", "value"):
        table.add_column(column)
    for wave, region, path, name, value in rows:
        table.add_row(wave, region, path, name, value)
    return table
