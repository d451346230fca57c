"""Drift detector: reports CloudFormation drift of this environment's stacks.

Two triggers:

* an EventBridge schedule (``detail-type: "Scheduled Event"``): lists the environment's stacks
  (status CREATE/UPDATE/UPDATE_ROLLBACK/IMPORT/IMPORT_ROLLBACK_COMPLETE, name starting with
  STACK_NAME_PREFIX; nested stacks are listed on their own, since drift detection on a parent
  never looks inside its children), starts ``DetectStackDrift`` on them with at most
  MAX_IN_FLIGHT detections running at once, polls ``DescribeStackDriftDetectionStatus`` with
  exponential backoff inside the invocation's remaining time, and publishes one report per
  drifted stack;
* a ``CloudFormation Drift Detection Status Change`` event for one of those stacks: DRIFTED is
  reported at once, IN_SYNC publishes nothing.

A detection that fails (DETECTION_FAILED, an API error, or time running out before it finished)
is published as an alert with the reason.

Environment variables
---------------------
ENVIRONMENT_NAME    dev | staging | prod; copied into every message.
STACK_NAME_PREFIX   stacks of this environment start with it, e.g. ``payments-dev-001``.
DRIFT_TOPIC_ARN     SNS topic receiving drift reports (required).
ALERT_TOPIC_ARN     SNS topic receiving detection failures (falls back to DRIFT_TOPIC_ARN).

Drift report (``type: StackDrift``, ``schemaVersion`` 1.0)::

    {"schemaVersion": "1.0", "type": "StackDrift", "environment": "...", "account": "...",
     "region": "...", "stackName": "...", "stackId": "...", "detectionId": "...",
     "stackDriftStatus": "DRIFTED", "detectionStatus": "DETECTION_COMPLETE",
     "driftedResourceCount": 2,
     "resources": [{"logicalResourceId": "...", "resourceType": "...", "physicalResourceId": "...",
                    "driftStatus": "MODIFIED|DELETED",
                    "propertyDifferences": [{"propertyPath": "...", "expectedValue": "...",
                                             "actualValue": "...",
                                             "differenceType": "ADD|REMOVE|NOT_EQUAL"}]}],
     "truncated": false, "omittedResourceCount": 0}

A report larger than SNS allows (256 KiB) is cut down: long values are shortened first, then
trailing resources are left out; ``truncated`` and ``omittedResourceCount`` say so.

Detection failure (``type: DriftDetectionFailed``)::

    {"schemaVersion": "1.0", "type": "DriftDetectionFailed", "environment": "...",
     "failures": [{"stackName": "...", "stackId": "...", "detectionId": "...", "reason": "..."}]}
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

SCHEMA_VERSION = "1.0"
SUBJECT_MAX_CHARS = 100
# SNS accepts 262,144 bytes including message attributes; leave room for those and the subject.
MESSAGE_BUDGET_BYTES = 256 * 1024 - 6 * 1024
VALUE_MAX_CHARS = 1024
DIFFERENCES_PER_RESOURCE_MAX = 50

ELIGIBLE_STATUSES = [
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
]
MAX_IN_FLIGHT = 5
FIRST_POLL_DELAY_S = 2.0
MAX_POLL_DELAY_S = 20.0
# Stop starting detections when less than this remains, and stop polling a little later, so
# the invocation has time to publish what it found.
START_MARGIN_MS = 60_000
POLL_MARGIN_MS = 20_000

_CLIENTS: dict[tuple[str, str | None], Any] = {}
# Drift calls are throttled per account: more attempts, bounded connect and read times.
_RETRIES = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 8})

sleep: Callable[[float], None] = time.sleep


def client(service: str, region: str | None = None) -> Any:
    """One boto3 client per (service, region), created on first use so tests can run under moto."""
    key = (service, region)
    if key not in _CLIENTS:
        # boto3's type stubs want a literal service name; this cache takes any.
        make_client: Any = boto3.client
        _CLIENTS[key] = make_client(service, region_name=region, config=_RETRIES)
    return _CLIENTS[key]


def log(level: str, message: str, **fields: Any) -> None:
    print(json.dumps({"level": level, "message": message, **fields}, default=str), file=sys.stdout)


@dataclass(frozen=True)
class Settings:
    environment: str
    stack_name_prefix: str
    drift_topic_arn: str
    alert_topic_arn: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        drift_topic = env.get("DRIFT_TOPIC_ARN", "")
        return cls(
            environment=env.get("ENVIRONMENT_NAME", ""),
            stack_name_prefix=env.get("STACK_NAME_PREFIX", ""),
            drift_topic_arn=drift_topic,
            alert_topic_arn=env.get("ALERT_TOPIC_ARN") or drift_topic,
        )


@dataclass(frozen=True)
class StackRef:
    stack_id: str
    stack_name: str


@dataclass
class Detection:
    """Outcome of one stack's drift detection."""

    stack: StackRef
    detection_id: str = ""
    detection_status: str = ""
    drift_status: str = ""
    drifted_count: int | None = None
    reason: str = ""
    resources: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.detection_status != "DETECTION_COMPLETE"


