"""StackSets: instances per account and region, merged overrides, updates reaching the stacks."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from payctl.local.organization import seed_organization

ADMIN = "123456789012"  # moto's default account: where in-process clients act
ACCOUNTS = ["111111111111", "222222222222"]
REGIONS = ["us-east-1", "eu-west-1"]

TEMPLATE = """
Parameters:
  Environment: {Type: String}
  Retention: {Type: String, Default: "7"}
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /platform/retention
      Type: String
      Value: !Sub "${Environment}:${Retention}"
Outputs:
  Value: {Value: !GetAtt Setting.Value}
"""


def _setting(account: str, region: str) -> str:
    from moto.ssm.models import ssm_backends

    parameter = ssm_backends[account][region].get_parameter("/platform/retention")
    assert parameter is not None, f"no instance resources in {account}/{region}"
    return str(parameter.value)


def _instance_stacks(account: str, region: str) -> list[Any]:
    from moto.cloudformation.models import cloudformation_backends

    return [
        s for s in cloudformation_backends[account][region].stacks.values() if s.status != "DELETE_COMPLETE"
    ]


@pytest.fixture
def stack_set(aws: None) -> Any:
    seed_organization(ADMIN, ACCOUNTS)
    cf = boto3.client("cloudformation", region_name="us-east-1")
    cf.create_stack_set(
        StackSetName="platform",
        TemplateBody=TEMPLATE,
        Parameters=[
            {"ParameterKey": "Environment", "ParameterValue": "dev"},
            {"ParameterKey": "Retention", "ParameterValue": "30"},
        ],
    )
    operation_id = cf.create_stack_instances(
        StackSetName="platform",
        Accounts=ACCOUNTS,
        Regions=REGIONS,
        ParameterOverrides=[{"ParameterKey": "Retention", "ParameterValue": "90"}],
    )["OperationId"]
    return cf, operation_id


def test_instances_deploy_in_each_account_and_region_with_merged_overrides(stack_set: Any) -> None:
    cf, operation_id = stack_set
    for account in ACCOUNTS:
        for region in REGIONS:
            # Environment comes from the StackSet, Retention from the override.
            assert _setting(account, region) == "dev:90"
            [stack] = _instance_stacks(account, region)
            assert stack.name.startswith("StackSet-platform-")
            assert len(stack.name) == len("StackSet-platform-") + 36  # a UUID, no colon
    operation = cf.describe_stack_set_operation(StackSetName="platform", OperationId=operation_id)
    assert operation["StackSetOperation"]["Status"] == "SUCCEEDED"
    assert operation["StackSetOperation"]["Action"] == "CREATE"
    results = cf.list_stack_set_operation_results(StackSetName="platform", OperationId=operation_id)[
        "Summaries"
    ]
    assert sorted((r["Account"], r["Region"], r["Status"]) for r in results) == sorted(
        (a, r, "SUCCEEDED") for a in ACCOUNTS for r in REGIONS
    )
    assert results[0]["AccountGateResult"]["Status"] == "SKIPPED"
    instance = cf.describe_stack_instance(
        StackSetName="platform", StackInstanceAccount="222222222222", StackInstanceRegion="eu-west-1"
    )["StackInstance"]
    assert instance["Status"] == "CURRENT"
    assert instance["ParameterOverrides"] == [{"ParameterKey": "Retention", "ParameterValue": "90"}]
    [stack] = _instance_stacks("222222222222", "eu-west-1")
    assert instance["StackId"] == stack.stack_id


def test_update_stack_set_reaches_every_instance_stack(stack_set: Any) -> None:
    cf, _ = stack_set
    names_before = {(a, r): _instance_stacks(a, r)[0].name for a in ACCOUNTS for r in REGIONS}
    operation_id = cf.update_stack_set(
        StackSetName="platform",
        TemplateBody=TEMPLATE,
        Parameters=[
            {"ParameterKey": "Environment", "ParameterValue": "staging"},
            {"ParameterKey": "Retention", "UsePreviousValue": True},
        ],
    )["OperationId"]

    assert (
        cf.describe_stack_set_operation(StackSetName="platform", OperationId=operation_id)[
            "StackSetOperation"
        ]["Status"]
        == "SUCCEEDED"
    )
    for account in ACCOUNTS:
        for region in REGIONS:
            assert _setting(account, region) == "staging:90"  # override kept
            assert _instance_stacks(account, region)[0].name == names_before[(account, region)]


def test_update_stack_instances_changes_only_the_targets(stack_set: Any) -> None:
    cf, _ = stack_set
    cf.update_stack_instances(
        StackSetName="platform",
        Accounts=["222222222222"],
        Regions=["eu-west-1"],
        ParameterOverrides=[{"ParameterKey": "Retention", "ParameterValue": "365"}],
    )
    assert _setting("222222222222", "eu-west-1") == "dev:365"
    assert _setting("222222222222", "us-east-1") == "dev:90"
    assert _setting("111111111111", "eu-west-1") == "dev:90"

    # An empty override list sends the instance back to the StackSet's own value.
    cf.update_stack_instances(
        StackSetName="platform", Accounts=["222222222222"], Regions=["eu-west-1"], ParameterOverrides=[]
    )
    assert _setting("222222222222", "eu-west-1") == "dev:30"


def test_missing_execution_role_fails_the_instance_not_the_call(aws: None) -> None:
    seed_organization(ADMIN, ["111111111111"])  # 333333333333 has no execution role
    cf = boto3.client("cloudformation", region_name="us-east-1")
    cf.create_stack_set(
        StackSetName="platform",
        TemplateBody=TEMPLATE,
        Parameters=[{"ParameterKey": "Environment", "ParameterValue": "dev"}],
    )
    operation_id = cf.create_stack_instances(
        StackSetName="platform", Accounts=["111111111111", "333333333333"], Regions=["us-east-1"]
    )["OperationId"]

    operation = cf.describe_stack_set_operation(StackSetName="platform", OperationId=operation_id)
    assert operation["StackSetOperation"]["Status"] == "FAILED"
    results = {
        r["Account"]: r
        for r in cf.list_stack_set_operation_results(StackSetName="platform", OperationId=operation_id)[
            "Summaries"
        ]
    }
    assert results["111111111111"]["Status"] == "SUCCEEDED"
    assert results["333333333333"]["Status"] == "FAILED"
    assert "AWSCloudFormationStackSetExecutionRole" in results["333333333333"]["StatusReason"]
    summaries = {s["Account"]: s for s in cf.list_stack_instances(StackSetName="platform")["Summaries"]}
    assert summaries["333333333333"]["Status"] == "OUTDATED"
    assert summaries["333333333333"]["StackInstanceStatus"]["DetailedStatus"] == "FAILED"


def test_delete_stack_instances_removes_the_stacks_unless_retained(stack_set: Any) -> None:
    cf, _ = stack_set
    cf.delete_stack_instances(
        StackSetName="platform", Accounts=["111111111111"], Regions=REGIONS, RetainStacks=False
    )
    cf.delete_stack_instances(
        StackSetName="platform", Accounts=["222222222222"], Regions=["us-east-1"], RetainStacks=True
    )
    assert _instance_stacks("111111111111", "us-east-1") == []
    assert len(_instance_stacks("222222222222", "us-east-1")) == 1  # retained, no longer an instance
    remaining = [
        (s["Account"], s["Region"]) for s in cf.list_stack_instances(StackSetName="platform")["Summaries"]
    ]
    assert remaining == [("222222222222", "eu-west-1")]
    operations = cf.list_stack_set_operations(StackSetName="platform")["Summaries"]
    assert [o["Action"] for o in operations] == ["CREATE", "DELETE", "DELETE"]


def test_instance_reads_nested_template_from_the_admin_accounts_bucket(aws: None) -> None:
    seed_organization(ADMIN, ["111111111111"])
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="payctl-artifacts-example")
    s3.put_object(
        Bucket="payctl-artifacts-example",
        Key="nested/child.yaml",
        Body=b"""
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties: {Name: /platform/retention, Type: String, Value: nested}
Outputs:
  Name: {Value: !Ref Setting}
""",
    )
    cf = boto3.client("cloudformation", region_name="us-east-1")
    cf.create_stack_set(
        StackSetName="nested",
        TemplateBody="""
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: https://payctl-artifacts-example.s3.us-east-1.amazonaws.com/nested/child.yaml
""",
    )
    operation_id = cf.create_stack_instances(
        StackSetName="nested", Accounts=["111111111111"], Regions=["eu-west-1"]
    )["OperationId"]
    assert (
        cf.describe_stack_set_operation(StackSetName="nested", OperationId=operation_id)["StackSetOperation"][
            "Status"
        ]
        == "SUCCEEDED"
    )
    assert _setting("111111111111", "eu-west-1") == "nested"
    assert len(_instance_stacks("111111111111", "eu-west-1")) == 2  # instance stack and its nested stack
