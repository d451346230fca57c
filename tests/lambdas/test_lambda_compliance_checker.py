"""lambdas/compliance_checker: CloudTrail records in, one SNS message per finding out."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import boto3
import pytest
from lambda_support import ACCOUNT, REGION, LambdaContext, TopicReader, load_event, load_handler

BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/payments-boundary-dev-001"
FIXTURE_SG = "sg-0a1b2c3d4e5f60718"
BUCKET = "payments-documents-dev-001-us-east-1-111111111111"
TABLE = "payments-sessions-dev-001"
ROLE = "payments-reporting-dev-001"
ALL_TAGS = {"Environment": "dev", "Application": "payments", "CostCenter": "CC-PAYMENTS"}
OPERATOR_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/PlatformOperator/ops-engineer@example.com"


@pytest.fixture
def compliance(aws: None, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, TopicReader]:
    reader = TopicReader("payments-compliance-dev-001")
    monkeypatch.setenv("ENVIRONMENT_NAME", "dev")
    monkeypatch.setenv("COMPLIANCE_TOPIC_ARN", reader.arn)
    monkeypatch.setenv("PERMISSIONS_BOUNDARY_ARN", BOUNDARY)
    monkeypatch.setenv("REQUIRED_TAGS", "Environment,Application,CostCenter")
    return load_handler("compliance_checker"), reader


def run(module: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = module.handler(event, LambdaContext())
    return result


def only_message(reader: TopicReader) -> dict[str, Any]:
    published = reader.messages()
    assert len(published) == 1, [p.message for p in published]
    return published[0].message


# --------------------------------------------------------------------------- EC2


def test_world_open_ingress_publishes_one_violation_per_rule_with_severity_by_port(compliance):
    module, reader = compliance
    event = load_event("ec2-authorize-sg-ingress-world.json")

    summary = run(module, event)

    published = sorted(reader.messages(), key=lambda p: p.message["details"]["fromPort"])
    assert [p.message["severity"] for p in published] == ["CRITICAL", "LOW"]
    ssh, https = published
    assert ssh.message == {
        "schemaVersion": "1.0",
        "ruleId": "ec2-sg-world-open-ingress",
        "severity": "CRITICAL",
        "environment": "dev",
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": FIXTURE_SG,
        "resourceArn": f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{FIXTURE_SG}",
        "account": ACCOUNT,
        "region": "us-east-1",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress",
        "actor": OPERATOR_ARN,
        "eventTime": event["detail"]["eventTime"],
        "eventId": event["detail"]["eventID"],
        "details": {
            "protocol": "tcp",
            "fromPort": 22,
            "toPort": 22,
            "ports": "tcp/22",
            "cidrs": ["0.0.0.0/0", "::/0"],
            "securityGroupRuleIds": ["sgr-0f1e2d3c4b5a69781", "sgr-0f1e2d3c4b5a69782"],
        },
        "remediation": ssh.message["remediation"],
    }
    assert FIXTURE_SG in ssh.message["remediation"]
    assert ssh.attributes == {"severity": "CRITICAL", "rule": "ec2-sg-world-open-ingress"}
    assert ssh.subject == f"[CRITICAL] dev ec2-sg-world-open-ingress: {FIXTURE_SG}"
    assert https.message["details"]["securityGroupRuleIds"] == ["sgr-0f1e2d3c4b5a69783"]
    assert https.attributes["severity"] == "LOW"
    assert summary["findings"] == ["ec2-sg-world-open-ingress", "ec2-sg-world-open-ingress"]


def test_ingress_from_the_vpc_or_a_security_group_publishes_nothing(compliance):
    module, reader = compliance

    summary = run(module, load_event("ec2-authorize-sg-ingress-internal.json"))

    assert reader.messages() == []
    assert summary == {
        "status": "evaluated",
        "findings": [],
        "eventName": "AuthorizeSecurityGroupIngress",
        "eventSource": "ec2.amazonaws.com",
        "eventId": summary["eventId"],
    }


def _group_with_rdp_rule() -> tuple[str, str, str]:
    """A security group with a 3389 ingress rule; returns (group id, ingress rule id, egress rule id)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="vendor", Description="vendor", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}
        ],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])
    ingress = next(r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if not r["IsEgress"])
    egress = next(r["SecurityGroupRuleId"] for r in rules["SecurityGroupRules"] if r["IsEgress"])
    return group, ingress, egress


