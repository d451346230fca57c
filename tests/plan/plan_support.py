"""Helpers for plan tests (imported as `plan_support`; pytest puts this folder on sys.path)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import boto3

from payctl.automation import Workspace
from payctl.aws.session import AwsSession
from payctl.plan import Plan
from payctl.plan.planner import PlanOptions

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEV = "111111111111"
PROD = "333333333333"
REGIONS = ("us-east-1", "eu-west-1")


def make_buckets(account: str, regions: tuple[str, ...] = REGIONS) -> None:
    """What `payctl bootstrap` leaves behind: one artifact bucket per region."""
    for region in regions:
        s3 = boto3.client("s3", region_name=region)
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=f"payctl-artifacts-{account}-{region}", **extra)


def workspace(root: Path) -> Workspace:
    return Workspace(root, search=False, aws=AwsSession())


def execute(plan: Plan) -> None:
    """Apply a plan made with keep=True the way apply will: execute each kept change set."""
    for _env, wave in plan.stacks():
        if wave.stack.change_set_id and wave.stack.kept:
            cfn = boto3.client("cloudformation", region_name=wave.region)
            cfn.execute_change_set(ChangeSetName=wave.stack.change_set_id)


def publish_vpc_id(environment: str, cidr: str) -> None:
    """The SSM value the network layer exports (moto cannot create a tagged SSM parameter from a template)."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == cidr)
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=f"/{environment}/network/vpc-id", Value=vpc, Type="String", Overwrite=True)


def deploy_dev(root: Path) -> None:
    """Deploy every wave of dev: foundation first, then the app wave that imports from it."""
    make_buckets(DEV)
    execute(workspace(root).environment("dev").plan(options=PlanOptions(keep=True)))
    publish_vpc_id("dev", "10.0.0.0/16")
    execute(workspace(root).environment("dev").plan(options=PlanOptions(keep=True)))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
