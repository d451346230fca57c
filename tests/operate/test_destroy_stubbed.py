"""Destroy's protections and Aurora/KMS handling against Stubber transcripts shaped like AWS's
responses (CloudFormation, RDS, DynamoDB, S3, KMS API references), for what moto does not enforce:
termination protection, cluster and global-cluster deletion protection, per-replica table
protection, autoscaled Aurora readers, CloudFormation's final snapshot, the KMS key a stack deletion
schedules, and DELETE_FAILED root causes in nested stacks (with the BucketNotEmpty retry)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from drift_transcripts import resources, stack, stack_arn, summary
from operate_support import DR, PRIMARY, PROD, Transcript
from rich.console import Console

from payctl.aws.poll import Backoff
from payctl.aws.session import Target
from payctl.aws.stacks import StackInfo
from payctl.operate.destroy import DestroyPlan, Pace, destroy, plan_step
from payctl.operate.inventory import DeployedStack, StackNode
from payctl.ui.status import render_destroy_plan, render_destroy_result

QUICK = Backoff(first=0.001, factor=1.0, ceiling=0.001, deadline=5)
PACE = Pace(stack_delete=QUICK, backup=QUICK)
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

MASTER = "payments-prod-001-primary"
DATABASE = f"{MASTER}-Database-1ABCDEF2GHIJ"
STORAGE = f"{MASTER}-Storage-5UVWXYZ6ABCD"
MASTER_ID = stack_arn(MASTER, "11111111-0000-4000-8000-000000000001", account=PROD)
DATABASE_ID = stack_arn(DATABASE, "22222222-0000-4000-8000-000000000002", account=PROD)
STORAGE_ID = stack_arn(STORAGE, "33333333-0000-4000-8000-000000000003", account=PROD)
CLUSTER = "payment-db-cluster-prod-001"
GLOBAL = "payment-db-global-prod-001"
TABLE = "payment-sessions-prod-001"
BUCKET = "payments-app-artifacts-prod-001-us-east-1-333333333333"
READER = "application-autoscaling-4f5e6d7c-8b9a-4c0d-9e1f-2a3b4c5d6e7f"
SNAPSHOT = "payments-prod-001-primary-database-1abcdef2ghij-snapshot-databasecluster-x4k9q2m7v1ze"
DATABASE_TEMPLATE = """Resources:
  GlobalDatabaseCluster:
    Type: AWS::RDS::GlobalCluster
    DeletionPolicy: Delete
    Properties:
      GlobalClusterIdentifier: !Sub payment-db-global-${EnvironmentSuffix}
  DatabaseCluster:
    Type: AWS::RDS::DBCluster
    DeletionPolicy: Snapshot
    UpdateReplacePolicy: Snapshot
    Properties:
      DBClusterIdentifier: !Sub payment-db-cluster-${EnvironmentSuffix}
