"""DynamoDB tables and global tables (version 2019.11.21: one table per replica region)."""

from __future__ import annotations

import uuid
from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.core.common_models import CloudFormationModel
from moto.dynamodb import models as moto_dynamodb  # defines moto's Table model, which ours replaces
from moto.dynamodb.models.table import Table as MotoTable
from moto.kms.models import kms_backends

from .base import Properties, Provider, ResourceError, as_tag_list


def _dynamodb(account_id: str, region_name: str) -> moto_dynamodb.DynamoDBBackend:
    return moto_dynamodb.dynamodb_backends[account_id][region_name]


def _kms_arn(account_id: str, region_name: str, key: str | None) -> str | None:
    """DynamoDB reports the key's ARN whether the template named it by id, alias or ARN."""
    if not key:
        return None
    try:
        kms = kms_backends[account_id][region_name]
        return str(kms.describe_key(kms.any_id_to_key_id(key)).arn)
    except Exception:  # a key of another account or region: keep what was given
        return key


def _sse(
    properties: Properties, account_id: str, region_name: str, key: str | None = None
) -> dict[str, Any] | None:
    """CloudFormation's SSESpecification (SSEEnabled) -> the API's (Enabled)."""
    sse = properties.get("SSESpecification") or {}
    if not sse.get("SSEEnabled"):
        return None
    key_arn = _kms_arn(account_id, region_name, key or sse.get("KMSMasterKeyId")) or _kms_arn(
        account_id, region_name, "alias/aws/dynamodb"
    )
    return {"Enabled": True, "SSEType": sse.get("SSEType", "KMS"), "KMSMasterKeyId": key_arn}


def _streams(properties: Properties) -> dict[str, Any] | None:
    view = (properties.get("StreamSpecification") or {}).get("StreamViewType")
    return {"StreamEnabled": True, "StreamViewType": view} if view else None


def _indexes(properties: Properties, throughput: dict[str, int] | None) -> list[dict[str, Any]]:
    return [
        {"IndexName": i["IndexName"], "KeySchema": i["KeySchema"], "Projection": i["Projection"]}
        | ({"ProvisionedThroughput": i.get("ProvisionedThroughput", throughput)} if throughput else {})
        for i in properties.get("GlobalSecondaryIndexes") or []
    ]


def _create_table(
    account_id: str,
    region_name: str,
    name: str,
    properties: Properties,
    throughput: dict[str, int] | None,
    sse: dict[str, Any] | None,
    tags: list[dict[str, str]],
    deletion_protection: bool,
) -> MotoTable:
    return _dynamodb(account_id, region_name).create_table(
        name,
        schema=properties["KeySchema"],
        throughput=throughput,
        attr=properties["AttributeDefinitions"],
        global_indexes=_indexes(properties, throughput),
        indexes=properties.get("LocalSecondaryIndexes") or [],
        streams=_streams(properties),
        billing_mode=properties.get("BillingMode", "PROVISIONED"),
        sse_specification=sse,
        tags=tags,
        deletion_protection_enabled=deletion_protection,
        warm_throughput=None,
    )


def _apply_table_settings(table: MotoTable, pitr: Properties | None, ttl: Properties | None) -> None:
    backend = _dynamodb(table.account_id, table.region_name)
    backend.update_continuous_backups(
        table.name, {"PointInTimeRecoveryEnabled": bool((pitr or {}).get("PointInTimeRecoveryEnabled"))}
    )
    if ttl:
        backend.update_time_to_live(
            table.name, {"Enabled": ttl["Enabled"], "AttributeName": ttl["AttributeName"]}
        )


