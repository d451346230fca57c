"""The database layer (database/ with database/primary/ in the primary wave, with
database/secondary/ in the DR wave), checked over the templates payctl renders and
evaluated for every environment."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from checks_data import (
    LayerInstance,
    check_aurora_encryption,
    check_aurora_instances_spread,
    check_deletion_policies,
    check_names_carry_suffix,
    check_no_retain,
    check_no_wildcard_actions,
    check_roles_have_boundary,
    cluster_parameters,
    engine_version_problems,
    instances_of,
    layer_instances,
    lint_findings,
    props,
    resources,
    ssm_parameters,
    supports_global_write_forwarding,
)

from payctl.automation import Workspace

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod")
PRIMARY, DR = "us-east-1", "eu-west-1"
ACCOUNTS = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
SUFFIXES = {"dev": "dev-001", "staging": "stg-001", "prod": "prod-001"}

# What each environment runs (envs/*.yaml): instance class, instances in the primary cluster
# (writer + readers), backup retention, DR secondary, deletion protection.
EXPECTED = {
    "dev": {
        "class": "db.t3.medium",
        "instances": 2,
        "retention": "7",
        "secondary": False,
        "protected": False,
    },
    "staging": {
        "class": "db.r5.large",
        "instances": 2,
        "retention": "14",
        "secondary": True,
        "protected": False,
    },
    "prod": {"class": "db.r5.large", "instances": 3, "retention": "35", "secondary": True, "protected": True},
}
# The compute layer is one template in both waves: it wires these outputs by name.
CONTRACT_OUTPUTS = {
    "DatabaseEndpoint",
    "DatabaseReaderEndpoint",
    "DatabasePort",
    "DatabaseSecretArn",
    "DatabaseClusterArn",
}
CASES = [(env, wave) for env in ENVIRONMENTS for wave in ("primary", "dr")]


@cache
def workspace() -> Workspace:
    return Workspace(ROOT, search=False)


@cache
def layers() -> dict[tuple[str, str, str], LayerInstance]:
    return layer_instances(workspace().render(), "Database", ACCOUNTS)


def database(env: str, wave: str) -> LayerInstance:
    return layers()[(env, wave, PRIMARY if wave == "primary" else DR)]


@cache
def concrete(env: str, wave: str) -> dict[str, Any]:
    return database(env, wave).concrete


def clusters(env: str, wave: str) -> dict[str, Any]:
    return resources(concrete(env, wave), "AWS::RDS::DBCluster")


def cluster(env: str, wave: str) -> dict[str, Any]:
    found = clusters(env, wave)
    assert list(found) == ["DatabaseCluster"]
    return dict(props(found["DatabaseCluster"]))


@cache
def cfn_lint_rds_data() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    import cfnlint

    folder = Path(cfnlint.__file__).parent / "data" / "schemas" / "extensions"
    return tuple(
        json.loads((folder / name).read_text(encoding="utf-8"))
        for name in (  # type: ignore[return-value]
            "aws_rds_dbcluster/engine_version.json",
            "aws_rds_dbcluster/engine_version_deprecated.json",
            "aws_rds_dbinstance/db_instance_class.json",
        )
    )


# --- where the layer deploys -----------------------------------------------------------------
def test_database_deploys_in_the_primary_and_the_dr_wave_of_every_environment() -> None:
    assert sorted(layers()) == sorted(
        (env, wave, PRIMARY if wave == "primary" else DR) for env, wave in CASES
    )


@pytest.mark.parametrize("wave", ["primary", "dr"])
def test_the_template_is_identical_in_every_environment(wave: str) -> None:
    assert len({json.dumps(database(env, wave).template, sort_keys=True) for env in ENVIRONMENTS}) == 1


@pytest.mark.parametrize("wave", ["primary", "dr"])
def test_clusters_keep_a_final_snapshot_and_nothing_is_retained(wave: str) -> None:
    template = database("prod", wave).template
    assert check_no_retain(template) == []
    assert check_deletion_policies(template) == []
    assert [r["DeletionPolicy"] for r in resources(template, "AWS::RDS::DBCluster").values()] == ["Snapshot"]


@pytest.mark.parametrize("wave", ["primary", "dr"])
def test_roles_have_the_boundary_and_names_carry_the_suffix(wave: str) -> None:
    template = database("prod", wave).template
    assert check_roles_have_boundary(template) == []
    assert check_names_carry_suffix(template) == []
    assert check_no_wildcard_actions(concrete("prod", wave)) == []


# --- sizing per environment ------------------------------------------------------------------
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_instance_class_and_count_follow_the_environment(env: str) -> None:
    instances = instances_of(concrete(env, "primary"), "DatabaseCluster")
    assert len(instances) == EXPECTED[env]["instances"]
    assert {props(i)["DBInstanceClass"] for i in instances.values()} == {EXPECTED[env]["class"]}
    assert check_aurora_instances_spread(concrete(env, "primary"), "DatabaseCluster") == []


@pytest.mark.parametrize(("readers", "instances"), [("0", 1), ("1", 2), ("2", 3)])
def test_reader_count_decides_how_many_instances_exist(readers: str, instances: int) -> None:
    layer = database("prod", "primary")
    template = LayerInstance(
        layer.environment,
        layer.wave,
        layer.region,
        layer.account,
        layer.template,
        {**layer.values, "DbReaderCount": readers},
    ).concrete
    assert len(instances_of(template, "DatabaseCluster")) == instances
    assert check_aurora_instances_spread(template, "DatabaseCluster") == []
    target = props(resources(template)["DatabaseReaderScalableTarget"])
    assert target["MinCapacity"] == readers


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_readers_autoscale_on_cpu_between_the_envs_bounds(env: str) -> None:
    template = concrete(env, "primary")
    values = database(env, "primary").values
    target = props(resources(template)["DatabaseReaderScalableTarget"])
    assert (target["ServiceNamespace"], target["ScalableDimension"]) == (
        "rds",
        "rds:cluster:ReadReplicaCount",
    )
    assert target["ResourceId"] == f"cluster:payment-db-cluster-{SUFFIXES[env]}"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (
        values["DbReaderCount"],
        values["DbReaderMaxCount"],
    )
    assert int(target["MaxCapacity"]) >= int(target["MinCapacity"])
    assert "RoleARN" not in target  # Application Auto Scaling's own service-linked role
    policy = props(resources(template)["DatabaseReaderScalingPolicy"])[
        "TargetTrackingScalingPolicyConfiguration"
    ]
    assert policy["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "RDSReaderAverageCPUUtilization"
    }
    assert policy["TargetValue"] == values["DbReaderCpuTarget"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_backup_retention_follows_the_environment(env: str) -> None:
    for wave in ("primary", "dr"):
        for found in clusters(env, wave).values():
            assert props(found)["BackupRetentionPeriod"] == EXPECTED[env]["retention"]
            assert props(found)["CopyTagsToSnapshot"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_engine_version_is_current_and_the_class_is_offered_for_it(env: str) -> None:
    """cfn-lint cannot judge a version or class that arrives through a parameter."""
    cluster_versions, deprecated, instance_classes = cfn_lint_rds_data()
    values = database(env, "primary").values
    version, instance_class = values["DbEngineVersion"], values["DbInstanceClass"]
    assert engine_version_problems(version, cluster_versions, deprecated) == []
    import re

    offered = [
        branch["then"]["properties"]["DBInstanceClass"]["enum"]
        for branch in instance_classes["allOf"]
        if branch["if"]["properties"].get("Engine", {}).get("const") == "aurora-postgresql"
        and re.match(branch["if"]["properties"]["EngineVersion"]["pattern"], version)
    ]
    assert offered and instance_class in offered[0]


def test_engine_version_check_rejects_deprecated_and_unknown_versions() -> None:
    cluster_versions, deprecated, _ = cfn_lint_rds_data()
    assert engine_version_problems("16.2", cluster_versions, deprecated) == [
        "aurora-postgresql 16.2 is deprecated (cannot create new clusters)"
    ]
    assert engine_version_problems("16.99", cluster_versions, deprecated) == [
        "aurora-postgresql 16.99 is not a known engine version"
    ]


# --- global database -------------------------------------------------------------------------
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_dr_secondary_exists_exactly_for_staging_and_prod(env: str) -> None:
    has_secondary = EXPECTED[env]["secondary"]
    assert bool(clusters(env, "dr")) is has_secondary
    assert bool(resources(concrete(env, "primary"), "AWS::RDS::GlobalCluster")) is has_secondary
    # The DR-wave stack is never empty, even without a secondary.
    assert resources(concrete(env, "dr"))
    mode = ssm_parameters(concrete(env, "dr"))[f"/{env}/database/dr-mode"]
    assert mode == ("global-secondary" if has_secondary else "none")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_a_burstable_class_never_joins_a_global_database(env: str) -> None:
    burstable = props(next(iter(instances_of(concrete(env, "primary"), "DatabaseCluster").values())))[
        "DBInstanceClass"
    ].startswith("db.t")
    assert not (burstable and clusters(env, "dr"))


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_primary_and_secondary_join_the_same_global_cluster(env: str) -> None:
    global_cluster = props(resources(concrete(env, "primary"))["GlobalDatabaseCluster"])
    identifier = f"payment-global-{SUFFIXES[env]}"
    assert global_cluster["GlobalClusterIdentifier"] == identifier
    assert global_cluster["StorageEncrypted"] is True
    primary, secondary = cluster(env, "primary"), cluster(env, "dr")
    assert primary["GlobalClusterIdentifier"] == identifier == secondary["GlobalClusterIdentifier"]
    # The Ref (not a literal) is what makes the primary wait for the global cluster.
    raw = props(database(env, "primary").template["Resources"]["DatabaseCluster"])["GlobalClusterIdentifier"]
    assert raw == {"Fn::If": ["HasDrSecondary", {"Ref": "GlobalDatabaseCluster"}, {"Ref": "AWS::NoValue"}]}
    versions = {global_cluster["EngineVersion"], primary["EngineVersion"], secondary["EngineVersion"]}
    assert len(versions) == 1 and supports_global_write_forwarding(versions.pop())
    assert secondary["EnableGlobalWriteForwarding"] is True


def test_dev_cluster_stands_alone() -> None:
    assert "GlobalClusterIdentifier" not in cluster("dev", "primary")


# --- credentials -----------------------------------------------------------------------------
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_master_password_is_rds_managed_unless_the_cluster_is_global(env: str) -> None:
    primary = cluster(env, "primary")
    secrets = resources(concrete(env, "primary"), "AWS::SecretsManager::Secret")
    if EXPECTED[env]["secondary"]:
        # AWS: RDS-managed passwords are not supported in a global database.
        assert "ManageMasterUserPassword" not in primary
        assert primary["MasterUserPassword"].startswith("{{resolve:secretsmanager:")
        (secret,) = secrets.values()
        assert props(secret)["ReplicaRegions"] == [
            {"Region": DR, "KmsKeyId": f"arn:aws:kms:{DR}:{ACCOUNTS[env]}:alias/payments-{SUFFIXES[env]}"}
        ]
    else:
        assert primary["ManageMasterUserPassword"] is True
        assert primary["MasterUserSecret"] == {"KmsKeyId": database(env, "primary").stand_in("KmsKeyArn")}
        assert "MasterUserPassword" not in primary
        assert not secrets


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_secondary_carries_no_credentials(env: str) -> None:
    secondary = cluster(env, "dr")
    for name in ("MasterUsername", "MasterUserPassword", "ManageMasterUserPassword", "MasterUserSecret"):
        assert name not in secondary


@pytest.mark.parametrize(("env", "wave"), CASES)
def test_iam_authentication_tls_and_postgres_logs_are_on(env: str, wave: str) -> None:
    for found in clusters(env, wave).values():
        p = props(found)
        assert p["EnableIAMDatabaseAuthentication"] is True
        assert p["EnableCloudwatchLogsExports"] == ["postgresql"]
    parameters = cluster_parameters(concrete(env, wave))
    assert parameters["rds.force_ssl"] == "1"
    group = props(next(iter(resources(concrete(env, wave), "AWS::RDS::DBClusterParameterGroup").values())))
    assert group["Family"] == "aurora-postgresql16"


# --- encryption and protection ---------------------------------------------------------------
@pytest.mark.parametrize(("env", "wave"), CASES)
def test_everything_is_encrypted_with_this_regions_key(env: str, wave: str) -> None:
    layer = database(env, wave)
    assert check_aurora_encryption(concrete(env, wave), kms_key=layer.stand_in("KmsKeyArn")) == []
    assert layer.stand_in("KmsKeyArn").startswith(f"arn:aws:kms:{layer.region}:")


@pytest.mark.parametrize(("env", "wave"), CASES)
def test_deletion_protection_is_on_in_prod_only(env: str, wave: str) -> None:
    protected = {
        name: props(r)["DeletionProtection"]
        for name, r in resources(
            concrete(env, wave), "AWS::RDS::DBCluster", "AWS::RDS::GlobalCluster"
        ).items()
    }
    assert set(protected.values()) <= {EXPECTED[env]["protected"]}


@pytest.mark.parametrize(("env", "wave"), CASES)
def test_instances_report_performance_insights_and_enhanced_monitoring(env: str, wave: str) -> None:
    for instance in resources(concrete(env, wave), "AWS::RDS::DBInstance").values():
        p = props(instance)
        assert p["EnablePerformanceInsights"] is True
        assert (
            p["MonitoringInterval"] == 60 and p["MonitoringRoleArn"] == "<GetAtt DatabaseMonitoringRole.Arn>"
        )
        assert p["AutoMinorVersionUpgrade"] is False


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_the_secondary_mirrors_the_primary_baseline(env: str) -> None:
    """Global secondaries do not autoscale; after a failover they carry the primary's load."""
    primary = instances_of(concrete(env, "primary"), "DatabaseCluster")
    secondary = instances_of(concrete(env, "dr"), "DatabaseCluster")
    assert len(secondary) == len(primary)
    assert check_aurora_instances_spread(concrete(env, "dr"), "DatabaseCluster") == []
    assert not resources(concrete(env, "dr"), "AWS::ApplicationAutoScaling::ScalableTarget")


