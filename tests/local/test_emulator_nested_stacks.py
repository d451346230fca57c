"""Nested stacks: outputs through Fn::GetAtt, TemplateURL forms, in-place updates."""

from __future__ import annotations

import boto3
import pytest

CHILD = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Prefix: {Type: String}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties: {TopicName: !Sub "${Prefix}-alerts"}
  Queue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "${Prefix}-work"}
Outputs:
  TopicArn: {Value: !Ref Topic}
  QueueName: {Value: !GetAtt Queue.QueueName}
"""

PARENT = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ChildUrl: {Type: String}
  Prefix: {Type: String, Default: pay}
Resources:
  Alerts:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Ref ChildUrl
      Parameters: {Prefix: !Ref Prefix}
  TopicParam:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /pay/alerts/topic
      Type: String
      Value: !GetAtt Alerts.Outputs.TopicArn
  QueueParam:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /pay/alerts/queue
      Type: String
      Value: !Sub "queue=${Alerts.Outputs.QueueName}"
Outputs:
  Topic: {Value: !GetAtt [Alerts, Outputs.TopicArn]}
  ChildStack: {Value: !Ref Alerts}
"""


def _upload(region: str, key: str, body: str) -> None:
    s3 = boto3.client("s3", region_name=region)
    if "artifacts-example" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        config = (
            {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        )
        s3.create_bucket(Bucket="artifacts-example", **config)
    s3.put_object(Bucket="artifacts-example", Key=key, Body=body.encode())


def _outputs(cf: object, name: str) -> dict[str, str]:
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]  # type: ignore[attr-defined]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.mark.parametrize(
    "url",
    [
        "https://artifacts-example.s3.eu-west-1.amazonaws.com/child.yaml",
        "https://s3.eu-west-1.amazonaws.com/artifacts-example/child.yaml",
        "http://127.0.0.1:4566/artifacts-example/child.yaml",
    ],
)
def test_parent_reads_nested_outputs_with_getatt(aws: None, url: str) -> None:
    _upload("eu-west-1", "child.yaml", CHILD)
    cf = boto3.client("cloudformation", region_name="eu-west-1")
    cf.create_stack(
        StackName="parent",
        TemplateBody=PARENT,
        Parameters=[{"ParameterKey": "ChildUrl", "ParameterValue": url}],
    )

    topic_arn = "arn:aws:sns:eu-west-1:123456789012:pay-alerts"
    assert _outputs(cf, "parent")["Topic"] == topic_arn
    ssm = boto3.client("ssm", region_name="eu-west-1")
    assert ssm.get_parameter(Name="/pay/alerts/topic")["Parameter"]["Value"] == topic_arn
    assert ssm.get_parameter(Name="/pay/alerts/queue")["Parameter"]["Value"] == "queue=pay-work"


def test_nested_stack_ref_is_its_arn_and_it_knows_its_parent(aws: None) -> None:
    _upload("us-east-1", "child.yaml", CHILD)
    cf = boto3.client("cloudformation", region_name="us-east-1")
    parent_id = cf.create_stack(
        StackName="parent",
        TemplateBody=PARENT,
        Parameters=[
            {
                "ParameterKey": "ChildUrl",
                "ParameterValue": "https://artifacts-example.s3.amazonaws.com/child.yaml",
            }
        ],
    )["StackId"]

    child_id = _outputs(cf, "parent")["ChildStack"]
    assert child_id.startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/parent-Alerts-")
    child = cf.describe_stacks(StackName=child_id)["Stacks"][0]
    assert child["ParentId"] == parent_id
    assert child["RootId"] == parent_id
    assert "ParentId" not in cf.describe_stacks(StackName="parent")["Stacks"][0]


def test_parent_update_updates_nested_stack_in_place(aws: None) -> None:
    _upload("us-east-1", "child.yaml", CHILD)
    cf = boto3.client("cloudformation", region_name="us-east-1")
    url = "https://artifacts-example.s3.amazonaws.com/child.yaml"
    cf.create_stack(
        StackName="parent",
        TemplateBody=PARENT,
        Parameters=[{"ParameterKey": "ChildUrl", "ParameterValue": url}],
    )
    child_before = _outputs(cf, "parent")["ChildStack"]

    cf.update_stack(
        StackName="parent",
        TemplateBody=PARENT,
        Parameters=[
            {"ParameterKey": "ChildUrl", "ParameterValue": url},
            {"ParameterKey": "Prefix", "ParameterValue": "card"},
        ],
    )

    assert _outputs(cf, "parent")["ChildStack"] == child_before  # same stack, not a replacement
    assert _outputs(cf, child_before)["TopicArn"] == "arn:aws:sns:us-east-1:123456789012:card-alerts"
    ssm = boto3.client("ssm", region_name="us-east-1")
    assert ssm.get_parameter(Name="/pay/alerts/topic")["Parameter"]["Value"].endswith(":card-alerts")


def test_missing_template_is_a_validation_error(aws: None) -> None:
    _upload("us-east-1", "other.yaml", CHILD)
    cf = boto3.client("cloudformation", region_name="us-east-1")
    with pytest.raises(cf.exceptions.ClientError, match="S3 error"):
        cf.create_stack(
            StackName="parent",
            TemplateBody=PARENT,
            Parameters=[
                {
                    "ParameterKey": "ChildUrl",
                    "ParameterValue": "https://artifacts-example.s3.amazonaws.com/nope.yaml",
                }
            ],
        )
