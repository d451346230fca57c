"""The monitoring layers (topics in the foundation wave; alarms and compliance in the primary
and dr waves), checked over the templates payctl renders for every environment and region."""

from __future__ import annotations

import fnmatch
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from checks_ops import (
    Layer,
    Scenario,
    alarms,
    check_alarms_notify,
    check_alarms_without_unit,
    check_event_patterns_explicit,
    check_lambda_functions,
    check_lambda_targets_permitted,
    check_log_groups,
    check_no_retain,
    check_queues_encrypted,
    check_roles_bounded,
    check_star_resources_explained,
    check_topic_policies_scoped,
    check_topics_encrypted,
    environment_variables_read,
    metric_names,
    pattern_problems,
    props,
    ref,
    render_layers,
    resources,
)
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
PRIMARY, DR = "us-east-1", "eu-west-1"
WAVE_OF_REGION = {PRIMARY: "primary", DR: "dr"}
ENVS = ("dev", "staging", "prod")
COMBINATIONS = [(env, region) for env in ENVS for region in (PRIMARY, DR)]
SUFFIX = {"dev": "dev-001", "staging": "stg-001", "prod": "prod-001"}
ACCOUNT = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
# Environments whose DR region runs an Aurora global-database secondary.
HAS_DR_DATABASE = {"dev": False, "staging": True, "prod": True}
FUNCTIONS = {
    "ComplianceCheckerFunction": "compliance_checker",
    "DriftDetectorFunction": "drift_detector",
    "SchemaSyncFunction": "schema_sync",
}


@cache
def layers() -> dict[tuple[str, str, str, str], Layer]:
    return render_layers(ROOT)


def monitoring_layer(env: str, region: str) -> Layer:
    return layers()[(env, WAVE_OF_REGION[region], region, "Monitoring")]


def monitoring(env: str, region: str, **overrides: str) -> Scenario:
    return monitoring_layer(env, region).scenario(**overrides)


def topics(env: str, region: str) -> Scenario:
    return layers()[(env, "foundation", region, "Topics")].scenario()


def statements(scenario: Scenario, role: str) -> list[dict[str, Any]]:
    return [
        s for policy in scenario.property(role, "Policies") for s in policy["PolicyDocument"]["Statement"]
    ]


# --- rendering ----------------------------------------------------------------------------------
def test_monitoring_and_topics_render_for_every_environment_and_region() -> None:
    keys = set(layers())
    for env, region in COMBINATIONS:
        assert (env, WAVE_OF_REGION[region], region, "Monitoring") in keys
        assert (env, "foundation", region, "Topics") in keys


def test_one_template_each_serves_every_environment_and_region() -> None:
    assert len({monitoring_layer(*key).text for key in COMBINATIONS}) == 1
    assert len({layers()[(env, "foundation", region, "Topics")].text for env, region in COMBINATIONS}) == 1


# --- topics --------------------------------------------------------------------------------------
def test_topics_are_encrypted_with_the_environment_key() -> None:
    layer = layers()[("prod", "foundation", DR, "Topics")]
    assert check_topics_encrypted(layer.template) == []
    keys = {ref(props(t)["KmsMasterKeyId"]) for t in resources(layer.template, "AWS::SNS::Topic").values()}
    assert keys == {"KmsKeyArn"}
    assert layer.passed["KmsKeyArn"] in (
        {"Fn::GetAtt": ["Security", "Outputs.KmsKeyArn"]},
        {"Fn::GetAtt": "Security.Outputs.KmsKeyArn"},
    )


def test_only_aws_services_of_this_account_may_publish() -> None:
    template = layers()[("prod", "foundation", PRIMARY, "Topics")].template
    assert check_topic_policies_scoped(template) == []
    principals = {
        (ref(props(p)["Topics"][0]), s["Principal"]["Service"])
        for p in resources(template, "AWS::SNS::TopicPolicy").values()
        for s in props(p)["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow"
    }
    assert principals == {
        ("AlertTopic", "cloudwatch.amazonaws.com"),
        ("AlertTopic", "events.amazonaws.com"),
        ("DriftTopic", "events.amazonaws.com"),
        ("ComplianceTopic", "events.amazonaws.com"),
        ("DeploymentTopic", "events.amazonaws.com"),
    }


def test_the_topic_policy_check_catches_an_unconditioned_service_grant() -> None:
    policy = {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {
            "Topics": [{"Ref": "T"}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Sid": "Open",
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": {"Ref": "T"},
                    }
                ]
            },
        },
    }
    assert check_topic_policies_scoped({"Resources": {"P": policy}}) == [
        "P: Open has no aws:SourceAccount condition"
    ]


