"""Showing a Plan: CDK-like change lines, nested stacks as their own blocks, a security table, and
the summary line; progress events on stderr while change sets are computed. Never touches AWS."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from payctl.plan.events import (
    AccountVerified,
    ArtifactsUploaded,
    ChangeSetStarted,
    PlanEvent,
    PlanFinished,
    PlanStarted,
    StackPlanned,
)
from payctl.plan.model import (
    Danger,
    IamChange,
    IngressChange,
    Plan,
    ResourceChange,
    StackPlan,
    Summary,
    WavePlan,
    counted,
)

SIGNS = {
    "Add": ("[+]", "green"), "Modify": ("[~]", "yellow"), "Remove": ("[-]", "red"),
    "Import": ("[←]", "blue"), "Dynamic": ("[?]", "magenta"), "SyncWithActual": ("[=]", "dim"),
}
STATUS_STYLE = {"create": "green", "update": "yellow", "delete": "red", "no-changes": "dim",
                "deferred": "cyan"}
TABLE_WIDTH = 200
DANGER_STYLE = {Danger.DESTRUCTIVE: "bold red", Danger.SECURITY: "bold yellow"}


# -- progress ---------------------------------------------------------------------------------
class PlanProgress:
    """An `on_event` callback printing one line per event on stderr (safe from worker threads)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.lock = threading.Lock()

    def __call__(self, event: PlanEvent) -> None:
        line = progress_line(event)
        if line is not None:
            with self.lock:
                self.console.print(line, highlight=False)


def progress_line(event: PlanEvent) -> Text | None:
    if isinstance(event, PlanStarted):
        return Text(f"{event.environment}: planning {event.stacks} stacks in account {event.account_id}",
                    style="bold")
    if isinstance(event, AccountVerified):
        return Text(f"{event.environment}: credentials reach account {event.account_id} in {event.region}",
                    style="dim")
    if isinstance(event, ArtifactsUploaded):
        created = " (bucket created)" if event.bucket_created else ""
        return Text(f"{event.environment}: {event.region}: uploaded {event.uploaded} artifacts, "
                    f"{event.skipped} already in s3://{event.bucket}{created}", style="dim")
    if isinstance(event, ChangeSetStarted):
        return Text(f"{event.environment}: {event.wave} {event.region}: creating {event.change_set_type} "
                    f"change set for {event.stack_name}", style="dim")
    if isinstance(event, StackPlanned):
        line = Text(f"{event.environment}: {event.wave} {event.region}: ")
        line.append(event.status, style=STATUS_STYLE.get(event.status, ""))
        if event.changes:
            line.append(f" ({event.changes} resource changes)")
        return line
    if isinstance(event, PlanFinished):
        return Text(f"{event.environment}: planned in {event.seconds:.1f}s", style="dim")
    return None


# -- the plan ---------------------------------------------------------------------------------
def summary_line(summary: Summary) -> str:
    destructive = f" ({summary.destructive} destructive)" if summary.destructive else ""
    return (f"Plan: {summary.add} to add, {summary.change} to change, "
            f"{summary.replace} to replace{destructive}, {summary.remove} to remove")


def summary_extras(summary: Summary) -> list[str]:
    extras = []
    for count, one, many in (
        (summary.security, "security-sensitive change", "security-sensitive changes"),
        (summary.import_, "import", "imports"),
        (summary.dynamic, "change decided at deploy time", "changes decided at deploy time"),
        (summary.parameters, "parameter change", "parameter changes"),
        (summary.outputs, "output change", "output changes"),
        (summary.deferred, "stack deferred until an earlier wave exists",
         "stacks deferred until an earlier wave exists"),
    ):
        if count:
            extras.append(f"{count} {one if count == 1 else many}")
    return extras


def render_plan(plan: Plan, console: Console, *, diff: bool = True) -> None:
    for env in plan.environments:
        console.print(Text(f"{env.environment} (account {env.account_id})", style="bold underline"))
        for wave in env.waves:
            console.print(wave_block(wave, diff=diff))
        console.print()
    security = security_tables(plan)
    if security:
        console.print(Text("Security changes", style="bold yellow"))
        # Piped into a CI log there is no terminal to fit: use the width the rows need.
        width = None if console.is_terminal else max(console.width, TABLE_WIDTH)
        for table in security:
            console.print(table, width=width)
    summary = plan.summary()
    if not summary.has_changes:
        console.print(Text("No changes: every stack matches its templates and parameters.", style="green"))
    console.print(Text(summary_line(summary), style="bold"))
    extras = summary_extras(summary)
    if extras:
        console.print(Text("  also " + ", ".join(extras), style="dim"))


def wave_block(wave: WavePlan, *, diff: bool) -> Group:
    stack = wave.stack
    head = Text(f"{wave.wave} · {wave.region} · {stack.stack_name or stack.name}  ")
    head.append(stack.status, style=STATUS_STYLE.get(stack.status, ""))
    if stack.change_set_type:
        head.append(f"  ({stack.change_set_type} change set{', kept' if stack.kept else ''})", style="dim")
    lines: list[Text | Group] = [head]
    if stack.note:
        lines.append(Text(f"  {stack.note}", style="cyan" if stack.status == "deferred" else "dim"))
    lines += stack_lines(stack, indent=1, diff=diff)
    return Group(*lines)


