"""`destroy` against moto: real versioned buckets with more than 1,000 versions and delete markers
emptied in batches, tables backed up before deletion, waves deleted in reverse order, protections
lifted only after confirmation, a stop at the first failure and a rerun that continues."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from operate_support import DR, PRIMARY, deploy, physical_id

from payctl.automation import Workspace
from payctl.aws.session import AwsSession
from payctl.errors import Refused
from payctl.operate.destroy import DestroyEvent

Hook = tuple[str, Callable[..., Any]]


def session_with(*hooks: Hook) -> AwsSession:
    return AwsSession(event_hooks=list(hooks))


def recorder(calls: list[dict[str, Any]]) -> Callable[..., None]:
    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(params)

    return record


def refuse(stack_name: str, code: str, message: str) -> Callable[..., Any]:
    """Answer DeleteStack for one stack with an AWS error, as CloudFormation would refuse it."""

    def answer(params: dict[str, Any], **_: Any) -> Any:
        if stack_name in str(params.get("body")):  # the serialized request: Action=DeleteStack&StackName=...
            body = {
                "Error": {"Code": code, "Message": message, "Type": "Sender"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return AWSResponse("https://cloudformation.us-east-1.amazonaws.com/", 400, {}, None), body
        return None

    return answer


def fill_bucket(bucket: str, *, keys: int, versions_per_key: int, markers_per_key: int) -> tuple[int, int]:
    """Versions and delete markers, as months of writes and deletes leave them."""
    s3 = boto3.client("s3", region_name=PRIMARY)
    for key in range(keys):
        for version in range(versions_per_key):
            s3.put_object(Bucket=bucket, Key=f"statements/{key:03d}.csv", Body=f"v{version}".encode())
        for _ in range(markers_per_key):
            s3.delete_object(Bucket=bucket, Key=f"statements/{key:03d}.csv")
    return keys * versions_per_key, keys * markers_per_key


def stack_names(region: str) -> list[str]:
    cfn = boto3.client("cloudformation", region_name=region)
    return sorted(
        s["StackName"]
        for s in cfn.describe_stacks()["Stacks"]
        if "-" in s["StackName"] and s["StackName"].count("-") == 3
    )


def test_destroy_empties_backs_up_and_deletes_in_reverse_wave_order(
    moto_dev: None, workspace_root: Path
) -> None:
    deploy(workspace_root)
    bucket = physical_id(PRIMARY, "payments-dev-001-primary-Data", "DocumentBucket")
    versions, markers = fill_bucket(bucket, keys=6, versions_per_key=200, markers_per_key=40)
    assert versions + markers == 1440
    deletions: list[dict[str, Any]] = []
    deleted_stacks: list[dict[str, Any]] = []
    aws = session_with(
        ("provide-client-params.s3.DeleteObjects", recorder(deletions)),
        ("provide-client-params.cloudformation.DeleteStack", recorder(deleted_stacks)),
    )
    workspace = Workspace(workspace_root, search=False, aws=aws)
    events: list[DestroyEvent] = []

    plan = workspace.environment("dev").destroy_plan()
    assert [wave for wave, _steps in plan.waves] == ["primary", "foundation"]
    [primary] = plan.waves[0][1]
    assert primary.buckets == (bucket,)
    assert [(t.name, t.protected) for t in primary.tables] == [("sessions-dev-001", True)]
    # Reading the plan changed nothing: the table is still protected.
    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    assert ddb.describe_table(TableName="sessions-dev-001")["Table"]["DeletionProtectionEnabled"] is True

    result = workspace.destroy(plan, confirmed=True, on_event=events.append)

    assert result.complete, result.failure
    # Every version and delete marker went, 1,000 at a time at most, and nothing twice.
    sizes = [len(call["Delete"]["Objects"]) for call in deletions]
    assert sizes == [1000, 440]
    removed = {(o["Key"], o["VersionId"]) for call in deletions for o in call["Delete"]["Objects"]}
    assert len(removed) == 1440
    emptied = next(e for e in events if e.kind == "bucket-emptied")
    assert emptied.detail == "1200 versions, 240 delete markers"
    # The table was backed up (and the backup outlives it) before its stack was deleted.
    [backup] = result.backups
    assert backup.name.startswith("sessions-dev-001-payctl-destroy-") and not backup.reused
    listed = ddb.list_backups(TableName="sessions-dev-001")["BackupSummaries"]
    assert [b["BackupName"] for b in listed] == [backup.name]
    kinds = [e.kind for e in events]
    assert kinds.index("backup-taken") < kinds.index("stack-deleting")
    assert "deletion protection of table sessions-dev-001 (us-east-1)" in result.lifted
    # Waves in reverse order: primary first, then the foundation in both regions.
    order = [call["StackName"].split("/")[1] for call in deleted_stacks]
    assert order[0] == "payments-dev-001-primary"
    assert sorted(order[1:]) == ["payments-dev-001-foundation", "payments-dev-001-foundation"]
    assert stack_names(PRIMARY) == [] and stack_names(DR) == []
    assert bucket not in [
        b["Name"] for b in boto3.client("s3", region_name=PRIMARY).list_buckets()["Buckets"]
    ]


def test_a_stopped_destroy_continues_where_it_stopped(moto_dev: None, workspace_root: Path) -> None:
    deploy(workspace_root)
    message = "Stack [payments-dev-001-primary] cannot be deleted while TerminationProtection is enabled"
    aws = session_with(
        (
            "before-call.cloudformation.DeleteStack",
            refuse("payments-dev-001-primary", "ValidationError", message),
        )
    )
    workspace = Workspace(workspace_root, search=False, aws=aws)

    first = workspace.destroy(workspace.environment("dev").destroy_plan(), confirmed=True)

    assert not first.complete and message in first.failure
    assert first.failure.startswith("primary · us-east-1 · payments-dev-001-primary")
    assert first.deleted == ()  # the foundation wave was not touched after the failure
    assert "payments-dev-001-foundation" in stack_names(PRIMARY)
    [taken] = first.backups

    events: list[DestroyEvent] = []
    second_workspace = Workspace(workspace_root, search=False, aws=AwsSession())
    second = second_workspace.destroy(
        second_workspace.environment("dev").destroy_plan(), confirmed=True, on_event=events.append
    )

    assert second.complete, second.failure
    # The backup the first run took is kept, not taken again.
    [kept] = second.backups
    assert kept.reused and kept.name == taken.name
    assert [e.detail for e in events if e.kind == "backup-reused"] == [taken.name]
    backups = boto3.client("dynamodb", region_name=PRIMARY).list_backups(TableName="sessions-dev-001")
    assert len(backups["BackupSummaries"]) == 1
    assert stack_names(PRIMARY) == [] and stack_names(DR) == []

    third = Workspace(workspace_root, search=False, aws=AwsSession()).environment("dev").destroy_plan()
    assert third.empty and len(third.not_deployed) == 3


def test_destroy_refuses_without_consent_and_changes_nothing(moto_dev: None, workspace_root: Path) -> None:
    deploy(workspace_root)
    workspace = Workspace(workspace_root, search=False, aws=AwsSession())
    plan = workspace.environment("dev").destroy_plan()

    with pytest.raises(Refused):
        workspace.destroy(plan, confirmed=False)

    ddb = boto3.client("dynamodb", region_name=PRIMARY)
    assert ddb.describe_table(TableName="sessions-dev-001")["Table"]["DeletionProtectionEnabled"] is True
    assert ddb.list_backups(TableName="sessions-dev-001")["BackupSummaries"] == []
    assert len(stack_names(PRIMARY)) == 2


def test_prod_needs_the_data_loss_flag_even_when_confirmed() -> None:
    from payctl.operate.destroy import DestroyPlan, require_consent

    plan = DestroyPlan("prod", ("prod",), ())
    with pytest.raises(Refused) as refused:
        require_consent(plan, confirmed=True, allow_data_loss=False)
    assert "--i-understand-data-loss" in (refused.value.hint or "")
    require_consent(plan, confirmed=True, allow_data_loss=True)
