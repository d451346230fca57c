"""Aurora: global cluster, cluster, cluster parameter group and cluster member instances."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.rds import models as moto_rds  # defines moto's DBInstance model, which ours replaces

from .base import Properties, Provider, ResourceError


def _backend(account_id: str, region_name: str) -> moto_rds.RDSBackend:
    return moto_rds.rds_backends[account_id][region_name]


def _identifier(name: str) -> str:
    # RDS stores identifiers in lower case; generated names must also stay within 63 characters.
    return name.lower()[:63].rstrip("-")


# moto's global clusters live in its us-east-1 backend, whatever region asks (as its API does).
GLOBAL_CLUSTER_REGION = "us-east-1"


class GlobalCluster(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::RDS::GlobalCluster."""

    TYPE = "AWS::RDS::GlobalCluster"
    NAME_PROPERTY = "GlobalClusterIdentifier"
    REPLACE_ON = frozenset({"SourceDBClusterIdentifier", "StorageEncrypted", "Engine"})
    ATTRIBUTES = frozenset({"GlobalEndpoint.Address"})

    def create(self) -> None:
        source = self.prop("SourceDBClusterIdentifier")
        if source and not source.startswith("arn:"):
            source = _backend(self.account_id, self.region_name).clusters[source.lower()].db_cluster_arn
        cluster = _backend(self.account_id, GLOBAL_CLUSTER_REGION).create_global_cluster(
            global_cluster_identifier=_identifier(self.name),
            source_db_cluster_identifier=source,
            engine=None if source else self.prop("Engine"),
            engine_version=self.prop("EngineVersion"),
            storage_encrypted=self.prop("StorageEncrypted"),
            deletion_protection=self.prop("DeletionProtection"),
        )
        self.physical_resource_id = cluster.global_cluster_identifier
        self.attributes = {"GlobalEndpoint.Address": cluster.endpoint}

    def update(self, old: Properties) -> None:
        cluster = _backend(self.account_id, GLOBAL_CLUSTER_REGION).global_clusters[self.physical_resource_id]
        cluster.deletion_protection = bool(self.prop("DeletionProtection", False))
        cluster.engine_version = self.prop("EngineVersion", cluster.engine_version)

    def destroy(self) -> None:
        backend = _backend(self.account_id, GLOBAL_CLUSTER_REGION)
        if self.physical_resource_id in backend.global_clusters:
            backend.delete_global_cluster(self.physical_resource_id)