def test_ingress_rule_modified_to_world_rdp_is_critical(compliance):
    module, reader = compliance
    group, ingress, _ = _group_with_rdp_rule()
    event = load_event(
        "ec2-modify-sg-rules-world.json", {FIXTURE_SG: group, "sgr-0c1d2e3f4a5b60719": ingress}
    )

    run(module, event)

    message = only_message(reader)
    assert message["severity"] == "CRITICAL"
    assert message["resourceId"] == group
    assert message["details"]["ports"] == "tcp/3389"
    assert message["details"]["securityGroupRuleIds"] == [ingress]


def test_egress_rule_modified_to_world_publishes_nothing(compliance):
    module, reader = compliance
    group, _, egress = _group_with_rdp_rule()
    event = load_event("ec2-modify-sg-rules-world.json", {FIXTURE_SG: group, "sgr-0c1d2e3f4a5b60719": egress})

    run(module, event)

    assert reader.messages() == []


def test_security_group_created_without_required_tags(compliance):
    module, reader = compliance
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(
        GroupName="payments-adhoc-dev-001",
        Description="ad hoc access",
        VpcId=vpc,
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "Name", "Value": "payments-adhoc-dev-001"}]}
        ],
    )["GroupId"]

    run(module, load_event("ec2-create-security-group.json", {FIXTURE_SG: group}))

    message = only_message(reader)
    assert message["ruleId"] == "required-tags-missing"
    assert message["severity"] == "MEDIUM"
    assert message["resourceArn"] == f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{group}"
    assert message["details"]["missingTags"] == ["Environment", "Application", "CostCenter"]


def test_security_group_tagged_right_after_creation_is_compliant(compliance):
    module, reader = compliance
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="app", Description="app", VpcId=vpc)["GroupId"]
    # The create call carried only Name; CloudFormation tags in a later CreateTags call.
    ec2.create_tags(Resources=[group], Tags=[{"Key": k, "Value": v} for k, v in ALL_TAGS.items()])

    run(module, load_event("ec2-create-security-group.json", {FIXTURE_SG: group}))

    assert reader.messages() == []


def test_record_decides_when_the_ec2_endpoint_cannot_be_reached(compliance, monkeypatch):
    module, reader = compliance
    # In a VPC without an ec2 endpoint the state read fails; a closed local port fails fast.
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:9")

    summary = run(module, load_event("ec2-create-security-group.json"))

    # The create call carried only a Name tag.
    message = only_message(reader)
    assert message["details"]["missingTags"] == ["Environment", "Application", "CostCenter"]
    assert summary["status"] == "evaluated"


def test_deleting_a_required_tag_is_reported(compliance):
    module, reader = compliance

    run(module, load_event("ec2-delete-tags.json"))

    message = only_message(reader)
    assert message["ruleId"] == "required-tags-missing"
    assert message["details"]["missingTags"] == ["CostCenter"]
    assert message["resourceArn"] == f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{FIXTURE_SG}"


def test_failed_call_changed_nothing_and_publishes_nothing(compliance):
    module, reader = compliance

    summary = run(module, load_event("ec2-authorize-sg-ingress-denied.json"))

    assert reader.messages() == []
    assert summary["status"] == "ignored"
    assert "Client.UnauthorizedOperation" in summary["reason"]


@pytest.mark.parametrize(
    "event",
    [
        load_event("ec2-run-instances.json"),
        load_event("scheduled-event.json"),
        {},
        {"detail-type": "AWS API Call via CloudTrail", "detail": "not an object"},
    ],
    ids=["unknown-api-call", "scheduled-event", "empty", "malformed"],
)
def test_events_without_a_rule_are_answered_with_a_summary(compliance, event):
    module, reader = compliance

    summary = run(module, event)

    assert summary["status"] == "ignored"
    assert summary["findings"] == []
    assert reader.messages() == []


def test_a_known_event_with_an_unexpected_shape_does_not_crash(compliance):
    module, reader = compliance
    event = load_event("ec2-modify-sg-rules-world.json")
    event["detail"]["requestParameters"]["ModifySecurityGroupRulesRequest"]["SecurityGroupRule"] = [
        "sgr-1",
        7,
    ]

    summary = run(module, event)

    assert summary["status"] == "evaluated"
    assert reader.messages() == []


