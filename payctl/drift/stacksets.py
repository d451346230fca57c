"""Drift of the platform's StackSets (`--all-accounts`).

DetectStackSetDrift runs a stack drift detection on each instance's stack, in the instance's
account and region, and reports per instance. Like any stack detection it does not look into
nested stacks, and the platform's waves are nested stacks: an instance AWS calls IN_SYNC can hide
drift one level down. So after the StackSet operation, payctl reaches each instance's account
(the environment's access in envs/), reads the instance stack's stored results, and runs a
detection on every nested stack of it.
"""

from __future__ import annotations

from typing import Any

from payctl.aws.drift import (
    describe_stack_set,
    operation_results,
    stack_instances,
    start_stack_set_drift,
    wait_for_stack_set_operation,
)
from payctl.aws.session import AwsSession
from payctl.aws.stacks import describe_stack
from payctl.drift.detect import DriftOptions, StackRef, detect_stack, iso, now_iso, stored_results
from payctl.drift.events import OnDriftEvent, StackSetDetectionFinished, StackSetDetectionStarted, ignore
from payctl.drift.model import DriftReport, InstanceDrift, Outcome, StackDrift, StackSetDrift
from payctl.errors import PayctlError
from payctl.operate.inventory import environment_target, fan_out, stack_tree
from payctl.operate.stacksets import DRIFT_PREFERENCES, StackSetScope

_COUNTERS = ("TotalStackInstancesCount", "DriftedStackInstancesCount", "InSyncStackInstancesCount",
             "InProgressStackInstancesCount", "FailedStackInstancesCount")


def detect_all_accounts(aws: AwsSession, scope: StackSetScope, options: DriftOptions | None = None,
                        on_event: OnDriftEvent = ignore) -> DriftReport:
    """Drift of every wave's StackSet and of each of its instances, nested stacks included."""
    options = options or DriftOptions()
    started = now_iso()
    aws.verify_account(scope.admin, "StackSet administration")
    # Each StackSet runs one drift operation at a time; different StackSets can run side by side.
    results = fan_out(lambda item: detect_stack_set(aws, scope, item[0], item[1], options, on_event),
                      list(scope.names), options.parallel)
    return DriftReport(scope="all-accounts", started_at=started, stack_sets=tuple(results))


def detect_stack_set(aws: AwsSession, scope: StackSetScope, wave: str, name: str, options: DriftOptions,
                     on_event: OnDriftEvent = ignore) -> StackSetDrift:
    cfn = aws.client("cloudformation", scope.admin)
    region = scope.admin.region
    stack_set = describe_stack_set(cfn, name, scope.call_as)
    if stack_set is None:
        return StackSetDrift(name, region, "NOT_DEPLOYED", reason="the StackSet does not exist")
    try:
        operation_id = start_stack_set_drift(cfn, name, scope.call_as, DRIFT_PREFERENCES)
        on_event(StackSetDetectionStarted(name, operation_id))
        operation = wait_for_stack_set_operation(cfn, name, operation_id, scope.call_as,
                                                 backoff=options.backoff)
    except PayctlError as error:
        return StackSetDrift(name, region, "FAILED", stack_set_id=str(stack_set.get("StackSetId", "")),
                             reason=error.message)
    details = operation.get("StackSetDriftDetectionDetails") or {}
    failures = {(r.get("Account"), r.get("Region")): str(r.get("StatusReason", ""))
                for r in operation_results(cfn, name, operation_id, scope.call_as)
                if r.get("Status") not in ("SUCCEEDED", None)}
    summaries = stack_instances(cfn, name, scope.call_as)
    instances = fan_out(lambda summary: inspect_instance(aws, scope, wave, name, summary, failures, options),
                        summaries, options.parallel)
    on_event(StackSetDetectionFinished(name, str(details.get("DriftStatus", "")),
                                       str(details.get("DriftDetectionStatus", ""))))
    detection_status = str(details.get("DriftDetectionStatus", ""))
    status = str(operation.get("Status", ""))
    outcome: Outcome
    reason = str(operation.get("StatusReason", ""))
    if status != "SUCCEEDED" or detection_status not in ("COMPLETED", ""):
        outcome = "FAILED"
        reason = reason or f"operation {status}, drift detection {detection_status}"
    elif any(instance.outcome == "DRIFTED" for instance in instances):
        outcome = "DRIFTED"
    elif any(instance.outcome == "FAILED" for instance in instances):
        outcome = "FAILED"
        reason = reason or "some instances could not be checked"
    else:
        outcome = "IN_SYNC"
    return StackSetDrift(
        name=name, region=region, outcome=outcome, stack_set_id=str(stack_set.get("StackSetId", "")),
        operation_id=operation_id, operation_status=status,
        drift_status=str(details.get("DriftStatus", "")), detection_status=detection_status, reason=reason,
        counts=tuple((key, int(details.get(key, 0) or 0)) for key in _COUNTERS),
        instances=tuple(sorted(instances, key=lambda i: (i.account_id, i.region))),
    )