class DBCluster(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::RDS::DBCluster."""

    TYPE = "AWS::RDS::DBCluster"
    NAME_PROPERTY = "DBClusterIdentifier"
    REPLACE_ON = frozenset(
        {"AvailabilityZones", "DBSubnetGroupName", "DatabaseName", "EngineMode", "KmsKeyId",
         "PubliclyAccessible", "SnapshotIdentifier", "SourceDBClusterIdentifier", "SourceRegion",
         "StorageEncrypted", "RestoreType", "UseLatestRestorableTime"}
    )  # fmt: skip
    ATTRIBUTES = frozenset(
        {"DBClusterArn", "DBClusterResourceId", "Endpoint.Address", "Endpoint.Port",
         "ReadEndpoint.Address", "MasterUserSecret.SecretArn"}
    )  # fmt: skip

    def create(self) -> None:
        kwargs = self.api_kwargs("Tags", "GlobalClusterIdentifier")
        kwargs["db_cluster_identifier"] = _identifier(self.name)
        kwargs["tags"] = self.tag_list()
        if self.prop("GlobalClusterIdentifier"):
            kwargs["global_cluster_identifier"] = self.prop("GlobalClusterIdentifier").lower()
        cluster = _backend(self.account_id, self.region_name).create_db_cluster(kwargs)
        self.physical_resource_id = cluster.db_cluster_identifier
        self.attributes = {
            "DBClusterArn": cluster.db_cluster_arn,
            "DBClusterResourceId": cluster.db_cluster_resource_id,
            "Endpoint.Address": cluster.endpoint,
            "Endpoint.Port": str(cluster.port),
            "ReadEndpoint.Address": cluster.reader_endpoint,
        }
        if cluster.manage_master_user_password:
            self.attributes["MasterUserSecret.SecretArn"] = cluster.master_user_secret.secret_arn

    def update(self, old: Properties) -> None:
        kwargs = self.api_kwargs(properties=self.changes(old, "Tags"))
        kwargs["db_cluster_identifier"] = self.physical_resource_id
        cluster = _backend(self.account_id, self.region_name).modify_db_cluster(kwargs)
        if self.changed(old, "Tags"):
            _backend(self.account_id, self.region_name).clusters[
                self.physical_resource_id
            ].tags = self.tag_list()
        if cluster.manage_master_user_password:
            self.attributes["MasterUserSecret.SecretArn"] = cluster.master_user_secret.secret_arn

    def destroy(self) -> None:
        backend = _backend(self.account_id, self.region_name)
        cluster = backend.clusters.get(self.physical_resource_id)
        if cluster is None:
            return
        global_id = cluster.global_cluster_identifier
        if cluster.deletion_protection:
            raise ResourceError(f"Cannot delete protected Cluster {self.physical_resource_id}")
        # moto only detaches a member from a global cluster held in the member's own region.
        global_clusters = _backend(self.account_id, GLOBAL_CLUSTER_REGION).global_clusters
        if global_id and global_id in global_clusters and cluster in global_clusters[global_id].members:
            global_clusters[global_id].members.remove(cluster)
        snapshot = None
        if self.deletion_policy == "Snapshot":
            snapshot = f"{self.stack_name}-{self.logical_id}-snapshot-{self.random_suffix()}".lower()
        backend.delete_db_cluster(self.physical_resource_id, snapshot_name=snapshot)


class DBInstance(Provider, CloudFormationModel):
    """Gap: moto's DBInstance model ignores DBClusterIdentifier (and rejects Aurora engines
    without it), so Aurora member instances never join their cluster."""

    TYPE = "AWS::RDS::DBInstance"
    NAME_PROPERTY = "DBInstanceIdentifier"
    REPLACE_ON = frozenset(
        {"CharacterSetName", "DBClusterIdentifier", "DBName", "DBSubnetGroupName", "KmsKeyId",
         "MasterUsername", "SourceRegion", "StorageEncrypted", "Timezone"}
    )  # fmt: skip
    ATTRIBUTES = frozenset({"DBInstanceArn", "DbiResourceId", "Endpoint.Address", "Endpoint.Port"})

    def create(self) -> None:
        backend = _backend(self.account_id, self.region_name)
        kwargs = self.api_kwargs("Tags", "DBClusterIdentifier")
        kwargs["db_instance_identifier"] = _identifier(self.name)
        kwargs["tags"] = self.tag_list()
        if self.prop("DBClusterIdentifier"):
            cluster = backend.clusters[self.prop("DBClusterIdentifier").lower()]
            kwargs["db_cluster_identifier"] = cluster.db_cluster_identifier
            kwargs.setdefault("engine", cluster.engine)
        instance = backend.create_db_instance(kwargs)
        self.physical_resource_id = instance.db_instance_identifier
        self.attributes = {
            "DBInstanceArn": instance.db_instance_arn,
            "DbiResourceId": instance.dbi_resource_id,
            "Endpoint.Address": instance.address,
            "Endpoint.Port": str(instance.port),
        }

    def update(self, old: Properties) -> None:
        kwargs = self.api_kwargs(properties=self.changes(old, "Tags"))
        instance = _backend(self.account_id, self.region_name).modify_db_instance(
            self.physical_resource_id, kwargs
        )
        if self.changed(old, "Tags"):
            instance.tags = self.tag_list()

    def destroy(self) -> None:
        backend = _backend(self.account_id, self.region_name)
        if self.physical_resource_id not in backend.databases:
            return
        # Cluster members never take a final snapshot: the cluster's DeletionPolicy decides.
        standalone_snapshot = self.deletion_policy == "Snapshot" and not self.prop("DBClusterIdentifier")
        backend.delete_db_instance(
            self.physical_resource_id,
            final_db_snapshot_identifier=f"{self.physical_resource_id}-final-{self.random_suffix(6)}"
            if standalone_snapshot
            else None,
            skip_final_snapshot=not standalone_snapshot,
        )


class DBClusterParameterGroup(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation has no AWS::RDS::DBClusterParameterGroup."""

    TYPE = "AWS::RDS::DBClusterParameterGroup"
    NAME_PROPERTY = "DBClusterParameterGroupName"
    REPLACE_ON = frozenset({"Description", "Family"})

    def create(self) -> None:
        group = _backend(self.account_id, self.region_name).create_db_cluster_parameter_group(
            db_cluster_parameter_group_name=_identifier(self.name),
            db_parameter_group_family=self.prop("Family"),
            description=self.prop("Description"),
            tags=self.tag_list(),
        )
        self.physical_resource_id = group.name
        self._apply_parameters()

    def _apply_parameters(self) -> None:
        group = _backend(self.account_id, self.region_name).db_cluster_parameter_groups[
            self.physical_resource_id
        ]
        group.parameters.clear()
        group.update_cluster_parameters(
            {"ParameterName": k, "ParameterValue": str(v), "ApplyMethod": "pending-reboot"}
            for k, v in (self.prop("Parameters") or {}).items()
        )
        group.tags = self.tag_list()

    def update(self, old: Properties) -> None:
        self._apply_parameters()

    def destroy(self) -> None:
        backend = _backend(self.account_id, self.region_name)
        if self.physical_resource_id in backend.db_cluster_parameter_groups:
            backend.delete_db_cluster_parameter_group(self.physical_resource_id)