# --------------------------------------------------------------------------- S3


def test_bucket_encryption_removed(compliance):
    module, reader = compliance

    run(module, load_event("s3-delete-bucket-encryption.json"))

    message = only_message(reader)
    assert (message["ruleId"], message["severity"]) == ("s3-encryption-removed", "HIGH")
    assert message["resourceArn"] == f"arn:aws:s3:::{BUCKET}"
    assert message["resourceType"] == "AWS::S3::Bucket"


def test_bucket_encryption_with_own_kms_key_is_compliant(compliance):
    module, reader = compliance

    run(module, load_event("s3-put-bucket-encryption-own-key.json"))

    assert reader.messages() == []


def test_bucket_encryption_with_another_accounts_key_is_critical(compliance):
    module, reader = compliance

    run(module, load_event("s3-put-bucket-encryption-foreign-key.json"))

    message = only_message(reader)
    assert (message["ruleId"], message["severity"]) == ("s3-encryption-foreign-kms-key", "CRITICAL")
    assert message["details"]["kmsKeys"] == [
        "arn:aws:kms:us-east-1:222222222222:key/9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f"
    ]


def test_public_access_block_weakened_names_the_settings_turned_off(compliance):
    module, reader = compliance

    run(module, load_event("s3-put-public-access-block-weakened.json"))

    message = only_message(reader)
    assert (message["ruleId"], message["severity"]) == ("s3-public-access-block-weakened", "HIGH")
    assert message["details"]["disabledSettings"] == ["BlockPublicAcls", "BlockPublicPolicy"]


def test_full_public_access_block_is_compliant(compliance):
    module, reader = compliance

    run(module, load_event("s3-put-public-access-block-full.json"))

    assert reader.messages() == []


def test_public_access_block_read_from_the_bucket_when_the_record_omits_it(compliance):
    module, reader = compliance
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        },
    )
    event = load_event("s3-put-public-access-block-full.json")
    del event["detail"]["requestParameters"]["PublicAccessBlockConfiguration"]

    run(module, event)

    assert only_message(reader)["details"]["disabledSettings"] == ["RestrictPublicBuckets"]


def test_public_access_block_removed(compliance):
    module, reader = compliance

    run(module, load_event("s3-delete-public-access-block.json"))

    message = only_message(reader)
    assert (message["ruleId"], message["severity"]) == ("s3-public-access-block-removed", "HIGH")


def test_bucket_policy_granting_everyone_is_critical(compliance):
    module, reader = compliance

    run(module, load_event("s3-put-bucket-policy-public.json"))

    message = only_message(reader)
    assert (message["ruleId"], message["severity"]) == ("s3-bucket-policy-public", "CRITICAL")
    # The Deny-everyone-without-TLS statement is not a grant.
    assert [s["Sid"] for s in message["details"]["publicStatements"]] == ["PublicRead"]


def test_bucket_policy_without_public_grants_is_compliant(compliance):
    module, reader = compliance

    run(module, load_event("s3-put-bucket-policy-tls-only.json"))

    assert reader.messages() == []


def test_bucket_policy_removed(compliance):
    module, reader = compliance

    run(module, load_event("s3-delete-bucket-policy.json"))

    message = only_message(reader)
    assert (message["ruleId"], message["severity"]) == ("s3-bucket-policy-removed", "MEDIUM")


def test_bucket_created_without_cost_center(compliance):
    module, reader = compliance
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_tagging(
        Bucket=BUCKET,
        Tagging={
            "TagSet": [{"Key": "Environment", "Value": "dev"}, {"Key": "Application", "Value": "payments"}]
        },
    )

    run(module, load_event("s3-create-bucket.json"))

    message = only_message(reader)
    assert message["ruleId"] == "required-tags-missing"
    assert message["details"]["missingTags"] == ["CostCenter"]
    assert message["details"]["presentTags"] == {"Environment": "dev", "Application": "payments"}


def test_bucket_created_with_all_tags_is_compliant(compliance):
    module, reader = compliance
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_tagging(
        Bucket=BUCKET, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in ALL_TAGS.items()]}
    )

    run(module, load_event("s3-create-bucket.json"))

    assert reader.messages() == []


# --------------------------------------------------------------------------- DynamoDB


