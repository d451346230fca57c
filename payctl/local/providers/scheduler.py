"""EventBridge Scheduler schedules."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.scheduler.models import EventBridgeSchedulerBackend, scheduler_backends

from .base import Properties, Provider


class Schedule(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::Scheduler::Schedule."""

    TYPE = "AWS::Scheduler::Schedule"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = frozenset({"Arn"})

    @property
    def backend(self) -> EventBridgeSchedulerBackend:
        return scheduler_backends[self.account_id][self.region_name]

    def _arguments(self) -> Properties:
        return {
            "description": self.prop("Description"),
            "end_date": self.prop("EndDate"),
            "flexible_time_window": self.prop("FlexibleTimeWindow"),
            "group_name": self.prop("GroupName", "default"),
            "kms_key_arn": self.prop("KmsKeyArn"),
            "name": self.name,
            "schedule_expression": self.prop("ScheduleExpression"),
            "schedule_expression_timezone": self.prop("ScheduleExpressionTimezone"),
            "start_date": self.prop("StartDate"),
            "state": self.prop("State", "ENABLED"),
            "target": self.prop("Target"),
        }

    def create(self) -> None:
        schedule = self.backend.create_schedule(**self._arguments(), action_after_completion=None)
        self.physical_resource_id = self.name
        self.attributes = {"Arn": schedule.arn}

    def update(self, old: Properties) -> None:
        self.backend.update_schedule(**self._arguments())

    def destroy(self) -> None:
        group = self.backend.schedule_groups.get(self.prop("GroupName", "default"))
        if group is not None and self.name in group.schedules:
            self.backend.delete_schedule(group.name, self.name)