# --------------------------------------------------------------------------- pure helpers


def stack_name_from_id(stack_id: str) -> str:
    """``arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/GUID`` -> NAME (a plain name passes through)."""
    if stack_id.startswith("arn:"):
        resource = stack_id.split(":", 5)[-1]
        parts = resource.split("/")
        return parts[1] if len(parts) > 1 else resource
    return stack_id


def arn_account_region(arn: str) -> tuple[str, str]:
    parts = arn.split(":")
    return (parts[4], parts[3]) if len(parts) > 5 else ("", "")


def environment_stacks(summaries: list[dict[str, Any]], prefix: str) -> list[StackRef]:
    """Stacks of this environment among ListStacks summaries, in name order."""
    stacks = [
        StackRef(stack_id=s["StackId"], stack_name=s["StackName"])
        for s in summaries
        if s.get("StackStatus") in ELIGIBLE_STATUSES and s.get("StackName", "").startswith(prefix)
    ]
    return sorted(stacks, key=lambda s: s.stack_name)


def resource_drift(drift: Mapping[str, Any]) -> dict[str, Any]:
    """One DescribeStackResourceDrifts entry, reduced to what a reader acts on."""
    return {
        "logicalResourceId": drift.get("LogicalResourceId"),
        "resourceType": drift.get("ResourceType"),
        "physicalResourceId": drift.get("PhysicalResourceId"),
        "driftStatus": drift.get("StackResourceDriftStatus"),
        "propertyDifferences": [
            {
                "propertyPath": d.get("PropertyPath"),
                "expectedValue": d.get("ExpectedValue"),
                "actualValue": d.get("ActualValue"),
                "differenceType": d.get("DifferenceType"),
            }
            for d in drift.get("PropertyDifferences", [])
        ],
    }


def drift_report(detection: Detection, settings: Settings) -> dict[str, Any]:
    account, region = arn_account_region(detection.stack.stack_id)
    return {
        "schemaVersion": SCHEMA_VERSION,
        "type": "StackDrift",
        "environment": settings.environment,
        "account": account,
        "region": region,
        "stackName": detection.stack.stack_name,
        "stackId": detection.stack.stack_id,
        "detectionId": detection.detection_id,
        "stackDriftStatus": detection.drift_status,
        "detectionStatus": detection.detection_status,
        "driftedResourceCount": (
            detection.drifted_count if detection.drifted_count is not None else len(detection.resources)
        ),
        "resources": detection.resources,
        "truncated": False,
        "omittedResourceCount": 0,
    }


def _encoded_size(message: Mapping[str, Any]) -> int:
    return len(json.dumps(message, default=str).encode("utf-8"))


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > VALUE_MAX_CHARS:
        return value[:VALUE_MAX_CHARS] + f"...[{len(value) - VALUE_MAX_CHARS} more characters]"
    return value


def _shortened_resource(resource: Mapping[str, Any]) -> dict[str, Any]:
    differences = resource.get("propertyDifferences", [])
    kept = [
        {key: _shorten(value) for key, value in difference.items()}
        for difference in differences[:DIFFERENCES_PER_RESOURCE_MAX]
    ]
    shortened = {**resource, "propertyDifferences": kept}
    if len(differences) > len(kept):
        shortened["omittedDifferenceCount"] = len(differences) - len(kept)
    return shortened


def fit_to_sns(report: dict[str, Any], budget: int = MESSAGE_BUDGET_BYTES) -> dict[str, Any]:
    """The report, cut down to at most ``budget`` bytes of JSON if needed."""
    if _encoded_size(report) <= budget:
        return report
    resources = [_shortened_resource(r) for r in report["resources"]]
    shortened = {**report, "resources": resources, "truncated": True}
    if _encoded_size(shortened) <= budget:
        return shortened
    # Keep the longest prefix of resources that fits (binary search over the count).
    low, high = 0, len(resources)
    while low < high:
        middle = (low + high + 1) // 2
        candidate = {
            **shortened,
            "resources": resources[:middle],
            "omittedResourceCount": len(resources) - middle,
        }
        if _encoded_size(candidate) <= budget:
            low = middle
        else:
            high = middle - 1
    return {**shortened, "resources": resources[:low], "omittedResourceCount": len(resources) - low}


