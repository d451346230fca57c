"""Names given in templates reach the resources, also for types a payctl provider handles."""

from __future__ import annotations

import boto3


def test_a_replaced_models_name_property_is_honoured(aws: None) -> None:
    template = """
Resources:
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: !Sub permissions-boundary-dev-001-${AWS::Region}
      PolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:GetObject", Resource: "*"}]}
"""
    boto3.client("cloudformation", region_name="eu-west-1").create_stack(StackName="names", TemplateBody=template)
    policies = boto3.client("iam", region_name="eu-west-1").list_policies(Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in policies] == ["permissions-boundary-dev-001-eu-west-1"]