def _create_table(pitr: bool = False, tags: dict[str, str] | None = None) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "sessionId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "sessionId", "KeyType": "HASH"}],
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )
    if pitr:
        dynamodb.update_continuous_backups(
            TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def test_point_in_time_recovery_disabled(compliance):
    module, reader = compliance

    run(module, load_event("dynamodb-update-continuous-backups-disabled.json"))

    message = only_message(reader)
    assert (message["ruleId"], message["severity"]) == ("dynamodb-pitr-disabled", "HIGH")
    assert message["resourceArn"] == f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}"


def test_point_in_time_recovery_enabled_is_compliant(compliance):
    module, reader = compliance

    run(module, load_event("dynamodb-update-continuous-backups-enabled.json"))

    assert reader.messages() == []


@pytest.mark.parametrize(("pitr", "expected"), [(False, ["dynamodb-pitr-disabled"]), (True, [])])
def test_point_in_time_recovery_read_from_the_table_when_the_record_omits_it(compliance, pitr, expected):
    module, reader = compliance
    _create_table(pitr=pitr)
    event = load_event("dynamodb-update-continuous-backups-disabled.json")
    del event["detail"]["requestParameters"]["pointInTimeRecoverySpecification"]

    run(module, event)

    assert [p.message["ruleId"] for p in reader.messages()] == expected


def test_replica_removal_and_deletion_protection_off_are_two_findings(compliance):
    module, reader = compliance

    run(module, load_event("dynamodb-update-table-replica-removed.json"))

    by_rule = {p.message["ruleId"]: p.message for p in reader.messages()}
    assert set(by_rule) == {"dynamodb-replica-removed", "dynamodb-deletion-protection-disabled"}
    assert by_rule["dynamodb-replica-removed"]["severity"] == "HIGH"
    assert by_rule["dynamodb-replica-removed"]["details"]["removedReplicaRegions"] == ["eu-west-1"]
    assert by_rule["dynamodb-deletion-protection-disabled"]["severity"] == "MEDIUM"


def test_table_update_without_risk_is_compliant(compliance):
    module, reader = compliance

    run(module, load_event("dynamodb-update-table-billing.json"))

    assert reader.messages() == []


def test_table_deleted(compliance):
    module, reader = compliance

    run(module, load_event("dynamodb-delete-table.json"))

    message = only_message(reader)
    assert (message["ruleId"], message["severity"]) == ("dynamodb-table-deleted", "HIGH")
    assert message["details"] == {"tableStatus": "DELETING"}


def test_table_created_without_required_tags(compliance):
    module, reader = compliance
    _create_table(tags={"Environment": "dev"})

    run(module, load_event("dynamodb-create-table.json"))

    message = only_message(reader)
    assert message["ruleId"] == "required-tags-missing"
    assert message["details"]["missingTags"] == ["Application", "CostCenter"]


def test_table_created_with_all_tags_is_compliant(compliance):
    module, reader = compliance
    _create_table(tags=ALL_TAGS)

    run(module, load_event("dynamodb-create-table.json"))

    assert reader.messages() == []


def test_untagging_a_required_key_from_a_table(compliance):
    module, reader = compliance

    run(module, load_event("dynamodb-untag-resource.json"))

    message = only_message(reader)
    assert message["details"]["missingTags"] == ["Application"]
    assert message["resourceId"] == TABLE


# --------------------------------------------------------------------------- IAM

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def _create_role(boundary: bool, tags: dict[str, str]) -> None:
    iam = boto3.client("iam")
    iam.create_policy(
        PolicyName="payments-boundary-dev-001",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}],
            }
        ),
    )
    extra: dict[str, Any] = {"PermissionsBoundary": BOUNDARY} if boundary else {}
    iam.create_role(
        RoleName=ROLE,
        AssumeRolePolicyDocument=TRUST,
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        **extra,
    )


def test_role_created_with_boundary_and_tags_is_compliant(compliance):
    module, reader = compliance
    _create_role(boundary=True, tags=ALL_TAGS)

    run(module, load_event("iam-create-role.json"))

    assert reader.messages() == []


