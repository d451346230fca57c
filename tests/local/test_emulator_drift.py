"""Drift APIs against moto's actual state, shaped like CloudFormation's responses."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from payctl.local.drift import compare

TEMPLATE = """
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  WebSg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web tier
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 10.0.0.0/8}
  Setting:
    Type: AWS::SSM::Parameter
    Properties: {Name: /pay/limit, Type: String, Value: "100"}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: "sts:AssumeRole"}]
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      BillingMode: PAY_PER_REQUEST
      DeletionProtectionEnabled: true
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      MemorySize: 256
      Timeout: 10
      Environment: {Variables: {MODE: strict}}
      Code: {ZipFile: "def handler(event, context):\\n    return 1\\n"}
  Queue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: pay-work}
"""


@pytest.fixture
def cf(aws: None) -> Any:
    client = boto3.client("cloudformation", region_name="us-east-1")
    client.create_stack(StackName="app", TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_IAM"])
    return client


def _physical(cf: Any, logical_id: str) -> str:
    return str(
        cf.describe_stack_resource(StackName="app", LogicalResourceId=logical_id)["StackResourceDetail"][
            "PhysicalResourceId"
        ]
    )


def _detect(cf: Any) -> dict[str, Any]:
    detection_id = cf.detect_stack_drift(StackName="app")["StackDriftDetectionId"]
    status = cf.describe_stack_drift_detection_status(StackDriftDetectionId=detection_id)
    assert status["DetectionStatus"] == "DETECTION_COMPLETE"
    drifts = cf.describe_stack_resource_drifts(StackName="app")["StackResourceDrifts"]
    return {"status": status, "drifts": {d["LogicalResourceId"]: d for d in drifts}}


def test_untouched_stack_is_in_sync(cf: Any) -> None:
    assert (
        cf.describe_stacks(StackName="app")["Stacks"][0]["DriftInformation"]["StackDriftStatus"]
        == "NOT_CHECKED"
    )
    result = _detect(cf)
    assert result["status"]["StackDriftStatus"] == "IN_SYNC"
    assert result["status"]["DriftedStackResourceCount"] == 0
    assert {k: d["StackResourceDriftStatus"] for k, d in result["drifts"].items()} == {
        "WebSg": "IN_SYNC",
        "Setting": "IN_SYNC",
        "Bucket": "IN_SYNC",
        "Role": "IN_SYNC",
        "Table": "IN_SYNC",
        "Function": "IN_SYNC",
    }
    assert (
        cf.describe_stacks(StackName="app")["Stacks"][0]["DriftInformation"]["StackDriftStatus"] == "IN_SYNC"
    )


def test_added_ingress_rule_is_reported_as_add(cf: Any) -> None:
    boto3.client("ec2", region_name="us-east-1").authorize_security_group_ingress(
        GroupId=_physical(cf, "WebSg"),
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    result = _detect(cf)

    assert result["status"]["StackDriftStatus"] == "DRIFTED"
    assert result["status"]["DriftedStackResourceCount"] == 1
    sg = result["drifts"]["WebSg"]
    assert sg["StackResourceDriftStatus"] == "MODIFIED"
    assert sg["PropertyDifferences"] == [
        {
            "PropertyPath": "/SecurityGroupIngress/1",
            "ExpectedValue": "null",
            "ActualValue": '{"CidrIp":"0.0.0.0/0","FromPort":22,"IpProtocol":"tcp","ToPort":22}',
            "DifferenceType": "ADD",
        }
    ]
    assert len(json.loads(sg["ActualProperties"])["SecurityGroupIngress"]) == 2
    assert len(json.loads(sg["ExpectedProperties"])["SecurityGroupIngress"]) == 1
    stack = cf.describe_stacks(StackName="app")["Stacks"][0]
    assert stack["DriftInformation"]["StackDriftStatus"] == "DRIFTED"


def test_changed_ssm_value_is_not_equal(cf: Any) -> None:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/pay/limit", Value="5000", Type="String", Overwrite=True
    )
    drift = cf.detect_stack_resource_drift(StackName="app", LogicalResourceId="Setting")["StackResourceDrift"]
    assert drift["StackResourceDriftStatus"] == "MODIFIED"
    assert drift["PropertyDifferences"] == [
        {
            "PropertyPath": "/Value",
            "ExpectedValue": "100",
            "ActualValue": "5000",
            "DifferenceType": "NOT_EQUAL",
        }
    ]


def test_deleted_resource_is_deleted(cf: Any) -> None:
    boto3.client("ssm", region_name="us-east-1").delete_parameter(Name="/pay/limit")
    drift = _detect(cf)["drifts"]["Setting"]
    assert drift["StackResourceDriftStatus"] == "DELETED"
    assert "ActualProperties" not in drift


def test_unsupported_type_is_not_checked(cf: Any) -> None:
    drift = cf.detect_stack_resource_drift(StackName="app", LogicalResourceId="Queue")["StackResourceDrift"]
    assert drift["StackResourceDriftStatus"] == "NOT_CHECKED"
    _detect(cf)
    # As in AWS: left out of DescribeStackResourceDrifts, NOT_CHECKED in the resource's DriftInformation.
    assert "Queue" not in _detect(cf)["drifts"]
    detail = cf.describe_stack_resource(StackName="app", LogicalResourceId="Queue")["StackResourceDetail"]
    assert detail["DriftInformation"]["StackResourceDriftStatus"] == "NOT_CHECKED"


def test_bucket_role_table_and_function_changes(cf: Any) -> None:
    bucket = _physical(cf, "Bucket")
    boto3.client("s3").put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    iam = boto3.client("iam")
    role = _physical(cf, "Role")
    iam.put_role_policy(
        RoleName=role,
        PolicyName="extra",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    boto3.client("dynamodb").update_table(TableName=_physical(cf, "Table"), DeletionProtectionEnabled=False)
    boto3.client("lambda").update_function_configuration(
        FunctionName=_physical(cf, "Function"),
        MemorySize=1024,
        Timeout=10,
        Environment={"Variables": {"MODE": "lenient", "DEBUG": "1"}},
    )

    drifts = _detect(cf)["drifts"]
    paths = {
        k: {(d["PropertyPath"], d["DifferenceType"]) for d in drifts[k]["PropertyDifferences"]}
        for k in ("Bucket", "Role", "Table", "Function")
    }
    assert paths["Bucket"] == {
        (
            "/BucketEncryption/ServerSideEncryptionConfiguration/0/ServerSideEncryptionByDefault/SSEAlgorithm",
            "NOT_EQUAL",
        )
    }
    assert paths["Role"] == {("/Policies/0", "ADD")}  # index in the actual list, sorted by name
    assert paths["Table"] == {("/DeletionProtectionEnabled", "NOT_EQUAL")}
    assert paths["Function"] == {
        ("/MemorySize", "NOT_EQUAL"),
        ("/Environment/Variables/MODE", "NOT_EQUAL"),
        ("/Environment/Variables/DEBUG", "ADD"),
    }


def test_bucket_versioning_and_public_access_block(cf: Any) -> None:
    template = """
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      VersioningConfiguration: {Status: Enabled}
      PublicAccessBlockConfiguration:
        {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true}
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Deny, Principal: "*", Action: "s3:*", Resource: "*",
                     Condition: {Bool: {"aws:SecureTransport": "false"}}}]
