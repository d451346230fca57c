"""Lambda settings, schedules, secrets, log groups and resource shares deployed through
CloudFormation, read back through their APIs."""

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
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def function_resources(retries: int = 0) -> dict[str, Any]:
    return {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}},
        "Logs": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": "/aws/lambda/payment-drift-detector-dev-001",
                "RetentionInDays": 30,
                "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
            },
        },
        "Detector": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "payment-drift-detector-dev-001",
                "Runtime": "python3.12",
                "Handler": "handler.handler",
                "Role": get_att("Role", "Arn"),
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
            },
        },
        "Retries": {
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": {
                "FunctionName": ref("Detector"),
                "Qualifier": "$LATEST",
                "MaximumRetryAttempts": retries,
            },
        },
        "SchedulerMayInvoke": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": ref("Detector"),
                "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com",
                "SourceAccount": "123456789012",
            },
        },
        "Every6Hours": {
            "Type": "AWS::Scheduler::Schedule",
            "Properties": {
                "Name": "payment-drift-detection-dev-001",
                "ScheduleExpression": "rate(6 hours)",
                "FlexibleTimeWindow": {"Mode": "OFF"},
                "Target": {
                    "Arn": get_att("Detector", "Arn"),
                    "RoleArn": get_att("Role", "Arn"),
                    "RetryPolicy": {"MaximumRetryAttempts": 2},
                },
            },
        },
    }


def test_function_settings_schedule_and_log_group(stacks: Stacks) -> None:
    outputs = stacks.create(
        "functions",
        function_resources(),
        {
            "Schedule": get_att("Every6Hours", "Arn"),
            "Logs": get_att("Logs", "Arn"),
            "Permission": ref("SchedulerMayInvoke"),
        },
    )
    lambda_ = stacks.client("lambda")
    assert (
        lambda_.get_function_event_invoke_config(FunctionName="payment-drift-detector-dev-001")[
            "MaximumRetryAttempts"
        ]
        == 0
    )
    policy = json.loads(lambda_.get_policy(FunctionName="payment-drift-detector-dev-001")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == [outputs["Permission"]]
    assert policy["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    schedule = stacks.client("scheduler").get_schedule(Name="payment-drift-detection-dev-001")
    assert (schedule["Arn"], schedule["ScheduleExpression"]) == (outputs["Schedule"], "rate(6 hours)")
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 2
    group = stacks.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/payment")["logGroups"][
        0
    ]
    assert (group["retentionInDays"], group["kmsKeyId"]) == (
        30,
        function_resources()["Logs"]["Properties"]["KmsKeyId"],
    )
    assert (
        outputs["Logs"] == group["arn"]
        if group["arn"].endswith(":*")
        else outputs["Logs"] == group["arn"] + ":*"
    )

    changed = function_resources(retries=2)
    changed["Logs"]["Properties"]["RetentionInDays"] = 90
    changed["Every6Hours"]["Properties"]["ScheduleExpression"] = "rate(1 hour)"
    stacks.update("functions", changed)
    assert (
        lambda_.get_function_event_invoke_config(FunctionName="payment-drift-detector-dev-001")[
            "MaximumRetryAttempts"
        ]
        == 2
    )
    assert (
        stacks.client("scheduler").get_schedule(Name="payment-drift-detection-dev-001")["ScheduleExpression"]
        == "rate(1 hour)"
    )
    assert stacks.client("logs").describe_log_groups()["logGroups"][0]["retentionInDays"] == 90

    stacks.delete("functions")
    assert stacks.client("scheduler").list_schedules()["Schedules"] == []
    assert stacks.client("logs").describe_log_groups()["logGroups"] == []


def database_secret() -> dict[str, Any]:
    return {
        "Cluster": {
            "Type": "AWS::RDS::DBCluster",
            "Properties": {
                "DBClusterIdentifier": "payment-db-cluster-dev-001",
                "Engine": "aurora-postgresql",
                "EngineVersion": "15.4",
                "MasterUsername": "payments_admin",
                "MasterUserPassword": "{{resolve:secretsmanager:payment-db-master-dev-001}}",
            },
        },
        "Master": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": "payment-db-master-dev-001",
                "GenerateSecretString": {
                    "SecretStringTemplate": '{"username": "payments_admin"}',
                    "GenerateStringKey": "password",
                    "PasswordLength": 40,
                    "ExcludePunctuation": True,
                },
            },
        },
        "Attachment": {
            "Type": "AWS::SecretsManager::SecretTargetAttachment",
            "Properties": {
                "SecretId": ref("Master"),
                "TargetId": ref("Cluster"),
                "TargetType": "AWS::RDS::DBCluster",
            },
        },
    }