def test_role_created_without_boundary_or_tags_is_two_findings(compliance):
    module, reader = compliance
    _create_role(boundary=False, tags={})
    event = load_event("iam-create-role.json")
    for name in ("permissionsBoundary", "tags"):
        del event["detail"]["requestParameters"][name]

    run(module, event)

    by_rule = {p.message["ruleId"]: p for p in reader.messages()}
    assert set(by_rule) == {"iam-role-missing-boundary", "required-tags-missing"}
    boundary = by_rule["iam-role-missing-boundary"]
    assert boundary.message["severity"] == "HIGH"
    assert boundary.message["resourceArn"] == f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
    assert boundary.message["details"] == {"expectedBoundary": BOUNDARY, "actualBoundary": None}
    assert boundary.attributes == {"severity": "HIGH", "rule": "iam-role-missing-boundary"}


def test_role_record_is_used_when_the_role_cannot_be_read(compliance):
    module, reader = compliance
    # No role in the account (already deleted): the CloudTrail record decides.
    event = load_event("iam-create-role.json")
    del event["detail"]["requestParameters"]["permissionsBoundary"]

    run(module, event)

    assert only_message(reader)["ruleId"] == "iam-role-missing-boundary"


def test_role_given_another_boundary(compliance):
    module, reader = compliance

    run(module, load_event("iam-put-role-permissions-boundary.json"))

    message = only_message(reader)
    assert message["ruleId"] == "iam-role-missing-boundary"
    assert message["details"]["actualBoundary"] == "arn:aws:iam::aws:policy/PowerUserAccess"


def test_role_given_the_environment_boundary_is_compliant(compliance):
    module, reader = compliance
    event = load_event(
        "iam-put-role-permissions-boundary.json", {"arn:aws:iam::aws:policy/PowerUserAccess": BOUNDARY}
    )

    run(module, event)

    assert reader.messages() == []


def test_boundary_removed_is_critical(compliance):
    module, reader = compliance

    run(module, load_event("iam-delete-role-permissions-boundary.json"))

    message = only_message(reader)
    assert (message["ruleId"], message["severity"]) == ("iam-role-boundary-removed", "CRITICAL")
    assert message["actor"] == OPERATOR_ARN


@pytest.mark.parametrize(("boundary", "expected"), [(False, ["iam-role-missing-boundary"]), (True, [])])
def test_policy_attached_to_a_role_checks_its_boundary(compliance, boundary, expected):
    module, reader = compliance
    _create_role(boundary=boundary, tags=ALL_TAGS)

    run(module, load_event("iam-attach-role-policy.json"))

    published = reader.messages()
    assert [p.message["ruleId"] for p in published] == expected
    if published:
        assert (
            published[0].message["details"]["attachedPolicyArn"]
            == "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
        )


def test_untagging_cost_center_from_a_role(compliance):
    module, reader = compliance

    run(module, load_event("iam-untag-role.json"))

    assert only_message(reader)["details"]["missingTags"] == ["CostCenter"]


# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("protocol", "from_port", "to_port", "severity"),
    [
        ("-1", None, None, "CRITICAL"),
        ("tcp", 0, 65535, "CRITICAL"),
        ("6", 5432, 5432, "CRITICAL"),
        ("tcp", 3000, 3400, "CRITICAL"),
        ("tcp", 8080, 8080, "HIGH"),
        ("udp", 443, 443, "HIGH"),
        ("tcp", 80, 80, "MEDIUM"),
        ("tcp", 443, 443, "LOW"),
        ("icmp", -1, -1, "LOW"),
    ],
)
def test_severity_by_protocol_and_port(protocol, from_port, to_port, severity):
    module = load_handler("compliance_checker")
    assert module.ingress_severity(protocol, from_port, to_port) == severity


def test_public_policy_detection_honours_conditions_and_principal_forms():
    module = load_handler("compliance_checker")
    grant = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    policy = {
        "Statement": [
            {**grant, "Sid": "a", "Principal": {"AWS": ["arn:aws:iam::111111111111:root", "*"]}},
            {
                **grant,
                "Sid": "b",
                "Principal": "*",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}},
            },
            {**grant, "Sid": "c", "Principal": {"Service": "logging.s3.amazonaws.com"}},
        ]
    }
    assert [s["Sid"] for s in module.public_policy_statements(json.dumps(policy))] == ["a"]


def test_subject_is_cut_to_the_sns_limit():
    module = load_handler("compliance_checker")
    subject = module.subject_line("[HIGH] dev required-tags-missing: " + "x" * 200 + "\n")
    assert len(subject) == 100
    assert subject.endswith("...")
    assert "\n" not in subject
