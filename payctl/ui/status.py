"""Views for operating the platform: stack status (and its --watch), outputs, the destroy plan and
its progress, and SSM parameters. Never touches AWS; never shows a parameter value unless asked."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from payctl.operate.destroy import DestroyEvent, DestroyPlan, DestroyResult, DestroyStep
from payctl.operate.params import ParameterInfo, Revealed
from payctl.operate.status import InstanceRow, StackOutputs, StackRow, StatusReport, is_failed, is_in_progress

if TYPE_CHECKING:
    from payctl.aws.events import StackEvent

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
    labels = [row.stack_name if not row.path else "  " * len(row.path) + row.path[-1] for row in rows]
    table.add_column("wave", no_wrap=True)
    table.add_column("region", no_wrap=True)
    # Top-level stacks by name, nested ones by logical id below them (their names are in --json).
    table.add_column("stack", no_wrap=True, min_width=max((len(label) for label in labels), default=5))
    for column in ("status", "last updated", "drift", "drift checked"):
        table.add_column(column, overflow="fold")
    previous: tuple[str, str] | None = None
    for row, text in zip(rows, labels, strict=True):
        where = (row.wave, row.region)
        label = Text(text, style="" if row.path else "bold")
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
    if report.instances:
        line.append("\ndrift is the StackSet's view, which never includes nested stacks: "
                    "`payctl drift --all-accounts` checks them", style="dim")
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

    def events(self, events: list[tuple[StackRow, StackEvent]]) -> None:
        """New stack events, printed above the table as they arrive."""
        with self.lock:
            for row, event in events:
                line = Text(f"{event.timestamp:%H:%M:%S} {row.region} ", style="dim")
                where = "/".join(row.path) or row.stack_name
                line.append(f"{where} {event.logical_id} ")
                line.append(event.status, style=status_style(event.status))
                if event.reason:
                    line.append(f"  {event.reason}", style="dim")
                self.live.console.print(line, highlight=False)

    def show(self, report: StatusReport, note: str = "") -> None:
        from rich.console import Group

        parts: list[Table | Text] = [status_view(report), status_summary(report)]
        if note:
            parts.append(Text(note, style="dim"))
        with self.lock:
            self.live.update(Group(*parts), refresh=True)


# ---- destroy ------------------------------------------------------------------------------------


def render_destroy_plan(plan: DestroyPlan, console: Console) -> None:
    """What destroy will do, before anything is done."""
    if plan.empty:
        console.print(f"{plan.scope}: nothing deployed, nothing to destroy", highlight=False)
        return
    console.print(Text(f"payctl destroy {plan.scope}: waves in reverse order", style="bold"), highlight=False)
    number = 0
    for _wave, steps in plan.waves:
        for step in steps:
            number += 1
            head = Text(f"{number:>3}. ")
            head.append(step.label, style="bold red")
            head.append(f"  {step.status}", style="dim")
            if step.instance_of:
                head.append(f"  (instance of StackSet {step.instance_of})", style="dim")
            console.print(head, highlight=False)
            for line in step_lines(step):
                console.print(Text("       " + line), highlight=False)
    for _wave, name in plan.stack_sets:
        console.print(Text(f"     then the StackSet {name}, once it has no instances left", style="dim"),
                      highlight=False)
    for line in plan.not_deployed:
        console.print(Text(f"     not deployed: {line}", style="dim"), highlight=False)
    keys = [key for step in plan.steps for key in step.keys]
    keeps = [item for step in plan.steps for item in (*step.tables, *step.clusters)]
    if keys and keeps:
        console.print(Text(
            "warning: the DynamoDB backups and Aurora final snapshots are encrypted with the environment's "
            "KMS key, and deleting the security stack schedules that key's deletion. Once it is deleted they "
            "can never be restored. The summary prints how to cancel the key deletion.", style="bold yellow"),
            highlight=False)


def step_lines(step: DestroyStep) -> list[str]:
    lines = []
    if step.termination_protection:
        lines.append("lift termination protection")
    for cluster in step.clusters:
        if cluster.protected:
            lines.append(f"lift deletion protection of Aurora cluster {cluster.identifier}")
        if cluster.snapshot:
            lines.append(f"Aurora cluster {cluster.identifier}: CloudFormation takes a final snapshot "
                         f"(DeletionPolicy Snapshot), named {cluster.snapshot_prefix}-<random>")
        else:
            lines.append(f"Aurora cluster {cluster.identifier}: deleted WITHOUT a final snapshot "
                         "(no DeletionPolicy Snapshot)")
    for global_cluster in step.global_clusters:
        lines.append(f"global cluster {global_cluster} (deletion protection lifted if set)")
    for table in step.tables:
        replicas = ", ".join(table.replica_regions)
        where = f" (global table: replicas in {replicas})" if table.global_table else ""
        lines.append(f"back up DynamoDB table {table.name} in {table.region} (on-demand backup){where}")
        if table.protected:
            lines.append(f"lift deletion protection of table {table.name} in {replicas}")
    for bucket in step.buckets:
        lines.append(f"empty bucket {bucket} (every version and delete marker)")
    for key in step.keys:
        lines.append(f"KMS key {key.key_id} is scheduled for deletion ({key.pending_days} days)")
    return lines


class DestroyProgress:
    """An `on_event` callback printing one line per destroy event on stderr."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.lock = threading.Lock()

    def __call__(self, event: DestroyEvent) -> None:
        text = {
            "step-started": f"[bold]{event.subject}[/bold]",
            "protection-lifted": f"  lifted {event.subject}",
            "backup-taken": f"  backed up table {event.subject} ({event.region}): {event.detail}",
            "backup-reused": f"  table {event.subject} ({event.region}): keeping backup {event.detail}",
            "readers-removed": f"  removed autoscaled readers of {event.subject}: {event.detail}",
            "bucket-emptied": f"  emptied {event.subject}: {event.detail}",
            "stack-deleting": f"  deleting {event.subject}",
            "retrying": f"  [yellow]{event.subject}: {event.detail}; emptying and deleting again[/yellow]",
            "stack-deleted": f"  [green]deleted[/green] {event.subject}",
            "instances-deleted": f"  [green]deleted[/green] {event.detail} of StackSet {event.subject}",
            "stack-set-deleted": f"[green]deleted[/green] StackSet {event.subject}",
        }.get(event.kind, f"  {event.kind}: {event.subject}")
        with self.lock:
            self.console.print(text, highlight=False)


