"""DescribeChangeSet transcripts shaped like AWS's documented responses (API reference: DescribeChangeSet,
ResourceChange, ResourceChangeDetail, ResourceTargetDefinition; user guide: change sets for nested
stacks), for the paths moto cannot produce: nested change sets, Replacement, Details, failures.

Scenario: prod's primary wave (us-east-1) is updated. The root change set (two pages) modifies the
Database, Compute and Storage nested stacks and removes Reporting:
  Database: the Aurora cluster identifier changes (replacement), the writer follows it (conditional),
            a security group ingress rule opens 5432 to a CIDR.
  Compute:  the task role gains s3:* on *, the service's desired count follows a parameter, and the
            webhook secret (a NoEcho parameter) reaches a container environment variable.
  Storage:  a nested change set that "didn't contain changes".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

ACCOUNT = "333333333333"
REGION = "us-east-1"
STACK = "payments-prod-001-primary"
SECRET = "whsec-0123456789abcdef"  # the NoEcho value payctl passes; must never be shown
CREATED = datetime(2026, 1, 15, 10, 0, 0, tzinfo=UTC)


def stack_id(name: str, suffix: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/{suffix}"


def change_set_id(name: str, suffix: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/{name}/{suffix}"


ROOT_ID = change_set_id("payctl-plan-20260115100000-a1b2c3", "0f1e2d3c-0000-4000-8000-000000000001")
ROOT_STACK_ID = stack_id(STACK, "11111111-1111-4111-8111-111111111111")
DATABASE_STACK = f"{STACK}-Database-1ABCDEF2GHIJ"
COMPUTE_STACK = f"{STACK}-Compute-3KLMNOP4QRST"
STORAGE_STACK = f"{STACK}-Storage-5UVWXYZ6ABCD"
REPORTING_STACK = f"{STACK}-Reporting-7EFGHIJ8KLMN"
DATABASE_CS = change_set_id(f"{STACK}-Database-1ABCDEF2GHIJ-payctl", "0f1e2d3c-0000-4000-8000-000000000002")
COMPUTE_CS = change_set_id(f"{STACK}-Compute-3KLMNOP4QRST-payctl", "0f1e2d3c-0000-4000-8000-000000000003")
STORAGE_CS = change_set_id(f"{STACK}-Storage-5UVWXYZ6ABCD-payctl", "0f1e2d3c-0000-4000-8000-000000000004")


def _head(cs_id: str, name: str, sid: str, *, status: str = "CREATE_COMPLETE", reason: str | None = None,
          parent: str | None = None, parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    head: dict[str, Any] = {
        "ChangeSetName": cs_id.split("/")[1],
        "ChangeSetId": cs_id,
        "StackId": sid,
        "StackName": name,
        "Parameters": parameters or [],
        "CreationTime": CREATED,
        "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
        "Status": status,
        "NotificationARNs": [],
        "RollbackConfiguration": {},
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Tags": [{"Key": "Environment", "Value": "prod"}, {"Key": "Application", "Value": "payments"},
                 {"Key": "CostCenter", "Value": "CC-PAYMENTS"}],
        "IncludeNestedStacks": True,
        "RootChangeSetId": ROOT_ID,
    }
    if reason:
        head["StatusReason"] = reason
    if parent:
        head["ParentChangeSetId"] = parent
    return head


def _nested_stack_change(logical_id: str, physical: str, action: str, cs_id: str | None) -> dict[str, Any]:
    change: dict[str, Any] = {
        "Action": action,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": stack_id(physical, "22222222-2222-4222-8222-" + f"{len(logical_id):012d}"),
        "ResourceType": "AWS::CloudFormation::Stack",
        "Scope": [] if action == "Remove" else ["Properties"],
        "Details": [] if action == "Remove" else [{
            "Target": {"Attribute": "Properties", "Name": "TemplateURL", "RequiresRecreation": "Never"},
            "Evaluation": "Static",
            "ChangeSource": "DirectModification",
        }],
    }
    if action != "Remove":
        change["Replacement"] = "False"
    if action == "Remove":
        change["PolicyAction"] = "Delete"
    if cs_id:
        change["ChangeSetId"] = cs_id
    return {"Type": "Resource", "ResourceChange": change}


ROOT_PARAMETERS = [
    {"ParameterKey": "EnvironmentName", "ParameterValue": "prod"},
    {"ParameterKey": "WebhookSecret", "ParameterValue": "****"},
    {"ParameterKey": "ServiceDesiredCount", "ParameterValue": "4"},
]

ROOT_PAGE_1: dict[str, Any] = {
    **_head(ROOT_ID, STACK, ROOT_STACK_ID, parameters=ROOT_PARAMETERS),
    "Changes": [
        _nested_stack_change("Database", DATABASE_STACK, "Modify", DATABASE_CS),
        _nested_stack_change("Compute", COMPUTE_STACK, "Modify", COMPUTE_CS),
    ],
    "NextToken": "page-2",
}
ROOT_PAGE_2: dict[str, Any] = {
    **_head(ROOT_ID, STACK, ROOT_STACK_ID, parameters=ROOT_PARAMETERS),
    "Changes": [
        _nested_stack_change("Storage", STORAGE_STACK, "Modify", STORAGE_CS),
        _nested_stack_change("Reporting", REPORTING_STACK, "Remove", None),
    ],
}

DATABASE: dict[str, Any] = {
    **_head(DATABASE_CS, DATABASE_STACK, stack_id(DATABASE_STACK, "33333333-3333-4333-8333-333333333333"),
            parent=ROOT_ID),
    "Changes": [
        {"Type": "Resource", "ResourceChange": {
            "PolicyAction": "ReplaceAndSnapshot",
            "Action": "Modify",
            "LogicalResourceId": "AuroraCluster",
            "PhysicalResourceId": "payment-db-cluster-prod-001",
            "ResourceType": "AWS::RDS::DBCluster",
            "Replacement": "True",
            "Scope": ["Properties"],
            "Details": [{
                "Target": {"Attribute": "Properties", "Name": "DBClusterIdentifier",
                           "RequiresRecreation": "Always", "Path": "/Properties/DBClusterIdentifier",
                           "BeforeValue": "payment-db-cluster-prod-001", "AfterValue": "payment-db-prod-001",
                           "AttributeChangeType": "Modify"},
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            }],
        }},
        {"Type": "Resource", "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "WriterInstance",
            "PhysicalResourceId": "payment-db-writer-prod-001",
            "ResourceType": "AWS::RDS::DBInstance",
            "Replacement": "Conditional",
            "Scope": ["Properties"],
            "Details": [{
                "Target": {"Attribute": "Properties", "Name": "DBClusterIdentifier",
                           "RequiresRecreation": "Always"},
                "Evaluation": "Dynamic",
                "ChangeSource": "ResourceReference",
                "CausingEntity": "AuroraCluster",
            }],
        }},
        {"Type": "Resource", "ResourceChange": {
            "Action": "Add",
            "LogicalResourceId": "ReportingIngress",
            "ResourceType": "AWS::EC2::SecurityGroupIngress",
            "Scope": [],
            "Details": [],
        }},
    ],
}

COMPUTE: dict[str, Any] = {
    **_head(COMPUTE_CS, COMPUTE_STACK, stack_id(COMPUTE_STACK, "44444444-4444-4444-8444-444444444444"),
            parent=ROOT_ID, parameters=[{"ParameterKey": "ServiceDesiredCount", "ParameterValue": "4"},
                                        {"ParameterKey": "WebhookSecret", "ParameterValue": "****"}]),
    "Changes": [
        {"Type": "Resource", "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "TaskRole",
            "PhysicalResourceId": "payment-task-role-prod-001-us-east-1",
            "ResourceType": "AWS::IAM::Role",
            "Replacement": "False",
            "Scope": ["Properties"],
            "Details": [{
                "Target": {"Attribute": "Properties", "Name": "Policies", "RequiresRecreation": "Never"},
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            }],
        }},
        {"Type": "Resource", "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "Service",
            "PhysicalResourceId": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/payments-prod-001/payment-service",
            "ResourceType": "AWS::ECS::Service",
            "Replacement": "False",
            "Scope": ["Properties"],
            "Details": [{
                "Target": {"Attribute": "Properties", "Name": "DesiredCount", "RequiresRecreation": "Never",
                           "BeforeValue": "3", "AfterValue": "4", "AttributeChangeType": "Modify"},
                "Evaluation": "Dynamic",
                "ChangeSource": "ParameterReference",
                "CausingEntity": "ServiceDesiredCount",
            }],
        }},
        {"Type": "Resource", "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "TaskDefinition",
            "PhysicalResourceId": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/payment-service:7",
            "ResourceType": "AWS::ECS::TaskDefinition",
            "Replacement": "True",
            "Scope": ["Properties"],
            "Details": [{
                "Target": {"Attribute": "Properties", "Name": "ContainerDefinitions",
                           "RequiresRecreation": "Always", "BeforeValue": "old-webhook-value",
                           "AfterValue": SECRET, "AttributeChangeType": "Modify"},
                "Evaluation": "Dynamic",
                "ChangeSource": "ParameterReference",
                "CausingEntity": "WebhookSecret",
            }],
            "AfterContext": '{"Properties":{"ContainerDefinitions":[{"Environment":[{"Name":"WEBHOOK_SECRET",'
                            f'"Value":"{SECRET}"}}]}}]}}',
        }},
    ],
}

STORAGE: dict[str, Any] = {
    **_head(STORAGE_CS, STORAGE_STACK, stack_id(STORAGE_STACK, "55555555-5555-4555-8555-555555555555"),
            status="FAILED", parent=ROOT_ID,
            reason="The submitted information didn't contain changes. Submit different information to create "
                   "a change set."),
    "Changes": [],
}

# -- templates of the scenario, deployed and planned (what GetTemplate and the renderer give) -----------
MASTER_BEFORE = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  WebhookSecret: {Type: String, NoEcho: true}
  ServiceDesiredCount: {Type: Number}
Resources:
  Database: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: https://b.s3.us-east-1.amazonaws.com/templates/a.yaml}}
  Compute: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: https://b.s3.us-east-1.amazonaws.com/templates/b.yaml}}
  Storage: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: https://b.s3.us-east-1.amazonaws.com/templates/c.yaml}}
  Reporting: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: https://b.s3.us-east-1.amazonaws.com/templates/d.yaml}}
"""
MASTER_AFTER = MASTER_BEFORE.replace("templates/a.yaml", "templates/e.yaml").replace(
    "templates/b.yaml", "templates/f.yaml").replace(
    "  Reporting: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: "
    "https://b.s3.us-east-1.amazonaws.com/templates/d.yaml}}\n", "")

