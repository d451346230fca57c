"""CloudWatch Logs log groups."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.logs import models as moto_logs  # defines moto's LogGroup model, which ours replaces

from .base import Properties, Provider, as_tag_list


class LogGroup(Provider, CloudFormationModel):
    """Gap: moto's model drops KmsKeyId (it reads `kmsKeyId`) and cannot be updated (the
    resource is lost from the stack on update)."""

    TYPE = "AWS::Logs::LogGroup"
    NAME_PROPERTY = "LogGroupName"
    ATTRIBUTES = frozenset({"Arn"})

    @property
    def backend(self) -> moto_logs.LogsBackend:
        return moto_logs.logs_backends[self.account_id][self.region_name]

    def create(self) -> None:
        group = self.backend.create_log_group(self.name, self.tag_map(), kmsKeyId=self.prop("KmsKeyId"))
        self.physical_resource_id = group.name
        self.attributes = {"Arn": f"{group.arn}:*"}  # CloudFormation's Arn ends with ":*"
        self.update({})

    def update(self, old: Properties) -> None:
        group = self.backend.groups[self.physical_resource_id]
        if self.prop("RetentionInDays"):
            self.backend.put_retention_policy(group.name, self.prop("RetentionInDays"))
        else:
            self.backend.delete_retention_policy(group.name)
        group.kms_key_id = self.prop("KmsKeyId")
        if old:
            self.backend.untag_resource(group.arn, [t["Key"] for t in as_tag_list(old.get("Tags"))])
            self.backend.tag_resource(group.arn, self.tag_map())

    def destroy(self) -> None:
        if self.physical_resource_id in self.backend.groups:
            self.backend.delete_log_group(self.physical_resource_id)