@pytest.mark.parametrize("env", ENVS)
def test_operations_get_alarms_drift_and_deployments_security_gets_compliance(env: str) -> None:
    scenario = topics(env, PRIMARY)
    subscribed = {
        scenario.property(s, "TopicArn"): scenario.property(s, "Endpoint")
        for s in scenario.present("AWS::SNS::Subscription")
    }
    assert subscribed == {
        "{{AlertTopic}}": f"{env}-ops@example.com",
        "{{DriftTopic}}": f"{env}-ops@example.com",
        "{{DeploymentTopic}}": f"{env}-ops@example.com",
        "{{ComplianceTopic}}": f"{env}-security@example.com",
    }


def test_topic_arns_are_exported_where_the_later_waves_import_them() -> None:
    waves = YAML(typ="safe").load((ROOT / "stacks" / "waves.yaml").read_text(encoding="utf-8"))["waves"]
    imported = {
        item["path"]
        for wave in waves
        for item in (wave.get("imports") or {}).values()
        if item["path"].startswith("monitoring/")
    }
    scenario = topics("staging", DR)
    exported = {scenario.property(p, "Name") for p in scenario.present("AWS::SSM::Parameter")}
    assert exported == {f"/staging/{path}" for path in imported}
    assert len(imported) == 4


# --- alarms ----------------------------------------------------------------------------------------
COMMON_METRICS = {
    ("AWS/DynamoDB", "ReplicationLatency"),
    ("AWS/ECS", "CPUUtilization"),
    ("AWS/ECS", "MemoryUtilization"),
    ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"),
    ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
    ("AWS/Lambda", "Errors"),
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
}
PRIMARY_ONLY = {
    ("AWS/RDS", "AuroraReplicaLag"),
    ("AWS/S3", "OperationsMissedThreshold"),
    ("AWS/S3", "ReplicationLatency"),
}
DR_WITH_DATABASE = {("AWS/RDS", "AuroraReplicaLag"), ("AWS/RDS", "AuroraGlobalDBRPOLag")}


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_each_region_watches_what_runs_there(env: str, region: str) -> None:
    watched = metric_names(alarms(monitoring(env, region)))
    if region == PRIMARY:
        expected = COMMON_METRICS | PRIMARY_ONLY
    else:
        expected = COMMON_METRICS | (DR_WITH_DATABASE if HAS_DR_DATABASE[env] else set())
    assert watched == expected


def test_every_alarm_notifies_the_alert_topic() -> None:
    template = monitoring_layer("prod", PRIMARY).template
    assert check_alarms_notify(template, "AlertTopicArn") == []
    assert check_alarms_without_unit(template) == []
    assert monitoring_layer("prod", PRIMARY).passed["AlertTopicArn"] == {"Ref": "AlertTopicArn"}


def test_lambda_errors_are_watched_for_all_three_functions() -> None:
    found = alarms(monitoring("staging", PRIMARY))
    watched = {a["dimensions"]["FunctionName"] for a in found.values() if a["metric"] == "Errors"}
    assert watched == {"{{" + name + "}}" for name in FUNCTIONS}


