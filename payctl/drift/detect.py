"""Drift of an environment's stacks: DetectStackDrift on every wave's stack in every region and on
each nested stack by its own id (a parent's detection never looks inside its nested stacks), a
bounded number at once, each polled to completion; then the resource-level results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from payctl.aws.drift import (
    DRIFT_FILTERS,
    resource_drifts,
    stack_resources,
    start_stack_drift,
    wait_for_stack_drift,
)
from payctl.aws.poll import Backoff
from payctl.aws.session import AwsSession
from payctl.aws.stacks import NESTED_STACK_TYPE
from payctl.drift.events import DetectionFinished, DetectionStarted, OnDriftEvent, ignore
from payctl.drift.model import (
    DRIFTED_STATUSES,
    NOT_CHECKED_REASON,
    DriftReport,
    Outcome,
    PropertyDifference,
    ResourceDrift,
    StackDrift,
)
from payctl.errors import PayctlError
from payctl.operate.inventory import DeployedStack, StackNode, discover, fan_out
from payctl.templates import RenderedSet

# Drift detection reads every resource of a stack; a large stack takes minutes.
DRIFT_BACKOFF = Backoff(first=1.0, factor=1.5, ceiling=15.0, deadline=1800.0)


@dataclass(frozen=True)
class DriftOptions:
    parallel: int = 4  # detections running at once (CloudFormation throttles drift calls per account)
    backoff: Backoff = DRIFT_BACKOFF


def iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def read_resource(drift: dict[str, Any]) -> ResourceDrift:
    """One StackResourceDrift in payctl's model."""
    return ResourceDrift(
        logical_id=str(drift.get("LogicalResourceId", "")),
        resource_type=str(drift.get("ResourceType", "")),
        physical_id=str(drift.get("PhysicalResourceId", "")),
        status=str(drift.get("StackResourceDriftStatus", "")),
        differences=tuple(
            PropertyDifference(str(d.get("PropertyPath", "")), str(d.get("ExpectedValue", "")),
                               str(d.get("ActualValue", "")), str(d.get("DifferenceType", "")))
            for d in drift.get("PropertyDifferences", []) or []),
        reason=str(drift.get("DriftStatusReason", "")),
        checked_at=iso(drift.get("Timestamp")),
    )


def classify(summaries: list[dict[str, Any]], drifts: list[dict[str, Any]]) -> Classified:
    """(drifted, not checked, in-sync count) of one stack.

    DescribeStackResourceDrifts leaves out resources whose type drift detection does not support,
    so the stack's resource list is compared with what drift returned: nothing is hidden."""
    reported = {str(d.get("LogicalResourceId")): read_resource(d) for d in drifts}
    drifted = [r for r in reported.values() if r.drifted]
    not_checked = [r if r.reason else ResourceDrift(r.logical_id, r.resource_type, r.physical_id, r.status,
                                                    r.differences, NOT_CHECKED_REASON, r.checked_at)
                   for r in reported.values() if not r.drifted and r.status != "IN_SYNC"]
    in_sync = sum(1 for r in reported.values() if r.status == "IN_SYNC")
    for summary in summaries:
        logical_id = str(summary.get("LogicalResourceId", ""))
        if logical_id in reported or summary.get("ResourceStatus") == "DELETE_COMPLETE":
            continue
        resource_type = str(summary.get("ResourceType", ""))
        if resource_type == NESTED_STACK_TYPE:
            continue  # detected on its own; its result is a StackDrift of its own
        status = str((summary.get("DriftInformation") or {}).get("StackResourceDriftStatus", "NOT_CHECKED"))
        physical_id = str(summary.get("PhysicalResourceId", ""))
        if status == "IN_SYNC":
            in_sync += 1
        elif status in DRIFTED_STATUSES:  # drifted by the summary, without details in the results
            drifted.append(ResourceDrift(logical_id, resource_type, physical_id, status,
                                         reason="CloudFormation returned no property details"))
        else:
            not_checked.append(ResourceDrift(logical_id, resource_type, physical_id, status,
                                             reason=NOT_CHECKED_REASON))
    order = {str(s.get("LogicalResourceId")): i for i, s in enumerate(summaries)}
    by_order = sorted(drifted, key=lambda r: (order.get(r.logical_id, len(order)), r.logical_id))
    return (tuple(by_order), tuple(sorted(not_checked, key=lambda r: r.logical_id)), in_sync)