"""


def info(name: str, stack_id: str, parent: str | None = None) -> StackInfo:
    return StackInfo(stack_id, name, "UPDATE_COMPLETE", parent_id=parent)


def primary_wave() -> DeployedStack:
    root = StackNode(
        (),
        info(MASTER, MASTER_ID),
        (
            StackNode(("Database",), info(DATABASE, DATABASE_ID, MASTER_ID)),
            StackNode(("Storage",), info(STORAGE, STORAGE_ID, MASTER_ID)),
        ),
    )
    return DeployedStack("prod", PROD, "primary", "primary", PRIMARY, MASTER, Target(PROD, PRIMARY), root)


def cluster(protected: bool, members: list[str]) -> dict[str, Any]:
    return {
        "DBClusters": [
            {
                "DBClusterIdentifier": CLUSTER,
                "Engine": "aurora-postgresql",
                "Status": "available",
                "DeletionProtection": protected,
                "GlobalClusterIdentifier": GLOBAL,
                "DBClusterMembers": [
                    {
                        "DBInstanceIdentifier": m,
                        "IsClusterWriter": i == 0,
                        "DBClusterParameterGroupStatus": "in-sync",
                        "PromotionTier": 1,
                    }
                    for i, m in enumerate(members)
                ],
            }
        ]
    }


def table(protected: bool) -> dict[str, Any]:
    return {
        "Table": {
            "TableName": TABLE,
            "TableStatus": "ACTIVE",
            "DeletionProtectionEnabled": protected,
            "TableArn": f"arn:aws:dynamodb:us-east-1:{PROD}:table/{TABLE}",
            "Replicas": [
                {"RegionName": PRIMARY, "ReplicaStatus": "ACTIVE"},
                {"RegionName": DR, "ReplicaStatus": "ACTIVE"},
            ],
        }
    }


def planning(t: Transcript) -> None:
    """The read-only calls of plan_step: resources, templates where a policy matters, current protection."""
    cfn, rds, ddb = t("cloudformation", PROD, PRIMARY), t("rds", PROD, PRIMARY), t("dynamodb", PROD, PRIMARY)
    cfn.add_response(
        "list_stack_resources",
        resources(
            summary("Database", DATABASE_ID, "AWS::CloudFormation::Stack"),
            summary("Storage", STORAGE_ID, "AWS::CloudFormation::Stack"),
        ),
        {"StackName": MASTER_ID},
    )
    cfn.add_response(
        "list_stack_resources",
        resources(
            summary("GlobalDatabaseCluster", GLOBAL, "AWS::RDS::GlobalCluster"),
            summary("DatabaseCluster", CLUSTER, "AWS::RDS::DBCluster"),
            summary("WriterInstance", "payment-db-writer-prod-001", "AWS::RDS::DBInstance"),
        ),
        {"StackName": DATABASE_ID},
    )
    cfn.add_response(
        "get_template",
        {"TemplateBody": DATABASE_TEMPLATE, "StagesAvailable": ["Original", "Processed"]},
        {"StackName": DATABASE_ID, "TemplateStage": "Original"},
    )
    rds.add_response(
        "describe_db_clusters",
        cluster(True, ["payment-db-writer-prod-001", READER]),
        {"DBClusterIdentifier": CLUSTER},
    )
    cfn.add_response(
        "list_stack_resources",
        resources(
            summary("SessionTable", TABLE, "AWS::DynamoDB::GlobalTable"),
            summary("AppArtifactBucket", BUCKET, "AWS::S3::Bucket"),
        ),
        {"StackName": STORAGE_ID},
    )
    ddb.add_response("describe_table", table(True), {"TableName": TABLE})
    cfn.add_response(
        "describe_stacks", stack(MASTER, MASTER_ID, termination_protection=True), {"StackName": MASTER_ID}
    )


def lifting(t: Transcript) -> None:
    cfn, rds = t("cloudformation", PROD, PRIMARY), t("rds", PROD, PRIMARY)
    cfn.add_response(
        "describe_stacks", stack(MASTER, MASTER_ID, termination_protection=True), {"StackName": MASTER_ID}
    )
    cfn.add_response(
        "update_termination_protection",
        {"StackId": MASTER_ID},
        {"StackName": MASTER_ID, "EnableTerminationProtection": False},
    )
    rds.add_response(
        "describe_db_clusters",
        cluster(True, ["payment-db-writer-prod-001", READER]),
        {"DBClusterIdentifier": CLUSTER},
    )
    rds.add_response(
        "modify_db_cluster",
        {"DBCluster": {"DBClusterIdentifier": CLUSTER, "DeletionProtection": False}},
        {"DBClusterIdentifier": CLUSTER, "DeletionProtection": False, "ApplyImmediately": True},
    )
    rds.add_response(
        "describe_global_clusters",
        {
            "GlobalClusters": [
                {"GlobalClusterIdentifier": GLOBAL, "Engine": "aurora-postgresql", "DeletionProtection": True}
            ]
        },
        {"GlobalClusterIdentifier": GLOBAL},
    )
    rds.add_response(
        "modify_global_cluster",
        {"GlobalCluster": {"GlobalClusterIdentifier": GLOBAL, "DeletionProtection": False}},
        {"GlobalClusterIdentifier": GLOBAL, "DeletionProtection": False},
    )
    for region in (PRIMARY, DR):  # the setting is per replica: every replica region
        ddb = t("dynamodb", PROD, region)
        ddb.add_response("describe_table", table(True), {"TableName": TABLE})
        ddb.add_response(
            "update_table",
            {"TableDescription": {"TableName": TABLE, "DeletionProtectionEnabled": False}},
            {"TableName": TABLE, "DeletionProtectionEnabled": False},
        )


def backing_up(t: Transcript) -> None:
    ddb = t("dynamodb", PROD, PRIMARY)
    arn = f"arn:aws:dynamodb:us-east-1:{PROD}:table/{TABLE}/backup/01740830400000-a1b2c3d4"
    name = f"{TABLE}-payctl-destroy-20260301120000"
    ddb.add_response("describe_table", table(False), {"TableName": TABLE})
    ddb.add_response(
        "list_backups",
        {"BackupSummaries": []},
        {"TableName": TABLE, "BackupType": "USER", "TimeRangeLowerBound": NOW - timedelta(days=1)},
    )
    details = {
        "BackupArn": arn,
        "BackupName": name,
        "BackupStatus": "CREATING",
        "BackupType": "USER",
        "BackupCreationDateTime": NOW,
    }
    ddb.add_response("create_backup", {"BackupDetails": details}, {"TableName": TABLE, "BackupName": name})
    ddb.add_response("describe_backup", {"BackupDescription": {"BackupDetails": details}}, {"BackupArn": arn})
    ddb.add_response(
        "describe_backup",
        {
            "BackupDescription": {
                "BackupDetails": {**details, "BackupStatus": "AVAILABLE", "BackupSizeBytes": 5120}
            }
        },
        {"BackupArn": arn},
    )


def removing_readers(t: Transcript) -> None:
    rds = t("rds", PROD, PRIMARY)
    rds.add_response(
        "describe_db_clusters",
        cluster(False, ["payment-db-writer-prod-001", READER]),
        {"DBClusterIdentifier": CLUSTER},
    )
    rds.add_response(
        "delete_db_instance",
        {"DBInstance": {"DBInstanceIdentifier": READER, "DBInstanceStatus": "deleting"}},
        {"DBInstanceIdentifier": READER},
    )
    rds.add_client_error(
        "describe_db_instances",
        service_error_code="DBInstanceNotFound",
        service_message=f"DBInstance {READER} not found.",
        http_status_code=404,
        expected_params={"DBInstanceIdentifier": READER},
    )


def emptying(t: Transcript) -> None:
    s3 = t("s3", PROD, PRIMARY)
    # Access logging off first, so emptying writes no log objects into the log bucket (empty 200 reply).
    s3.add_response("put_bucket_logging", {}, {"Bucket": BUCKET, "BucketLoggingStatus": {}})
    version = {
        "Key": "lambdas/schema-sync/3f9a.zip",
        "VersionId": "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        "IsLatest": True,
        "LastModified": NOW,
        "Size": 2048,
        "ETag": '"d41d8cd98f00b204e9800998ecf8427e"',
    }
    marker = {
        "Key": "lambdas/schema-sync/3f9a.zip",
        "VersionId": "null",
        "IsLatest": False,
        "LastModified": NOW,
    }
    s3.add_response(
        "list_object_versions",
        {
            "Name": BUCKET,
            "IsTruncated": False,
            "Versions": [version],
            "DeleteMarkers": [marker],
            "MaxKeys": 1000,
        },
        {"Bucket": BUCKET, "MaxKeys": 1000},
    )
    s3.add_response(
        "delete_objects",
        {
            "Deleted": [
                {"Key": version["Key"], "VersionId": version["VersionId"]},
                {"Key": marker["Key"], "VersionId": "null"},
            ]
        },
        {
            "Bucket": BUCKET,
            "Delete": {
                "Objects": [
                    {"Key": version["Key"], "VersionId": version["VersionId"]},
                    {"Key": marker["Key"], "VersionId": "null"},
                ],
                "Quiet": True,
            },
        },
    )
    s3.add_response(
        "list_object_versions",
        {"Name": BUCKET, "IsTruncated": False, "MaxKeys": 1000},
        {"Bucket": BUCKET, "MaxKeys": 1000},
    )
    s3.add_response("list_multipart_uploads", {"Bucket": BUCKET, "IsTruncated": False}, {"Bucket": BUCKET})


def deleting(t: Transcript, final: str = "DELETE_COMPLETE", reason: str = "") -> None:
    cfn = t("cloudformation", PROD, PRIMARY)
    cfn.add_response("delete_stack", {}, {"StackName": MASTER_ID})
    cfn.add_response(
        "describe_stacks", stack(MASTER, MASTER_ID, status="DELETE_IN_PROGRESS"), {"StackName": MASTER_ID}
    )
    answer = stack(MASTER, MASTER_ID, status=final)
    if reason:
        answer["Stacks"][0]["StackStatusReason"] = reason
    cfn.add_response("describe_stacks", answer, {"StackName": MASTER_ID})


def finding_the_snapshot(t: Transcript) -> None:
    t("rds", PROD, PRIMARY).add_response(
        "describe_db_cluster_snapshots",
        {
            "DBClusterSnapshots": [
                {
                    "DBClusterSnapshotIdentifier": "rds:payment-db-cluster-prod-001-2026-02-28-03-10",
                    "DBClusterIdentifier": CLUSTER,
                    "SnapshotCreateTime": NOW - timedelta(days=1),
                    "Status": "available",
                    "SnapshotType": "automated",
                },
                {
                    "DBClusterSnapshotIdentifier": SNAPSHOT,
                    "DBClusterIdentifier": CLUSTER,
                    "SnapshotCreateTime": NOW,
                    "Status": "available",
                    "SnapshotType": "manual",
                    "StorageEncrypted": True,
                    "KmsKeyId": f"arn:aws:kms:us-east-1:{PROD}:key/0f1e2d3c-4b5a-6978-8877-665544332211",
                },
            ]
        },
        {"DBClusterIdentifier": CLUSTER, "SnapshotType": "manual"},
    )


def plan_of(t: Transcript, deployed: DeployedStack) -> DestroyPlan:
    step = plan_step(t.session(), deployed)
    return DestroyPlan("prod", ("prod",), (("primary", (step,)),))


def test_prod_primary_wave_is_unprotected_backed_up_and_deleted_in_order() -> None:
    t = Transcript()
    planning(t)
    plan = plan_of(t, primary_wave())
    step = plan.steps[0]
    assert step.termination_protection and step.buckets == (BUCKET,)
    [aurora] = step.clusters
    assert aurora.snapshot and aurora.protected and aurora.snapshot_prefix == SNAPSHOT.rsplit("-", 1)[0]
    [sessions] = step.tables
    assert sessions.global_table and sessions.replica_regions == (PRIMARY, DR) and sessions.protected
    t.done()  # planning made only the read calls above
    console = Console(width=400, record=True)
    render_destroy_plan(plan, console)
    shown = console.export_text()
    snapshot_line = "CloudFormation takes a final snapshot (DeletionPolicy Snapshot), named "
    assert f"{snapshot_line}{aurora.snapshot_prefix}-<random>" in shown
    assert f"lift deletion protection of table {TABLE} in us-east-1, eu-west-1" in shown

    lifting(t)
    backing_up(t)
    removing_readers(t)
    emptying(t)
    deleting(t)
    finding_the_snapshot(t)
    events: list[str] = []
    result = destroy(
        t.session(),
        plan,
        confirmed=True,
        allow_data_loss=True,
        now=lambda: NOW,
        pace=PACE,
        on_event=lambda e: events.append(f"{e.kind} {e.subject}"),
    )

    t.done()  # every call made, in the transcript's order, per service
    assert result.complete, result.failure
    assert result.lifted == (
        f"termination protection of {MASTER} (us-east-1)",
        f"deletion protection of DB cluster {CLUSTER} (us-east-1)",
        f"deletion protection of global cluster {GLOBAL}",
        f"deletion protection of table {TABLE} (us-east-1)",
        f"deletion protection of table {TABLE} (eu-west-1)",
    )
    [backup] = result.backups
    assert backup.name == f"{TABLE}-payctl-destroy-20260301120000" and backup.region == PRIMARY
    [snapshot] = result.snapshots
    assert (
        snapshot.found and snapshot.name == SNAPSHOT
    )  # the manual one CloudFormation took, not the automated
    kinds = [e.split(" ")[0] for e in events]
    assert kinds.index("backup-taken") < kinds.index("stack-deleting")
    assert kinds.index("readers-removed") < kinds.index("stack-deleting")
    console = Console(width=400, record=True)
    render_destroy_result(result, console)
    summary_text = console.export_text()
    assert (
        f"Aurora final snapshot of {CLUSTER} in us-east-1, taken by CloudFormation: {SNAPSHOT}"
        in summary_text
    )
    assert backup.arn in summary_text


def test_prod_plan_refuses_before_any_change_without_data_loss_flag() -> None:
    import pytest

    from payctl.errors import Refused

    t = Transcript()
    planning(t)
    plan = plan_of(t, primary_wave())
    with pytest.raises(Refused):
        destroy(t.session(), plan, confirmed=True, allow_data_loss=False, pace=PACE)
    t.done()  # no UpdateTerminationProtection, ModifyDBCluster or UpdateTable was called


SECURITY = "payments-prod-001-foundation-Security-9ZYXWVU8TSRQ"
FOUNDATION = "payments-prod-001-foundation"
FOUNDATION_ID = stack_arn(FOUNDATION, "44444444-0000-4000-8000-000000000004", account=PROD)
SECURITY_ID = stack_arn(SECURITY, "55555555-0000-4000-8000-000000000005", account=PROD)
KEY_ID = "0f1e2d3c-4b5a-6978-8877-665544332211"
KEY_ARN = f"arn:aws:kms:us-east-1:{PROD}:key/{KEY_ID}"
KMS_TEMPLATE = """Conditions:
  IsProd: !Equals [!Ref EnvironmentName, prod]
