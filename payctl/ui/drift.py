"""Showing a drift report: a table per drifted stack with property-level differences, resources not
checked listed (never hidden), StackSet instances per account and region, and a summary line.
Progress events go to stderr. Never touches AWS."""

from __future__ import annotations

import threading

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from payctl.drift.events import (
    DetectionFinished,
    DetectionStarted,
    DriftEvent,
    NotificationPublished,
    StackSetDetectionFinished,
    StackSetDetectionStarted,
)
from payctl.drift.model import DriftReport, InstanceDrift, ResourceDrift, StackDrift, StackSetDrift

OUTCOME_STYLE = {"IN_SYNC": "green", "DRIFTED": "bold yellow", "FAILED": "bold red", "NOT_DEPLOYED": "dim"}
OUTCOME_MARK = {"IN_SYNC": "✓", "DRIFTED": "~", "FAILED": "✗", "NOT_DEPLOYED": "·"}
DIFFERENCE_STYLE = {"ADD": "green", "REMOVE": "red", "NOT_EQUAL": "yellow"}
VALUE_MAX = 120


class DriftProgress:
    """An `on_event` callback printing one line per event on stderr (safe from worker threads)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.lock = threading.Lock()

    def __call__(self, event: DriftEvent) -> None:
        line = progress_line(event)
        if line:
            with self.lock:
                self.console.print(line, highlight=False)

    def note(self, text: str) -> None:
        with self.lock:
            self.console.print(text, highlight=False)


def progress_line(event: DriftEvent) -> str | None:
    if isinstance(event, DetectionStarted):
        return f"[dim]{event.environment} {event.region}: detecting drift on {event.stack_name}[/dim]"
    if isinstance(event, DetectionFinished):
        style = OUTCOME_STYLE.get(event.outcome, "")
        return (f"{event.environment} {event.region}: {event.stack_name} "
                f"[{style}]{event.outcome}[/{style}]" + (f" ({event.drifted_resources} resources)"
                                                         if event.drifted_resources else ""))
    if isinstance(event, StackSetDetectionStarted):
        return f"[dim]StackSet {event.stack_set}: drift detection {event.operation_id} started[/dim]"
    if isinstance(event, StackSetDetectionFinished):
        return f"StackSet {event.stack_set}: {event.drift_status or '-'} (detection {event.detection_status})"
    if isinstance(event, NotificationPublished):
        return f"{event.environment}: published {event.messages} message(s) to {event.topic_arn}"
    return None


def _short(value: str) -> str:
    return value if len(value) <= VALUE_MAX else value[: VALUE_MAX - 1] + "…"


def stack_title(stack: StackDrift) -> Text:
    style = OUTCOME_STYLE[stack.outcome]
    title = Text()
    title.append(f"{OUTCOME_MARK[stack.outcome]} ", style=style)
    title.append(f"{stack.wave} · {stack.region} · ")
    title.append(stack.stack_name if not stack.path else f"{'/'.join(stack.path)}", style="bold")
    if stack.path:
        title.append(f" ({stack.stack_name})", style="dim")
    title.append("  ")
    title.append(stack.outcome, style=style)
    if stack.drifted:
        count = len(stack.drifted)
        title.append(f" · {count} resource{'s' if count != 1 else ''} drifted")
    elif stack.outcome == "IN_SYNC" and stack.in_sync_count:
        title.append(f" · {stack.in_sync_count} resources in sync", style="dim")
    return title


def differences_table(resources: tuple[ResourceDrift, ...]) -> Table:
    """One row per property difference; the resource (id, type, status) heads its rows."""
    table = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    # Logical ids and property paths are what a reader searches for and copies: never broken.
    widest_id = max((len(r.logical_id) for r in resources), default=8)
    widest_path = max((len(d.path) for r in resources for d in r.differences), default=8)
    table.add_column("resource", no_wrap=True, min_width=widest_id)
    table.add_column("property", no_wrap=True, min_width=min(widest_path, 40))
    table.add_column("difference", no_wrap=True)
    table.add_column("expected", overflow="fold", min_width=8)
    table.add_column("actual", overflow="fold", min_width=8)
    for resource in resources:
        heading = Text(resource.logical_id, style="bold")
        heading.append(f"\n{resource.resource_type}\n", style="dim")
        heading.append(resource.status, style="red" if resource.status == "DELETED" else "yellow")
        if not resource.differences:
            gone = "the resource no longer exists" if resource.status == "DELETED" else ""
            table.add_row(heading, Text(resource.reason or gone, style="dim"), "", "", "")
            continue
        for index, difference in enumerate(resource.differences):
            table.add_row(
                heading if index == 0 else "", difference.path,
                Text(difference.kind, style=DIFFERENCE_STYLE.get(difference.kind, "")),
                Text(_short(difference.expected)), Text(_short(difference.actual)),
            )
        table.add_section()
    return table


def not_checked_line(stack: StackDrift) -> Text | None:
    if not stack.not_checked:
        return None
    line = Text(f"    not checked ({len(stack.not_checked)}): ", style="dim")
    line.append(", ".join(f"{r.logical_id} ({r.resource_type})" for r in stack.not_checked), style="dim")
    unusual = {r.reason for r in stack.not_checked if r.status not in ("NOT_CHECKED", "")}
    for reason in sorted(unusual):
        line.append(f"\n      {reason}", style="dim")
    return line


def render_stack(stack: StackDrift, console: Console, indent: str = "") -> None:
    title = Text(indent)
    title.append_text(stack_title(stack))
    console.print(title, highlight=False)
    if stack.outcome == "NOT_DEPLOYED":
        return
    if stack.reason and stack.outcome == "FAILED":
        console.print(f"{indent}    [red]{escape(stack.reason)}[/red]", highlight=False)
    if stack.drifted:
        console.print(differences_table(stack.drifted), highlight=False)
    line = not_checked_line(stack)
    if line is not None:
        console.print(line, highlight=False)


def instances_table(stack_set: StackSetDrift) -> Table:
    table = Table(show_header=True, header_style="bold", box=None, padding=(0, 1), pad_edge=False)
    for column in ("account", "environment", "region", "instance", "StackSet says", "payctl found", "note"):
        table.add_column(column, overflow="fold")
    for instance in stack_set.instances:
        style = OUTCOME_STYLE[instance.outcome]
        note = instance.reason
        if instance.hidden_drift:
            note = "drift in nested stacks, which the StackSet's detection does not check"
        table.add_row(instance.account_id, instance.environment or "?", instance.region, instance.status,
                      instance.drift_status or "-", Text(instance.outcome, style=style),
                      Text(note, style="dim"))
    return table


def render_instance_stacks(instance: InstanceDrift, console: Console) -> None:
    interesting = [s for s in instance.stacks if s.outcome in ("DRIFTED", "FAILED") or s.not_checked]
    for stack in interesting:
        console.print(Text(f"  {instance.account_id} ({instance.environment or '?'}) {instance.region}:",
                           style="dim"), highlight=False)
        render_stack(stack, console, indent="  ")


def render_stack_set(stack_set: StackSetDrift, console: Console) -> None:
    style = OUTCOME_STYLE[stack_set.outcome]
    header = Text(f"{OUTCOME_MARK[stack_set.outcome]} StackSet ", style=style)
    header.append(stack_set.name, style="bold")
    header.append(f"  {stack_set.outcome}", style=style)
    if stack_set.detection_status:
        header.append(f" · detection {stack_set.detection_status}", style="dim")
    counts = dict(stack_set.counts)
    if counts.get("TotalStackInstancesCount"):
        header.append(f" · {counts.get('DriftedStackInstancesCount', 0)} of "
                      f"{counts['TotalStackInstancesCount']} instances drifted by AWS's count", style="dim")
    console.print(header, highlight=False)
    if stack_set.reason:
        console.print(f"    [red]{escape(stack_set.reason)}[/red]", highlight=False)
    if stack_set.instances:
        console.print(instances_table(stack_set), highlight=False)
    for instance in stack_set.instances:
        render_instance_stacks(instance, console)


def summary_line(report: DriftReport) -> Text:
    stacks = [s for s in report.all_stacks() if s.outcome != "NOT_DEPLOYED"]
    drifted = sum(1 for s in stacks if s.outcome == "DRIFTED")
    failed = sum(1 for s in stacks if s.outcome == "FAILED")
    resources = sum(len(s.drifted) for s in stacks)
    not_checked = sum(len(s.not_checked) for s in stacks)
    style = OUTCOME_STYLE[report.status]
    line = Text(f"{report.scope}: ", style="bold")
    line.append(report.status, style=style)
    line.append(f" · {len(stacks)} stacks checked, {drifted} drifted ({resources} resources), "
                f"{failed} failed, {not_checked} resources not checked")
    missing = sum(1 for s in report.all_stacks() if s.outcome == "NOT_DEPLOYED")
    missing += sum(1 for s in report.stack_sets if s.outcome == "NOT_DEPLOYED")
    if missing:
        line.append(f", {missing} not deployed", style="dim")
    return line


def render_drift(report: DriftReport, console: Console) -> None:
    for stack in report.stacks:
        render_stack(stack, console)
    for stack_set in report.stack_sets:
        render_stack_set(stack_set, console)
    for note in report.notes:
        console.print(f"[dim]{escape(note)}[/dim]", highlight=False)
    if not report.checked:
        console.print("[red]nothing deployed to check[/red]", highlight=False)
    console.print(summary_line(report), highlight=False)
