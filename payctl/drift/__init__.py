"""Drift: what changed in AWS outside CloudFormation, for an environment's stacks (nested stacks
included) or for every account through the platform's StackSets.

    report = detect_environment(aws, rendered)            # starts detections, waits, reads results
    report = detect_all_accounts(aws, stack_set_scope(...))
    known = last_known_drift(aws, target, stack_ids)      # stored results only, for plan
    publish_report(aws, report, environments)             # --notify
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payctl.drift.detect import DriftOptions, detect_environment
from payctl.drift.events import DriftEvent, NotificationPublished, OnDriftEvent, ignore
from payctl.drift.known import DriftWarning, KnownDrift, last_known_drift, plan_drift_warnings
from payctl.drift.model import (
    DriftReport,
    InstanceDrift,
    PropertyDifference,
    ResourceDrift,
    StackDrift,
    StackSetDrift,
)
from payctl.drift.serialize import dumps, report_json
from payctl.drift.stacksets import detect_all_accounts

if TYPE_CHECKING:
    from payctl.aws.session import AwsSession
    from payctl.config import Environments


def publish_report(aws: AwsSession, report: DriftReport, environments: Environments,
                   on_event: OnDriftEvent = ignore) -> int:
    """Publish each environment's findings to its drift topic; returns the number of messages.
    Nothing is published for an environment whose stacks are all in sync."""
    from payctl.aws.drift import publish
    from payctl.aws.parameters import read_string
    from payctl.drift.notify import messages_for, topic_parameter
    from payctl.errors import PayctlError
    from payctl.operate.inventory import environment_target

    sent = 0
    for name, messages in messages_for(report).items():
        env = environments[name]
        target = environment_target(env, env.regions.primary)
        topic = read_string(aws.client("ssm", target), topic_parameter(name))
        if not topic:
            raise PayctlError(f"{name}: no drift topic at {topic_parameter(name)} in {env.regions.primary}",
                              hint="deploy the foundation wave (monitoring topics) first")
        sns = aws.client("sns", target)
        for message in messages:
            publish(sns, topic, message.subject, message.text, message.attributes)
        sent += len(messages)
        on_event(NotificationPublished(name, topic, len(messages)))
    return sent


__all__ = [
    "DriftEvent", "DriftOptions", "DriftReport", "DriftWarning", "InstanceDrift", "KnownDrift",
    "OnDriftEvent",
    "PropertyDifference", "ResourceDrift", "StackDrift", "StackSetDrift", "detect_all_accounts",
    "detect_environment", "dumps", "ignore", "last_known_drift", "plan_drift_warnings", "publish_report",
    "report_json",
]