# --- what other layers read ------------------------------------------------------------------
@pytest.mark.parametrize(("env", "wave"), CASES)
def test_both_waves_offer_the_outputs_the_compute_layer_wires(env: str, wave: str) -> None:
    outputs = concrete(env, wave)["Outputs"]
    assert set(outputs) >= CONTRACT_OUTPUTS
    values = {name: outputs[name]["Value"] for name in CONTRACT_OUTPUTS}
    if wave == "dr" and not EXPECTED[env]["secondary"]:
        assert set(values.values()) == {""}  # "no database in this region"
    else:
        assert "" not in values.values()


@pytest.mark.parametrize(("env", "wave"), CASES)
def test_endpoints_are_published_in_ssm_where_a_cluster_runs(env: str, wave: str) -> None:
    published = ssm_parameters(concrete(env, wave))
    paths = {f"/{env}/database/{name}" for name in ("endpoint", "reader-endpoint", "port", "secret-arn")}
    if wave == "dr" and not EXPECTED[env]["secondary"]:
        assert not paths & set(published)
    else:
        assert paths <= set(published)
        assert published[f"/{env}/database/endpoint"] == "<GetAtt DatabaseCluster.Endpoint.Address>"


def test_cfn_lint_reports_nothing_for_the_database_in_any_environment_or_region() -> None:
    findings = lint_findings(workspace().render(), ["Database"])
    assert [f"{f.severity} {f.rule} {f.file}:{f.line} {f.message}" for f in findings] == []