DATABASE_BEFORE = """Resources:
  AuroraCluster:
    Type: AWS::RDS::DBCluster
    DeletionPolicy: Snapshot
    Properties:
      DBClusterIdentifier: payment-db-cluster-prod-001
      Engine: aurora-postgresql
  WriterInstance:
    Type: AWS::RDS::DBInstance
    Properties:
      DBClusterIdentifier: !Ref AuroraCluster
      DBInstanceClass: db.r5.large
      Engine: aurora-postgresql
"""
DATABASE_AFTER = DATABASE_BEFORE.replace("DBClusterIdentifier: payment-db-cluster-prod-001",
                                         "DBClusterIdentifier: payment-db-prod-001") + """  ReportingIngress:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: !Ref DatabaseSecurityGroupId
      IpProtocol: tcp
      FromPort: 5432
      ToPort: 5432
      CidrIp: 10.50.0.0/16
      Description: reporting VPC
"""

COMPUTE_BEFORE = """Parameters:
  WebhookSecret: {Type: String, NoEcho: true}
Resources:
  TaskRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: ecs-tasks.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: documents
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub arn:${AWS::Partition}:s3:::documents-prod-001/*
  Service:
    Type: AWS::ECS::Service
    Properties:
      DesiredCount: !Ref ServiceDesiredCount
  TaskDefinition:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: app
          Environment:
            - {Name: WEBHOOK_SECRET, Value: !Ref WebhookSecret}
"""
COMPUTE_AFTER = COMPUTE_BEFORE.replace("""                Action: s3:GetObject
                Resource: !Sub arn:${AWS::Partition}:s3:::documents-prod-001/*
""", """                Action: s3:GetObject
                Resource: !Sub arn:${AWS::Partition}:s3:::documents-prod-001/*
              - Effect: Allow
                Action: s3:*
                Resource: "*"
""")

STORAGE_TEMPLATE = """Resources:
  DocumentBucket:
    Type: AWS::S3::Bucket
"""
REPORTING_BEFORE = """Resources:
  ReportTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: reports-prod-001
  AuditLogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /payments/prod-001/audit
"""
