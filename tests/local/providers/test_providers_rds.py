"""Aurora global database deployed through CloudFormation, read back through the RDS API."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError
from provider_stacks import Stacks, get_att, ref, vpc_resources

GLOBAL_ID = "payment-db-global-dev-001"


def primary_resources(
    instance_class: str = "db.r5.large", deletion_protection: bool = True
) -> dict[str, Any]:
    resources = vpc_resources()
    resources.update(
        {
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"Description": "payments dev-001"}},
            "SubnetGroup": {
                "Type": "AWS::RDS::DBSubnetGroup",
                "Properties": {
                    "DBSubnetGroupName": "payment-db-subnets-dev-001",
                    "DBSubnetGroupDescription": "data tier",
                    "SubnetIds": [ref("SubnetA"), ref("SubnetB")],
                },
            },
            "ClusterParameters": {
                "Type": "AWS::RDS::DBClusterParameterGroup",
                "Properties": {
                    "Description": "payments",
                    "Family": "aurora-postgresql15",
                    "Parameters": {"rds.force_ssl": "1", "log_min_duration_statement": "500"},
                },
            },
            "GlobalCluster": {
                "Type": "AWS::RDS::GlobalCluster",
                "Properties": {
                    "GlobalClusterIdentifier": GLOBAL_ID,
                    "Engine": "aurora-postgresql",
                    "EngineVersion": "15.4",
                    "StorageEncrypted": True,
                },
            },
            "Cluster": {
                "Type": "AWS::RDS::DBCluster",
                "DependsOn": "GlobalCluster",
                "DeletionPolicy": "Snapshot",
                "Properties": {
                    "DBClusterIdentifier": "payment-db-cluster-dev-001",
                    "GlobalClusterIdentifier": GLOBAL_ID,
                    "Engine": "aurora-postgresql",
                    "EngineVersion": "15.4",
                    "MasterUsername": "payments_admin",
                    "ManageMasterUserPassword": True,
                    "DBSubnetGroupName": ref("SubnetGroup"),
                    "DBClusterParameterGroupName": ref("ClusterParameters"),
                    "StorageEncrypted": True,
                    "KmsKeyId": get_att("Key", "Arn"),
                    "BackupRetentionPeriod": 7,
                    "DeletionProtection": deletion_protection,
                    "Tags": [{"Key": "DataClassification", "Value": "restricted"}],
                },
            },
            "Writer": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "DBInstanceIdentifier": "payment-db-1-dev-001",
                    "DBClusterIdentifier": ref("Cluster"),
                    "Engine": "aurora-postgresql",
                    "DBInstanceClass": instance_class,
                },
            },
            "Reader": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "DBClusterIdentifier": ref("Cluster"),
                    "Engine": "aurora-postgresql",
                    "DBInstanceClass": instance_class,
                    "AvailabilityZone": "us-east-1b",
                },
            },
        }
    )
    return resources


OUTPUTS = {
    "Endpoint": get_att("Cluster", "Endpoint.Address"),
    "ReaderEndpoint": get_att("Cluster", "ReadEndpoint.Address"),
    "Port": get_att("Cluster", "Endpoint.Port"),
    "Secret": get_att("Cluster", "MasterUserSecret.SecretArn"),
    "ClusterArn": get_att("Cluster", "DBClusterArn"),
    "WriterEndpoint": get_att("Writer", "Endpoint.Address"),
}


def cluster(stacks: Stacks, region: str = "us-east-1") -> dict[str, Any]:
    clusters = stacks.client("rds", region).describe_db_clusters()["DBClusters"]
    assert len(clusters) == 1
    return clusters[0]


def test_primary_cluster_with_members_in_a_global_database(stacks: Stacks) -> None:
    outputs = stacks.create("database", primary_resources(), OUTPUTS)
    rds = stacks.client("rds")
    primary = cluster(stacks)
    assert (primary["Engine"], primary["EngineVersion"]) == ("aurora-postgresql", "15.4")
    assert (
        primary["KmsKeyId"]
        == stacks.client("kms").describe_key(KeyId=stacks.physical_id("database", "Key"))["KeyMetadata"][
            "Arn"
        ]
    )
    assert primary["StorageEncrypted"] is True and primary["DeletionProtection"] is True
    assert primary["DBSubnetGroup"] == "payment-db-subnets-dev-001"
    assert primary["MasterUserSecret"]["SecretArn"] == outputs["Secret"]
    assert {"Key": "DataClassification", "Value": "restricted"} in primary["TagList"]
    assert (
        outputs["Endpoint"] == primary["Endpoint"] and outputs["ReaderEndpoint"] == primary["ReaderEndpoint"]
    )
    assert outputs["Port"] == "5432" and outputs["ClusterArn"] == primary["DBClusterArn"]

    members = {m["DBInstanceIdentifier"]: m["IsClusterWriter"] for m in primary["DBClusterMembers"]}
    assert members["payment-db-1-dev-001"] is True and len(members) == 2
    instances = rds.describe_db_instances()["DBInstances"]
    assert {(i["DBInstanceClass"], i["DBClusterIdentifier"]) for i in instances} == {
        ("db.r5.large", "payment-db-cluster-dev-001")
    }
    assert outputs["WriterEndpoint"].startswith("payment-db-1-dev-001.")

    parameters = rds.describe_db_cluster_parameters(
        DBClusterParameterGroupName=primary["DBClusterParameterGroup"]
    )
    assert {p["ParameterName"]: p["ParameterValue"] for p in parameters["Parameters"]}["rds.force_ssl"] == "1"
    global_cluster = rds.describe_global_clusters()["GlobalClusters"][0]
    assert global_cluster["GlobalClusterIdentifier"] == GLOBAL_ID
    assert [m["DBClusterArn"] for m in global_cluster["GlobalClusterMembers"]] == [primary["DBClusterArn"]]


def test_dr_secondary_joins_the_global_database(stacks: Stacks) -> None:
    stacks.create("database", primary_resources())
    secondary = vpc_resources(region="eu-west-1")
    secondary.update(
        {
            "Cluster": {
                "Type": "AWS::RDS::DBCluster",
                "Properties": {
                    "DBClusterIdentifier": "payment-db-cluster-dev-001",
                    "GlobalClusterIdentifier": GLOBAL_ID,
                    "Engine": "aurora-postgresql",
                    "EngineVersion": "15.4",
                    "EnableGlobalWriteForwarding": True,
                },
            },
            "Reader": {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "DBClusterIdentifier": ref("Cluster"),
                    "Engine": "aurora-postgresql",
                    "DBInstanceClass": "db.r5.large",
                },
            },
        }
    )
    stacks.create("database-dr", secondary, region="eu-west-1")
    dr = cluster(stacks, "eu-west-1")
    assert dr["GlobalClusterIdentifier"] == GLOBAL_ID
    members = stacks.client("rds").describe_global_clusters()["GlobalClusters"][0]["GlobalClusterMembers"]
    assert {(m["DBClusterArn"].split(":")[3], m["IsWriter"]) for m in members} == {
        ("us-east-1", True),
        ("eu-west-1", False),
    }
    stacks.delete("database-dr", region="eu-west-1")
    members = stacks.client("rds").describe_global_clusters()["GlobalClusters"][0]["GlobalClusterMembers"]
    assert [m["DBClusterArn"].split(":")[3] for m in members] == ["us-east-1"]


def test_update_changes_class_and_protection_in_place(stacks: Stacks) -> None:
    stacks.create("database", primary_resources())
    cluster_arn = cluster(stacks)["DBClusterArn"]
    stacks.update("database", primary_resources(instance_class="db.r6g.large", deletion_protection=False))
    updated = cluster(stacks)
    assert updated["DBClusterArn"] == cluster_arn  # same cluster
    assert updated["DeletionProtection"] is False
    classes = {i["DBInstanceClass"] for i in stacks.client("rds").describe_db_instances()["DBInstances"]}
    assert classes == {"db.r6g.large"}


def test_delete_keeps_a_final_snapshot_and_removes_the_database(stacks: Stacks) -> None:
    resources = primary_resources(deletion_protection=False)
    stacks.create("database", resources)
    stacks.delete("database")
    rds = stacks.client("rds")
    assert rds.describe_db_clusters()["DBClusters"] == []
    assert rds.describe_db_instances()["DBInstances"] == []
    assert rds.describe_global_clusters()["GlobalClusters"] == []
    snapshots = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    assert [s["DBClusterIdentifier"] for s in snapshots] == ["payment-db-cluster-dev-001"]


def test_deletion_protection_blocks_stack_deletion(stacks: Stacks) -> None:
    stacks.create("database", primary_resources())
    # moto deletes in no particular order: the error is the cluster's or the global cluster's.
    with pytest.raises(ClientError, match=r"DELETE_FAILED (Global)?Cluster"):
        stacks.client("cloudformation").delete_stack(StackName="database")
    assert cluster(stacks)["DBClusterIdentifier"] == "payment-db-cluster-dev-001"


def test_renaming_a_cluster_replaces_it(stacks: Stacks) -> None:
    resources = primary_resources(deletion_protection=False)
    for logical_id in ("GlobalCluster", "Writer", "Reader"):
        del resources[logical_id]
    del resources["Cluster"]["Properties"]["GlobalClusterIdentifier"], resources["Cluster"]["DependsOn"]
    stacks.create("database", resources)
    changed = copy.deepcopy(resources)
    changed["Cluster"]["Properties"]["DBClusterIdentifier"] = "payment-db-cluster-dev-002"
    stacks.update("database", changed)
    assert cluster(stacks)["DBClusterIdentifier"] == "payment-db-cluster-dev-002"
    assert stacks.physical_id("database", "Cluster") == "payment-db-cluster-dev-002"
    # The replaced cluster went with a final snapshot (DeletionPolicy: Snapshot).
    snapshots = stacks.client("rds").describe_db_cluster_snapshots(SnapshotType="manual")[
        "DBClusterSnapshots"
    ]
    assert [s["DBClusterIdentifier"] for s in snapshots] == ["payment-db-cluster-dev-001"]
