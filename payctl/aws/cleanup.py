"""What has to happen before CloudFormation can delete the platform's stacks, and the deletion itself.

* S3: a versioned bucket is deleted only when empty of every version and delete marker; emptied
  in batches of 1,000 (DeleteObjects' limit), page by page.
* DynamoDB: on-demand backups (tables have no DeletionPolicy Snapshot), and per-replica
  deletion protection, which blocks DeleteTable.
* RDS: cluster and global-cluster deletion protection, which fail the stack's delete (the Aurora
  final snapshot itself is CloudFormation's, from `DeletionPolicy: Snapshot`); readers added by
  Aurora Auto Scaling, which are no stack resources and block DeleteDBCluster.
* CloudFormation: termination protection; delete and wait; the reasons when a delete fails.
* KMS: the key a stack deletion schedules for deletion, so it can be named (and rescued).

Nothing here asks for confirmation: payctl.operate.destroy calls these only after the user confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from payctl.aws.errors import aws_errors, error_code, is_stack_missing, translate
from payctl.aws.poll import Backoff, poll
from payctl.errors import DeploymentFailed

DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys per request
AUTOSCALED_READER_PREFIX = "application-autoscaling-"
BUCKET_NOT_EMPTY = "BucketNotEmpty"
STACK_DELETE_BACKOFF = Backoff(first=2.0, factor=1.5, ceiling=20.0, deadline=3600.0)
BACKUP_BACKOFF = Backoff(first=1.0, factor=1.5, ceiling=15.0, deadline=1800.0)


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


# ---- S3 ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmptiedBucket:
    bucket: str
    versions: int = 0
    delete_markers: int = 0
    uploads_aborted: int = 0
    missing: bool = False  # the bucket was already gone


def empty_bucket(s3: Any, bucket: str) -> EmptiedBucket:
    """Delete every object version and delete marker (and abort unfinished multipart uploads).

    Page by page: list up to 1,000 versions and markers, delete them in one DeleteObjects, list
    again from the start. Listing from the start (no key marker) never depends on a marker that the
    previous deletion removed, and stops when the bucket is empty."""
    versions = markers = 0
    try:
        while True:
            page = s3.list_object_versions(Bucket=bucket, MaxKeys=DELETE_BATCH)
            found = [(entry, False) for entry in page.get("Versions", [])]
            found += [(entry, True) for entry in page.get("DeleteMarkers", [])]
            if not found:
                break
            for start in range(0, len(found), DELETE_BATCH):
                chunk = found[start:start + DELETE_BATCH]
                keys = [{"Key": entry["Key"], "VersionId": entry["VersionId"]} for entry, _ in chunk]
                _delete_versions(s3, bucket, keys)
                markers += sum(1 for _, is_marker in chunk if is_marker)
                versions += sum(1 for _, is_marker in chunk if not is_marker)
        aborted = 0
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for upload in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                aborted += 1
    except ClientError as error:
        if error_code(error) == "NoSuchBucket":
            return EmptiedBucket(bucket, versions, markers, missing=True)
        raise translate(error, f"emptying s3://{bucket}") from error
    return EmptiedBucket(bucket, versions, markers, aborted)


class DeletionDenied(DeploymentFailed):
    """S3 refused to delete object versions (a bucket policy or Object Lock forbids it)."""


def stop_access_logging(s3: Any, bucket: str) -> None:
    """Turn off server access logging from a bucket about to be deleted: otherwise emptying and
    deleting it writes log objects into the log bucket after that one was emptied."""
    with aws_errors(f"turning off access logging of {bucket}"):
        try:
            s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
        except ClientError as error:
            if error_code(error) != "NoSuchBucket":
                raise


def delete_bucket_policy(s3: Any, bucket: str) -> None:
    with aws_errors(f"deleting the bucket policy of {bucket}"):
        s3.delete_bucket_policy(Bucket=bucket)


def _delete_versions(s3: Any, bucket: str, objects: list[dict[str, str]]) -> None:
    with aws_errors(f"deleting {len(objects)} object versions from {bucket}"):
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    errors = response.get("Errors", [])
    if errors:
        first = errors[0]
        denied = all(e.get("Code") == "AccessDenied" for e in errors)
        raise (DeletionDenied if denied else DeploymentFailed)(
            f"emptying s3://{bucket}: {len(errors)} of {len(objects)} deletions failed, e.g. "
            f"{first.get('Key')} ({first.get('VersionId')}): {first.get('Code')}: {first.get('Message')}",
            hint="an Object Lock retention or a bucket policy may forbid the deletion")


# ---- DynamoDB ------------------------------------------------------------------------------------


def describe_table(ddb: Any, table: str) -> dict[str, Any] | None:
    try:
        return dict(ddb.describe_table(TableName=table)["Table"])
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise translate(error, f"describing table {table}") from error


def replica_regions(description: dict[str, Any]) -> list[str]:
    """The regions of a global table's replicas (the table's own region is one of them)."""
    return [str(r["RegionName"]) for r in description.get("Replicas", []) if r.get("RegionName")]


def lift_table_protection(ddb: Any, table: str) -> bool:
    """Turn DeletionProtectionEnabled off on this region's table or replica; True if it was on."""
    description = describe_table(ddb, table)
    if description is None or not description.get("DeletionProtectionEnabled"):
        return False
    with aws_errors(f"turning off deletion protection of table {table}"):
        ddb.update_table(TableName=table, DeletionProtectionEnabled=False)
    return True