def test_generated_secret_attached_to_the_cluster(stacks: Stacks) -> None:
    outputs = stacks.create("secrets", database_secret(), {"Arn": ref("Master")})
    secrets = stacks.client("secretsmanager")
    value = json.loads(secrets.get_secret_value(SecretId=outputs["Arn"])["SecretString"])
    assert value["username"] == "payments_admin"
    assert len(value["password"]) == 40 and value["password"].isalnum()
    assert value["dbClusterIdentifier"] == "payment-db-cluster-dev-001"
    assert value["host"].startswith("payment-db-cluster-dev-001.cluster-")
    stacks.delete("secrets")
    # CloudFormation deletes secrets without a recovery window: the name is free at once.
    assert secrets.list_secrets()["SecretList"] == []


def test_resource_share_of_the_transit_gateway(stacks: Stacks) -> None:
    organizations = stacks.client("organizations")
    organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    resources = {
        "Gateway": {
            "Type": "AWS::EC2::TransitGateway",
            "Properties": {"AutoAcceptSharedAttachments": "enable"},
        },
        "Share": {
            "Type": "AWS::RAM::ResourceShare",
            "Properties": {
                "Name": "payments-transit-gateway-share",
                "ResourceArns": [get_att("Gateway", "TransitGatewayArn")],
                "Principals": [organization["Arn"]],
                "AllowExternalPrincipals": False,
            },
        },
    }
    outputs = stacks.create("hub", resources, {"Arn": get_att("Share", "Arn")})
    ram = stacks.client("ram")
    share = ram.get_resource_shares(resourceOwner="SELF")["resourceShares"][0]
    assert (share["resourceShareArn"], share["allowExternalPrincipals"]) == (outputs["Arn"], False)
    changed = copy.deepcopy(resources)
    changed["Share"]["Properties"]["Name"] = "payments-tgw-share"
    stacks.update("hub", changed)
    assert ram.get_resource_shares(resourceOwner="SELF")["resourceShares"][0]["name"] == "payments-tgw-share"
    stacks.delete("hub")
    assert [s["status"] for s in ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]] == [
        "DELETED"
    ]


def test_unknown_organization_cannot_be_a_principal(stacks: Stacks) -> None:
    share = {
        "Share": {
            "Type": "AWS::RAM::ResourceShare",
            "Properties": {
                "Name": "s",
                "Principals": ["arn:aws:organizations::444444444444:organization/o-exampleorgid"],
            },
        }
    }
    with pytest.raises(ClientError, match="not a member of an organization"):
        stacks.create("hub", share)


def exported_value(value: str, cost_center: str, kind: str = "String") -> dict[str, Any]:
    return {
        "VpcIdParameter": {
            "Type": "AWS::SSM::Parameter",
            "Properties": {
                "Name": "/dev/network/vpc-id",
                "Type": kind,
                "Value": value,
                "Tags": {"CostCenter": cost_center},  # the parameter's schema takes a map
            },
        }
    }


def test_parameter_tagged_with_a_map_updates_in_place(stacks: Stacks) -> None:
    outputs = stacks.create(
        "exports", exported_value("vpc-1", "CC-1"), {"Value": get_att("VpcIdParameter", "Value")}
    )
    ssm = stacks.client("ssm")
    assert outputs["Value"] == "vpc-1"
    stacks.update("exports", exported_value("vpc-2", "CC-2"))
    parameter = ssm.get_parameter(Name="/dev/network/vpc-id")["Parameter"]
    assert (parameter["Value"], parameter["Version"]) == ("vpc-2", 2)
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/dev/network/vpc-id")["TagList"]
    assert tags == [{"Key": "CostCenter", "Value": "CC-2"}]
    stacks.delete("exports")
    assert ssm.describe_parameters()["Parameters"] == []


def test_secure_string_parameters_are_refused(stacks: Stacks) -> None:
    with pytest.raises(ClientError, match="SecureString is not supported"):
        stacks.create("exports", exported_value("x", "CC-1", kind="SecureString"))


def key_resources(description: str) -> dict[str, Any]:
    return {
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "Description": description,
                "EnableKeyRotation": True,
                "PendingWindowInDays": 7,
                "Tags": [{"Key": "CostCenter", "Value": "CC-1"}],
            },
        },
        "Alias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": "alias/payments-dev-001", "TargetKeyId": ref("Key")},
        },
    }


def test_key_without_policy_updates_in_place_and_is_scheduled_for_deletion(stacks: Stacks) -> None:
    outputs = stacks.create("keys", key_resources("payments dev-001"), {"Arn": get_att("Key", "Arn")})
    kms = stacks.client("kms")
    key_id = stacks.physical_id("keys", "Key")
    assert kms.describe_key(KeyId="alias/payments-dev-001")["KeyMetadata"]["Arn"] == outputs["Arn"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy["Statement"][0]["Principal"] == {
        "AWS": "arn:aws:iam::123456789012:root"
    }  # AWS's default policy
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "CostCenter", "TagValue": "CC-1"}]
    stacks.update("keys", key_resources("payments dev-001 data key"))
    assert stacks.physical_id("keys", "Key") == key_id
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "payments dev-001 data key"
    stacks.delete("keys")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