def subject_line(text: str) -> str:
    """SNS subjects: printable ASCII, no line breaks, at most 100 characters."""
    clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return clean if len(clean) <= SUBJECT_MAX_CHARS else clean[: SUBJECT_MAX_CHARS - 3] + "..."


# --------------------------------------------------------------------------- AWS calls


def list_environment_stacks(cfn: Any, prefix: str) -> list[StackRef]:
    summaries: list[dict[str, Any]] = []
    for page in cfn.get_paginator("list_stacks").paginate(StackStatusFilter=ELIGIBLE_STATUSES):
        summaries.extend(page.get("StackSummaries", []))
    return environment_stacks(summaries, prefix)


def fetch_resource_drifts(cfn: Any, stack_id: str) -> list[dict[str, Any]]:
    """MODIFIED and DELETED resources of a stack, as found by its latest detection."""
    drifts: list[dict[str, Any]] = []
    token = None
    while True:
        request: dict[str, Any] = {
            "StackName": stack_id,
            "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"],
            "MaxResults": 100,
        }
        if token:
            request["NextToken"] = token
        page = cfn.describe_stack_resource_drifts(**request)
        drifts.extend(resource_drift(d) for d in page.get("StackResourceDrifts", []))
        token = page.get("NextToken")
        if not token:
            return drifts


def _apply_status(detection: Detection, status: Mapping[str, Any]) -> None:
    detection.detection_status = str(status.get("DetectionStatus", ""))
    detection.drift_status = str(status.get("StackDriftStatus", ""))
    detection.reason = str(status.get("DetectionStatusReason", ""))
    count = status.get("DriftedStackResourceCount")
    detection.drifted_count = int(count) if count is not None else None


def detect_all(
    cfn: Any,
    stacks: list[StackRef],
    remaining_ms: Callable[[], int],
    wait: Callable[[float], None],
    on_finished: Callable[[Detection], None],
    max_in_flight: int = MAX_IN_FLIGHT,
) -> list[Detection]:
    """Runs drift detection on every stack, at most ``max_in_flight`` at a time, within the
    time the invocation has left. Stacks never started or still running when time runs out
    come back as failed detections saying so."""
    pending = deque(stacks)
    in_flight: dict[str, Detection] = {}
    done: list[Detection] = []
    delay = FIRST_POLL_DELAY_S
    while pending or in_flight:
        while pending and len(in_flight) < max_in_flight and remaining_ms() > START_MARGIN_MS:
            detection = Detection(stack=pending.popleft())
            try:
                response = cfn.detect_stack_drift(StackName=detection.stack.stack_id)
            except ClientError as error:
                detection.detection_status = "DETECTION_FAILED"
                detection.reason = f"DetectStackDrift failed: {error}"
                done.append(detection)
                on_finished(detection)
                continue
            detection.detection_id = response["StackDriftDetectionId"]
            in_flight[detection.detection_id] = detection
            delay = FIRST_POLL_DELAY_S
        if not in_flight:
            break
        spare_ms = remaining_ms() - POLL_MARGIN_MS
        if spare_ms <= 0:
            break
        wait(min(delay, spare_ms / 1000))
        delay = min(delay * 2, MAX_POLL_DELAY_S)
        for detection_id, detection in list(in_flight.items()):
            try:
                status = cfn.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
            except ClientError as error:
                status = {"DetectionStatus": "DETECTION_FAILED", "DetectionStatusReason": str(error)}
            if status.get("DetectionStatus") == "DETECTION_IN_PROGRESS":
                continue
            _apply_status(detection, status)
            del in_flight[detection_id]
            done.append(detection)
            on_finished(detection)
    for detection in in_flight.values():
        detection.detection_status = "DETECTION_IN_PROGRESS"
        detection.reason = "time ran out before the detection finished; its result will arrive as an event"
        done.append(detection)
    for stack in pending:
        detection = Detection(
            stack=stack, detection_status="NOT_STARTED", reason="time ran out before it started"
        )
        done.append(detection)
    return done


# --------------------------------------------------------------------------- publishing


def publish_drift(detection: Detection, settings: Settings) -> None:
    report = fit_to_sns(drift_report(detection, settings))
    count = report["driftedResourceCount"]
    client("sns").publish(
        TopicArn=settings.drift_topic_arn,
        Subject=subject_line(
            f"[DRIFT] {settings.environment} {detection.stack.stack_name}: {count} resources"
        ),
        Message=json.dumps(report, default=str),
        MessageAttributes={
            "type": {"DataType": "String", "StringValue": "StackDrift"},
            "stack": {"DataType": "String", "StringValue": detection.stack.stack_name},
        },
    )
    log(
        "WARNING",
        "drift published",
        stack=detection.stack.stack_name,
        resources=count,
        truncated=report["truncated"],
    )


