"""IAM roles and managed policies deployed through CloudFormation, read back through IAM."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from provider_stacks import Stacks, get_att, ref

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
ALLOW_LOGS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
}
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def role_resources() -> dict[str, Any]:
    return {
        "Boundary": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"ManagedPolicyName": "permissions-boundary-dev-001", "PolicyDocument": ALLOW_LOGS},
        },
        "Shared": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": ALLOW_LOGS}},
        "TaskRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": "payment-ecs-task-dev-001-us-east-1",
                "AssumeRolePolicyDocument": TRUST,
                "PermissionsBoundary": ref("Boundary"),
                "ManagedPolicyArns": [EXECUTION_POLICY, ref("Shared")],
                "Policies": [{"PolicyName": "payment-service", "PolicyDocument": ALLOW_LOGS}],
                "Tags": [{"Key": "Tier", "Value": "app"}],
            },
        },
    }


def test_role_boundary_managed_and_inline_policies(stacks: Stacks) -> None:
    outputs = stacks.create(
        "iam",
        role_resources(),
        {"Arn": get_att("TaskRole", "Arn"), "Boundary": get_att("Boundary", "PolicyArn")},
    )
    iam = stacks.client("iam")
    role = iam.get_role(RoleName="payment-ecs-task-dev-001-us-east-1")["Role"]
    assert outputs["Arn"] == role["Arn"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == outputs["Boundary"]
    attached = iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert sorted(p["PolicyArn"] for p in attached) == sorted(
        [EXECUTION_POLICY, stacks.physical_id("iam", "Shared")]
    )
    assert iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"] == ["payment-service"]
    assert {"Key": "Tier", "Value": "app"} in role["Tags"]


def test_role_and_policy_update_then_delete(stacks: Stacks) -> None:
    resources = role_resources()
    stacks.create("iam", resources)
    changed = copy.deepcopy(resources)
    changed["TaskRole"]["Properties"]["ManagedPolicyArns"] = [ref("Shared")]
    changed["TaskRole"]["Properties"]["Policies"] = [{"PolicyName": "sessions", "PolicyDocument": ALLOW_LOGS}]
    changed["TaskRole"]["Properties"]["Description"] = "payment service"
    new_document = copy.deepcopy(ALLOW_LOGS)
    new_document["Statement"][0]["Action"] = "logs:CreateLogStream"
    changed["Shared"]["Properties"]["PolicyDocument"] = new_document
    stacks.update("iam", changed)

    iam = stacks.client("iam")
    name = "payment-ecs-task-dev-001-us-east-1"
    assert iam.get_role(RoleName=name)["Role"]["Description"] == "payment service"
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [stacks.physical_id("iam", "Shared")]
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["sessions"]
    shared = iam.get_policy(PolicyArn=stacks.physical_id("iam", "Shared"))["Policy"]
    version = iam.get_policy_version(PolicyArn=shared["Arn"], VersionId=shared["DefaultVersionId"])
    document = version["PolicyVersion"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document["Statement"][0]["Action"] == "logs:CreateLogStream"

    stacks.delete("iam")
    assert iam.list_roles()["Roles"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_service_linked_role(stacks: Stacks) -> None:
    resources = {
        "Ecs": {"Type": "AWS::IAM::ServiceLinkedRole", "Properties": {"AWSServiceName": "ecs.amazonaws.com"}}
    }
    stacks.create("slr", resources)
    role = stacks.client("iam").get_role(RoleName="AWSServiceRoleForECS")["Role"]
    assert role["Path"] == "/aws-service-role/ecs.amazonaws.com/"
    # The role exists once per account: a second declaration fails, as in IAM.
    with pytest.raises(ClientError, match="has been taken"):
        stacks.create("slr-again", resources)
    stacks.delete("slr")
    assert stacks.client("iam").list_roles()["Roles"] == []


def test_statement_dropped_by_a_false_condition(stacks: Stacks) -> None:
    """`!If [Cond, statement, !Ref AWS::NoValue]` inside a list leaves no gap in the policy."""
    document = {
        "Version": "2012-10-17",
        "Statement": [
            ALLOW_LOGS["Statement"][0],
            {
                "Fn::If": [
                    "HasSecret",
                    {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
                    ref("AWS::NoValue"),
                ]
            },
        ],
    }
    template = {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": "payment-task",
                "AssumeRolePolicyDocument": TRUST,
                "Policies": [{"PolicyName": "task", "PolicyDocument": document}],
            },
        }
    }
    cfn = stacks.client("cloudformation")
    body = json.dumps({"Conditions": {"HasSecret": {"Fn::Equals": ["a", "b"]}}, "Resources": template})
    cfn.create_stack(StackName="iam", TemplateBody=body)
    policy = stacks.client("iam").get_role_policy(RoleName="payment-task", PolicyName="task")[
        "PolicyDocument"
    ]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    assert policy["Statement"] == [ALLOW_LOGS["Statement"][0]]