@pytest.mark.parametrize(
    ("env", "region"),
    [("staging", PRIMARY), ("prod", PRIMARY), ("staging", DR), ("prod", DR), ("dev", PRIMARY)],
)
def test_aurora_alarms_watch_the_cluster_the_database_layer_creates(env: str, region: str) -> None:
    database = layers()[(env, WAVE_OF_REGION[region], region, "Database")].scenario()
    cluster = database.property("DatabaseCluster", "DBClusterIdentifier")
    found = alarms(monitoring(env, region))
    aurora = {a["metric"]: a["dimensions"] for a in found.values() if a["namespace"] == "AWS/RDS"}
    assert aurora["AuroraReplicaLag"] == {"DBClusterIdentifier": cluster, "Role": "READER"}
    if region == DR:
        assert aurora["AuroraGlobalDBRPOLag"] == {"DBClusterIdentifier": cluster}
    else:
        assert "AuroraGlobalDBRPOLag" not in aurora


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_dynamodb_replication_alarm_names_the_table_and_the_receiving_region(env: str, region: str) -> None:
    storage = layers()[(env, "primary", PRIMARY, "Storage")].scenario()
    table = storage.property("SessionTable", "TableName")
    other = DR if region == PRIMARY else PRIMARY
    (dimensions,) = [
        a["dimensions"] for a in alarms(monitoring(env, region)).values() if a["namespace"] == "AWS/DynamoDB"
    ]
    assert dimensions == {"TableName": table, "ReceivingRegion": other}


@pytest.mark.parametrize("env", ENVS)
def test_s3_rtc_alarms_watch_the_replication_rule_the_storage_layer_creates(env: str) -> None:
    storage = layers()[(env, "primary", PRIMARY, "Storage")].scenario()
    (rule,) = storage.property("AppArtifactBucket", "ReplicationConfiguration", "Rules")
    expected = {
        "SourceBucket": storage.property("AppArtifactBucket", "BucketName"),
        "DestinationBucket": rule["Destination"]["Bucket"].removeprefix("arn:aws:s3:::"),
        "RuleId": rule["Id"],
    }
    s3 = {
        a["metric"]: a["dimensions"]
        for a in alarms(monitoring(env, PRIMARY)).values()
        if a["namespace"] == "AWS/S3"
    }
    assert s3 == {"OperationsMissedThreshold": expected, "ReplicationLatency": expected}


def test_an_rpo_lag_with_no_data_counts_as_breaching() -> None:
    scenario = monitoring("prod", DR)
    assert scenario.property("AuroraGlobalRpoLagAlarm", "TreatMissingData") == "breaching"
    assert scenario.property("AuroraGlobalRpoLagAlarm", "Threshold") == "60000"


# --- EventBridge -------------------------------------------------------------------------------------
def test_every_event_pattern_is_explicit() -> None:
    assert check_event_patterns_explicit(monitoring_layer("prod", PRIMARY).template) == []


@pytest.mark.parametrize(
    "pattern",
    [
        {
            "source": [{"prefix": "aws."}],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["ec2.amazonaws.com"], "eventName": ["CreateSecurityGroup"]},
        },
        {
            "source": ["aws.ec2"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["ec2.amazonaws.com"], "eventName": [{"wildcard": "*SecurityGroup*"}]},
        },
        {
            "source": ["aws.ec2"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["ec2.amazonaws.com"], "eventName": [{"exists": True}]},
        },
        {
            "source": ["aws.cloudformation"],
            "detail-type": ["CloudFormation Stack Status Change"],
            "detail": {"status-details": {"status": [{"anything-but": "CREATE_COMPLETE"}]}},
        },
        {
            "source": ["aws.ec2"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["ec2.amazonaws.com"]},
        },
        {"source": ["aws.s3"], "detail": {"eventName": ["PutBucketPolicy"]}},
        {"source": ["aws.s3"], "detail-type": ["*"]},
    ],
)
def test_the_pattern_check_rejects_loose_patterns(pattern: dict[str, Any]) -> None:
    assert pattern_problems(pattern)


def test_api_call_rules_send_the_changes_the_brief_names_to_the_compliance_checker() -> None:
    scenario = monitoring("prod", PRIMARY)
    names: dict[str, set[str]] = {}
    for rule in ("SecurityGroupChangeRule", "BucketChangeRule", "TableChangeRule", "IamChangeRule"):
        pattern = scenario.property(rule, "EventPattern")
        assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
        assert [ref(t["Arn"]) or t["Arn"] for t in scenario.property(rule, "Targets")] == [
            "{{ComplianceCheckerFunction.Arn}}"
        ]
        names[pattern["detail"]["eventSource"][0]] = set(pattern["detail"]["eventName"])
    assert {
        "AuthorizeSecurityGroupIngress",
        "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress",
        "CreateSecurityGroup",
        "DeleteSecurityGroup",
    } <= names["ec2.amazonaws.com"]
    assert {
        "PutBucketPolicy",
        "DeleteBucketPolicy",
        "PutBucketEncryption",
        "DeleteBucketEncryption",
        "PutBucketPublicAccessBlock",
        "DeleteBucketPublicAccessBlock",
    } <= names["s3.amazonaws.com"]
    assert {"UpdateTable", "DeleteTable", "UpdateContinuousBackups", "DeleteBackup"} <= names[
        "dynamodb.amazonaws.com"
    ]
    assert {"CreateRole", "AttachRolePolicy", "DeleteRolePermissionsBoundary"} <= names["iam.amazonaws.com"]


