"""CloudWatch alarms, CloudTrail trails and AWS Config rules."""

from __future__ import annotations

import json
from typing import Any

from moto.cloudtrail.models import cloudtrail_backends
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.config.models import config_backends
from moto.core.common_models import CloudFormationModel

from .base import Properties, Provider, ResourceError


def _metric_queries(metrics: list[Properties] | None) -> list[MetricDataQuery] | None:
    """Alarm `Metrics` (metric math) as moto's CloudWatch API builds them."""
    if not metrics:
        return None
    queries = []
    for metric in metrics:
        stat = metric.get("MetricStat")
        metric_stat = None
        if stat:
            dimensions = [Dimension(d["Name"], d["Value"]) for d in stat["Metric"].get("Dimensions") or []]
            metric_stat = MetricStat(
                metric=Metric(stat["Metric"]["MetricName"], stat["Metric"].get("Namespace"), dimensions),
                period=stat.get("Period"),
                stat=stat.get("Stat"),
                unit=stat.get("Unit"),
            )
        fields: dict[str, Any] = {
            "label": metric.get("Label"),
            "period": metric.get("Period"),
            "return_data": metric.get("ReturnData"),
            "expression": metric.get("Expression"),
        }
        queries.append(MetricDataQuery(query_id=metric["Id"], metric_stat=metric_stat, **fields))
    return queries


class Alarm(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::CloudWatch::Alarm."""

    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = frozenset({"Arn"})

    def create(self) -> None:
        self.update({})

    def update(self, old: Properties) -> None:
        alarm = cloudwatch_backends[self.account_id][self.region_name].put_metric_alarm(
            name=self.name,
            namespace=self.prop("Namespace"),
            metric_name=self.prop("MetricName"),
            comparison_operator=self.prop("ComparisonOperator"),
            evaluation_periods=int(self.prop("EvaluationPeriods")),
            period=self.prop("Period"),
            threshold=float(self.prop("Threshold", 0)),
            statistic=self.prop("Statistic"),
            description=self.prop("AlarmDescription"),
            dimensions=self.prop("Dimensions") or [],
            alarm_actions=self.prop("AlarmActions") or [],
            metric_data_queries=_metric_queries(self.prop("Metrics")),
            datapoints_to_alarm=self.prop("DatapointsToAlarm"),
            extended_statistic=self.prop("ExtendedStatistic"),
            ok_actions=self.prop("OKActions") or [],
            insufficient_data_actions=self.prop("InsufficientDataActions") or [],
            unit=self.prop("Unit"),
            actions_enabled=bool(self.prop("ActionsEnabled", True)),
            treat_missing_data=self.prop("TreatMissingData"),
            evaluate_low_sample_count_percentile=self.prop("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=self.prop("ThresholdMetricId"),
            tags=self.tag_list(),
        )
        self.physical_resource_id = alarm.name
        self.attributes = {"Arn": alarm.alarm_arn}

    def destroy(self) -> None:
        cloudwatch_backends[self.account_id][self.region_name].delete_alarms([self.physical_resource_id])


class Trail(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::CloudTrail::Trail."""

    TYPE = "AWS::CloudTrail::Trail"
    NAME_PROPERTY = "TrailName"
    ATTRIBUTES = frozenset({"Arn", "SnsTopicArn"})

    def _arguments(self) -> dict[str, Any]:
        return {
            "s3_key_prefix": self.prop("S3KeyPrefix"),
            "sns_topic_name": self.prop("SnsTopicName"),
            "cw_log_group_arn": self.prop("CloudWatchLogsLogGroupArn"),
            "cw_role_arn": self.prop("CloudWatchLogsRoleArn"),
            "kms_key_id": self.prop("KMSKeyId"),
        }

    def create(self) -> None:
        trail = cloudtrail_backends[self.account_id][self.region_name].create_trail(
            name=self.name,
            bucket_name=self.prop("S3BucketName"),
            is_global=bool(self.prop("IncludeGlobalServiceEvents", True)),
            is_multi_region=bool(self.prop("IsMultiRegionTrail", False)),
            log_validation=bool(self.prop("EnableLogFileValidation", False)),
            is_org_trail=bool(self.prop("IsOrganizationTrail", False)),
            tags_list=self.tag_list(),
            **self._arguments(),
        )
        self.physical_resource_id = trail.trail_name
        self._apply_logging_and_selectors()

    def _apply_logging_and_selectors(self) -> None:
        backend = cloudtrail_backends[self.account_id][self.region_name]
        if self.prop("IsLogging"):
            backend.start_logging(self.physical_resource_id)
        else:
            backend.stop_logging(self.physical_resource_id)
        if self.prop("EventSelectors") or self.prop("AdvancedEventSelectors"):
            backend.put_event_selectors(
                self.physical_resource_id,
                self.prop("EventSelectors") or [],
                self.prop("AdvancedEventSelectors") or [],
            )
        trail = backend.get_trail(self.physical_resource_id)
        self.attributes = {"Arn": trail.arn}
        if trail.topic_arn:
            self.attributes["SnsTopicArn"] = trail.topic_arn

    def update(self, old: Properties) -> None:
        cloudtrail_backends[self.account_id][self.region_name].update_trail(
            name=self.physical_resource_id,
            s3_bucket_name=self.prop("S3BucketName"),
            include_global_service_events=bool(self.prop("IncludeGlobalServiceEvents", True)),
            is_multi_region_trail=bool(self.prop("IsMultiRegionTrail", False)),
            enable_log_file_validation=bool(self.prop("EnableLogFileValidation", False)),
            is_organization_trail=bool(self.prop("IsOrganizationTrail", False)),
            **self._arguments(),
        )
        self._apply_logging_and_selectors()

    def destroy(self) -> None:
        backend = cloudtrail_backends[self.account_id][self.region_name]
        if self.physical_resource_id in backend.trails:
            backend.delete_trail(self.physical_resource_id)


class ConfigRule(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::Config::ConfigRule."""

    TYPE = "AWS::Config::ConfigRule"
    NAME_PROPERTY = "ConfigRuleName"
    ATTRIBUTES = frozenset({"Arn", "ConfigRuleId", "Compliance.Type"})

    def create(self) -> None:
        backend = config_backends[self.account_id][self.region_name]
        if not backend.recorders:
            # AWS Config evaluates nothing without a recorder and refuses the rule: why payctl's
            # templates create it only when the environment says a recorder exists.
            raise ResourceError(
                "NoAvailableConfigurationRecorderException: Configuration recorder is not available "
                "to put config rule."
            )
        self.update({})

    def update(self, old: Properties) -> None:
        backend = config_backends[self.account_id][self.region_name]
        rule = {k: v for k, v in self.properties.items() if k not in ("Tags", "InputParameters")}
        rule["ConfigRuleName"] = self.name
        if self.prop("InputParameters") is not None:
            parameters = self.prop("InputParameters")
            rule["InputParameters"] = parameters if isinstance(parameters, str) else json.dumps(parameters)
        backend.put_config_rule(rule, self.tag_list())
        stored = backend.config_rules[self.name]
        self.physical_resource_id = self.name
        self.attributes = {
            "Arn": stored.config_rule_arn,
            "ConfigRuleId": stored.config_rule_id,
            "Compliance.Type": "INSUFFICIENT_DATA",
        }

    def destroy(self) -> None:
        backend = config_backends[self.account_id][self.region_name]
        if self.physical_resource_id in backend.config_rules:
            backend.delete_config_rule(self.physical_resource_id)
