"""Helpers shared by the Lambda tests (tests/lambdas is put on sys.path by its conftest)."""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3

REPO = Path(__file__).resolve().parents[2]
LAMBDAS = REPO / "lambdas"
EVENTS = Path(__file__).resolve().parent / "events"
ACCOUNT = "111111111111"
REGION = "us-east-1"
DR_REGION = "eu-west-1"


def load_handler(name: str) -> ModuleType:
    """A fresh copy of lambdas/<name>/handler.py under a module name of its own."""
    module_name = f"payctl_lambda_{name}"
    spec = importlib.util.spec_from_file_location(module_name, LAMBDAS / name / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is being built.
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_event(name: str, replace: dict[str, str] | None = None) -> dict[str, Any]:
    """A fixture event from tests/lambdas/events, with ids swapped for the ones moto assigned."""
    text = (EVENTS / name).read_text()
    for old, new in (replace or {}).items():
        assert old in text, f"{old!r} not in {name}"
        text = text.replace(old, new)
    event: dict[str, Any] = json.loads(text)
    return event


@dataclass(frozen=True)
class Published:
    subject: str
    message: dict[str, Any]
    attributes: dict[str, str]
    size: int


class TopicReader:
    """An SNS topic with an SQS queue subscribed, to read back what was published.

    Create it inside ``mock_aws`` (the ``aws`` fixture)."""

    def __init__(self, name: str, region: str = REGION) -> None:
        sns = boto3.client("sns", region_name=region)
        self._sqs = boto3.client("sqs", region_name=region)
        self.arn: str = sns.create_topic(Name=name)["TopicArn"]
        self._queue_url = self._sqs.create_queue(QueueName=f"{name}-reader")["QueueUrl"]
        attributes = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])
        sns.subscribe(TopicArn=self.arn, Protocol="sqs", Endpoint=attributes["Attributes"]["QueueArn"])

    def messages(self) -> list[Published]:
        published = []
        while True:
            batch = self._sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return published
            for entry in batch:
                envelope = json.loads(entry["Body"])
                published.append(
                    Published(
                        subject=envelope.get("Subject", ""),
                        message=json.loads(envelope["Message"]),
                        attributes={k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()},
                        size=len(envelope["Message"].encode("utf-8")),
                    )
                )
                self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=entry["ReceiptHandle"])


class LambdaContext:
    """The Lambda runtime's context object; its remaining time follows a clock the test advances."""

    function_name = "payments-lambda-under-test"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def __init__(self, budget_ms: int = 900_000) -> None:
        self.budget_ms = budget_ms
        self.elapsed_ms = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.budget_ms - self.elapsed_ms)

    def sleep(self, seconds: float) -> None:
        self.elapsed_ms += seconds * 1000