def test_the_checker_sees_every_api_call_it_evaluates() -> None:
    """Each (eventSource, eventName) the compliance checker has a rule for reaches it, in the
    spelling CloudTrail uses."""
    import importlib.util
    import sys

    module_name = "payctl_lambda_compliance_checker_routing"
    spec = importlib.util.spec_from_file_location(
        module_name, ROOT / "lambdas" / "compliance_checker" / "handler.py"
    )
    assert spec and spec.loader
    handler = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = handler  # dataclasses look their module up while classes are built
    spec.loader.exec_module(handler)
    scenario = monitoring("prod", PRIMARY)
    routed = {
        (source, name)
        for rule in ("SecurityGroupChangeRule", "BucketChangeRule", "TableChangeRule", "IamChangeRule")
        for source in scenario.property(rule, "EventPattern")["detail"]["eventSource"]
        for name in scenario.property(rule, "EventPattern")["detail"]["eventName"]
    }
    # The API operation names are accepted too, but CloudTrail records the Bucket* spelling.
    api_spellings = {
        ("s3.amazonaws.com", "PutPublicAccessBlock"),
        ("s3.amazonaws.com", "DeletePublicAccessBlock"),
    }
    assert set(handler.CHECKS) - api_spellings <= routed


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_iam_changes_are_watched_in_us_east_1_only(env: str, region: str) -> None:
    scenario = monitoring(env, region)
    assert ("IamChangeRule" in scenario.present("AWS::Events::Rule")) == (region == "us-east-1")
    assert ("IamChangeRulePermission" in scenario.present("AWS::Lambda::Permission")) == (
        region == "us-east-1"
    )


def test_every_function_target_has_an_invoke_permission_scoped_to_its_rule() -> None:
    assert check_lambda_targets_permitted(monitoring_layer("prod", PRIMARY).template) == []


def test_the_permission_check_catches_a_rule_without_permission() -> None:
    template = {
        "Resources": {
            "F": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "R": {
                "Type": "AWS::Events::Rule",
                "Properties": {"Targets": [{"Id": "f", "Arn": {"Fn::GetAtt": ["F", "Arn"]}}]},
            },
        }
    }
    assert check_lambda_targets_permitted(template) == [
        "R -> F: no lambda:InvokeFunction permission scoped to the rule"
    ]


def test_failed_and_rolled_back_stacks_reach_the_deployment_topic() -> None:
    scenario = monitoring("staging", DR)
    pattern = scenario.property("StackFailureRule", "EventPattern")
    assert pattern["detail-type"] == ["CloudFormation Stack Status Change"]
    statuses = set(pattern["detail"]["status-details"]["status"])
    assert {
        "CREATE_FAILED",
        "ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_FAILED",
        "DELETE_FAILED",
    } <= statuses
    assert not {s for s in statuses if s.endswith("_COMPLETE") and "ROLLBACK" not in s}
    assert [t["Arn"] for t in scenario.property("StackFailureRule", "Targets")] == ["{{DeploymentTopicArn}}"]
    stack_sets = scenario.property("StackSetOperationRule", "EventPattern")
    assert stack_sets["detail-type"] == ["CloudFormation StackSet Operation Status Change"]