def recent_backup(ddb: Any, table: str, prefix: str, since: datetime) -> dict[str, Any] | None:
    """An AVAILABLE on-demand backup of the table named with `prefix`, created after `since`
    (a destroy that stopped and runs again keeps the backup it already took)."""
    found: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"TableName": table, "BackupType": "USER", "TimeRangeLowerBound": since}
    with aws_errors(f"listing backups of {table}"):
        while True:
            page = ddb.list_backups(**arguments)
            found.extend(page.get("BackupSummaries", []))
            last = page.get("LastEvaluatedBackupArn")
            if not last:
                break
            arguments["ExclusiveStartBackupArn"] = last
    mine = [b for b in found if str(b.get("BackupName", "")).startswith(prefix)
            and b.get("BackupStatus") == "AVAILABLE"]
    return max(mine, key=lambda b: _iso(b.get("BackupCreationDateTime"))) if mine else None


def create_backup(ddb: Any, table: str, name: str) -> dict[str, Any]:
    """CreateBackup; returns BackupDetails (BackupArn, BackupName, BackupStatus, ...)."""
    with aws_errors(f"backing up table {table}"):
        return dict(ddb.create_backup(TableName=table, BackupName=name)["BackupDetails"])


def wait_for_backup(ddb: Any, backup_arn: str, *, backoff: Backoff = BACKUP_BACKOFF) -> dict[str, Any]:
    """Wait until the backup is AVAILABLE: the table is not deleted before its backup exists."""

    def check() -> dict[str, Any] | None:
        with aws_errors(f"reading backup {backup_arn}"):
            details = ddb.describe_backup(BackupArn=backup_arn)["BackupDescription"]["BackupDetails"]
        status = details.get("BackupStatus")
        if status == "DELETED":
            raise DeploymentFailed(f"backup {backup_arn} was deleted before it became available")
        return dict(details) if status == "AVAILABLE" else None

    return poll(check, what=f"backup {backup_arn}", backoff=backoff)


# ---- RDS -----------------------------------------------------------------------------------------


def describe_cluster(rds: Any, cluster: str) -> dict[str, Any] | None:
    try:
        clusters = rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"]
    except ClientError as error:
        if error_code(error) == "DBClusterNotFoundFault":
            return None
        raise translate(error, f"describing DB cluster {cluster}") from error
    return dict(clusters[0]) if clusters else None