"""
    s3 = boto3.client("s3")
    cf.create_stack(StackName="data", TemplateBody=template)
    bucket = cf.describe_stack_resource(StackName="data", LogicalResourceId="Bucket")["StackResourceDetail"][
        "PhysicalResourceId"
    ]
    # Whether the resource model applied them or not, put the template's state in place first.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ],
            }
        ),
    )
    detection = cf.detect_stack_drift(StackName="data")["StackDriftDetectionId"]
    assert (
        cf.describe_stack_drift_detection_status(StackDriftDetectionId=detection)["StackDriftStatus"]
        == "IN_SYNC"
    )

    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "BlockPublicPolicy": False,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
    cf.detect_stack_drift(StackName="data")
    drifts = {
        d["LogicalResourceId"]: d
        for d in cf.describe_stack_resource_drifts(
            StackName="data", StackResourceDriftStatusFilters=["MODIFIED"]
        )["StackResourceDrifts"]
    }
    assert {
        (d["PropertyPath"], d["ExpectedValue"], d["ActualValue"])
        for d in drifts["Bucket"]["PropertyDifferences"]
    } == {
        ("/VersioningConfiguration/Status", "Enabled", "Suspended"),
        ("/PublicAccessBlockConfiguration/BlockPublicPolicy", "true", "false"),
    }
    assert [d["DifferenceType"] for d in drifts["Policy"]["PropertyDifferences"]] == ["REMOVE"]


def test_nested_stack_has_its_own_detection(aws: None) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="artifacts-example")
    s3.put_object(
        Bucket="artifacts-example",
        Key="child.yaml",
        Body=b"""
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties: {Name: /child/setting, Type: String, Value: "on"}
""",
    )
    cf = boto3.client("cloudformation", region_name="us-east-1")
    cf.create_stack(
        StackName="parent",
        TemplateBody="""