def test_drift_runs_on_the_environment_schedule_and_on_drift_events() -> None:
    scenario = monitoring("prod", DR)
    assert scenario.property("DriftScheduleRule", "ScheduleExpression") == "rate(6 hours)"
    pattern = scenario.property("DriftStatusRule", "EventPattern")
    assert pattern["detail-type"] == ["CloudFormation Drift Detection Status Change"]
    for rule in ("DriftScheduleRule", "DriftStatusRule"):
        assert [t["Arn"] for t in scenario.property(rule, "Targets")] == ["{{DriftDetectorFunction.Arn}}"]


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_schema_check_is_scheduled_where_the_table_definition_is_published(env: str, region: str) -> None:
    storage = layers()[(env, "primary", PRIMARY, "Storage")].scenario()
    published = {storage.property(p, "Name") for p in storage.present("AWS::SSM::Parameter")}
    variables = monitoring(env, region).property("SchemaSyncFunction", "Environment", "Variables")
    assert variables["SCHEMA_PARAMETER_NAME"] in published
    scheduled = "SchemaSyncScheduleRule" in monitoring(env, region).present("AWS::Events::Rule")
    assert scheduled == (region == PRIMARY)


# --- functions -----------------------------------------------------------------------------------------
def test_every_function_has_dlq_concurrency_boundary_log_group_and_vpc() -> None:
    template = monitoring_layer("prod", PRIMARY).template
    assert check_lambda_functions(template) == []
    assert set(resources(template, "AWS::Lambda::Function")) == set(FUNCTIONS)
    assert check_log_groups(template) == []
    assert check_queues_encrypted(template) == []


