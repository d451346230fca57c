"""StackSet operations against Stubber transcripts shaped like AWS's answers: an operation that fails on
one instance (reported with AWS's reason, the run stopped), and a service-managed StackSet run by a
delegated administrator (request shapes: OU targets filtered to the account, CallAs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply_support import ADMIN, DEV, PROD, edit
from botocore.stub import ANY, Stubber
from transcripts import at, expect

from payctl.apply.events import InstanceStatus, OperationFinished, OperationStarted
from payctl.apply.stackset_spec import StackSetWave, build_waves, settings
from payctl.apply.stacksets import StackSetApplier, StackSetOptions
from payctl.automation import Workspace
from payctl.aws.session import AwsSession, Target
from payctl.errors import DeploymentFailed

US, EU = "us-east-1", "eu-west-1"
STACK_SET_ID = "payments-foundation:7d3c1f0e-0000-4000-8000-000000000001"
OPERATION = "payctl-5a0c9e7e-0000-4000-8000-000000000002"
FAILURE = ("ResourceLogicalId:Storage, ResourceType:AWS::CloudFormation::Stack, ResourceStatusReason:Embedded "
           "stack arn:aws:cloudformation:eu-west-1:333333333333:stack/StackSet-payments-foundation-4c1d-Storage-"
           "1QW2ER3TY4UI/2b7e1a40-0000-4000-8000-000000000003 was not successfully updated. Currently in "
           "UPDATE_ROLLBACK_IN_PROGRESS with reason: The following resource(s) failed to update: [AuditLogGroup].")


def _setup(root: Path, names: list[str] | None = None) -> tuple[AwsSession, StackSetWave, Any, dict[str, Any]]:
    aws = AwsSession()
    ws = Workspace(root, search=False, aws=aws)
    rendered = ws.render(names)
    environments = [item.environment for item in rendered]
    config = settings(environments)
    [spec] = [wave for wave in build_waves(rendered, root, config) if wave.wave == "foundation"]
    return aws, spec, config, {env.name: env for env in environments}


def _stubber(aws: AwsSession, service: str, region: str) -> Stubber:
    stubber = Stubber(aws.client(service, Target(ADMIN, region)))
    stubber.activate()
    return stubber


def _stack_set(spec: StackSetWave, permission_model: str = "SELF_MANAGED") -> dict[str, Any]:
    return {"StackSet": {
        "StackSetName": spec.name, "StackSetId": STACK_SET_ID, "Description": "payctl foundation wave",
        "Status": "ACTIVE", "TemplateBody": spec.template_text,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in spec.parameters.items()],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Tags": [{"Key": k, "Value": v} for k, v in spec.tags.items()],
        "StackSetARN": f"arn:aws:cloudformation:us-east-1:{ADMIN}:stackset/{STACK_SET_ID}",
        "AdministrationRoleARN": f"arn:aws:iam::{ADMIN}:role/AWSCloudFormationStackSetAdministrationRole",
        "ExecutionRoleName": "AWSCloudFormationStackSetExecutionRole",
        "PermissionModel": permission_model, "ManagedExecution": {"Active": True}}}


def _summary(account: str, region: str, detailed: str, reason: str = "") -> dict[str, Any]:
    summary: dict[str, Any] = {
        "StackSetId": STACK_SET_ID, "Region": region, "Account": account,
        "StackId": f"arn:aws:cloudformation:{region}:{account}:stack/StackSet-payments-foundation-4c1d/"
                   "2b7e1a40-0000-4000-8000-000000000004",
        "Status": "CURRENT" if detailed == "SUCCEEDED" else "OUTDATED",
        "StackInstanceStatus": {"DetailedStatus": detailed}, "DriftStatus": "NOT_CHECKED",
        "LastOperationId": OPERATION}
    if reason:
        summary["StatusReason"] = reason
    return summary


def _operation(status: str, failed: int = 0) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "OperationId": OPERATION, "StackSetId": STACK_SET_ID, "Action": "UPDATE", "Status": status,
        "OperationPreferences": {"RegionConcurrencyType": "SEQUENTIAL", "FailureToleranceCount": 0,
                                 "MaxConcurrentPercentage": 100},
        "AdministrationRoleARN": f"arn:aws:iam::{ADMIN}:role/AWSCloudFormationStackSetAdministrationRole",
        "ExecutionRoleName": "AWSCloudFormationStackSetExecutionRole", "CreationTimestamp": at(0),
        "StatusDetails": {"FailedStackInstancesCount": failed}}
    if status in ("SUCCEEDED", "FAILED"):
        operation["EndTimestamp"] = at(95)
    return {"StackSetOperation": operation}


def _artifacts_present(aws: AwsSession, spec: StackSetWave) -> list[Stubber]:
    """The admin account's buckets already hold every artifact: HEADs only, no upload."""
    stubbers = []
    for region, artifacts in spec.artifacts.items():
        s3 = _stubber(aws, "s3", region)
        expect(s3, "head_bucket", {}, {"Bucket": f"payctl-artifacts-{ADMIN}-{region}"})
        for artifact in artifacts:
            expect(s3, "head_object", {"ContentLength": len(artifact.body)},
                   {"Bucket": f"payctl-artifacts-{ADMIN}-{region}", "Key": artifact.key})
        stubbers.append(s3)
    return stubbers


