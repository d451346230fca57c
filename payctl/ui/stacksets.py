"""StackSet views: the live account x region table of instances, failed instances, and the effective
parameters of every instance (plan --all-accounts). Never touches AWS."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rich.console import Group
from rich.table import Table
from rich.text import Text

from payctl.apply.events import InstanceStatus, OperationFinished, OperationStarted, StackSetFinished, StackSetStarted
from payctl.apply.stackset_spec import StackSetWave
from payctl.plan.model import MASK

STYLE = {"SUCCEEDED": "green", "CURRENT": "green", "RUNNING": "yellow", "PENDING": "dim", "QUEUED": "dim",
         "FAILED": "bold red", "CANCELLED": "red", "INOPERABLE": "bold red", "OUTDATED": "yellow"}
REASON_WIDTH = 60


@dataclass
class WaveView:
    """What is known about one wave's StackSet while it deploys."""

    wave: str
    stack_set: str
    action: str = ""
    cells: dict[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)  # (env, account, region)
    operations: dict[str, str] = field(default_factory=dict)  # operation id -> status
    done: bool | None = None

    def take(self, event: object) -> None:
        if isinstance(event, StackSetStarted):
            self.action = event.action
        elif isinstance(event, OperationStarted):
            self.operations[event.operation_id] = "RUNNING"
            for env, account, region in event.targets:
                self.cells.setdefault((env, account, region), ("PENDING", ""))
        elif isinstance(event, InstanceStatus):
            self.cells[(event.environment, event.account, event.region)] = (event.status, event.reason)
        elif isinstance(event, OperationFinished):
            self.operations[event.operation_id] = event.status
            for env, account, region, reason in event.failed:
                self.cells[(env, account, region)] = (reason.split(":", 1)[0], reason.split(":", 1)[-1].strip())
        elif isinstance(event, StackSetFinished):
            self.done = event.succeeded


def instance_table(view: WaveView) -> Table:
    """Accounts down, regions across; each cell the instance's status and, when it has one, its reason."""
    regions = list(dict.fromkeys(region for _env, _account, region in view.cells))
    accounts = list(dict.fromkeys((env, account) for env, account, _region in view.cells))
    title = f"StackSet {view.stack_set} ({view.wave})"
    if view.action:
        title += f" · {view.action}"
    running = sum(1 for status in view.operations.values() if status in ("RUNNING", "QUEUED"))
    if view.operations:
        title += f" · {len(view.operations)} operations" + (f", {running} running" if running else "")
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("environment")
    table.add_column("account")
    for region in regions:
        table.add_column(region)
    for env, account in accounts:
        cells: list[Text | str] = [env, account]
        for region in regions:
            status, reason = view.cells.get((env, account, region), ("", ""))
            cell = Text(status or "-", style=STYLE.get(status, ""))
            if reason:
                cell.append(f"\n{reason[:REASON_WIDTH]}", style="dim")
            cells.append(cell)
        table.add_row(*cells)
    return table


def failed_instances(event: OperationFinished) -> list[Text]:
    return [Text(f"  ✗ {env} {account} {region}: {reason}", style="red")
            for env, account, region, reason in event.failed]


def parameters_tables(waves: Iterable[StackSetWave]) -> Group:
    """Per wave, every parameter's effective value in each account and region; rows whose values differ
    between instances are highlighted (they are what the environment files change)."""
    tables = []
    for spec in waves:
        columns = [(i.environment, i.region) for i in spec.instances]
        table = Table(title=f"{spec.name}: effective parameters per account and region", title_justify="left")
        table.add_column("parameter")
        for env, region in columns:
            account = next(i.account_id for i in spec.instances if (i.environment, i.region) == (env, region))
            table.add_column(f"{env}\n{account}\n{region}")
        for name in spec.parameters:
            values = [MASK if name in spec.no_echo else i.overrides.get(name, "") for i in spec.instances]
            varies = len(set(values)) > 1
            table.add_row(Text(name, style="bold" if varies else ""),
                          *[Text(value, style="cyan" if varies else "dim") for value in values])
        tables.append(table)
    return Group(*tables)