def test_the_function_check_catches_a_bare_function() -> None:
    bare = {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.9", "Handler": "index.main"}}
    problems = check_lambda_functions({"Resources": {"Bare": bare}})
    assert len(problems) == 9
    in_vpc = {**bare, "Properties": {**bare["Properties"], "VpcConfig": {"SubnetIds": ["subnet-1"]}}}
    assert any("placed in the VPC" in p for p in check_lambda_functions({"Resources": {"Bare": in_vpc}}))


@pytest.mark.parametrize(("logical", "folder"), sorted(FUNCTIONS.items()))
def test_functions_get_every_environment_variable_their_handler_reads(logical: str, folder: str) -> None:
    source = (ROOT / "lambdas" / folder / "handler.py").read_text(encoding="utf-8")
    wanted = environment_variables_read(source)
    assert wanted, f"no environment variables found in lambdas/{folder}/handler.py"
    given = monitoring("prod", PRIMARY).property(logical, "Environment", "Variables")
    assert wanted <= set(given), sorted(wanted - set(given))
    assert (
        resources(monitoring_layer("prod", PRIMARY).template)[logical]["Metadata"]["payctl"]["code"] == folder
    )


def test_function_environments_carry_the_environment_values() -> None:
    scenario = monitoring("staging", DR)
    checker = scenario.property("ComplianceCheckerFunction", "Environment", "Variables")
    assert checker["ENVIRONMENT_NAME"] == "staging"
    assert checker["COMPLIANCE_TOPIC_ARN"] == "{{ComplianceTopicArn}}"
    assert checker["PERMISSIONS_BOUNDARY_ARN"] == "{{PermissionsBoundaryArn}}"
    assert checker["REQUIRED_TAGS"] == "Environment,Application,CostCenter"
    schema = scenario.property("SchemaSyncFunction", "Environment", "Variables")
    assert (schema["TABLE_NAME"], schema["PRIMARY_REGION"], schema["DR_REGION"]) == (
        "payment-sessions-stg-001",
        PRIMARY,
        DR,
    )


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_function_logs_follow_the_environment_retention(env: str, region: str) -> None:
    scenario = monitoring(env, region)
    retention = {"dev": "30", "staging": "90", "prod": "365"}[env]
    for group in scenario.present("AWS::Logs::LogGroup"):
        assert scenario.property(group, "RetentionInDays") == retention
        assert scenario.property(group, "KmsKeyId") == "{{KmsKeyArn}}"


def test_roles_are_bounded_and_named_per_region() -> None:
    assert check_roles_bounded(monitoring_layer("prod", PRIMARY).template) == []


def test_every_unscoped_resource_says_why() -> None:
    assert check_star_resources_explained(monitoring_layer("prod", PRIMARY).text) == []


def test_nothing_is_retained() -> None:
    assert check_no_retain(monitoring_layer("prod", PRIMARY).template) == []
    assert check_no_retain(layers()[("prod", "foundation", PRIMARY, "Topics")].template) == []


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_drift_detection_reaches_exactly_the_stacks_payctl_deploys(env: str, region: str) -> None:
    scenario = monitoring(env, region)
    (detect,) = [
        s for s in statements(scenario, "DriftDetectorRole") if s["Sid"] == "DetectDriftOfEnvironmentStacks"
    ]
    prefix = scenario.property("DriftDetectorFunction", "Environment", "Variables")["STACK_NAME_PREFIX"]
    deployed = {layer.stack_name for key, layer in layers().items() if key[0] == env}
    for stack_name in deployed:
        arn = f"arn:aws:cloudformation:{region}:{ACCOUNT[env]}:stack/{stack_name}/0f0e-uuid"
        nested = f"arn:aws:cloudformation:{region}:{ACCOUNT[env]}:stack/{stack_name}-Compute-1AB2C3/0f0e-uuid"
        assert any(fnmatch.fnmatch(arn, pattern) for pattern in detect["Resource"]), stack_name
        assert any(fnmatch.fnmatch(nested, pattern) for pattern in detect["Resource"]), stack_name
        assert stack_name.startswith(prefix)
    other = "staging" if env != "staging" else "prod"
    foreign = f"arn:aws:cloudformation:{region}:{ACCOUNT[env]}:stack/payments-{SUFFIX[other]}-primary/x"
    assert not any(fnmatch.fnmatch(foreign, pattern) for pattern in detect["Resource"])


# --- trail and Config rule ------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_a_validated_encrypted_trail_records_management_events(env: str, region: str) -> None:
    scenario = monitoring(env, region)
    trail = scenario.property("Trail")
    assert trail["IsLogging"] is True and trail["EnableLogFileValidation"] is True
    assert trail["KMSKeyId"] == "{{KmsKeyArn}}"
    assert trail["EventSelectors"] == [{"IncludeManagementEvents": True, "ReadWriteType": "All"}]
    assert trail["IncludeGlobalServiceEvents"] is (region == "us-east-1")
    assert region in trail["TrailName"] and SUFFIX[env] in trail["TrailName"]
    policy = scenario.property("TrailBucketPolicy", "PolicyDocument")
    trail_arn = f"arn:aws:cloudtrail:{region}:{ACCOUNT[env]}:trail/{trail['TrailName']}"
    (write,) = [s for s in policy["Statement"] if s.get("Sid") == "CloudTrailWrite"]
    assert write["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn
    bucket = scenario.property("TrailBucket", "BucketEncryption")["ServerSideEncryptionConfiguration"][0]
    assert bucket["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "{{KmsKeyArn}}",
    }


def test_with_an_organization_trail_no_trail_is_created() -> None:
    org_trail = "arn:aws:cloudtrail:us-east-1:444444444444:trail/org-trail"
    scenario = monitoring("prod", PRIMARY, CreateTrail="false", OrganizationTrailArn=org_trail)
    assert not scenario.present("AWS::CloudTrail::Trail", "AWS::S3::Bucket", "AWS::S3::BucketPolicy")
    assert scenario.outputs()["ManagementEventsTrail"] == org_trail


def test_the_config_drift_rule_exists_only_with_a_config_recorder() -> None:
    assert not monitoring("prod", PRIMARY).present("AWS::Config::ConfigRule")
    scenario = monitoring("prod", PRIMARY, HasConfigRecorder="true")
    (rule,) = scenario.present("AWS::Config::ConfigRule")
    assert scenario.property(rule, "Source") == {
        "Owner": "AWS",
        "SourceIdentifier": "CLOUDFORMATION_STACK_DRIFT_DETECTION_CHECK",
    }
    assert scenario.property(rule, "InputParameters") == {
        "cloudformationRoleArn": "{{ConfigDriftCheckRole.Arn}}"
    }
    trust = scenario.property("ConfigDriftCheckRole", "AssumeRolePolicyDocument")["Statement"][0]
    assert trust["Principal"] == {"Service": "config.amazonaws.com"}


# --- cfn-lint ---------------------------------------------------------------------------------------------
def test_cfn_lint_finds_nothing_in_compute_topics_and_monitoring() -> None:
    from payctl.automation import Workspace

    report = Workspace(ROOT, search=False).validate()
    mine = [f for f in report.findings if f.template in ("compute", "topics", "monitoring")]
    assert mine == []
