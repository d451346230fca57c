"""The drift report as JSON (schema version 1, documented in docs/operations.md)."""

from __future__ import annotations

import json
from typing import Any

from payctl.drift.model import DriftReport, InstanceDrift, ResourceDrift, StackDrift, StackSetDrift

SCHEMA_VERSION = 1


def resource_json(resource: ResourceDrift) -> dict[str, Any]:
    return {
        "logicalResourceId": resource.logical_id,
        "resourceType": resource.resource_type,
        "physicalResourceId": resource.physical_id,
        "driftStatus": resource.status,
        "reason": resource.reason or None,
        "propertyDifferences": [
            {"propertyPath": d.path, "expectedValue": d.expected, "actualValue": d.actual,
             "differenceType": d.kind}
            for d in resource.differences
        ],
    }


def stack_json(stack: StackDrift) -> dict[str, Any]:
    return {
        "environment": stack.environment,
        "account": stack.account_id,
        "region": stack.region,
        "wave": stack.wave,
        "stackName": stack.stack_name,
        "stackId": stack.stack_id or None,
        "nestedPath": list(stack.path),
        "outcome": stack.outcome,
        "stackDriftStatus": stack.drift_status or None,
        "detectionStatus": stack.detection_status or None,
        "reason": stack.reason or None,
        "detectionId": stack.detection_id or None,
        "checkedAt": stack.checked_at or None,
        "driftedResourceCount": len(stack.drifted),
        "inSyncResourceCount": stack.in_sync_count,
        "resources": [resource_json(r) for r in stack.drifted],
        "notChecked": [resource_json(r) for r in stack.not_checked],
    }


def instance_json(instance: InstanceDrift) -> dict[str, Any]:
    return {
        "account": instance.account_id,
        "environment": instance.environment,
        "region": instance.region,
        "stackId": instance.stack_id or None,
        "status": instance.status,
        "driftStatus": instance.drift_status or None,
        "outcome": instance.outcome,
        "driftOnlyInNestedStacks": instance.hidden_drift,
        "lastDriftCheck": instance.last_check or None,
        "reason": instance.reason or None,
        "stacks": [stack_json(s) for s in instance.stacks],
    }


def stack_set_json(stack_set: StackSetDrift) -> dict[str, Any]:
    return {
        "stackSetName": stack_set.name,
        "stackSetId": stack_set.stack_set_id or None,
        "region": stack_set.region,
        "outcome": stack_set.outcome,
        "operationId": stack_set.operation_id or None,
        "operationStatus": stack_set.operation_status or None,
        "driftStatus": stack_set.drift_status or None,
        "driftDetectionStatus": stack_set.detection_status or None,
        "reason": stack_set.reason or None,
        "counts": {key[0].lower() + key[1:]: value for key, value in stack_set.counts},
        "instances": [instance_json(i) for i in stack_set.instances],
    }


def report_json(report: DriftReport) -> dict[str, Any]:
    stacks = report.all_stacks()
    checked = [s for s in stacks if s.outcome != "NOT_DEPLOYED"]
    return {
        "schemaVersion": SCHEMA_VERSION,
        "scope": report.scope,
        "startedAt": report.started_at,
        "status": report.status,
        "exitCode": report.exit_code,
        "summary": {
            "stacks": len(checked),
            "inSync": sum(1 for s in checked if s.outcome == "IN_SYNC"),
            "drifted": sum(1 for s in checked if s.outcome == "DRIFTED"),
            "failed": sum(1 for s in checked if s.outcome == "FAILED"),
            "notDeployed": sum(1 for s in stacks if s.outcome == "NOT_DEPLOYED"),
            "driftedResources": sum(len(s.drifted) for s in checked),
            "notCheckedResources": sum(len(s.not_checked) for s in checked),
        },
        "stacks": [stack_json(s) for s in report.stacks],
        "stackSets": [stack_set_json(s) for s in report.stack_sets],
        "notes": list(report.notes),
    }


def dumps(report: DriftReport) -> str:
    return json.dumps(report_json(report), indent=2, sort_keys=False) + "\n"