def outcome_of(status: dict[str, Any]) -> Outcome:
    if status.get("DetectionStatus") != "DETECTION_COMPLETE":
        return "FAILED"
    drift = status.get("StackDriftStatus")
    return "DRIFTED" if drift == "DRIFTED" else "IN_SYNC" if drift == "IN_SYNC" else "FAILED"


@dataclass(frozen=True)
class StackRef:
    """Where a stack is and what it belongs to."""

    environment: str
    account_id: str
    region: str
    wave: str
    stack_name: str
    stack_id: str
    path: tuple[str, ...]


Classified = tuple[tuple[ResourceDrift, ...], tuple[ResourceDrift, ...], int]


def stored_results(cfn: Any, ref: StackRef) -> Classified:
    """(drifted, not checked, in-sync count) as the stack's latest detection recorded them."""
    return classify(stack_resources(cfn, ref.stack_id), resource_drifts(cfn, ref.stack_id, DRIFT_FILTERS))


def detect_stack(cfn: Any, ref: StackRef, backoff: Backoff = DRIFT_BACKOFF) -> StackDrift:
    """Detect one stack's drift and read its results. A detection that cannot start or fails is a
    FAILED StackDrift with the reason, never an exception: the other stacks still get checked."""
    failed = StackDrift(ref.environment, ref.account_id, ref.region, ref.wave, ref.stack_name, ref.stack_id,
                        ref.path, "FAILED")
    try:
        detection_id = start_stack_drift(cfn, ref.stack_id)
        status = wait_for_stack_drift(cfn, detection_id, backoff=backoff)
    except PayctlError as error:
        return replace(failed, reason=error.message)
    known = replace(failed, drift_status=str(status.get("StackDriftStatus", "")),
                    detection_status=str(status.get("DetectionStatus", "")), detection_id=detection_id,
                    checked_at=iso(status.get("Timestamp")))
    try:
        # A failed detection still has results for the resources it did check.
        drifted, not_checked, in_sync = stored_results(cfn, ref)
    except PayctlError as error:
        return replace(known, reason=error.message)
    outcome = outcome_of(status)
    reason = str(status.get("DetectionStatusReason", ""))
    if outcome == "FAILED" and not reason:
        reason = f"drift status {status.get('StackDriftStatus', 'unknown')}"
    return replace(known, outcome=outcome, reason=reason, drifted=drifted, not_checked=not_checked,
                   in_sync_count=in_sync)


def not_deployed(stack: DeployedStack) -> StackDrift:
    return StackDrift(stack.environment, stack.account_id, stack.region, stack.wave, stack.stack_name, "",
                      (), "NOT_DEPLOYED", reason="not deployed")


def detect_environment(aws: AwsSession, rendered: RenderedSet, options: DriftOptions | None = None,
                       on_event: OnDriftEvent = ignore) -> DriftReport:
    """Drift of every deployed stack of the environment, nested stacks included, in deploy order."""
    options = options or DriftOptions()
    started = now_iso()
    deployed = discover(aws, rendered, parallel=options.parallel)
    jobs: list[tuple[DeployedStack, StackNode | None]] = []
    for stack in deployed:
        if stack.deployed:
            jobs.extend((stack, node) for node in stack.nodes())
        else:
            jobs.append((stack, None))

    def run(job: tuple[DeployedStack, StackNode | None]) -> StackDrift:
        stack, node = job
        if node is None:
            return not_deployed(stack)
        ref = StackRef(stack.environment, stack.account_id, stack.region, stack.wave, node.info.name,
                       node.info.stack_id, node.path)
        on_event(DetectionStarted(stack.environment, stack.region, node.info.name))
        result = detect_stack(aws.client("cloudformation", stack.target), ref, options.backoff)
        on_event(DetectionFinished(stack.environment, stack.region, node.info.name, result.outcome,
                                   len(result.drifted)))
        return result

    results = fan_out(run, jobs, options.parallel)
    return DriftReport(scope=rendered.environment.name, started_at=started, stacks=tuple(results))