def render_destroy_result(result: DestroyResult, console: Console) -> None:
    console.print(Text("summary", style="bold"), highlight=False)
    for label in result.deleted:
        console.print(f"  deleted  {escape(label)}", highlight=False)
    for backup in result.backups:
        kept = " (taken by an earlier run)" if backup.reused else ""
        console.print(f"  DynamoDB backup of {backup.table} in {backup.region}: {backup.name}{kept}\n"
                      f"    {backup.arn}", highlight=False)
    for snapshot in result.snapshots:
        state = "" if snapshot.found else " (not found yet: look for this prefix)"
        console.print(f"  Aurora final snapshot of {snapshot.cluster} in {snapshot.region}, taken by "
                      f"CloudFormation: {snapshot.name}{state}", highlight=False)
    if result.keys:
        console.print(Text("  KMS keys scheduled for deletion (the backups and snapshots above are encrypted "
                           "with them and die with them):", style="bold yellow"), highlight=False)
        for key in result.keys:
            when = f"deleted on {key.deletion_date}" if key.deletion_date else f"in {key.pending_days} days"
            console.print(f"    {key.arn} ({key.region}), {when}. To keep the data restorable:\n"
                          f"      aws kms cancel-key-deletion --key-id {key.arn} --region {key.region}\n"
                          f"      aws kms enable-key --key-id {key.arn} --region {key.region}"
                          "   # a cancelled key is left Disabled", highlight=False)
    for item in result.lifted:
        console.print(f"  [dim]lifted {escape(item)}[/dim]", highlight=False)
    if result.failure:
        console.print(f"[red]stopped:[/red] {escape(result.failure)}", highlight=False)
        console.print("  run the same command again to continue from here", highlight=False)


# ---- parameters ---------------------------------------------------------------------------------


def render_parameters(found: list[ParameterInfo], console: Console, title: str) -> None:
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, title=title,
                  title_justify="left")
    widest = max((len(info.name) for info in found), default=4)
    table.add_column("name", no_wrap=True, min_width=widest)  # what a reader copies: never broken
    table.add_column("type", no_wrap=True)
    table.add_column("version", no_wrap=True)
    for column in ("modified", "by", "key"):
        table.add_column(column, overflow="fold")
    for info in found:
        style = "bold" if info.type == "SecureString" else ""
        table.add_row(Text(info.name, style=style), info.type, str(info.version), _when(info.last_modified),
                      info.last_modified_by, info.key_id)
    console.print(table, highlight=False)


def render_history(found: list[ParameterInfo], console: Console) -> None:
    name = found[0].name if found else ""
    region = found[0].region if found else ""
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, title=f"{name} ({region})",
                  title_justify="left")
    for column in ("version", "labels", "modified", "by", "description"):
        table.add_column(column, overflow="fold")
    for info in found:
        table.add_row(str(info.version), Text(", ".join(info.labels), style="bold green"),
                      _when(info.last_modified), info.last_modified_by, info.description)
    console.print(table, highlight=False)


def render_parameter(found: Revealed, console: Console) -> None:
    """Metadata with the value masked; the value itself is written by the CLI only when revealed."""
    info = found.info
    console.print(f"{info.name} ({info.region}): {info.type} version {info.version}, "
                  f"modified {_when(info.last_modified)}"
                  + (f" by {info.last_modified_by}" if info.last_modified_by else "")
                  + (f", labels {', '.join(info.labels)}" if info.labels else "")
                  + f"\n  value: {found.value if not found.revealed else '(revealed on stdout)'}",
                  highlight=False)
