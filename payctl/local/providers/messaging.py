"""SNS subscriptions and topic policies, SQS queue policies."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.sns.models import SNSBackend, sns_backends
from moto.sqs.models import SQSBackend, sqs_backends

from .base import Properties, Provider

# Subscription properties that are subscription attributes in the SNS API.
SUBSCRIPTION_ATTRIBUTES = (
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "ReplayPolicy",
    "SubscriptionRoleArn",
)


def _attribute_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else json.dumps(value)


def _sns(resource: Provider, arn: str | None = None) -> SNSBackend:
    # A topic's region is in its ARN; a subscription lives in its topic's region.
    region = arn.split(":")[3] if arn else resource.region_name
    return sns_backends[resource.account_id][region]


class Subscription(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::SNS::Subscription."""

    TYPE = "AWS::SNS::Subscription"
    REPLACE_ON = frozenset({"Endpoint", "Protocol", "TopicArn"})
    ATTRIBUTES = frozenset({"Arn"})

    def create(self) -> None:
        topic = self.prop("TopicArn")
        subscription = _sns(self, topic).subscribe(topic, self.prop("Endpoint"), self.prop("Protocol"))
        self.physical_resource_id = subscription.arn
        self.attributes = {"Arn": subscription.arn}
        self.update({})

    def update(self, old: Properties) -> None:
        backend = _sns(self, self.prop("TopicArn"))
        for name in SUBSCRIPTION_ATTRIBUTES:
            if self.prop(name) is not None:
                backend.set_subscription_attributes(
                    self.physical_resource_id, name, _attribute_value(self.prop(name))
                )
            elif old.get(name) is not None:
                backend.set_subscription_attributes(self.physical_resource_id, name, "")

    def destroy(self) -> None:
        backend = _sns(self, self.prop("TopicArn"))
        if self.physical_resource_id in backend.subscriptions:
            backend.unsubscribe(self.physical_resource_id)


class TopicPolicy(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::SNS::TopicPolicy."""

    TYPE = "AWS::SNS::TopicPolicy"
    ATTRIBUTES = frozenset({"Id"})

    def create(self) -> None:
        self.physical_resource_id = f"{self.stack_name}-{self.logical_id}-{self.random_suffix(13).upper()}"
        self.attributes = {"Id": self.physical_resource_id}
        self.update({})

    def update(self, old: Properties) -> None:
        for topic in set(old.get("Topics") or []) - set(self.prop("Topics") or []):
            self._reset(topic)
        document = _attribute_value(self.prop("PolicyDocument"))
        for topic in self.prop("Topics") or []:
            _sns(self, topic).set_topic_attribute(topic, "policy", document)

    def _reset(self, topic_arn: str) -> None:
        """SNS gives a topic back its default policy when the template's is removed."""
        backend = _sns(self, topic_arn)
        if topic_arn in backend.topics:
            topic = backend.topics[topic_arn]
            topic._policy_json = topic._create_default_topic_policy(
                backend.region_name, self.account_id, topic.name
            )

    def destroy(self) -> None:
        for topic in self.prop("Topics") or []:
            self._reset(topic)


def _sqs(resource: Provider, queue_url: str) -> tuple[SQSBackend, str]:
    # https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (moto also answers localhost-style URLs)
    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    region = next((part for part in queue_url.split(".") if part.count("-") == 2), resource.region_name)
    return sqs_backends[resource.account_id][region], name


class QueuePolicy(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::SQS::QueuePolicy."""

    TYPE = "AWS::SQS::QueuePolicy"
    ATTRIBUTES = frozenset({"Id"})

    def create(self) -> None:
        self.physical_resource_id = f"{self.stack_name}-{self.logical_id}-{self.random_suffix(13).upper()}"
        self.attributes = {"Id": self.physical_resource_id}
        self.update({})

    def update(self, old: Properties) -> None:
        for url in set(old.get("Queues") or []) - set(self.prop("Queues") or []):
            self._set(url, "")
        for url in self.prop("Queues") or []:
            self._set(url, _attribute_value(self.prop("PolicyDocument")))

    def _set(self, queue_url: str, policy: str) -> None:
        backend, name = _sqs(self, queue_url)
        if name in backend.queues:
            backend.set_queue_attributes(name, {"Policy": policy})

    def destroy(self) -> None:
        for url in self.prop("Queues") or []:
            self._set(url, "")