Resources:
  Child:
    Type: AWS::CloudFormation::Stack
    Properties: {TemplateURL: "https://artifacts-example.s3.amazonaws.com/child.yaml"}
""",
    )
    boto3.client("ssm").put_parameter(Name="/child/setting", Value="off", Type="String", Overwrite=True)
    child_id = cf.describe_stack_resource(StackName="parent", LogicalResourceId="Child")[
        "StackResourceDetail"
    ]["PhysicalResourceId"]

    parent = cf.detect_stack_drift(StackName="parent")["StackDriftDetectionId"]
    child = cf.detect_stack_drift(StackName=child_id)["StackDriftDetectionId"]
    assert (
        cf.describe_stack_drift_detection_status(StackDriftDetectionId=parent)["StackDriftStatus"]
        == "IN_SYNC"
    )
    assert (
        cf.describe_stack_drift_detection_status(StackDriftDetectionId=child)["StackDriftStatus"] == "DRIFTED"
    )


def test_stack_set_drift_operation(aws: None) -> None:
    from payctl.local.organization import seed_organization

    seed_organization("123456789012", ["111111111111", "222222222222"])
    cf = boto3.client("cloudformation", region_name="us-east-1")
    cf.create_stack_set(
        StackSetName="guard",
        TemplateBody="""
Resources:
  Setting:
    Type: AWS::SSM::Parameter
    Properties: {Name: /guard/mode, Type: String, Value: strict}
""",
    )
    cf.create_stack_instances(
        StackSetName="guard", Accounts=["111111111111", "222222222222"], Regions=["us-east-1"]
    )
    from moto.ssm.models import ssm_backends

    ssm_backends["222222222222"]["us-east-1"].put_parameter(
        name="/guard/mode",
        description=None,
        value="off",
        parameter_type="String",
        allowed_pattern=None,
        keyid=None,
        overwrite=True,
        tags=[],
        data_type="text",
        tier=None,
        policies=None,
    )

    operation_id = cf.detect_stack_set_drift(StackSetName="guard")["OperationId"]
    operation = cf.describe_stack_set_operation(StackSetName="guard", OperationId=operation_id)[
        "StackSetOperation"
    ]
    assert operation["Action"] == "DETECT_DRIFT"
    assert operation["Status"] == "SUCCEEDED"
    details = operation["StackSetDriftDetectionDetails"]
    assert (
        details["DriftStatus"],
        details["DriftedStackInstancesCount"],
        details["InSyncStackInstancesCount"],
    ) == ("DRIFTED", 1, 1)
    drifted = cf.list_stack_instances(
        StackSetName="guard", Filters=[{"Name": "DRIFT_STATUS", "Values": "DRIFTED"}]
    )
    assert [s["Account"] for s in drifted["Summaries"]] == ["222222222222"]


def test_compare_uses_json_pointers_and_unordered_sets() -> None:
    expected = {"Rules": [{"a": 1}, {"b": 2}], "Tags": [{"Key": "k/x", "Value": "1"}], "Gone": "x"}
    actual = {"Rules": [{"b": 2}, {"c": 3}], "Tags": [{"Key": "k/x", "Value": "2"}]}
    assert [(d.path, d.kind) for d in compare(expected, actual, "", frozenset({"/Rules"}))] == [
        ("/Rules/0", "REMOVE"),
        ("/Rules/1", "ADD"),
        ("/Tags/0/Value", "NOT_EQUAL"),
        ("/Gone", "REMOVE"),
    ]


def test_untouched_role_with_boundary_and_optional_statement_is_in_sync(cf: Any) -> None:
    template = """
Conditions:
  Never: !Equals ["a", "b"]
Resources:
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:*", Resource: "*"}]}
  Bounded:
    Type: AWS::IAM::Role
    Properties:
      PermissionsBoundary: !Ref Boundary
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: s3:GetObject, Resource: "*"}
              - !If [Never, {Effect: Allow, Action: s3:PutObject, Resource: "*"}, !Ref AWS::NoValue]
"""
    cf.create_stack(StackName="bounded", TemplateBody=template)
    detection = cf.detect_stack_drift(StackName="bounded")["StackDriftDetectionId"]
    status = cf.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
    assert status["DetectionStatus"] == "DETECTION_COMPLETE", status
    assert status["StackDriftStatus"] == "IN_SYNC", cf.describe_stack_resource_drifts(StackName="bounded")