def _update_table(
    table: MotoTable, properties: Properties, old: Properties, throughput: dict[str, int] | None
) -> None:
    backend = _dynamodb(table.account_id, table.region_name)
    old_indexes = {i["IndexName"] for i in old.get("GlobalSecondaryIndexes") or []}
    new_indexes = {i["IndexName"]: i for i in _indexes(properties, throughput)}
    index_updates = [{"Delete": {"IndexName": n}} for n in old_indexes - new_indexes.keys()] + [
        {"Create": i} for n, i in new_indexes.items() if n not in old_indexes
    ]
    backend.update_table(
        table.name,
        attr_definitions=properties["AttributeDefinitions"],
        global_index=index_updates,
        throughput=throughput or {"ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        billing_mode=properties.get("BillingMode", "PROVISIONED"),
        stream_spec={}
        if _streams(properties) == _streams(old)
        else _streams(properties) or {"StreamEnabled": False},
        deletion_protection_enabled=None,
        warm_throughput=None,
    )


def _delete_table(account_id: str, region_name: str, name: str) -> None:
    backend = _dynamodb(account_id, region_name)
    if name in backend.tables:
        backend.delete_table(name)  # raises while deletion protection is on, as DynamoDB does


class Table(Provider, CloudFormationModel):
    """Gap: moto's model ignores PointInTimeRecoverySpecification and TimeToLiveSpecification,
    drops SSESpecification (it expects the API's `Enabled`, CloudFormation says `SSEEnabled`)
    and cannot be updated."""

    TYPE = "AWS::DynamoDB::Table"
    NAME_PROPERTY = "TableName"
    REPLACE_ON = frozenset({"KeySchema", "LocalSecondaryIndexes", "ImportSourceSpecification"})
    ATTRIBUTES = frozenset({"Arn", "StreamArn"})

    def create(self) -> None:
        table = _create_table(
            self.account_id,
            self.region_name,
            self.name,
            self.properties,
            self.prop("ProvisionedThroughput"),
            _sse(self.properties, self.account_id, self.region_name),
            self.tag_list(),
            bool(self.prop("DeletionProtectionEnabled", False)),
        )
        self.physical_resource_id = table.name
        _apply_table_settings(
            table, self.prop("PointInTimeRecoverySpecification"), self.prop("TimeToLiveSpecification")
        )
        self._set_attributes(table)

    def _set_attributes(self, table: MotoTable) -> None:
        self.attributes = {"Arn": table.table_arn}
        if table.latest_stream_label:
            self.attributes["StreamArn"] = f"{table.table_arn}/stream/{table.latest_stream_label}"

    def update(self, old: Properties) -> None:
        table = _dynamodb(self.account_id, self.region_name).get_table(self.physical_resource_id)
        _update_table(table, self.properties, old, self.prop("ProvisionedThroughput"))
        table.deletion_protection_enabled = bool(self.prop("DeletionProtectionEnabled", False))
        table.sse_specification = _sse(self.properties, self.account_id, self.region_name)
        table.tags = self.tag_list()
        _apply_table_settings(
            table, self.prop("PointInTimeRecoverySpecification"), self.prop("TimeToLiveSpecification")
        )
        self._set_attributes(table)

    def destroy(self) -> None:
        _delete_table(self.account_id, self.region_name, self.physical_resource_id)


class ReplicaTable(MotoTable):
    """A replica of a global table: describe_table also lists the replicas, as DynamoDB does."""

    replica_regions: list[str] = []

    def describe(self, base_key: str = "TableDescription") -> dict[str, Any]:
        result = super().describe(base_key)
        result[base_key]["GlobalTableVersion"] = "2019.11.21"
        result[base_key]["Replicas"] = [
            {"RegionName": r, "ReplicaStatus": "ACTIVE"} for r in self.replica_regions
        ]
        return result


WRITE_DIMENSION = "dynamodb:table:WriteCapacityUnits"


class GlobalTable(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::DynamoDB::GlobalTable."""

    TYPE = "AWS::DynamoDB::GlobalTable"
    NAME_PROPERTY = "TableName"
    REPLACE_ON = frozenset({"KeySchema", "LocalSecondaryIndexes"})
    ATTRIBUTES = frozenset({"Arn", "StreamArn", "TableId"})

    def _replicas(self) -> dict[str, Properties]:
        return {r["Region"]: r for r in self.prop("Replicas") or []}

    def _validate(self) -> None:
        if self.region_name not in self._replicas():
            raise ResourceError(f"Replicas must include the stack's region {self.region_name}")
        eventual = self.prop("MultiRegionConsistency", "EVENTUAL") == "EVENTUAL"
        if len(self._replicas()) > 1 and eventual and not _streams(self.properties):
            raise ResourceError("StreamSpecification is required for a global table with replicas")

    def _throughput(self, replica: Properties) -> dict[str, int] | None:
        if self.prop("BillingMode", "PROVISIONED") != "PROVISIONED":
            return None
        write = self.prop("WriteProvisionedThroughputSettings") or {}
        scaling = write.get("WriteCapacityAutoScalingSettings") or {}
        read = replica.get("ReadProvisionedThroughputSettings") or {}
        read_scaling = read.get("ReadCapacityAutoScalingSettings") or {}
        return {
            "ReadCapacityUnits": int(read.get("ReadCapacityUnits", read_scaling.get("MinCapacity", 5))),
            "WriteCapacityUnits": int(scaling.get("SeedCapacity", scaling.get("MinCapacity", 5))),
        }

    def _create_replica(self, region: str, replica: Properties) -> None:
        key = (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
        table = _create_table(
            self.account_id,
            region,
            self.name,
            self.properties,
            self._throughput(replica),
            _sse(self.properties, self.account_id, region, key),
            as_tag_list(replica.get("Tags")),
            bool(replica.get("DeletionProtectionEnabled", False)),
        )
        table.__class__ = ReplicaTable  # type: ignore[type-abstract]
        self._configure_replica(region, replica, table)

    def _configure_replica(self, region: str, replica: Properties, table: MotoTable) -> None:
        table.replica_regions = sorted(self._replicas())  # type: ignore[attr-defined]
        _apply_table_settings(
            table, replica.get("PointInTimeRecoverySpecification"), self.prop("TimeToLiveSpecification")
        )
        self._register_write_scaling(region)

    def _register_write_scaling(self, region: str) -> None:
        """DynamoDB manages write autoscaling of a global table through Application Auto Scaling."""
        scaling = (self.prop("WriteProvisionedThroughputSettings") or {}).get(
            "WriteCapacityAutoScalingSettings"
        )
        if not scaling or self.prop("BillingMode", "PROVISIONED") != "PROVISIONED":
            return
        autoscaling, resource = applicationautoscaling_backends[self.account_id][region], f"table/{self.name}"
        role = (
            f"arn:{self.partition}:iam::{self.account_id}:role/aws-service-role/dynamodb.application-autoscaling"
            ".amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
        )
        autoscaling.register_scalable_target(
            "dynamodb",
            resource,
            WRITE_DIMENSION,
            scaling["MinCapacity"],
            scaling["MaxCapacity"],
            role,
            None,  # type: ignore[arg-type]
        )
        tracking = dict(scaling["TargetTrackingScalingPolicyConfiguration"])
        tracking["PredefinedMetricSpecification"] = {
            "PredefinedMetricType": "DynamoDBWriteCapacityUtilization"
        }
        autoscaling.put_scaling_policy(
            f"DynamoDBWriteCapacityUtilization:{resource}",
            "dynamodb",
            resource,
            WRITE_DIMENSION,
            tracking,
            "TargetTrackingScaling",
        )

    def _remove_replica(self, region: str) -> None:
        autoscaling, resource = applicationautoscaling_backends[self.account_id][region], f"table/{self.name}"
        if autoscaling._scalable_target_exists(resource, WRITE_DIMENSION):
            for policy in [p for p in autoscaling.policies.values() if p.resource_id == resource]:
                autoscaling.delete_scaling_policy(policy.policy_name, "dynamodb", resource, WRITE_DIMENSION)
            autoscaling.deregister_scalable_target("dynamodb", resource, WRITE_DIMENSION)
        _delete_table(self.account_id, region, self.name)

    def create(self) -> None:
        self._validate()
        for region, replica in self._replicas().items():
            self._create_replica(region, replica)
        self.physical_resource_id = self.name
        self.attributes["TableId"] = str(uuid.uuid4())
        self._set_attributes()

    def _set_attributes(self) -> None:
        table = _dynamodb(self.account_id, self.region_name).get_table(self.name)
        self.attributes = {"Arn": table.table_arn, "TableId": self.attributes["TableId"]}
        if table.latest_stream_label:
            self.attributes["StreamArn"] = f"{table.table_arn}/stream/{table.latest_stream_label}"

    def update(self, old: Properties) -> None:
        self._validate()
        before = {r["Region"]: r for r in old.get("Replicas") or []}
        after = self._replicas()
        if len(before.keys() ^ after.keys()) > 1:
            raise ResourceError("A global table update can add or remove only one replica at a time")
        for region in before.keys() - after.keys():
            self._remove_replica(region)
        for region, replica in after.items():
            if region not in before:
                self._create_replica(region, replica)
                continue
            table = _dynamodb(self.account_id, region).get_table(self.name)
            _update_table(table, self.properties, old, self._throughput(replica))
            table.deletion_protection_enabled = bool(replica.get("DeletionProtectionEnabled", False))
            table.tags = as_tag_list(replica.get("Tags"))
            self._configure_replica(region, replica, table)
        self._set_attributes()

    def destroy(self) -> None:
        for region in self._replicas():
            self._remove_replica(region)