def test_failed_operation_lists_the_failed_instance_with_awss_reason(workspace_root: Path) -> None:
    aws, spec, config, environments = _setup(workspace_root)
    cfn = _stubber(aws, "cloudformation", US)
    stale = next(i for i in spec.instances if (i.account_id, i.region) == (PROD, EU))
    expect(cfn, "describe_stack_set", _stack_set(spec), {"StackSetName": spec.name})
    expect(cfn, "list_stack_instances", {"Summaries": [_summary(i.account_id, i.region, "SUCCEEDED")
                                                       for i in spec.instances]}, {"StackSetName": spec.name})
    for instance in spec.instances:
        overrides = dict(instance.overrides)
        if instance is stale:
            overrides["LogRetentionDays"] = "90"  # what the instance runs with; prod's file now says 365
        raw = _summary(instance.account_id, instance.region, "SUCCEEDED")
        del raw["StackInstanceStatus"]
        raw.update(StackInstanceStatus={"DetailedStatus": "SUCCEEDED"},
                   ParameterOverrides=[{"ParameterKey": k, "ParameterValue": v} for k, v in overrides.items()])
        expect(cfn, "describe_stack_instance", {"StackInstance": raw},
               {"StackSetName": spec.name, "StackInstanceAccount": instance.account_id,
                "StackInstanceRegion": instance.region})
    s3 = _artifacts_present(aws, spec)
    expect(cfn, "update_stack_instances", {"OperationId": OPERATION}, {
        "StackSetName": spec.name, "Accounts": [PROD], "Regions": [EU], "OperationId": ANY,
        "ParameterOverrides": [{"ParameterKey": k, "ParameterValue": v} for k, v in stale.overrides.items()],
        "OperationPreferences": {"RegionConcurrencyType": "SEQUENTIAL", "RegionOrder": [EU],
                                 "ConcurrencyMode": "STRICT_FAILURE_TOLERANCE", "MaxConcurrentPercentage": 100,
                                 "FailureToleranceCount": 0}})
    expect(cfn, "describe_stack_set_operation", _operation("RUNNING"),
           {"StackSetName": spec.name, "OperationId": OPERATION})
    expect(cfn, "list_stack_instances", {"Summaries": [_summary(PROD, EU, "RUNNING")]}, {"StackSetName": spec.name})
    expect(cfn, "describe_stack_set_operation", _operation("FAILED", failed=1),
           {"StackSetName": spec.name, "OperationId": OPERATION})
    expect(cfn, "list_stack_instances", {"Summaries": [_summary(PROD, EU, "FAILED", FAILURE)]},
           {"StackSetName": spec.name})
    expect(cfn, "list_stack_set_operation_results", {"Summaries": [
        {"Account": PROD, "Region": EU, "Status": "FAILED", "StatusReason": FAILURE,
         "AccountGateResult": {"Status": "SKIPPED", "StatusReason": "Function not found: arn:aws:lambda:eu-west-1:"
                                                                   "333333333333:function:AWSCloudFormationStackSetAccountGate"}}]},
        {"StackSetName": spec.name, "OperationId": OPERATION})
    events: list[Any] = []
    applier = StackSetApplier(aws, config, environments, StackSetOptions(sleep=lambda _s: None), events.append)

    with pytest.raises(DeploymentFailed) as failed:
        applier.apply_wave(spec)

    assert failed.value.message.startswith("StackSet payments-foundation: 1 instance failed")
    assert f"prod {PROD} {EU}: FAILED: ResourceLogicalId:Storage" in failed.value.message
    assert "failed to update: [AuditLogGroup]" in failed.value.message
    assert "--retry-failed" in (failed.value.hint or "")
    assert [(e.action, e.targets) for e in events if isinstance(e, OperationStarted)] == [
        ("UPDATE_INSTANCES", (("prod", PROD, EU),))]
    assert [(e.status, e.reason[:30]) for e in events if isinstance(e, InstanceStatus)] == [
        ("RUNNING", ""), ("FAILED", FAILURE[:30])]
    [finished] = [e for e in events if isinstance(e, OperationFinished)]
    assert finished.status == "FAILED" and finished.failed[0][:3] == ("prod", PROD, EU)
    cfn.assert_no_pending_responses()
    for stubber in s3:
        stubber.assert_no_pending_responses()