class DBSubnetGroup(Provider, CloudFormationModel):
    """Gap: moto's model has no physical id, so `Ref` yields a Python object; no updates."""

    TYPE = "AWS::RDS::DBSubnetGroup"
    NAME_PROPERTY = "DBSubnetGroupName"

    def create(self) -> None:
        group = _backend(self.account_id, self.region_name).create_subnet_group(
            _identifier(self.name), self.prop("DBSubnetGroupDescription"), self._subnets(), self.tag_list()
        )
        self.physical_resource_id = group.name

    def _subnets(self) -> list[Any]:
        ec2 = ec2_backends[self.account_id][self.region_name]
        return [ec2.get_subnet(subnet_id) for subnet_id in self.prop("SubnetIds")]

    def update(self, old: Properties) -> None:
        backend = _backend(self.account_id, self.region_name)
        group = backend.modify_db_subnet_group(
            self.physical_resource_id, self.prop("DBSubnetGroupDescription"), self._subnets()
        )
        group.tags = self.tag_list()

    def destroy(self) -> None:
        backend = _backend(self.account_id, self.region_name)
        if self.physical_resource_id in backend.subnet_groups:
            backend.delete_subnet_group(self.physical_resource_id)


class DBParameterGroup(Provider, CloudFormationModel):
    """Gap: moto's model has no physical id (`Ref` yields a Python object), ignores
    DBParameterGroupName and cannot be updated."""

    TYPE = "AWS::RDS::DBParameterGroup"
    NAME_PROPERTY = "DBParameterGroupName"
    REPLACE_ON = frozenset({"Description", "Family"})

    def create(self) -> None:
        group = _backend(self.account_id, self.region_name).create_db_parameter_group(
            {
                "db_parameter_group_name": _identifier(self.name),
                "db_parameter_group_family": self.prop("Family"),
                "description": self.prop("Description"),
                "tags": self.tag_list(),
            }
        )
        self.physical_resource_id = group.name
        self.update({})

    def update(self, old: Properties) -> None:
        group = _backend(self.account_id, self.region_name).db_parameter_groups[self.physical_resource_id]
        group.parameters.clear()
        group.update_parameters(
            {"ParameterName": k, "ParameterValue": str(v), "ApplyMethod": "pending-reboot"}
            for k, v in (self.prop("Parameters") or {}).items()
        )
        group.tags = self.tag_list()

    def destroy(self) -> None:
        backend = _backend(self.account_id, self.region_name)
        if self.physical_resource_id in backend.db_parameter_groups:
            backend.delete_db_parameter_group(self.physical_resource_id)
