"""S3 buckets and DynamoDB tables deployed through CloudFormation, read back through their APIs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError
from provider_stacks import Stacks, get_att, ref

LOG_BUCKET = "payments-access-logs-dev-001-us-east-1"
REPLICA_BUCKET = "payments-app-artifacts-dev-001-eu-west-1"


def bucket_resources() -> dict[str, Any]:
    return {
        "Logs": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": LOG_BUCKET}},
        "Artifacts": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": "payments-app-artifacts-dev-001-us-east-1",
                "VersioningConfiguration": {"Status": "Enabled"},
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": "alias/payments",
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "LoggingConfiguration": {
                    "DestinationBucketName": ref("Logs"),
                    "LogFilePrefix": "s3/app-artifacts/",
                },
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "age-noncurrent-versions",
                            "Status": "Enabled",
                            "NoncurrentVersionTransitions": [
                                {"StorageClass": "STANDARD_IA", "TransitionInDays": 30}
                            ],
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                        },
                        {"Id": "expire-logs", "Status": "Enabled", "Prefix": "tmp/", "ExpirationInDays": 90},
                    ]
                },
                "ReplicationConfiguration": {
                    "Role": "arn:aws:iam::123456789012:role/replication",
                    "Rules": [
                        {
                            "Id": "to-dr",
                            "Status": "Enabled",
                            "Priority": 1,
                            "Filter": {"Prefix": ""},
                            "DeleteMarkerReplication": {"Status": "Enabled"},
                            "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                            "Destination": {
                                "Bucket": f"arn:aws:s3:::{REPLICA_BUCKET}",
                                "EncryptionConfiguration": {
                                    "ReplicaKmsKeyID": "arn:aws:kms:eu-west-1:123456789012:alias/payments"
                                },
                                "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                                "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
                            },
                        }
                    ],
                },
                "Tags": [{"Key": "DataClassification", "Value": "confidential"}],
            },
        },
        "ArtifactsPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("Artifacts"),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "DenyInsecureTransport",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": {"Fn::Sub": "${Artifacts.Arn}/*"},
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


def replica_bucket() -> dict[str, Any]:
    return {
        "Replica": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": REPLICA_BUCKET, "VersioningConfiguration": {"Status": "Enabled"}},
        }
    }


def test_bucket_applies_every_configuration(stacks: Stacks) -> None:
    stacks.create("dr-storage", replica_bucket(), region="eu-west-1")
    outputs = stacks.create(
        "storage",
        bucket_resources(),
        {"Arn": get_att("Artifacts", "Arn"), "Domain": get_att("Artifacts", "RegionalDomainName")},
    )
    name = "payments-app-artifacts-dev-001-us-east-1"
    assert outputs == {"Arn": f"arn:aws:s3:::{name}", "Domain": f"{name}.s3.us-east-1.amazonaws.com"}
    s3 = stacks.client("s3")
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]}
    assert rules["age-noncurrent-versions"]["NoncurrentVersionTransitions"] == [
        {"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"}
    ]
    assert rules["age-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 365
    assert rules["age-noncurrent-versions"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert rules["expire-logs"]["Expiration"] == {"Days": 90}
    assert rules["expire-logs"]["Filter"] == {"Prefix": "tmp/"}
    replication = s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"]
    rule = replication["Rules"][0]
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{REPLICA_BUCKET}"
    assert rule["Destination"]["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
    # moto's GetBucketReplication answers ID, Priority, Status and Destination only.
    assert rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"].endswith(":alias/payments")
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    assert s3.get_bucket_logging(Bucket=name)["LoggingEnabled"] == {
        "TargetBucket": LOG_BUCKET,
        "TargetPrefix": "s3/app-artifacts/",
    }
    ownership = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    encryption = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert encryption["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "alias/payments",
    }
    assert encryption["BucketKeyEnabled"] is True
    assert "aws:SecureTransport" in s3.get_bucket_policy(Bucket=name)["Policy"]
    assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [
        {"Key": "DataClassification", "Value": "confidential"}
    ]


def test_replication_needs_the_versioned_destination_first(stacks: Stacks) -> None:
    with pytest.raises(ClientError, match="Destination bucket must exist"):
        stacks.create("storage", bucket_resources())


def test_bucket_update_and_delete(stacks: Stacks) -> None:
    stacks.create("dr-storage", replica_bucket(), region="eu-west-1")
    resources = bucket_resources()
    stacks.create("storage", resources)
    name = "payments-app-artifacts-dev-001-us-east-1"
    changed = copy.deepcopy(resources)
    artifacts = changed["Artifacts"]["Properties"]
    artifacts["LifecycleConfiguration"]["Rules"][1]["ExpirationInDays"] = 30
    del artifacts["ReplicationConfiguration"]
    del artifacts["PublicAccessBlockConfiguration"]
    del changed["ArtifactsPolicy"]
    stacks.update("storage", changed)
    s3 = stacks.client("s3")
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]}
    assert rules["expire-logs"]["Expiration"] == {"Days": 30}
    for read in (s3.get_bucket_replication, s3.get_public_access_block, s3.get_bucket_policy):
        with pytest.raises(ClientError):
            read(Bucket=name)

    # moto delivers server access logs, as S3 does: empty the log bucket first.
    for log in s3.list_objects_v2(Bucket=LOG_BUCKET).get("Contents", []):
        s3.delete_object(Bucket=LOG_BUCKET, Key=log["Key"])
    stacks.delete("storage")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [REPLICA_BUCKET]


def test_non_empty_bucket_blocks_stack_deletion(stacks: Stacks) -> None:
    stacks.create("dr-storage", replica_bucket(), region="eu-west-1")
    s3 = stacks.client("s3", "eu-west-1")
    s3.put_object(Bucket=REPLICA_BUCKET, Key="artifact.zip", Body=b"x")
    # payctl destroy empties versioned buckets first, because CloudFormation cannot.
    with pytest.raises(ClientError, match="not empty"):
        stacks.client("cloudformation", "eu-west-1").delete_stack(StackName="dr-storage")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [REPLICA_BUCKET]


def session_table(**extra: Any) -> dict[str, Any]:
    properties = {
        "TableName": "payment-sessions-dev-001",
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": ref("Key")},
        "DeletionProtectionEnabled": True,
        "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
    }
    properties.update(extra)
    return {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Sessions": {"Type": "AWS::DynamoDB::Table", "Properties": properties},
    }


def test_table_pitr_sse_deletion_protection_update_delete(stacks: Stacks) -> None:
    resources = session_table()
    outputs = stacks.create("table", resources, {"Arn": get_att("Sessions", "Arn")})
    dynamodb = stacks.client("dynamodb")
    table = dynamodb.describe_table(TableName="payment-sessions-dev-001")["Table"]
    assert outputs["Arn"] == table["TableArn"]
    assert table["DeletionProtectionEnabled"] is True
    key_arn = stacks.client("kms").describe_key(KeyId=stacks.physical_id("table", "Key"))["KeyMetadata"][
        "Arn"
    ]
    assert table["SSEDescription"]["KMSMasterKeyArn"] == key_arn
    backups = dynamodb.describe_continuous_backups(TableName="payment-sessions-dev-001")[
        "ContinuousBackupsDescription"
    ]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ttl = dynamodb.describe_time_to_live(TableName="payment-sessions-dev-001")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"

    changed = copy.deepcopy(resources)
    changed["Sessions"]["Properties"]["DeletionProtectionEnabled"] = False
    changed["Sessions"]["Properties"]["PointInTimeRecoverySpecification"] = {
        "PointInTimeRecoveryEnabled": False
    }
    stacks.update("table", changed)
    assert stacks.physical_id("table", "Sessions") == "payment-sessions-dev-001"
    backups = dynamodb.describe_continuous_backups(TableName="payment-sessions-dev-001")[
        "ContinuousBackupsDescription"
    ]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    stacks.delete("table")
    assert dynamodb.list_tables()["TableNames"] == []


def test_table_deletion_protection_blocks_stack_deletion(stacks: Stacks) -> None:
    stacks.create("table", session_table())
    with pytest.raises(ClientError, match="DeletionProtectionEnabled"):
        stacks.client("cloudformation").delete_stack(StackName="table")
    assert stacks.client("dynamodb").list_tables()["TableNames"] == ["payment-sessions-dev-001"]


def global_table(replicas: list[str]) -> dict[str, Any]:
    return {
        "Sessions": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "TableName": "payment-sessions-dev-001",
                "BillingMode": "PROVISIONED",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
                "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
                "WriteProvisionedThroughputSettings": {
                    "WriteCapacityAutoScalingSettings": {
                        "MinCapacity": 5,
                        "MaxCapacity": 50,
                        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70},
                    }
                },
                "Replicas": [
                    {
                        "Region": region,
                        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                        "DeletionProtectionEnabled": False,
                        "ReadProvisionedThroughputSettings": {"ReadCapacityUnits": 10},
                        "Tags": [{"Key": "Environment", "Value": "dev"}],
                    }
                    for region in replicas
                ],
            },
        }
    }


def test_global_table_replicas_in_both_regions(stacks: Stacks) -> None:
    outputs = stacks.create(
        "global",
        global_table(["us-east-1", "eu-west-1"]),
        {"Arn": get_att("Sessions", "Arn"), "Stream": get_att("Sessions", "StreamArn")},
    )
    assert outputs["Arn"].startswith("arn:aws:dynamodb:us-east-1:")
    assert outputs["Stream"].startswith(outputs["Arn"] + "/stream/")
    for region in ("us-east-1", "eu-west-1"):
        dynamodb = stacks.client("dynamodb", region)
        table = dynamodb.describe_table(TableName="payment-sessions-dev-001")["Table"]
        assert table["TableArn"].startswith(f"arn:aws:dynamodb:{region}:")
        assert [r["RegionName"] for r in table["Replicas"]] == ["eu-west-1", "us-east-1"]
        assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
        assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        backups = dynamodb.describe_continuous_backups(TableName="payment-sessions-dev-001")
        assert (
            backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
                "PointInTimeRecoveryStatus"
            ]
            == "ENABLED"
        )
        targets = stacks.client("application-autoscaling", region).describe_scalable_targets(
            ServiceNamespace="dynamodb"
        )
        assert [
            (t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets["ScalableTargets"]
        ] == [("table/payment-sessions-dev-001", 5, 50)]


def test_global_table_adds_and_removes_one_replica_per_update(stacks: Stacks) -> None:
    stacks.create("global", global_table(["us-east-1"]))
    with pytest.raises(ClientError, match="one replica at a time"):
        stacks.update("global", global_table(["us-east-1", "eu-west-1", "eu-central-1"]))
    stacks.update("global", global_table(["us-east-1", "eu-west-1"]))
    assert stacks.client("dynamodb", "eu-west-1").list_tables()["TableNames"] == ["payment-sessions-dev-001"]
    stacks.update("global", global_table(["us-east-1"]))
    assert stacks.client("dynamodb", "eu-west-1").list_tables()["TableNames"] == []
    stacks.delete("global")
    assert stacks.client("dynamodb").list_tables()["TableNames"] == []


def test_global_table_needs_streams_and_its_own_region(stacks: Stacks) -> None:
    resources = global_table(["us-east-1", "eu-west-1"])
    del resources["Sessions"]["Properties"]["StreamSpecification"]
    with pytest.raises(ClientError, match="StreamSpecification"):
        stacks.create("global", resources)
    with pytest.raises(ClientError, match="stack's region"):
        stacks.create("global2", global_table(["eu-west-1"]))