def lift_cluster_protection(rds: Any, cluster: str) -> bool:
    """ModifyDBCluster DeletionProtection=false (applied at once); True if it was on."""
    description = describe_cluster(rds, cluster)
    if description is None or not description.get("DeletionProtection"):
        return False
    with aws_errors(f"turning off deletion protection of DB cluster {cluster}"):
        rds.modify_db_cluster(DBClusterIdentifier=cluster, DeletionProtection=False, ApplyImmediately=True)
    return True


def lift_global_cluster_protection(rds: Any, global_cluster: str) -> bool:
    try:
        found = rds.describe_global_clusters(GlobalClusterIdentifier=global_cluster)["GlobalClusters"]
    except ClientError as error:
        if error_code(error) == "GlobalClusterNotFoundFault":
            return False
        raise translate(error, f"describing global cluster {global_cluster}") from error
    if not found or not found[0].get("DeletionProtection"):
        return False
    with aws_errors(f"turning off deletion protection of global cluster {global_cluster}"):
        rds.modify_global_cluster(GlobalClusterIdentifier=global_cluster, DeletionProtection=False)
    return True


def remove_autoscaled_readers(rds: Any, cluster: str) -> list[str]:
    """Delete the readers Aurora Auto Scaling added (no stack resources; they block DeleteDBCluster)."""
    description = describe_cluster(rds, cluster)
    if description is None:
        return []
    readers = [str(m["DBInstanceIdentifier"]) for m in description.get("DBClusterMembers", [])
               if str(m.get("DBInstanceIdentifier", "")).startswith(AUTOSCALED_READER_PREFIX)]
    for reader in readers:
        with aws_errors(f"deleting autoscaled reader {reader}"):
            rds.delete_db_instance(DBInstanceIdentifier=reader)
    for reader in readers:
        with aws_errors(f"waiting for reader {reader} to be deleted"):
            rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=reader,
                                                       WaiterConfig={"Delay": 30, "MaxAttempts": 60})
    return readers


def final_snapshot(rds: Any, cluster: str, prefix: str) -> dict[str, Any] | None:
    """The newest manual snapshot of `cluster` whose name starts with `prefix` (CloudFormation's
    final snapshot: `<stack name>-snapshot-<logical id>-<random>`, lowercase)."""
    found: list[dict[str, Any]] = []
    try:
        for page in rds.get_paginator("describe_db_cluster_snapshots").paginate(
                DBClusterIdentifier=cluster, SnapshotType="manual"):
            found.extend(page.get("DBClusterSnapshots", []))
    except ClientError as error:
        raise translate(error, f"listing snapshots of {cluster}") from error
    mine = [s for s in found if str(s.get("DBClusterSnapshotIdentifier", "")).startswith(prefix)]
    return max(mine, key=lambda s: _iso(s.get("SnapshotCreateTime"))) if mine else None


# ---- KMS -----------------------------------------------------------------------------------------


def describe_key(kms: Any, key: str) -> dict[str, Any] | None:
    """KeyMetadata of a key id, ARN or alias; None when it does not exist."""
    try:
        return dict(kms.describe_key(KeyId=key)["KeyMetadata"])
    except ClientError as error:
        if error_code(error) == "NotFoundException":
            return None
        raise translate(error, f"describing KMS key {key}") from error


# ---- CloudFormation ------------------------------------------------------------------------------


def lift_termination_protection(cfn: Any, stack: str) -> bool:
    """Turn termination protection off (top-level stacks only carry it); True if it was on."""
    try:
        stacks = cfn.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        if is_stack_missing(error):
            return False
        raise translate(error, f"describing stack {stack}") from error
    if not stacks or not stacks[0].get("EnableTerminationProtection"):
        return False
    with aws_errors(f"turning off termination protection of {stack}"):
        cfn.update_termination_protection(StackName=stack, EnableTerminationProtection=False)
    return True


@dataclass(frozen=True)
class DeleteFailure:
    stack_name: str
    logical_id: str
    resource_type: str
    physical_id: str
    reason: str

    @property
    def bucket_not_empty(self) -> bool:
        return self.resource_type == "AWS::S3::Bucket" and (
            BUCKET_NOT_EMPTY in self.reason or "is not empty" in self.reason)

    def __str__(self) -> str:
        return f"{self.stack_name}/{self.logical_id} ({self.resource_type}): {self.reason}"