Resources:
  Key:
    Type: AWS::KMS::Key
    DeletionPolicy: Delete
    Properties:
      PendingWindowInDays: !If [IsProd, 30, 7]
"""


def test_foundation_deletion_names_the_scheduled_key_and_how_to_rescue_it() -> None:
    t = Transcript()
    cfn, kms = t("cloudformation", PROD, PRIMARY), t("kms", PROD, PRIMARY)
    root = StackNode(
        (), info(FOUNDATION, FOUNDATION_ID), (StackNode(("Security",), info(SECURITY, SECURITY_ID)),)
    )
    deployed = DeployedStack(
        "prod", PROD, "foundation", "primary", PRIMARY, FOUNDATION, Target(PROD, PRIMARY), root
    )
    cfn.add_response(
        "list_stack_resources",
        resources(summary("Security", SECURITY_ID, "AWS::CloudFormation::Stack")),
        {"StackName": FOUNDATION_ID},
    )
    cfn.add_response(
        "list_stack_resources",
        resources(
            summary("Key", KEY_ID, "AWS::KMS::Key"),
            summary("KeyAlias", "alias/payments-prod-001", "AWS::KMS::Alias"),
        ),
        {"StackName": SECURITY_ID},
    )
    cfn.add_response(
        "get_template",
        {"TemplateBody": KMS_TEMPLATE},
        {"StackName": SECURITY_ID, "TemplateStage": "Original"},
    )
    cfn.add_response("describe_stacks", stack(FOUNDATION, FOUNDATION_ID), {"StackName": FOUNDATION_ID})
    step = plan_step(t.session(), deployed)
    [key] = step.keys
    assert key.pending_days == "7-30"  # the template decides by condition; KMS says the date afterwards

    cfn.add_response("describe_stacks", stack(FOUNDATION, FOUNDATION_ID), {"StackName": FOUNDATION_ID})
    metadata = {
        "KeyId": KEY_ID,
        "Arn": KEY_ARN,
        "KeyState": "Enabled",
        "Enabled": True,
        "KeyManager": "CUSTOMER",
    }
    kms.add_response("describe_key", {"KeyMetadata": metadata}, {"KeyId": KEY_ID})
    cfn.add_response("delete_stack", {}, {"StackName": FOUNDATION_ID})
    cfn.add_response(
        "describe_stacks",
        stack(FOUNDATION, FOUNDATION_ID, status="DELETE_COMPLETE"),
        {"StackName": FOUNDATION_ID},
    )
    deletion = NOW + timedelta(days=30)
    kms.add_response(
        "describe_key",
        {
            "KeyMetadata": {
                **metadata,
                "KeyState": "PendingDeletion",
                "Enabled": False,
                "DeletionDate": deletion,
            }
        },
        {"KeyId": KEY_ARN},
    )
    plan = DestroyPlan("prod", ("prod",), (("foundation", (step,)),))

    result = destroy(t.session(), plan, confirmed=True, allow_data_loss=True, now=lambda: NOW, pace=PACE)

    t.done()
    [scheduled] = result.keys
    assert scheduled.arn == KEY_ARN and scheduled.deletion_date == deletion.isoformat()
    console = Console(width=400, record=True)
    render_destroy_result(result, console)
    text = console.export_text()
    assert f"aws kms cancel-key-deletion --key-id {KEY_ARN} --region us-east-1" in text
    assert f"aws kms enable-key --key-id {KEY_ARN} --region us-east-1" in text
    assert f"deleted on {deletion.isoformat()}" in text


def _event(
    stack_name: str,
    stack_id: str,
    logical: str,
    kind: str,
    physical: str,
    status: str,
    reason: str,
    when: datetime,
) -> dict[str, Any]:
    return {
        "StackId": stack_id,
        "EventId": f"{logical}-{status}-{when.timestamp()}",
        "StackName": stack_name,
        "LogicalResourceId": logical,
        "PhysicalResourceId": physical,
        "ResourceType": kind,
        "Timestamp": when,
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
    }


def failed_delete(t: Transcript, storage_reason: str, when: datetime) -> None:
    """DeleteStack ends DELETE_FAILED: the root cause is an event of the nested Storage stack."""
    deleting(t, final="DELETE_FAILED", reason="The following resource(s) failed to delete: [Storage].")
    cfn = t("cloudformation", PROD, PRIMARY)
    cfn.add_response(
        "describe_stack_events",
        {
            "StackEvents": [
                _event(
                    MASTER,
                    MASTER_ID,
                    MASTER,
                    "AWS::CloudFormation::Stack",
                    MASTER_ID,
                    "DELETE_FAILED",
                    "The following resource(s) failed to delete: [Storage].",
                    when,
                ),
                _event(
                    MASTER,
                    MASTER_ID,
                    "Storage",
                    "AWS::CloudFormation::Stack",
                    STORAGE_ID,
                    "DELETE_FAILED",
                    "Embedded stack was not successfully deleted",
                    when,
                ),
                _event(
                    MASTER,
                    MASTER_ID,
                    MASTER,
                    "AWS::CloudFormation::Stack",
                    MASTER_ID,
                    "DELETE_IN_PROGRESS",
                    "User Initiated",
                    when,
                ),
                _event(
                    MASTER,
                    MASTER_ID,
                    MASTER,
                    "AWS::CloudFormation::Stack",
                    MASTER_ID,
                    "UPDATE_COMPLETE",
                    "",
                    when - timedelta(days=3),
                ),  # an earlier operation: not read further
            ]
        },
        {"StackName": MASTER_ID},
    )
    cfn.add_response(
        "describe_stack_events",
        {
            "StackEvents": [
                _event(
                    STORAGE,
                    STORAGE_ID,
                    "AppArtifactBucket",
                    "AWS::S3::Bucket",
                    BUCKET,
                    "DELETE_FAILED",
                    storage_reason,
                    when,
                ),
            ]
        },
        {"StackName": STORAGE_ID},
    )


def simple_wave() -> tuple[Transcript, DestroyPlan]:
    """The primary wave reduced to its bucket: no database, no table."""
    t = Transcript()
    root = StackNode(
        (), info(MASTER, MASTER_ID), (StackNode(("Storage",), info(STORAGE, STORAGE_ID, MASTER_ID)),)
    )
    deployed = DeployedStack("dev", PROD, "primary", "primary", PRIMARY, MASTER, Target(PROD, PRIMARY), root)
    cfn = t("cloudformation", PROD, PRIMARY)
    cfn.add_response(
        "list_stack_resources",
        resources(summary("Storage", STORAGE_ID, "AWS::CloudFormation::Stack")),
        {"StackName": MASTER_ID},
    )
    cfn.add_response(
        "list_stack_resources",
        resources(summary("AppArtifactBucket", BUCKET, "AWS::S3::Bucket")),
        {"StackName": STORAGE_ID},
    )
    cfn.add_response("describe_stacks", stack(MASTER, MASTER_ID), {"StackName": MASTER_ID})
    step = plan_step(t.session(), deployed)
    cfn.add_response("describe_stacks", stack(MASTER, MASTER_ID), {"StackName": MASTER_ID})  # no protection
    return t, DestroyPlan("dev", ("dev",), (("primary", (step,)),))


def test_bucket_refilled_during_deletion_is_emptied_again_and_deleted() -> None:
    t, plan = simple_wave()
    now = datetime.now(UTC)
    emptying(t)
    failed_delete(
        t,
        'Resource handler returned message: "The bucket you tried to delete is not empty '
        '(Service: S3, Status Code: 409, Request ID: 6Z1X8Q)" (RequestToken: a1, HandlerErrorCode: '
        "GeneralServiceException)",
        now,
    )
    emptying(t)
    deleting(t)

    events: list[str] = []
    result = destroy(t.session(), plan, confirmed=True, pace=PACE, on_event=lambda e: events.append(e.kind))

    t.done()
    assert result.complete, result.failure
    assert events.count("stack-deleting") == 2 and "retrying" in events


def test_a_failed_delete_stops_with_the_nested_root_cause() -> None:
    t, plan = simple_wave()
    now = datetime.now(UTC)
    emptying(t)
    reason = 'Resource handler returned message: "Access Denied (Service: S3, Status Code: 403)"'
    failed_delete(t, reason, now)

    result = destroy(t.session(), plan, confirmed=True, pace=PACE)

    t.done()
    assert not result.complete and result.deleted == ()
    assert f"{STORAGE}/AppArtifactBucket (AWS::S3::Bucket): {reason}" in result.failure
    assert "run `payctl destroy` again" in result.failure
