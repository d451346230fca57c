"""Views for operating the platform: stack status (and its --watch), outputs, the destroy plan and
its progress, and SSM parameters. Never touches AWS; never shows a parameter value unless asked."""

from __future__ import annotations

import threading

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from payctl.operate.status import InstanceRow, StackOutputs, StackRow, StatusReport, is_failed, is_in_progress

DRIFT_STYLE = {"DRIFTED": "bold yellow", "IN_SYNC": "green", "NOT_CHECKED": "dim", "UNKNOWN": "red"}


def status_style(status: str) -> str:
    if status == "NOT_DEPLOYED":
        return "dim"
    if is_in_progress(status) or status in ("PENDING", "RUNNING"):
        return "cyan"
    if is_failed(status) or status in ("FAILED", "CANCELLED", "INOPERABLE", "OUTDATED"):
        return "bold red"
    return "green"


def _when(value: str) -> str:
    # 2026-01-15T10:00:00.123000+00:00 -> 2026-01-15 10:00:00Z: short enough for a table.
    if not value:
        return ""
    text = value.replace("T", " ")
    return text[:19] + ("Z" if "+00:00" in text or text.endswith("Z") else "")


def stacks_table(rows: tuple[StackRow, ...]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for column in ("wave", "region", "stack", "status", "last updated", "drift", "drift checked"):
        table.add_column(column, overflow="fold")
    previous: tuple[str, str] | None = None
    for row in rows:
        where = (row.wave, row.region)
        label = Text(row.stack_name) if not row.path else Text("  " * len(row.path) + "/".join(row.path[-1:]))
        if row.path:
            label.append(f" {row.stack_name}", style="dim")
        status = Text(row.status, style=status_style(row.status))
        if row.reason and (row.in_progress or row.failed):
            status.append(f"\n{row.reason}", style="dim")
        table.add_row(row.wave if where != previous else "", row.region if where != previous else "", label,
                      status, _when(row.last_updated),
                      Text(row.drift_status, style=DRIFT_STYLE.get(row.drift_status, "")),
                      _when(row.drift_checked))
        previous = where
    return table


def instances_table(rows: tuple[InstanceRow, ...]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    columns = ("StackSet", "account", "environment", "region", "status", "detail", "drift", "drift checked")
    for column in columns:
        table.add_column(column, overflow="fold")
    previous = None
    for row in rows:
        detail = Text(row.detailed_status, style=status_style(row.detailed_status))
        if row.reason:
            detail.append(f"\n{row.reason}", style="dim")
        table.add_row(row.stack_set if row.stack_set != previous else "", row.account_id,
                      row.environment or "", row.region, Text(row.status, style=status_style(row.status)),
                      detail,
                      Text(row.drift_status, style=DRIFT_STYLE.get(row.drift_status, "")),
                      _when(row.drift_checked))
        previous = row.stack_set
    return table


def status_view(report: StatusReport) -> Table:
    return instances_table(report.instances) if report.instances else stacks_table(report.stacks)


def status_summary(report: StatusReport) -> Text:
    rows = list(report.stacks) if report.stacks else list(report.instances)
    busy = sum(1 for r in rows if r.in_progress)
    failed = sum(1 for r in rows if r.failed)
    missing = sum(1 for r in rows if r.status == "NOT_DEPLOYED")
    line = Text(f"{report.scope}: {len(rows)} {'stacks' if report.stacks else 'instances'}")
    if busy:
        line.append(f", {busy} in progress", style="cyan")
    if failed:
        line.append(f", {failed} failed", style="bold red")
    if missing:
        line.append(f", {missing} not deployed", style="dim")
    return line


def render_status(report: StatusReport, console: Console) -> None:
    console.print(status_view(report), highlight=False)
    console.print(status_summary(report), highlight=False)


def render_outputs(environment: str, found: list[StackOutputs], console: Console) -> None:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for column in ("wave", "region", "stack", "output", "value"):
        table.add_column(column, overflow="fold")
    previous: tuple[str, str, str] | None = None
    for stack in found:
        label = "/".join(stack.path) if stack.path else stack.stack_name
        for index, (key, value) in enumerate(sorted(stack.outputs.items())):
            where = (stack.wave, stack.region, label)
            table.add_row(stack.wave if where[:2] != (previous or ("", "", ""))[:2] else "",
                          stack.region if where[:2] != (previous or ("", "", ""))[:2] else "",
                          label if index == 0 else "", key, escape(value))
            previous = where
    console.print(table, highlight=False)
    count = sum(len(stack.outputs) for stack in found)
    console.print(f"{environment}: {count} outputs in {len(found)} stacks", highlight=False)


class Watch:
    """A status table redrawn in place (Rich Live) until nothing is in progress."""

    def __init__(self, console: Console) -> None:
        from rich.live import Live

        self.lock = threading.Lock()
        self.live = Live(console=console, auto_refresh=False, transient=False)

    def __enter__(self) -> Watch:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    def show(self, report: StatusReport, note: str = "") -> None:
        from rich.console import Group

        parts: list[Table | Text] = [status_view(report), status_summary(report)]
        if note:
            parts.append(Text(note, style="dim"))
        with self.lock:
            self.live.update(Group(*parts), refresh=True)