def delete_stack(cfn: Any, stack_id: str) -> None:
    with aws_errors(f"deleting stack {stack_id}"):
        cfn.delete_stack(StackName=stack_id)


def stack_status(cfn: Any, stack_id: str) -> tuple[str, str]:
    """(status, reason) of a stack looked up by id (deleted stacks answer DELETE_COMPLETE)."""
    try:
        stacks = cfn.describe_stacks(StackName=stack_id)["Stacks"]
    except ClientError as error:
        if is_stack_missing(error):
            return "DELETE_COMPLETE", ""
        raise translate(error, f"describing stack {stack_id}") from error
    if not stacks:
        return "DELETE_COMPLETE", ""
    return str(stacks[0]["StackStatus"]), str(stacks[0].get("StackStatusReason", ""))


def wait_for_delete(cfn: Any, stack_id: str, *, backoff: Backoff = STACK_DELETE_BACKOFF) -> tuple[str, str]:
    """Poll until the stack is DELETE_COMPLETE or DELETE_FAILED; returns (status, reason)."""

    def check() -> tuple[str, str] | None:
        status, reason = stack_status(cfn, stack_id)
        return (status, reason) if status in ("DELETE_COMPLETE", "DELETE_FAILED") else None

    return poll(check, what=f"deletion of {stack_id}", backoff=backoff)


def delete_failures(cfn: Any, stack_id: str, since: datetime | None = None) -> list[DeleteFailure]:
    """The DELETE_FAILED events of the stack and, recursively, of its nested stacks: the root causes."""
    failures: list[DeleteFailure] = []
    nested: list[str] = []
    try:
        for event in _events_since(cfn, stack_id, since):
            if event.get("ResourceStatus") != "DELETE_FAILED" or event.get("PhysicalResourceId") == stack_id:
                continue
            if event.get("ResourceType") == "AWS::CloudFormation::Stack":
                nested.append(str(event.get("PhysicalResourceId")))
                continue
            failures.append(DeleteFailure(
                str(event.get("StackName", "")), str(event.get("LogicalResourceId")),
                str(event.get("ResourceType")), str(event.get("PhysicalResourceId", "")),
                str(event.get("ResourceStatusReason", ""))))
    except ClientError as error:
        raise translate(error, f"reading the events of {stack_id}") from error
    for child in dict.fromkeys(nested):
        failures.extend(delete_failures(cfn, child, since))
    return list(dict.fromkeys(failures))


def _events_since(cfn: Any, stack_id: str, since: datetime | None) -> list[dict[str, Any]]:
    """Stack events, newest first, down to `since` (events before it belong to earlier operations)."""
    events: list[dict[str, Any]] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack_id):
        for event in page.get("StackEvents", []):
            stamp = event.get("Timestamp")
            if since is not None and isinstance(stamp, datetime) and stamp < since:
                return events
            events.append(event)
    return events


# ---- StackSets -----------------------------------------------------------------------------------


def delete_stack_instances(cfn: Any, name: str, accounts: list[str], regions: list[str], call_as: str,
                           preferences: dict[str, Any]) -> str:
    """DeleteStackInstances (RetainStacks false: the instance stacks are deleted too)."""
    arguments: dict[str, Any] = {"StackSetName": name, "Accounts": accounts, "Regions": regions,
                                 "RetainStacks": False, "CallAs": call_as}
    if preferences:
        arguments["OperationPreferences"] = preferences
    with aws_errors(f"deleting the instances of StackSet {name}"):
        return str(cfn.delete_stack_instances(**arguments)["OperationId"])


def delete_stack_set(cfn: Any, name: str, call_as: str) -> None:
    try:
        cfn.delete_stack_set(StackSetName=name, CallAs=call_as)
    except ClientError as error:
        if error_code(error) == "StackSetNotFoundException":
            return
        raise translate(error, f"deleting StackSet {name}") from error
