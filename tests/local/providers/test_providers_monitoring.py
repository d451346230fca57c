"""Notifications and monitoring deployed through CloudFormation, read back through their APIs."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from provider_stacks import Stacks, get_att, ref


def publish_policy(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sns:Publish", "Resource": "*"}
        ],
    }


def topic_resources() -> dict[str, Any]:
    return {
        "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "payment-alerts-dev-001"}},
        "OpsEmail": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"TopicArn": ref("Alerts"), "Protocol": "email", "Endpoint": "ops@example.com"},
        },
        "AlertsQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "payment-alerts-dev-001"}},
        "QueueSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": ref("Alerts"),
                "Protocol": "sqs",
                "Endpoint": get_att("AlertsQueue", "Arn"),
                "RawMessageDelivery": True,
                "FilterPolicy": {"severity": ["critical"]},
            },
        },
        "AlertsPolicy": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "Topics": [ref("Alerts")],
                "PolicyDocument": publish_policy("cloudwatch.amazonaws.com"),
            },
        },
        "QueuePolicy": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "Queues": [ref("AlertsQueue")],
                "PolicyDocument": publish_policy("sns.amazonaws.com"),
            },
        },
    }


def test_subscriptions_and_policies(stacks: Stacks) -> None:
    outputs = stacks.create(
        "topics", topic_resources(), {"Email": ref("OpsEmail"), "Policy": ref("AlertsPolicy")}
    )
    sns, sqs = stacks.client("sns"), stacks.client("sqs")
    topic_arn = stacks.physical_id("topics", "Alerts")
    subscriptions = {
        s["Protocol"]: s for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    }
    assert subscriptions["email"]["Endpoint"] == "ops@example.com"
    assert subscriptions["email"]["SubscriptionArn"] == outputs["Email"]
    queue_attributes = sns.get_subscription_attributes(
        SubscriptionArn=subscriptions["sqs"]["SubscriptionArn"]
    )
    assert queue_attributes["Attributes"]["RawMessageDelivery"] == "true"
    assert json.loads(queue_attributes["Attributes"]["FilterPolicy"]) == {"severity": ["critical"]}
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert outputs["Policy"].startswith("topics-AlertsPolicy-")
    url = sqs.get_queue_url(QueueName="payment-alerts-dev-001")["QueueUrl"]
    queue_policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    assert queue_policy["Statement"][0]["Principal"] == {"Service": "sns.amazonaws.com"}


def test_subscription_and_policy_update_delete(stacks: Stacks) -> None:
    resources = topic_resources()
    stacks.create("topics", resources)
    changed = copy.deepcopy(resources)
    changed["OpsEmail"]["Properties"]["Endpoint"] = "oncall@example.com"  # replacement
    changed["AlertsPolicy"]["Properties"]["PolicyDocument"] = publish_policy("events.amazonaws.com")
    del changed["QueuePolicy"]
    stacks.update("topics", changed)
    sns, sqs = stacks.client("sns"), stacks.client("sqs")
    topic_arn = stacks.physical_id("topics", "Alerts")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    endpoints = {s["Endpoint"] for s in subscriptions}
    assert "oncall@example.com" in endpoints and "ops@example.com" not in endpoints
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    url = sqs.get_queue_url(QueueName="payment-alerts-dev-001")["QueueUrl"]
    assert "Policy" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get(
        "Attributes", {}
    )

    stacks.delete("topics")
    assert sns.list_subscriptions()["Subscriptions"] == []


def alarm_resources(threshold: int = 300000) -> dict[str, Any]:
    return {
        "RpoLag": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": "payment-db-global-rpo-lag-dev-001",
                "AlarmDescription": "Aurora global database RPO lag",
                "Namespace": "AWS/RDS",
                "MetricName": "AuroraGlobalDBRPOLag",
                "Dimensions": [{"Name": "DBClusterIdentifier", "Value": "payment-db-cluster-dev-001"}],
                "Statistic": "Maximum",
                "Unit": "Milliseconds",
                "Period": 60,
                "EvaluationPeriods": 5,
                "DatapointsToAlarm": 3,
                "Threshold": threshold,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "breaching",
                "AlarmActions": ["arn:aws:sns:us-east-1:123456789012:payment-alerts-dev-001"],
            },
        }
    }


def test_alarm_create_update_delete(stacks: Stacks) -> None:
    outputs = stacks.create(
        "alarms", alarm_resources(), {"Arn": get_att("RpoLag", "Arn"), "Name": ref("RpoLag")}
    )
    cloudwatch = stacks.client("cloudwatch")
    alarm = cloudwatch.describe_alarms()["MetricAlarms"][0]
    assert outputs == {"Arn": alarm["AlarmArn"], "Name": "payment-db-global-rpo-lag-dev-001"}
    assert (alarm["MetricName"], alarm["Threshold"], alarm["DatapointsToAlarm"]) == (
        "AuroraGlobalDBRPOLag",
        300000,
        3,
    )
    assert alarm["Dimensions"] == [{"Name": "DBClusterIdentifier", "Value": "payment-db-cluster-dev-001"}]
    assert alarm["TreatMissingData"] == "breaching"
    stacks.update("alarms", alarm_resources(threshold=60000))
    assert cloudwatch.describe_alarms()["MetricAlarms"][0]["Threshold"] == 60000
    stacks.delete("alarms")
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []


def test_trail_logs_management_events(stacks: Stacks) -> None:
    resources = {
        "TrailBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "payments-trail-dev-001"}},
        "Trail": {
            "Type": "AWS::CloudTrail::Trail",
            "Properties": {
                "TrailName": "payments-management-dev-001",
                "S3BucketName": ref("TrailBucket"),
                "IsLogging": True,
                "IsMultiRegionTrail": False,
                "EnableLogFileValidation": True,
                "EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}],
            },
        },
    }
    outputs = stacks.create("trail", resources, {"Arn": get_att("Trail", "Arn")})
    cloudtrail = stacks.client("cloudtrail")
    trail = cloudtrail.describe_trails()["trailList"][0]
    assert (trail["TrailARN"], trail["LogFileValidationEnabled"]) == (outputs["Arn"], True)
    assert cloudtrail.get_trail_status(Name="payments-management-dev-001")["IsLogging"] is True
    selectors = cloudtrail.get_event_selectors(TrailName="payments-management-dev-001")["EventSelectors"]
    assert selectors[0]["ReadWriteType"] == "WriteOnly"
    resources["Trail"]["Properties"]["IsLogging"] = False
    stacks.update("trail", resources)
    assert cloudtrail.get_trail_status(Name="payments-management-dev-001")["IsLogging"] is False
    stacks.delete("trail")
    assert cloudtrail.describe_trails()["trailList"] == []


def drift_rule() -> dict[str, Any]:
    return {
        "DriftRule": {
            "Type": "AWS::Config::ConfigRule",
            "Properties": {
                "ConfigRuleName": "payments-stack-drift-dev-001",
                "Source": {"Owner": "AWS", "SourceIdentifier": "CLOUDFORMATION_STACK_DRIFT_DETECTION_CHECK"},
                "InputParameters": {"cloudformationRoleArn": "arn:aws:iam::123456789012:role/drift"},
                "MaximumExecutionFrequency": "TwentyFour_Hours",
            },
        }
    }


def test_config_rule_needs_a_recorder(stacks: Stacks) -> None:
    with pytest.raises(ClientError, match="NoAvailableConfigurationRecorder"):
        stacks.create("rules", drift_rule())
    config = stacks.client("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={"name": "default", "roleARN": "arn:aws:iam::123456789012:role/config"}
    )
    outputs = stacks.create("rules2", drift_rule(), {"Arn": get_att("DriftRule", "Arn")})
    rule = config.describe_config_rules()["ConfigRules"][0]
    assert rule["ConfigRuleArn"] == outputs["Arn"]
    assert rule["Source"]["SourceIdentifier"] == "CLOUDFORMATION_STACK_DRIFT_DETECTION_CHECK"
    assert json.loads(rule["InputParameters"]) == {
        "cloudformationRoleArn": "arn:aws:iam::123456789012:role/drift"
    }
    stacks.delete("rules2")
    assert config.describe_config_rules()["ConfigRules"] == []
