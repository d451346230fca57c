"""The README's main job, end to end on the local emulator, checked through ordinary AWS APIs.

One emulator process serves the whole module: deploy every wave to the three accounts in both
regions as StackSets, prove a re-plan shows nothing, catch a hand-made change as drift, and
take dev down completely. Each check reads the deployed resources the way an operator would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from payctl.aws.session import AwsSession, Target
from payctl.config import load_environments

pytestmark = pytest.mark.emulator

REPO = Path(__file__).resolve().parents[2]
ENVS = load_environments(REPO)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the repository and an emulator of its own, stopped afterwards."""
    root = tmp_path_factory.mktemp("platform")
    for folder in ("envs", "stacks", "lambdas"):
        shutil.copytree(REPO / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    state = root / ".state"
    previous = os.environ.get("PAYCTL_STATE_DIR")
    os.environ["PAYCTL_STATE_DIR"] = str(state)
    try:
        yield root
    finally:
        payctl(root, "local", "stop")
        if previous is None:
            os.environ.pop("PAYCTL_STATE_DIR", None)
        else:
            os.environ["PAYCTL_STATE_DIR"] = previous


def payctl(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "payctl", *args], cwd=root, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture(scope="module")
def deployed(workspace: Path) -> AwsSession:
    result = payctl(workspace, "--local", "apply", "--all-accounts", "--yes")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    status = json.loads(payctl(workspace, "local", "status", "--json").stdout)
    assert status["running"] is True and status["endpoint"].startswith("http://127.0.0.1:")
    return AwsSession(endpoint_url=status["endpoint"])


def client(aws: AwsSession, service: str, env: str, role: str) -> Any:
    config = ENVS[env]
    return aws.client(service, Target(config.account_id, config.region(role)))  # type: ignore[arg-type]


CASES = [(env, role) for env in ("dev", "staging", "prod") for role in ("primary", "dr")]


@pytest.mark.parametrize(("env", "role"), CASES)
def test_each_vpc_has_its_cidr_and_subnets_in_three_zones(deployed: AwsSession, env: str, role: str) -> None:
    ec2 = client(deployed, "ec2", env, role)
    cidr = ENVS[env].vpc_cidr(role)  # type: ignore[arg-type]
    vpcs = [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == cidr]
    assert len(vpcs) == 1, f"{env} {role}: no VPC with {cidr}"
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["Subnets"]
    zones = {s["AvailabilityZone"] for s in subnets}
    region = ENVS[env].region(role)  # type: ignore[arg-type]
    assert len(zones) == 3 and all(zone.startswith(region) for zone in zones), zones
    assert ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["NetworkAcls"]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_aurora_classes_and_dr_secondary_follow_the_environment(deployed: AwsSession, env: str) -> None:
    config = ENVS[env]
    primary = client(deployed, "rds", env, "primary")
    clusters = primary.describe_db_clusters()["DBClusters"]
    assert [c["DBClusterIdentifier"] for c in clusters] == [f"payment-db-cluster-{config.environment_suffix}"]
    instances = primary.describe_db_instances()["DBInstances"]
    assert {i["DBInstanceClass"] for i in instances} == {config.database.instance_class}
    assert len(instances) == 1 + config.database.reader_count
    assert clusters[0]["StorageEncrypted"] is True
    secondary = client(deployed, "rds", env, "dr").describe_db_clusters()["DBClusters"]
    assert bool(secondary) == config.database.dr_secondary


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_session_table_replicates_with_pitr_in_both_regions(deployed: AwsSession, env: str) -> None:
    table = f"payment-sessions-{ENVS[env].environment_suffix}"
    for role in ("primary", "dr"):
        dynamodb = client(deployed, "dynamodb", env, role)
        described = dynamodb.describe_table(TableName=table)["Table"]
        assert {r["RegionName"] for r in described.get("Replicas", [])} | {ENVS[env].region(role)} >= {  # type: ignore[arg-type]
            ENVS[env].regions.primary, ENVS[env].regions.dr}
        backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_buckets_are_versioned_with_lifecycle_and_the_source_replicates(deployed: AwsSession, env: str) -> None:
    s3 = client(deployed, "s3", env, "primary")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"] if ENVS[env].environment_suffix in b["Name"]]
    assert names
    for name in names:
        assert s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled", name
        assert s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"], name
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert all(block.values()), name
    replicating = [n for n in names if _replication(s3, n)]
    assert len(replicating) == 1
    rule = _replication(s3, replicating[0])["Rules"][0]
    assert ENVS[env].regions.dr in rule["Destination"]["Bucket"]


def _replication(s3: Any, bucket: str) -> Any:
    try:
        return s3.get_bucket_replication(Bucket=bucket)["ReplicationConfiguration"]
    except s3.exceptions.ClientError:
        return None


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_platform_role_carries_the_permissions_boundary(deployed: AwsSession, env: str) -> None:
    iam = client(deployed, "iam", env, "primary")
    suffix = ENVS[env].environment_suffix
    roles = [r for r in iam.list_roles()["Roles"] if suffix in r["RoleName"]]
    assert len(roles) >= 5
    for role in roles:
        boundary = iam.get_role(RoleName=role["RoleName"])["Role"].get("PermissionsBoundary", {})
        assert f"permissions-boundary-{suffix}" in boundary.get("PermissionsBoundaryArn", ""), role["RoleName"]


@pytest.mark.parametrize("env", ["staging"])
def test_ssm_hierarchy_and_alert_subscriptions(deployed: AwsSession, env: str) -> None:
    ssm = client(deployed, "ssm", env, "primary")
    names = [p["Name"] for page in ssm.get_paginator("describe_parameters").paginate() for p in page["Parameters"]]
    assert names and all(name.startswith(f"/{env}/") and name.count("/") >= 3 for name in names), names
    sns = client(deployed, "sns", env, "primary")
    endpoints = {s["Endpoint"] for s in sns.list_subscriptions()["Subscriptions"] if s["Protocol"] == "email"}
    assert endpoints == {ENVS[env].alerts.ops_email, ENVS[env].alerts.security_email}


def test_replanning_prod_after_the_deployment_shows_no_changes(deployed: AwsSession, workspace: Path) -> None:
    result = payctl(workspace, "--local", "plan", "prod")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_a_hand_made_security_group_rule_is_reported_as_drift(deployed: AwsSession, workspace: Path) -> None:
    ec2 = client(deployed, "ec2", "dev", "primary")
    # The ALB group declares its rules inline; CloudFormation checks only properties a template sets.
    group = next(g for g in ec2.describe_security_groups()["SecurityGroups"]
                 if g["GroupName"] == f"alb-sg-{ENVS['dev'].environment_suffix}")
    ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    result = payctl(workspace, "--local", "drift", "dev", "--json")
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    differences = [d for stack in report["stacks"] for r in stack.get("resources", [])
                   for d in r.get("propertyDifferences", []) if r["logicalResourceId"] == "AlbSecurityGroup"]
    assert [d["differenceType"] for d in differences] == ["ADD"], differences
    assert differences[0]["propertyPath"].startswith("/SecurityGroupIngress/")
    assert '"FromPort":22' in differences[0]["actualValue"].replace(" ", "")


def test_destroy_removes_dev_completely(deployed: AwsSession, workspace: Path) -> None:
    result = payctl(workspace, "--local", "destroy", "dev", "--yes")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    suffix = ENVS["dev"].environment_suffix
    for role in ("primary", "dr"):
        s3 = client(deployed, "s3", "dev", role)
        assert not [b for b in s3.list_buckets()["Buckets"] if suffix in b["Name"] and
                    ENVS["dev"].region(role) in b["Name"]]  # type: ignore[arg-type]
        assert not [v for v in client(deployed, "ec2", "dev", role).describe_vpcs()["Vpcs"]
                    if v["CidrBlock"] == ENVS["dev"].vpc_cidr(role)]  # type: ignore[arg-type]
    assert client(deployed, "rds", "prod", "primary").describe_db_clusters()["DBClusters"], "prod untouched"
