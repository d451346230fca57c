"""`payctl status` and `payctl outputs`: every stack of an environment (nested stacks too) with its
status, last update and drift status as CloudFormation records them; or every StackSet instance."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from payctl.aws.drift import describe_stack_set, drift_information, stack_instances
from payctl.aws.events import EventReader, StackEvent, latest_event_id
from payctl.aws.session import AwsSession, Target
from payctl.operate.inventory import DeployedStack, discover, fan_out
from payctl.operate.stacksets import StackSetScope
from payctl.templates import RenderedSet

# Terminal statuses that mean the last operation did not do what was asked.
FAILED_SUFFIXES = ("_FAILED", "ROLLBACK_COMPLETE")


def is_in_progress(status: str) -> bool:
    return status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS"


def is_failed(status: str) -> bool:
    return status.endswith(FAILED_SUFFIXES)


@dataclass(frozen=True)
class StackRow:
    environment: str
    wave: str
    region: str
    path: tuple[str, ...]  # () top level; nested: logical ids below it
    stack_name: str
    stack_id: str
    status: str  # CloudFormation's, or NOT_DEPLOYED
    reason: str = ""
    last_updated: str = ""
    drift_status: str = ""  # DRIFTED | IN_SYNC | NOT_CHECKED | UNKNOWN, as of the last detection
    drift_checked: str = ""

    @property
    def in_progress(self) -> bool:
        return is_in_progress(self.status)

    @property
    def failed(self) -> bool:
        return is_failed(self.status)


@dataclass(frozen=True)
class InstanceRow:
    stack_set: str
    account_id: str
    environment: str | None
    region: str
    status: str  # CURRENT | OUTDATED | INOPERABLE, or NOT_DEPLOYED for a missing StackSet
    detailed_status: str = ""  # PENDING | RUNNING | SUCCEEDED | FAILED | CANCELLED | INOPERABLE | ...
    reason: str = ""
    drift_status: str = ""
    drift_checked: str = ""
    stack_id: str = ""

    @property
    def in_progress(self) -> bool:
        return self.detailed_status in ("PENDING", "RUNNING")

    @property
    def failed(self) -> bool:
        return self.detailed_status in ("FAILED", "CANCELLED", "INOPERABLE", "FAILED_IMPORT")


@dataclass(frozen=True)
class StatusReport:
    scope: str
    stacks: tuple[StackRow, ...] = ()
    instances: tuple[InstanceRow, ...] = ()

    @property
    def in_progress(self) -> bool:
        return any(r.in_progress for r in self.stacks) or any(r.in_progress for r in self.instances)

    @property
    def failed(self) -> bool:
        return any(r.failed for r in self.stacks) or any(r.failed for r in self.instances)


def rows_of(aws: AwsSession, stack: DeployedStack) -> list[StackRow]:
    if not stack.deployed:
        return [StackRow(stack.environment, stack.wave, stack.region, (), stack.stack_name, "",
                         "NOT_DEPLOYED")]
    cfn = aws.client("cloudformation", stack.target)
    rows = []
    for node in stack.nodes():
        drift, checked = drift_information(cfn, node.info.stack_id)
        rows.append(StackRow(stack.environment, stack.wave, stack.region, node.path, node.info.name,
                             node.info.stack_id, node.info.status, node.info.status_reason,
                             node.info.last_changed, drift, checked))
    return rows


def environment_status(aws: AwsSession, rendered: RenderedSet, *, parallel: int = 4) -> StatusReport:
    deployed = discover(aws, rendered, parallel=parallel)
    rows = fan_out(lambda stack: rows_of(aws, stack), deployed, parallel)
    return StatusReport(rendered.environment.name, tuple(row for group in rows for row in group))


def stack_set_status(aws: AwsSession, scope: StackSetScope, *, parallel: int = 4) -> StatusReport:
    cfn = aws.client("cloudformation", scope.admin)

    def of(item: tuple[str, str]) -> list[InstanceRow]:
        _wave, name = item
        if describe_stack_set(cfn, name, scope.call_as) is None:
            return [InstanceRow(name, "", None, scope.admin.region, "NOT_DEPLOYED")]
        rows = []
        for summary in stack_instances(cfn, name, scope.call_as):
            env = scope.environment(str(summary.get("Account", "")))
            checked: Any = summary.get("LastDriftCheckTimestamp")
            rows.append(InstanceRow(
                name, str(summary.get("Account", "")), env.name if env else None,
                str(summary.get("Region", "")),
                str(summary.get("Status", "")),
                str((summary.get("StackInstanceStatus") or {}).get("DetailedStatus", "")),
                str(summary.get("StatusReason", "") or ""), str(summary.get("DriftStatus", "")),
                checked.isoformat() if hasattr(checked, "isoformat") else str(checked or ""),
                str(summary.get("StackId", "")),
            ))
        return sorted(rows, key=lambda r: (r.account_id, r.region))

    aws.verify_account(scope.admin, "StackSet administration")
    groups = fan_out(of, list(scope.names), parallel)
    return StatusReport("all-accounts", instances=tuple(row for group in groups for row in group))


@dataclass(frozen=True)
class StackOutputs:
    wave: str
    region: str
    path: tuple[str, ...]
    stack_name: str
    outputs: dict[str, str]


def environment_outputs(aws: AwsSession, rendered: RenderedSet, *, parallel: int = 4) -> list[StackOutputs]:
    """Outputs of every deployed stack, top-level and nested, in deploy order (wave, region, nesting)."""
    deployed = discover(aws, rendered, parallel=parallel)
    return [StackOutputs(stack.wave, stack.region, node.path, node.info.name, dict(node.info.outputs))
            for stack in deployed for node in stack.nodes()]


def outputs_json(environment: str, found: list[StackOutputs]) -> dict[str, object]:
    """{"waves": {wave: {region: {"stackName", "outputs", "nested": {path: {...}}}}}} (docs/operations.md)."""
    waves: dict[str, dict[str, dict[str, object]]] = {}
    for stack in found:
        region = waves.setdefault(stack.wave, {})
        entry = {"stackName": stack.stack_name, "outputs": dict(sorted(stack.outputs.items()))}
        if not stack.path:
            region[stack.region] = {**entry, "nested": {}}
        else:
            top = region.setdefault(stack.region, {"stackName": "", "outputs": {}, "nested": {}})
            nested = top["nested"]
            assert isinstance(nested, dict)
            nested["/".join(stack.path)] = entry
    return {"schemaVersion": 1, "environment": environment, "waves": waves}


def follow(fetch: Callable[[], StatusReport], on_update: Callable[[StatusReport], None], *,
           interval: float = 5.0, sleep: Callable[[float], None] = time.sleep) -> StatusReport:
    """Fetch and show the status until nothing is in progress; returns the final status.
    The first fetch happens at once; with nothing in progress that is also the last."""
    while True:
        report = fetch()
        on_update(report)
        if not report.in_progress:
            return report
        sleep(interval)


def stack_row_json(r: StackRow) -> dict[str, Any]:
    return {"environment": r.environment, "wave": r.wave, "region": r.region, "nestedPath": list(r.path),
            "stackName": r.stack_name, "stackId": r.stack_id or None, "status": r.status,
            "statusReason": r.reason or None, "lastUpdated": r.last_updated or None,
            "driftStatus": r.drift_status or None, "driftChecked": r.drift_checked or None}


def instance_row_json(r: InstanceRow) -> dict[str, Any]:
    return {"stackSetName": r.stack_set, "account": r.account_id or None, "environment": r.environment,
            "region": r.region, "status": r.status, "detailedStatus": r.detailed_status or None,
            "statusReason": r.reason or None, "driftStatus": r.drift_status or None,
            "driftChecked": r.drift_checked or None, "stackId": r.stack_id or None}


def status_json(report: StatusReport) -> dict[str, Any]:
    """`payctl status --json` (schema version 1, docs/operations.md)."""
    return {"schemaVersion": 1, "scope": report.scope, "inProgress": report.in_progress,
            "failed": report.failed,
            "stacks": [stack_row_json(r) for r in report.stacks],
            "instances": [instance_row_json(r) for r in report.instances]}


class StackEventFeed:
    """New events of the stacks a status shows in progress (`status --watch`): a reader per stack,
    started at the stack's newest event when it is first seen in progress, so only what happens
    while watching is shown."""

    def __init__(self, aws: AwsSession, target_of: Callable[[StackRow], Target]) -> None:
        self.aws = aws
        self.target_of = target_of
        self.readers: dict[str, EventReader] = {}

    def read(self, report: StatusReport) -> list[tuple[StackRow, StackEvent]]:
        fresh: list[tuple[StackRow, StackEvent]] = []
        for row in report.stacks:
            if not row.in_progress or not row.stack_id:
                continue
            reader = self.readers.get(row.stack_id)
            if reader is None:
                cfn = self.aws.client("cloudformation", self.target_of(row))
                self.readers[row.stack_id] = EventReader(cfn, row.stack_id,
                                                         after_event_id=latest_event_id(cfn, row.stack_id))
                continue
            fresh.extend((row, event) for event in reader.read())
        return sorted(fresh, key=lambda item: item[1].timestamp)


def watch_environment(aws: AwsSession, rendered: RenderedSet,
                      on_update: Callable[[StatusReport], None],
                      on_events: Callable[[list[tuple[StackRow, StackEvent]]], None], *,
                      interval: float = 5.0, parallel: int = 4,
                      sleep: Callable[[float], None] = time.sleep) -> StatusReport:
    """The environment's status, refreshed with the new events of stacks in progress until none is."""
    from payctl.operate.inventory import environment_target

    env = rendered.environment
    feed = StackEventFeed(aws, lambda row: environment_target(env, row.region))

    def fetch() -> StatusReport:
        report = environment_status(aws, rendered, parallel=parallel)
        events = feed.read(report)
        if events:
            on_events(events)
        return report

    return follow(fetch, on_update, interval=interval, sleep=sleep)