def test_service_managed_stack_set_targets_accounts_within_the_ous(workspace_root: Path) -> None:
    defaults = workspace_root / "envs" / "_defaults.yaml"
    edit(defaults, "permissionModel: SELF_MANAGED", "permissionModel: SERVICE_MANAGED")
    edit(workspace_root / "envs" / "_defaults.yaml", "callAs: SELF", "callAs: DELEGATED_ADMIN")
    edit(workspace_root / "envs" / "_defaults.yaml", "organizationalUnitIds: []",
         "organizationalUnitIds: [ou-ab12-cdef3456]")
    aws, spec, config, environments = _setup(workspace_root, ["dev"])
    delegated = {"CallAs": "DELEGATED_ADMIN"}
    cfn = _stubber(aws, "cloudformation", US)
    expect(cfn, "describe_stack_set", {"service_error_code": "StackSetNotFoundException",
                                       "service_message": "StackSet payments-foundation not found",
                                       "http_status_code": 404}, {"StackSetName": spec.name, **delegated})
    s3 = _artifacts_present(aws, spec)
    expect(cfn, "create_stack_set", {"StackSetId": STACK_SET_ID}, {
        "StackSetName": spec.name, "Description": ANY, "TemplateBody": spec.template_text,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in spec.parameters.items()],
        "Tags": [{"Key": "Application", "Value": "payments"}, {"Key": "CostCenter", "Value": "CC-PAYMENTS"}],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        "PermissionModel": "SERVICE_MANAGED", "AutoDeployment": {"Enabled": False},
        "ManagedExecution": {"Active": True}, **delegated})
    for instance in spec.instances:
        expect(cfn, "create_stack_instances", {"OperationId": f"{OPERATION}-{instance.region}"}, {
            "StackSetName": spec.name, "Regions": [instance.region], "OperationId": ANY,
            "DeploymentTargets": {"OrganizationalUnitIds": ["ou-ab12-cdef3456"], "Accounts": [DEV],
                                  "AccountFilterType": "INTERSECTION"},
            "ParameterOverrides": [{"ParameterKey": k, "ParameterValue": v} for k, v in instance.overrides.items()],
            "OperationPreferences": ANY, **delegated})
    # Two operations outstanding: one ListStackSetOperations answers for both (newest first).
    summaries = []
    for instance in reversed(spec.instances):
        operation = _operation("SUCCEEDED")["StackSetOperation"]
        summaries.append({"OperationId": f"{OPERATION}-{instance.region}", "Action": "CREATE",
                          "Status": "SUCCEEDED", "CreationTimestamp": operation["CreationTimestamp"],
                          "EndTimestamp": operation["EndTimestamp"], "StatusDetails": operation["StatusDetails"],
                          "OperationPreferences": operation["OperationPreferences"]})
    expect(cfn, "list_stack_set_operations", {"Summaries": summaries}, {"StackSetName": spec.name, **delegated})
    expect(cfn, "list_stack_instances", {"Summaries": [_summary(DEV, r, "SUCCEEDED") for r in (US, EU)]},
           {"StackSetName": spec.name, **delegated})
    for instance in spec.instances:
        expect(cfn, "list_stack_set_operation_results", {"Summaries": [
            {"Account": DEV, "Region": instance.region, "Status": "SUCCEEDED",
             "OrganizationalUnitId": "ou-ab12-cdef3456"}]},
            {"StackSetName": spec.name, "OperationId": f"{OPERATION}-{instance.region}", **delegated})

    result = StackSetApplier(aws, config, environments, StackSetOptions(sleep=lambda _s: None)).apply_wave(spec)

    assert result.action == "create" and result.instances == {(DEV, US): "SUCCEEDED", (DEV, EU): "SUCCEEDED"}
    cfn.assert_no_pending_responses()
    for stubber in s3:
        stubber.assert_no_pending_responses()
