"""The compute layer (ECS Fargate service behind an ALB), checked over the templates payctl renders
for every environment, in the primary and the DR region."""

from __future__ import annotations

import fnmatch
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from checks_ops import (
    Layer,
    Scenario,
    check_containers_hardened,
    check_log_groups,
    check_no_retain,
    check_no_service_linked_roles,
    check_roles_bounded,
    check_service_deployment,
    check_star_resources_explained,
    props,
    ref,
    render_layers,
    resources,
)

ROOT = Path(__file__).resolve().parents[2]
PRIMARY, DR = "us-east-1", "eu-west-1"
WAVE_OF_REGION = {PRIMARY: "primary", DR: "dr"}
COMBINATIONS = [(env, region) for env in ("dev", "staging", "prod") for region in (PRIMARY, DR)]

# What each environment asks for (envs/*.yaml): Fargate size, and the service count
# (desired, min, max) in the primary region and at standby size in the DR region.
TASK_SIZE = {"dev": ("256", "512"), "staging": ("512", "1024"), "prod": ("1024", "2048")}
SERVICE_COUNTS = {
    ("dev", PRIMARY): ("1", "1", "2"),
    ("dev", DR): ("0", "0", "2"),
    ("staging", PRIMARY): ("2", "2", "6"),
    ("staging", DR): ("1", "1", "6"),
    ("prod", PRIMARY): ("3", "3", "12"),
    ("prod", DR): ("2", "2", "12"),
}
LOG_RETENTION = {"dev": "30", "staging": "90", "prod": "365"}
CERTIFICATE = "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-1111-2222-3333-444455556666"
ECS_AUTOSCALING_ROLE = (
    "arn:aws:iam::{account}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_ECSService"
)


@cache
def layers() -> dict[tuple[str, str, str, str], Layer]:
    return render_layers(ROOT)


def layer(env: str, region: str, stack: str = "Compute") -> Layer:
    return layers()[(env, WAVE_OF_REGION[region], region, stack)]


def compute(env: str, region: str, **overrides: str) -> Scenario:
    return layer(env, region).scenario(**overrides)


def container(scenario: Scenario) -> dict[str, Any]:
    (definition,) = scenario.property("TaskDefinition", "ContainerDefinitions")
    return dict(definition)


def forwards_to_target_group(actions: list[dict[str, Any]]) -> bool:
    return [a.get("Type") for a in actions] == ["forward"] and actions[0].get(
        "TargetGroupArn"
    ) == "{{TargetGroup}}"


# --- rendering ------------------------------------------------------------------------------------
def test_compute_runs_in_the_primary_and_dr_waves_of_every_environment() -> None:
    found = sorted((key[0], key[2]) for key in layers() if key[3] == "Compute")
    assert found == sorted(COMBINATIONS)


def test_one_template_serves_every_environment_and_region() -> None:
    assert len({layer(*key).text for key in COMBINATIONS}) == 1


# --- task size and service counts ---------------------------------------------------------------
@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_task_size_follows_the_environment(env: str, region: str) -> None:
    scenario = compute(env, region)
    assert (
        scenario.property("TaskDefinition", "Cpu"),
        scenario.property("TaskDefinition", "Memory"),
    ) == TASK_SIZE[env]
    assert scenario.property("TaskDefinition", "RequiresCompatibilities") == ["FARGATE"]


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_service_counts_and_autoscaling_bounds_follow_the_region_role(env: str, region: str) -> None:
    scenario = compute(env, region)
    counts = (
        scenario.property("Service", "DesiredCount"),
        scenario.property("ScalableTarget", "MinCapacity"),
        scenario.property("ScalableTarget", "MaxCapacity"),
    )
    assert counts == SERVICE_COUNTS[(env, region)]


def test_dev_dr_is_a_cold_standby_that_can_scale_up() -> None:
    scenario = compute("dev", DR)
    assert scenario.property("Service", "DesiredCount") == "0"
    assert int(scenario.property("ScalableTarget", "MaxCapacity")) > 0