def stack_lines(stack: StackPlan, *, indent: int, diff: bool) -> list[Text]:
    pad = "  " * indent
    lines: list[Text] = []
    shown = {child.name for child in stack.children}
    for change in stack.changes:
        lines += change_lines(change, pad, nested=change.logical_id in shown)
    for parameter in stack.parameters:
        sign = "[+]" if parameter.before is None else "[-]" if parameter.after is None else "[~]"
        line = Text(f"{pad}{sign} parameter {parameter.name}: ")
        line.append(f"{parameter.before if parameter.before is not None else '(none)'} → "
                    f"{parameter.after if parameter.after is not None else '(none)'}")
        if parameter.no_echo:
            line.append("  (NoEcho)", style="dim")
        lines.append(line)
    for output in stack.outputs:
        sign = {"Add": "[+]", "Remove": "[-]", "Modify": "[~]"}[output.action]
        line = Text(f"{pad}{sign} output {output.name}")
        if output.current_value is not None:
            line.append(f" (now {output.current_value})", style="dim")
        if output.after is not None:
            line.append(f": {output.after}")
        lines.append(line)
    if diff and stack.template_diff:
        lines.append(Text(f"{pad}template diff:", style="dim"))
        lines += diff_lines(stack.template_diff, pad + "  ")
    for child in stack.children:
        head = Text(f"{pad}┗ nested stack {child.name}")
        if child.stack_name:
            head.append(f" ({child.stack_name})", style="dim")
        head.append("  ")
        head.append(child.status, style=STATUS_STYLE.get(child.status, ""))
        if child.source == "template":
            head.append("  (read from templates)", style="dim")
        lines.append(head)
        if child.note and child.source != "template":
            lines.append(Text(f"{pad}  {child.note}", style="dim"))
        lines += stack_lines(child, indent=indent + 1, diff=diff)
    return lines


def change_lines(change: ResourceChange, pad: str, *, nested: bool) -> list[Text]:
    sign, colour = SIGNS.get(change.action, ("[?]", "magenta"))
    line = Text(pad)
    line.append(sign, style=colour)
    line.append(f" {change.resource_type} {change.logical_id}")
    if change.replaces:
        line.append(" replace" if change.replacement == "True" else " may replace", style="bold red")
        forcing = change.forcing_properties
        if forcing:
            line.append(f" ({', '.join(forcing)})", style="red")
    if change.physical_id and change.action != "Add":
        line.append(f"  {change.physical_id}", style="dim")
    if nested:
        line.append("  (nested stack, below)", style="dim")
    lines = [line]
    if change.action == "Modify" and not nested:
        for detail in change.details:
            name = detail.name or detail.attribute
            text = Text(f"{pad}    ~ {name}")
            if detail.before is not None or detail.after is not None:
                text.append(f": {detail.before if detail.before is not None else '(none)'} → "
                            f"{detail.after if detail.after is not None else '(none)'}")
            why = [detail.change_source or "",
                   f"via {detail.causing_entity}" if detail.causing_entity else ""]
            if detail.requires_recreation in ("Always", "Conditionally"):
                why.insert(0, f"recreation {detail.requires_recreation.lower()}")
            reason = ", ".join(part for part in why if part)
            if reason:
                text.append(f"  ({reason})", style="dim")
            lines.append(text)
    for finding in change.findings:
        lines.append(Text(f"{pad}    ! {finding.danger.value} {finding.rule}: {finding.message}",
                          style=DANGER_STYLE.get(finding.danger, "")))
    return lines


def diff_lines(diff: str, pad: str) -> list[Text]:
    lines = []
    for raw in diff.splitlines():
        style = "green" if raw.startswith("+") and not raw.startswith("+++") else \
            "red" if raw.startswith("-") and not raw.startswith("---") else \
            "cyan" if raw.startswith("@@") else "dim"
        lines.append(Text(pad + raw, style=style))
    return lines


def security_tables(plan: Plan) -> list[Table]:
    iam = Table("", "where", "resource", "effect", "principal", "action", "on", "condition",
                title="IAM permission changes", title_justify="left")
    ingress = Table("", "where", "resource", "group", "protocol", "port", "source", "description",
                    title="Security group ingress changes", title_justify="left")
    for env, wave in plan.stacks():
        for stack in wave.stack.walk():
            where = f"{env.environment}/{wave.wave}/{wave.region}"
            if stack is not wave.stack:
                where += f"/{stack.name}"
            for row in _rows(counted(stack)):
                style = "green" if row.sign == "+" else "red"
                if isinstance(row, IamChange):
                    iam.add_row(Text(row.sign, style=style), where, row.resource, row.effect, row.principal,
                                row.action, row.target, row.condition)
                else:
                    ingress.add_row(Text(row.sign, style=style), where, row.resource, row.group, row.protocol,
                                    row.ports, row.source, row.description)
    return [table for table in (iam, ingress) if table.row_count]


def _rows(changes: Iterable[ResourceChange]) -> list[IamChange | IngressChange]:
    return [row for change in changes for row in change.security]
