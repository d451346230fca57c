"""The storage layers (storage/foundation in both regions, storage/primary in the primary
region), checked over the templates payctl renders, evaluated for every environment."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from checks_data import (
    LayerInstance,
    as_list,
    bucket_policies,
    check_buckets,
    check_deletion_policies,
    check_global_tables,
    check_names_carry_suffix,
    check_no_retain,
    check_no_wildcard_actions,
    check_replication,
    check_roles_have_boundary,
    iam_statements,
    layer_instances,
    lifecycle_problems,
    lint_findings,
    props,
    resources,
    schema_mismatches,
    ssm_parameters,
)
from ruamel.yaml import YAML

from payctl.automation import Workspace

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod")
PRIMARY, DR = "us-east-1", "eu-west-1"
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
SUFFIXES = {"dev": "dev-001", "staging": "stg-001", "prod": "prod-001"}

# What each environment's session table looks like (envs/*.yaml).
EXPECTED_BILLING = {
    "dev": ("PAY_PER_REQUEST", None),
    "staging": ("PAY_PER_REQUEST", None),
    "prod": (
        "PROVISIONED",
        {
            "ReadCapacityUnits": 20,
            "WriteAutoScaling": {"MinCapacity": 20, "MaxCapacity": 400, "TargetUtilization": 70},
        },
    ),
}
DELETION_PROTECTION = {"dev": False, "staging": False, "prod": True}


@cache
def workspace() -> Workspace:
    return Workspace(ROOT, search=False)


@cache
def layers(stack: str) -> dict[tuple[str, str, str], LayerInstance]:
    return layer_instances(workspace().render(), stack, ACCOUNTS)


def foundation(env: str, region: str) -> LayerInstance:
    return layers("FoundationStorage")[(env, "foundation", region)]


def storage(env: str) -> LayerInstance:
    return layers("Storage")[(env, "primary", PRIMARY)]


@cache
def concrete_foundation(env: str, region: str) -> dict[str, Any]:
    return foundation(env, region).concrete


@cache
def concrete_storage(env: str) -> dict[str, Any]:
    return storage(env).concrete


def dr_key_alias_arn(env: str) -> str:
    return f"arn:aws:kms:{DR}:{ACCOUNTS[env]}:alias/payments-{SUFFIXES[env]}"


FOUNDATION_CASES = [(env, region) for env in ENVIRONMENTS for region in (PRIMARY, DR)]


# --- where the layers deploy -----------------------------------------------------------------
def test_foundation_storage_deploys_in_both_regions_and_storage_in_the_primary_only() -> None:
    assert sorted(layers("FoundationStorage")) == sorted(
        (env, "foundation", region) for env, region in FOUNDATION_CASES
    )
    assert sorted(layers("Storage")) == sorted((env, "primary", PRIMARY) for env in ENVIRONMENTS)


@pytest.mark.parametrize("stack", ["FoundationStorage", "Storage"])
def test_the_template_is_identical_everywhere_only_parameters_differ(stack: str) -> None:
    assert len({json.dumps(layer.template, sort_keys=True) for layer in layers(stack).values()}) == 1


@pytest.mark.parametrize("stack", ["FoundationStorage", "Storage"])
def test_nothing_is_retained_and_stateful_resources_say_delete(stack: str) -> None:
    template = next(iter(layers(stack).values())).template
    assert check_no_retain(template) == []
    assert check_deletion_policies(template) == []


@pytest.mark.parametrize("stack", ["FoundationStorage", "Storage"])
def test_fixed_names_carry_the_environment_suffix(stack: str) -> None:
    assert check_names_carry_suffix(next(iter(layers(stack).values())).template) == []


# --- buckets ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "region"), FOUNDATION_CASES)
def test_foundation_buckets_are_private_versioned_encrypted_and_age_out(env: str, region: str) -> None:
    layer = foundation(env, region)
    assert check_buckets(concrete_foundation(env, region), kms_key=layer.stand_in("KmsKeyArn")) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_artifact_bucket_is_private_versioned_kms_encrypted_and_logged(env: str) -> None:
    template = concrete_storage(env)
    assert check_buckets(template, kms_key=storage(env).stand_in("KmsKeyArn")) == []
    bucket = props(resources(template)["AppArtifactBucket"])
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == storage(env).stand_in(
        "AccessLogBucketName"
    )


@pytest.mark.parametrize(("env", "region"), FOUNDATION_CASES)
def test_access_log_bucket_uses_sse_s3_because_log_delivery_requires_it(env: str, region: str) -> None:
    bucket = props(resources(concrete_foundation(env, region))["AccessLogBucket"])
    rules = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert [rule["ServerSideEncryptionByDefault"] for rule in rules] == [{"SSEAlgorithm": "AES256"}]
    assert "LoggingConfiguration" not in bucket  # a log target never logs into itself


@pytest.mark.parametrize(("env", "region"), FOUNDATION_CASES)
def test_only_this_accounts_buckets_may_deliver_server_access_logs(env: str, region: str) -> None:
    statements = bucket_policies(concrete_foundation(env, region))["AccessLogBucket"]
    delivery = [s for s in statements if s.get("Principal") == {"Service": "logging.s3.amazonaws.com"}]
    assert len(delivery) == 1
    condition = delivery[0]["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": ACCOUNTS[env]}
    assert condition["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:s3:::payments-*-{SUFFIXES[env]}-{region}-{ACCOUNTS[env]}"
    }
    assert as_list(delivery[0]["Action"]) == ["s3:PutObject"]


@pytest.mark.parametrize(("env", "region"), FOUNDATION_CASES)
def test_alb_logs_are_accepted_only_under_this_accounts_prefix(env: str, region: str) -> None:
    statements = bucket_policies(concrete_foundation(env, region))["AccessLogBucket"]
    elb = {"us-east-1": "127311923021", "eu-west-1": "156460612806"}[region]
    account_grant = [s for s in statements if s.get("Principal") == {"AWS": f"arn:aws:iam::{elb}:root"}]
    assert len(account_grant) == 1
    assert account_grant[0]["Resource"].endswith(f"/alb/*/AWSLogs/{ACCOUNTS[env]}/*")


@pytest.mark.parametrize(("env", "region"), FOUNDATION_CASES)
def test_replica_bucket_exists_in_the_dr_region_only(env: str, region: str) -> None:
    buckets = resources(concrete_foundation(env, region), "AWS::S3::Bucket")
    expected = {"AccessLogBucket", "AppArtifactReplicaBucket"} if region == DR else {"AccessLogBucket"}
    assert set(buckets) == expected


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_bucket_has_a_lifecycle_in_every_environment_and_region(env: str) -> None:
    templates = [concrete_foundation(env, PRIMARY), concrete_foundation(env, DR), concrete_storage(env)]
    buckets = {
        str(props(b)["BucketName"]): props(b)
        for t in templates
        for b in resources(t, "AWS::S3::Bucket").values()
    }
    assert len(buckets) == 4  # access logs in each region, artifacts, replica
    assert {name: lifecycle_problems(p) for name, p in buckets.items() if lifecycle_problems(p)} == {}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_bucket_names_are_deterministic_and_fit_in_63_characters(env: str) -> None:
    names = [
        str(props(b)["BucketName"])
        for t in (concrete_foundation(env, PRIMARY), concrete_foundation(env, DR), concrete_storage(env))
        for b in resources(t, "AWS::S3::Bucket").values()
    ]
    assert all(len(name) <= 63 for name in names), names
    assert all(name.startswith("payments-") and name.endswith(f"-{ACCOUNTS[env]}") for name in names)
    assert f"payments-app-artifacts-{SUFFIXES[env]}-{DR}-{ACCOUNTS[env]}" in names


# --- replication -----------------------------------------------------------------------------
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_artifacts_replicate_with_time_control_metrics_and_kms(env: str) -> None:
    assert check_replication(concrete_storage(env)) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_replication_targets_the_bucket_and_key_the_dr_region_really_has(env: str) -> None:
    """The source names its destination by convention; the foundation layer in the DR region
    must create exactly that bucket, and the security layer exactly that key alias."""
    rule = props(resources(concrete_storage(env))["AppArtifactBucket"])["ReplicationConfiguration"]["Rules"][
        0
    ]
    replica = props(resources(concrete_foundation(env, DR))["AppArtifactReplicaBucket"])
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{replica['BucketName']}"
    alias = security_alias(env, DR)
    assert (
        rule["Destination"]["EncryptionConfiguration"]["ReplicaKmsKeyID"]
        == f"arn:aws:kms:{DR}:{ACCOUNTS[env]}:{alias}"
    )


def security_alias(env: str, region: str) -> str:
    security = layer_instances(workspace().render([env]), "Security", ACCOUNTS)[(env, "foundation", region)]
    aliases = [props(a)["AliasName"] for a in resources(security.concrete, "AWS::KMS::Alias").values()]
    assert len(aliases) == 1
    return str(aliases[0])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_replication_role_is_least_privilege_under_the_boundary(env: str) -> None:
    template = concrete_storage(env)
    role = resources(template)["ReplicationRole"]
    trust = props(role)["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "s3.amazonaws.com"}]
    assert trust[0]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNTS[env]}
    assert check_roles_have_boundary(storage(env).template) == []
    assert check_no_wildcard_actions(template) == []
    by_sid = {s["Sid"]: s for s in iam_statements(role)}
    source = f"arn:aws:s3:::payments-app-artifacts-{SUFFIXES[env]}-{PRIMARY}-{ACCOUNTS[env]}"
    replica = f"arn:aws:s3:::payments-app-artifacts-{SUFFIXES[env]}-{DR}-{ACCOUNTS[env]}"
    assert by_sid["WriteReplicas"]["Resource"] == f"{replica}/*"
    assert by_sid["ReadSourceObjectVersions"]["Resource"] == f"{source}/*"
    assert by_sid["DecryptSourceObjects"]["Action"] == "kms:Decrypt"
    assert by_sid["DecryptSourceObjects"]["Resource"] == storage(env).stand_in("KmsKeyArn")
    encrypt = by_sid["EncryptReplicasWithDrKey"]
    assert "kms:Decrypt" not in as_list(encrypt["Action"])
    assert encrypt["Resource"] == f"arn:aws:kms:{DR}:{ACCOUNTS[env]}:key/*"
    assert encrypt["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": security_alias(env, DR)
    }
    # Only the three replication buckets' ARNs appear anywhere in the role's S3 statements.
    s3_resources = {
        r
        for s in iam_statements(role)
        if str(s["Action"]).startswith(("s3:", "['s3:"))
        for r in as_list(s["Resource"])
    }
    assert s3_resources == {source, f"{source}/*", f"{replica}/*"}


# --- session table ---------------------------------------------------------------------------
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_session_table_replicas_have_pitr_kms_tags_and_the_envs_deletion_protection(env: str) -> None:
    assert check_global_tables(concrete_storage(env), deletion_protection=DELETION_PROTECTION[env]) == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_session_table_replicates_to_the_dr_region_with_each_regions_key(env: str) -> None:
    table = props(resources(concrete_storage(env))["SessionTable"])
    keys = {r["Region"]: r["SSESpecification"]["KMSMasterKeyId"] for r in table["Replicas"]}
    assert keys == {PRIMARY: storage(env).stand_in("KmsKeyArn"), DR: dr_key_alias_arn(env)}
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    tags = {r["Region"]: {t["Key"]: t["Value"] for t in r["Tags"]} for r in table["Replicas"]}
    assert {region: (t["Environment"], t["CostCenter"]) for region, t in tags.items()} == dict.fromkeys(
        (PRIMARY, DR), (env, "CC-PAYMENTS")
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_session_table_billing_follows_the_environment(env: str) -> None:
    table = props(resources(concrete_storage(env))["SessionTable"])
    mode, throughput = EXPECTED_BILLING[env]
    assert table["BillingMode"] == mode
    if throughput is None:
        assert "WriteProvisionedThroughputSettings" not in table
        assert all("ReadProvisionedThroughputSettings" not in r for r in table["Replicas"])
    else:
        scaling = table["WriteProvisionedThroughputSettings"]["WriteCapacityAutoScalingSettings"]
        assert (int(scaling["MinCapacity"]), int(scaling["MaxCapacity"])) == (20, 400)
        assert [
            int(r["ReadProvisionedThroughputSettings"]["ReadCapacityUnits"]) for r in table["Replicas"]
        ] == [20, 20]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_published_schema_matches_the_table_it_describes(env: str) -> None:
    template = concrete_storage(env)
    schema = json.loads(ssm_parameters(template)[f"/{env}/storage/session-table-schema"])
    assert schema_mismatches(resources(template)["SessionTable"], schema) == []
    assert schema["TableName"] == f"payment-sessions-{SUFFIXES[env]}"
    assert (schema["BillingMode"], schema["ProvisionedThroughput"]) == EXPECTED_BILLING[env]


def test_schema_check_notices_a_table_that_drifted_from_its_published_schema() -> None:
    template = concrete_storage("prod")
    schema = json.loads(ssm_parameters(template)["/prod/storage/session-table-schema"])
    table = json.loads(json.dumps(resources(template)["SessionTable"]))
    table["Properties"]["TimeToLiveSpecification"]["AttributeName"] = "ttl"
    table["Properties"]["GlobalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "ALL"}
    table["Properties"]["Replicas"][1]["ReadProvisionedThroughputSettings"]["ReadCapacityUnits"] = 5
    problems = schema_mismatches(table, schema)
    assert [p.split(":")[0] for p in problems] == [
        "GlobalSecondaryIndexes",
        "TimeToLiveSpecification",
        "ProvisionedThroughput",
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_published_schema_fits_a_standard_ssm_parameter(env: str) -> None:
    assert len(ssm_parameters(concrete_storage(env))[f"/{env}/storage/session-table-schema"]) <= 4096


# --- values other layers read ----------------------------------------------------------------
def waves_import_paths() -> dict[str, str]:
    waves = YAML(typ="safe").load((ROOT / "stacks" / "waves.yaml").read_text(encoding="utf-8"))["waves"]
    return {name: item["path"] for wave in waves for name, item in (wave.get("imports") or {}).items()}


@pytest.mark.parametrize(("env", "region"), FOUNDATION_CASES)
def test_access_log_bucket_name_is_exported_where_later_waves_import_it(env: str, region: str) -> None:
    path = waves_import_paths()["AccessLogBucketName"]
    exported = ssm_parameters(concrete_foundation(env, region))
    bucket = props(resources(concrete_foundation(env, region))["AccessLogBucket"])["BucketName"]
    assert exported[f"/{env}/{path}"] == bucket


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_region_names_its_local_artifact_bucket_under_the_same_path(env: str) -> None:
    path = f"/{env}/storage/app-artifact-bucket-name"
    primary = ssm_parameters(concrete_storage(env))[path]
    dr = ssm_parameters(concrete_foundation(env, DR))[path]
    assert (primary, dr) == (
        f"payments-app-artifacts-{SUFFIXES[env]}-{PRIMARY}-{ACCOUNTS[env]}",
        f"payments-app-artifacts-{SUFFIXES[env]}-{DR}-{ACCOUNTS[env]}",
    )
    assert path not in ssm_parameters(concrete_foundation(env, PRIMARY))  # one writer per region


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_session_table_name_is_published_and_output(env: str) -> None:
    template = concrete_storage(env)
    assert (
        ssm_parameters(template)[f"/{env}/storage/session-table-name"] == f"payment-sessions-{SUFFIXES[env]}"
    )
    assert template["Outputs"]["SessionTableName"]["Value"] == f"payment-sessions-{SUFFIXES[env]}"


def test_replication_rule_id_is_the_one_the_alarms_watch() -> None:
    """monitoring/alarms reads S3 RTC metrics by rule id; renaming the rule blinds them."""
    rules = props(resources(concrete_storage("prod"))["AppArtifactBucket"])["ReplicationConfiguration"][
        "Rules"
    ]
    assert [rule["Id"] for rule in rules] == ["replicate-to-dr-region"]


def test_cfn_lint_reports_nothing_for_storage_in_any_environment_or_region() -> None:
    findings = lint_findings(workspace().render(), ["FoundationStorage", "Storage"])
    assert [f"{f.severity} {f.rule} {f.file}:{f.line} {f.message}" for f in findings] == []


def test_lifecycle_check_notices_expiry_before_the_storage_class_minimum() -> None:
    bucket = json.loads(json.dumps(props(resources(concrete_storage("dev"))["AppArtifactBucket"])))
    assert lifecycle_problems(bucket) == []
    bucket["LifecycleConfiguration"]["Rules"][0]["NoncurrentVersionExpiration"]["NoncurrentDays"] = 120
    assert lifecycle_problems(bucket) == [
        "age-noncurrent-versions: NoncurrentVersionExpiration after 120 days, "
        "before the GLACIER_IR minimum ends (day 180)"
    ]


def load_schema_sync() -> Any:
    """The schema-sync function's module, as Lambda loads it (a file, not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "schema_sync_handler", ROOT / "lambdas/schema_sync/handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the class is being built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_schema_sync_reads_the_published_schema_as_the_table_is_defined(env: str) -> None:
    """The definition the Lambda compares live tables against is what the template deploys."""
    text = ssm_parameters(concrete_storage(env))[f"/{env}/storage/session-table-schema"]
    definition = load_schema_sync().parse_definition(text)
    assert definition["tableName"] == f"payment-sessions-{SUFFIXES[env]}"
    assert definition["billingMode"] == EXPECTED_BILLING[env][0]
    assert (definition["ttlAttribute"], definition["stream"], definition["pointInTimeRecovery"]) == (
        "expiresAt",
        "NEW_AND_OLD_IMAGES",
        True,
    )
    assert set(definition["globalSecondaryIndexes"]) == {"customer-sessions"}