# --- deployments ------------------------------------------------------------------------------------
def test_deployments_keep_full_capacity_and_roll_back_on_failure() -> None:
    template = layer("prod", PRIMARY).template
    assert check_service_deployment(template) == []
    config = props(resources(template)["Service"])["DeploymentConfiguration"]
    assert config["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


def test_the_deployment_check_catches_a_service_without_rollback() -> None:
    service = {
        "Type": "AWS::ECS::Service",
        "Properties": {
            "DeploymentConfiguration": {
                "MinimumHealthyPercent": 50,
                "MaximumPercent": 200,
                "DeploymentCircuitBreaker": {"Enable": True, "Rollback": False},
            }
        },
    }
    assert len(check_service_deployment({"Resources": {"Service": service}})) == 3


def test_tasks_run_in_the_private_app_subnets_with_the_service_group() -> None:
    network = compute("prod", PRIMARY).property("Service", "NetworkConfiguration", "AwsvpcConfiguration")
    assert network == {
        "AssignPublicIp": "DISABLED",
        "Subnets": "{{AppSubnetIds}}",
        "SecurityGroups": ["{{ServiceSecurityGroupId}}"],
    }


def test_service_registers_in_a_private_cloud_map_namespace() -> None:
    scenario = compute("staging", DR)
    assert scenario.property("ServiceNamespace", "Name") == "payment-stg-001.internal"
    assert scenario.property("ServiceNamespace", "Vpc") == "{{VpcId}}"
    assert scenario.property("Service", "ServiceRegistries") == [
        {"RegistryArn": "{{ServiceDiscoveryEntry.Arn}}"}
    ]


# --- autoscaling -----------------------------------------------------------------------------------
def test_autoscaling_tracks_cpu_memory_and_requests_per_task() -> None:
    scenario = compute("prod", PRIMARY)
    metrics = {}
    for name in scenario.present("AWS::ApplicationAutoScaling::ScalingPolicy"):
        config = scenario.property(name, "TargetTrackingScalingPolicyConfiguration")
        assert scenario.property(name, "PolicyType") == "TargetTrackingScaling"
        assert scenario.property(name, "ScalingTargetId") == "{{ScalableTarget}}"
        spec = config["PredefinedMetricSpecification"]
        metrics[spec["PredefinedMetricType"]] = spec.get("ResourceLabel")
    assert metrics == {
        "ECSServiceAverageCPUUtilization": None,
        "ECSServiceAverageMemoryUtilization": None,
        # app/<alb>/<id>/targetgroup/<tg>/<id>: the label ALBRequestCountPerTarget requires
        "ALBRequestCountPerTarget": "{{LoadBalancer.LoadBalancerFullName}}/"
        "{{TargetGroup.TargetGroupFullName}}",
    }


def test_scalable_target_is_the_service_desired_count_with_the_service_linked_role() -> None:
    scenario = compute("staging", PRIMARY)
    assert scenario.property("ScalableTarget", "ServiceNamespace") == "ecs"
    assert scenario.property("ScalableTarget", "ScalableDimension") == "ecs:service:DesiredCount"
    assert scenario.property("ScalableTarget", "ResourceId") == "service/{{Cluster}}/{{Service.Name}}"
    assert scenario.property("ScalableTarget", "RoleARN") == ECS_AUTOSCALING_ROLE.format(
        account="222222222222"
    )
    assert check_no_service_linked_roles(layer("staging", PRIMARY).template) == []


# --- load balancer -----------------------------------------------------------------------------------
def test_without_a_certificate_there_is_no_https_listener_and_port_80_forwards() -> None:
    scenario = compute("dev", PRIMARY)
    assert "HttpsListener" not in scenario.present("AWS::ElasticLoadBalancingV2::Listener")
    assert forwards_to_target_group(scenario.property("HttpListener", "DefaultActions"))


def test_with_a_certificate_https_serves_and_http_redirects() -> None:
    scenario = compute("prod", PRIMARY, CertificateArn=CERTIFICATE)
    https = scenario.property("HttpsListener")
    assert (https["Protocol"], https["Port"]) == ("HTTPS", 443)
    assert https["Certificates"] == [{"CertificateArn": CERTIFICATE}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    assert forwards_to_target_group(https["DefaultActions"])
    (redirect,) = scenario.property("HttpListener", "DefaultActions")
    assert redirect["Type"] == "redirect"
    assert (
        redirect["RedirectConfig"]["Protocol"],
        redirect["RedirectConfig"]["Port"],
        redirect["RedirectConfig"]["StatusCode"],
    ) == ("HTTPS", "443", "HTTP_301")


@pytest.mark.parametrize("certificate", ["", CERTIFICATE])
def test_the_service_waits_for_the_listener_that_forwards_to_it(certificate: str) -> None:
    scenario = compute("staging", PRIMARY, CertificateArn=certificate)
    listener = scenario.resolve(resources(scenario.template)["Service"]["Metadata"]["TrafficListener"])
    logical = listener.strip("{}")
    actions = scenario.property(logical, "DefaultActions")
    assert forwards_to_target_group(actions), f"{logical} does not forward to the target group"


def test_the_alb_is_internet_facing_only_in_public_subnets() -> None:
    internal = compute("prod", PRIMARY)
    assert internal.property("LoadBalancer", "Scheme") == "internal"
    assert internal.property("LoadBalancer", "Subnets") == "{{AppSubnetIds}}"
    public = compute("prod", PRIMARY, PublicSubnetIds="subnet-0aaa,subnet-0bbb,subnet-0ccc")
    assert public.property("LoadBalancer", "Scheme") == "internet-facing"
    assert public.property("LoadBalancer", "Subnets") == ["subnet-0aaa", "subnet-0bbb", "subnet-0ccc"]


def test_alb_hardening_attributes() -> None:
    attributes = {
        a["Key"]: a["Value"]
        for a in compute("prod", PRIMARY).property("LoadBalancer", "LoadBalancerAttributes")
    }
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"
    dev = {
        a["Key"]: a["Value"]
        for a in compute("dev", PRIMARY).property("LoadBalancer", "LoadBalancerAttributes")
    }
    assert dev["deletion_protection.enabled"] == "false"


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_alb_access_logs_land_where_the_log_bucket_lets_elb_write(env: str, region: str) -> None:
    attributes = {
        a["Key"]: a["Value"] for a in compute(env, region).property("LoadBalancer", "LoadBalancerAttributes")
    }
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == "{{AccessLogBucketName}}"
    prefix = attributes["access_logs.s3.prefix"]
    assert "AWSLogs" not in prefix  # ELB rejects it; it appends AWSLogs/<account>/ itself
    # The key ELB writes, matched against the storage layer's bucket policy grant.
    storage = layers()[(env, "foundation", region, "FoundationStorage")].scenario()
    policy = storage.property("AccessLogBucketPolicy", "PolicyDocument")
    grants = [
        s["Resource"]
        for s in policy["Statement"]
        if s["Effect"] == "Allow" and s["Action"] == "s3:PutObject" and "/alb/" in str(s["Resource"])
    ]
    assert grants, "the access-log bucket policy grants ELB nothing under alb/"
    account = storage.values["AWS::AccountId"]
    written = f"{{{{AccessLogBucket.Arn}}}}/{prefix}/AWSLogs/{account}/elasticloadbalancing/x.log"
    assert all(fnmatch.fnmatch(written, grant) for grant in grants), (written, grants)


def test_target_group_health_checks_the_container_port() -> None:
    target_group = compute("staging", PRIMARY).property("TargetGroup")
    assert (target_group["TargetType"], target_group["Port"], target_group["HealthCheckEnabled"]) == (
        "ip",
        "8080",
        True,
    )
    assert target_group["HealthCheckPath"] == "/"
    assert target_group["Matcher"] == {"HttpCode": "200"}


# --- containers, secrets, logs --------------------------------------------------------------------------
def test_containers_are_hardened() -> None:
    assert check_containers_hardened(layer("prod", PRIMARY).template) == []


def test_the_hardening_check_catches_a_root_writable_container_with_a_plain_password() -> None:
    task = {
        "Type": "AWS::ECS::TaskDefinition",
        "Properties": {
            "ContainerDefinitions": [
                {
                    "Name": "app",
                    "User": "0",
                    "ReadonlyRootFilesystem": False,
                    "Environment": [{"Name": "DB_PASSWORD", "Value": "hunter2"}],
                    "LogConfiguration": {"LogDriver": "awslogs"},
                }
            ]
        },
    }
    assert len(check_containers_hardened({"Resources": {"Task": task}})) == 3


# Without a global database the secret is RDS-managed; with one, the database layer's own
# secret (replicated to the DR region).
@pytest.mark.parametrize(
    ("env", "secret"),
    [
        ("dev", "{{DatabaseCluster.MasterUserSecret.SecretArn}}"),
        ("staging", "{{DatabaseMasterSecret}}"),
        ("prod", "{{DatabaseMasterSecret}}"),
    ],
)
def test_primary_tasks_get_the_database_secret_from_secrets_manager(env: str, secret: str) -> None:
    assert container(compute(env, PRIMARY))["Secrets"] == [{"Name": "DB_CREDENTIALS", "ValueFrom": secret}]


def test_dr_tasks_read_the_regional_replica_of_the_secret() -> None:
    scenario = compute("prod", DR)
    replica = "arn:aws:secretsmanager:eu-west-1:333333333333:secret:payment-db-master-prod-001"
    assert container(scenario)["Secrets"] == [{"Name": "DB_CREDENTIALS", "ValueFrom": replica}]
    statements = scenario.property("TaskExecutionRole", "Policies")[0]["PolicyDocument"]["Statement"]
    (secret_statement,) = [s for s in statements if s.get("Sid") == "DatabaseSecret"]
    # The replica's ARN ends in a random suffix the template cannot know.
    assert secret_statement["Resource"] == [replica, replica + "-??????"]


def test_dev_dr_without_a_database_starts_tasks_without_a_secret() -> None:
    scenario = compute("dev", DR)
    assert "Secrets" not in container(scenario)
    statements = scenario.property("TaskExecutionRole", "Policies")[0]["PolicyDocument"]["Statement"]
    assert "DatabaseSecret" not in {s.get("Sid") for s in statements}


def test_the_app_finds_the_database_through_ssm_at_runtime() -> None:
    environment = {v["Name"]: v["Value"] for v in container(compute("staging", DR))["Environment"]}
    assert environment["DB_ENDPOINT_PARAMETER"] == "/staging/database/endpoint"
    assert environment["SESSION_TABLE_NAME"] == "payment-sessions-stg-001"
    statements = compute("staging", DR).property("TaskRole", "Policies")[0]["PolicyDocument"]["Statement"]
    reads = [s["Resource"] for s in statements if "ssm:GetParameter" in s["Action"]]
    assert reads == ["arn:aws:ssm:eu-west-1:222222222222:parameter/staging/database/*"]


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_logs_go_to_an_encrypted_group_kept_as_long_as_the_environment_says(env: str, region: str) -> None:
    scenario = compute(env, region)
    assert check_log_groups(scenario.template) == []
    assert scenario.property("ServiceLogGroup", "RetentionInDays") == LOG_RETENTION[env]
    assert scenario.property("ServiceLogGroup", "KmsKeyId") == "{{KmsKeyArn}}"
    options = container(scenario)["LogConfiguration"]["Options"]
    assert (options["awslogs-group"], options["awslogs-region"]) == ("{{ServiceLogGroup}}", region)


def test_cluster_has_container_insights() -> None:
    settings = compute("prod", PRIMARY).property("Cluster", "ClusterSettings")
    assert {"Name": "containerInsights", "Value": "enabled"} in settings


# --- IAM ------------------------------------------------------------------------------------------------
def test_roles_are_bounded_and_named_per_region() -> None:
    template = layer("prod", DR).template
    assert check_roles_bounded(template) == []
    for role in resources(template, "AWS::IAM::Role").values():
        assert ref(props(role)["PermissionsBoundary"]) == "PermissionsBoundaryArn"


def test_role_names_differ_between_regions() -> None:
    names = {
        region: sorted(
            compute("prod", region).property(r, "RoleName")
            for r in compute("prod", region).present("AWS::IAM::Role")
        )
        for region in (PRIMARY, DR)
    }
    assert not set(names[PRIMARY]) & set(names[DR])


def test_every_unscoped_resource_says_why() -> None:
    assert check_star_resources_explained(layer("prod", PRIMARY).text) == []


def test_the_unscoped_resource_check_catches_a_silent_wildcard() -> None:
    text = 'Statement:\n  - Sid: Everything\n    Effect: Allow\n    Action: s3:PutObject\n    Resource: "*"\n'
    assert len(check_star_resources_explained(text)) == 1


def test_nothing_is_retained() -> None:
    assert check_no_retain(layer("prod", PRIMARY).template) == []


# --- wiring -----------------------------------------------------------------------------------------------
def test_names_the_monitoring_alarms_use_are_the_names_compute_creates() -> None:
    for env, region in COMBINATIONS:
        scenario = compute(env, region)
        cluster, service = (
            scenario.property("Cluster", "ClusterName"),
            scenario.property("Service", "ServiceName"),
        )
        monitoring = layer(env, region, "Monitoring").scenario()
        dimensions = monitoring.property("ServiceCpuAlarm", "Dimensions")
        assert {d["Name"]: d["Value"] for d in dimensions} == {"ClusterName": cluster, "ServiceName": service}


def test_the_alb_dimensions_reach_monitoring_from_compute_outputs() -> None:
    passed = layer("staging", DR, "Monitoring").passed
    assert passed["LoadBalancerFullName"] == {
        "Fn::GetAtt": ["Compute", "Outputs.LoadBalancerFullName"]
    } or passed["LoadBalancerFullName"] == {"Fn::GetAtt": "Compute.Outputs.LoadBalancerFullName"}