def publish_failures(failures: list[Detection], settings: Settings) -> None:
    message = {
        "schemaVersion": SCHEMA_VERSION,
        "type": "DriftDetectionFailed",
        "environment": settings.environment,
        "failures": [
            {
                "stackName": f.stack.stack_name,
                "stackId": f.stack.stack_id,
                "detectionId": f.detection_id or None,
                "detectionStatus": f.detection_status,
                "reason": f.reason or "CloudFormation gave no reason",
            }
            for f in failures
        ],
    }
    first = failures[0].stack.stack_name
    more = f" and {len(failures) - 1} more" if len(failures) > 1 else ""
    client("sns").publish(
        TopicArn=settings.alert_topic_arn,
        Subject=subject_line(f"[DRIFT CHECK FAILED] {settings.environment} {first}{more}"),
        Message=json.dumps(message, default=str),
        MessageAttributes={"type": {"DataType": "String", "StringValue": "DriftDetectionFailed"}},
    )
    log("ERROR", "drift detection failures published", stacks=[f.stack.stack_name for f in failures])


# --------------------------------------------------------------------------- triggers


def run_scheduled(settings: Settings, remaining_ms: Callable[[], int]) -> dict[str, Any]:
    cfn = client("cloudformation")
    stacks = list_environment_stacks(cfn, settings.stack_name_prefix)
    log("INFO", "drift detection started", stacks=[s.stack_name for s in stacks])

    def report_if_drifted(detection: Detection) -> None:
        # Publish as each detection ends, so a run cut short still reports what it found.
        if detection.drift_status == "DRIFTED":
            detection.resources = fetch_resource_drifts(cfn, detection.stack.stack_id)
            publish_drift(detection, settings)

    detections = detect_all(cfn, stacks, remaining_ms, sleep, report_if_drifted)
    failures = [d for d in detections if d.failed]
    if failures:
        publish_failures(failures, settings)
    return {
        "status": "checked",
        "stacks": len(stacks),
        "drifted": sorted(d.stack.stack_name for d in detections if d.drift_status == "DRIFTED"),
        "failed": sorted(d.stack.stack_name for d in failures),
    }


def handle_status_change(detail: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    stack_id = str(detail.get("stack-id", ""))
    stack = StackRef(stack_id=stack_id, stack_name=stack_name_from_id(stack_id))
    if not stack.stack_name.startswith(settings.stack_name_prefix):
        log("INFO", "stack of another environment; ignored", stack=stack.stack_name)
        return {"status": "ignored", "reason": "stack outside this environment", "stack": stack.stack_name}
    status = detail.get("status-details") or {}
    detection = Detection(
        stack=stack,
        detection_id=str(detail.get("stack-drift-detection-id", "")),
        detection_status=str(status.get("detection-status", "")),
        drift_status=str(status.get("stack-drift-status", "")),
    )
    count = (detail.get("drift-detection-details") or {}).get("drifted-stack-resource-count")
    detection.drifted_count = int(count) if isinstance(count, int) and count >= 0 else None
    if detection.detection_status == "DETECTION_IN_PROGRESS":
        return {"status": "ignored", "reason": "detection still running", "stack": stack.stack_name}
    cfn = client("cloudformation")
    if detection.detection_status == "DETECTION_FAILED":
        # The event carries no reason; the detection's status does.
        if detection.detection_id:
            try:
                status_response = cfn.describe_stack_drift_detection_status(
                    StackDriftDetectionId=detection.detection_id
                )
                detection.reason = str(status_response.get("DetectionStatusReason", ""))
            except (ClientError, BotoCoreError) as error:
                detection.reason = f"reason unavailable: {error}"
        publish_failures([detection], settings)
    if detection.drift_status == "DRIFTED":
        detection.resources = fetch_resource_drifts(cfn, stack_id)
        publish_drift(detection, settings)
    return {
        "status": "reported" if detection.drift_status == "DRIFTED" or detection.failed else "in-sync",
        "stack": stack.stack_name,
        "driftStatus": detection.drift_status,
        "detectionStatus": detection.detection_status,
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = Settings.from_env(os.environ)
    detail_type = event.get("detail-type")
    if detail_type == "Scheduled Event":
        return run_scheduled(settings, context.get_remaining_time_in_millis)
    if detail_type == "CloudFormation Drift Detection Status Change":
        return handle_status_change(event.get("detail") or {}, settings)
    log("INFO", "event not handled; ignored", detailType=detail_type, id=event.get("id"))
    return {"status": "ignored", "reason": f"unexpected detail-type {detail_type!r}"}