def inspect_instance(aws: AwsSession, scope: StackSetScope, wave: str, name: str, summary: dict[str, Any],
                     failures: dict[tuple[Any, Any], str], options: DriftOptions) -> InstanceDrift:
    """The instance as the StackSet saw it, then its stack and nested stacks from its own account."""
    account, region = str(summary.get("Account", "")), str(summary.get("Region", ""))
    env = scope.environment(account)
    stack_id = str(summary.get("StackId", ""))
    reason = failures.get((account, region)) or str(summary.get("StatusReason", "") or "")
    instance = InstanceDrift(
        stack_set=name, account_id=account, environment=env.name if env else None, region=region,
        stack_id=stack_id, status=str(summary.get("Status", "")),
        drift_status=str(summary.get("DriftStatus", "")),
        last_check=iso(summary.get("LastDriftCheckTimestamp")),
        reason=reason,
    )
    if env is None:
        return _with(instance, reason=reason or f"account {account} is no environment in envs/: "
                                              "resource detail unavailable")
    if not stack_id:
        return _with(instance, reason=reason or "the instance has no stack")
    try:
        target = environment_target(env, region)
        aws.verify_account(target, env.name)
        cfn = aws.client("cloudformation", target)
        info = describe_stack(cfn, stack_id)
        if info is None:
            return _with(instance, reason=reason or "the instance's stack no longer exists")
        stacks = [instance_stack(cfn, instance, env.name, wave, info.name)]
        for node in stack_tree(cfn, info).walk():
            if node.path:  # the StackSet's detection did not reach nested stacks: detect them here
                ref = StackRef(env.name, account, region, wave, node.info.name, node.info.stack_id, node.path)
                stacks.append(detect_stack(cfn, ref, options.backoff))
    except PayctlError as error:
        return _with(instance, reason=f"reading the instance in {account}/{region}: {error.message}")
    return _with(instance, stacks=tuple(stacks))


def instance_stack(cfn: Any, instance: InstanceDrift, environment: str, wave: str,
                   stack_name: str) -> StackDrift:
    """The instance stack's results as the StackSet's detection stored them (no new detection)."""
    ref = StackRef(environment, instance.account_id, instance.region, wave, stack_name, instance.stack_id, ())
    drifted, not_checked, in_sync = stored_results(cfn, ref)
    status = instance.drift_status
    outcome: Outcome = "DRIFTED" if status == "DRIFTED" else "IN_SYNC" if status == "IN_SYNC" else "FAILED"
    reason = "" if outcome != "FAILED" else (instance.reason or f"instance drift status {status}")
    return StackDrift(environment, instance.account_id, instance.region, wave, stack_name, instance.stack_id,
                      (), outcome, drift_status=status, reason=reason, checked_at=instance.last_check,
                      drifted=drifted, not_checked=not_checked, in_sync_count=in_sync)


def _with(instance: InstanceDrift, **changes: Any) -> InstanceDrift:
    from dataclasses import replace

    return replace(instance, **changes)
