"""`payctl drift --notify`: the same SNS messages the drift detector Lambda publishes
(lambdas/drift_detector/handler.py, schemaVersion 1.0), so subscribers and filter policies on the
`type` attribute treat a check from the command line exactly like a scheduled one:

* one `StackDrift` message per drifted stack (nested stacks and StackSet instance stacks included),
* one `DriftDetectionFailed` message listing the stacks whose detection failed,

published to the environment's drift topic, whose ARN the monitoring layer keeps in SSM at
`/{env}/monitoring/drift-topic-arn` in the primary region. The Lambda is a deployable of its own
and is not imported; the shapes are restated here and a test holds the two together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from payctl.drift.model import DriftReport, ResourceDrift, StackDrift

SCHEMA_VERSION = "1.0"
SOURCE = "payctl drift"
SUBJECT_MAX_CHARS = 100
# SNS accepts 262,144 bytes including attributes; leave room for them and the subject.
MESSAGE_BUDGET_BYTES = 256 * 1024 - 6 * 1024
VALUE_MAX_CHARS = 1024
DIFFERENCES_PER_RESOURCE_MAX = 50


def topic_parameter(environment: str) -> str:
    return f"/{environment}/monitoring/drift-topic-arn"


@dataclass(frozen=True)
class Message:
    subject: str
    body: dict[str, Any]
    attributes: dict[str, str]

    @property
    def text(self) -> str:
        return json.dumps(self.body, default=str)


def resource_entry(resource: ResourceDrift) -> dict[str, Any]:
    return {
        "logicalResourceId": resource.logical_id,
        "resourceType": resource.resource_type,
        "physicalResourceId": resource.physical_id,
        "driftStatus": resource.status,
        "propertyDifferences": [
            {"propertyPath": d.path, "expectedValue": d.expected, "actualValue": d.actual,
             "differenceType": d.kind}
            for d in resource.differences
        ],
    }


def stack_drift_message(stack: StackDrift) -> Message:
    body = {
        "schemaVersion": SCHEMA_VERSION,
        "type": "StackDrift",
        "source": SOURCE,
        "environment": stack.environment,
        "account": stack.account_id,
        "region": stack.region,
        "stackName": stack.stack_name,
        "stackId": stack.stack_id,
        "detectionId": stack.detection_id,
        "stackDriftStatus": stack.drift_status or stack.outcome,
        "detectionStatus": stack.detection_status,
        "driftedResourceCount": len(stack.drifted),
        "resources": [resource_entry(r) for r in stack.drifted],
        "truncated": False,
        "omittedResourceCount": 0,
    }
    body = fit_to_sns(body)
    return Message(
        subject=subject_line(
            f"[DRIFT] {stack.environment} {stack.stack_name}: {len(stack.drifted)} resources"),
        body=body,
        attributes={"type": "StackDrift", "stack": stack.stack_name},
    )


def failures_message(environment: str, failures: list[StackDrift]) -> Message:
    body = {
        "schemaVersion": SCHEMA_VERSION,
        "type": "DriftDetectionFailed",
        "source": SOURCE,
        "environment": environment,
        "failures": [
            {"stackName": f.stack_name, "stackId": f.stack_id, "detectionId": f.detection_id or None,
             "detectionStatus": f.detection_status, "reason": f.reason or "CloudFormation gave no reason"}
            for f in failures
        ],
    }
    more = f" and {len(failures) - 1} more" if len(failures) > 1 else ""
    return Message(subject_line(f"[DRIFT CHECK FAILED] {environment} {failures[0].stack_name}{more}"),
                   body, {"type": "DriftDetectionFailed"})


def messages_for(report: DriftReport) -> dict[str, list[Message]]:
    """Environment name -> the messages for its drift topic (environments without findings: none)."""
    by_env: dict[str, list[Message]] = {}
    failures: dict[str, list[StackDrift]] = {}
    for stack in report.all_stacks():
        if stack.outcome == "DRIFTED" or (stack.outcome == "FAILED" and stack.drifted):
            by_env.setdefault(stack.environment, []).append(stack_drift_message(stack))
        if stack.outcome == "FAILED" and stack.stack_id:
            failures.setdefault(stack.environment, []).append(stack)
    for environment, failed in failures.items():
        by_env.setdefault(environment, []).append(failures_message(environment, failed))
    return by_env


def subject_line(text: str) -> str:
    """SNS subjects: printable ASCII, no line breaks, at most 100 characters."""
    clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return clean if len(clean) <= SUBJECT_MAX_CHARS else clean[: SUBJECT_MAX_CHARS - 3] + "..."


def _size(message: dict[str, Any]) -> int:
    return len(json.dumps(message, default=str).encode("utf-8"))


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > VALUE_MAX_CHARS:
        return value[:VALUE_MAX_CHARS] + f"...[{len(value) - VALUE_MAX_CHARS} more characters]"
    return value


def _shortened(resource: dict[str, Any]) -> dict[str, Any]:
    differences = resource.get("propertyDifferences", [])
    kept = [{key: _shorten(value) for key, value in d.items()}
            for d in differences[:DIFFERENCES_PER_RESOURCE_MAX]]
    shortened = {**resource, "propertyDifferences": kept}
    if len(differences) > len(kept):
        shortened["omittedDifferenceCount"] = len(differences) - len(kept)
    return shortened


def fit_to_sns(report: dict[str, Any], budget: int = MESSAGE_BUDGET_BYTES) -> dict[str, Any]:
    """The message cut down to `budget` bytes: long values first, then trailing resources."""
    if _size(report) <= budget:
        return report
    resources = [_shortened(r) for r in report["resources"]]
    shortened = {**report, "resources": resources, "truncated": True}
    if _size(shortened) <= budget:
        return shortened
    low, high = 0, len(resources)
    while low < high:
        middle = (low + high + 1) // 2
        candidate = {**shortened, "resources": resources[:middle],
                     "omittedResourceCount": len(resources) - middle}
        if _size(candidate) <= budget:
            low = middle
        else:
            high = middle - 1
    return {**shortened, "resources": resources[:low], "omittedResourceCount": len(resources) - low}
