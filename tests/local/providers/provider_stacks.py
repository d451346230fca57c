"""Helpers to deploy small stacks on moto's CloudFormation and read what they made."""

from __future__ import annotations

import json
from typing import Any

import boto3

ACCOUNT = "123456789012"  # moto's default account

# Creating a botocore client costs ~0.2 s (endpoint rules); moto intercepts any client's
# requests while a mock is active, so the clients are shared by all tests.
_DEFAULT_SESSION = boto3.Session()
_CLIENTS: dict[tuple[int, str, str], Any] = {}


class Stacks:
    """create/update/delete stacks from a Resources mapping and return their outputs."""

    def __init__(self, region: str = "us-east-1", session: boto3.Session | None = None) -> None:
        self.region = region
        self.session = session or _DEFAULT_SESSION

    def client(self, service: str, region: str | None = None) -> Any:
        key = (id(self.session), service, region or self.region)
        if key not in _CLIENTS:
            _CLIENTS[key] = self.session.client(service, region_name=key[2])  # type: ignore[call-overload]
        return _CLIENTS[key]

    def in_account(self, account_id: str) -> Stacks:
        """The same helpers acting in another account (moto serves the account of an assumed role)."""
        credentials = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/deploy", RoleSessionName="provider-tests"
        )["Credentials"]
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        return Stacks(self.region, session)

    def _body(self, resources: dict[str, Any], outputs: dict[str, Any] | None) -> str:
        template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
        if outputs:
            template["Outputs"] = {key: {"Value": value} for key, value in outputs.items()}
        return json.dumps(template)

    def create(self, name: str, resources: dict[str, Any], outputs: dict[str, Any] | None = None,
               region: str | None = None) -> dict[str, str]:
        return self._submit("create_stack", name, resources, outputs, region)

    def update(self, name: str, resources: dict[str, Any], outputs: dict[str, Any] | None = None,
               region: str | None = None) -> dict[str, str]:
        return self._submit("update_stack", name, resources, outputs, region)

    def _submit(self, action: str, name: str, resources: dict[str, Any], outputs: dict[str, Any] | None,
                region: str | None) -> dict[str, str]:
        cfn = self.client("cloudformation", region)
        getattr(cfn, action)(
            StackName=name, TemplateBody=self._body(resources, outputs), Capabilities=["CAPABILITY_NAMED_IAM"]
        )
        return self.outputs(name, region)

    def delete(self, name: str, region: str | None = None) -> None:
        cfn = self.client("cloudformation", region)
        cfn.delete_stack(StackName=name)
        # Not describe_stacks: moto evaluates a deleted stack's outputs lazily, which would
        # re-create the resources they reference.
        statuses = {s["StackName"]: s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]}
        assert statuses[name] == "DELETE_COMPLETE"

    def outputs(self, name: str, region: str | None = None) -> dict[str, str]:
        stack = self.client("cloudformation", region).describe_stacks(StackName=name)["Stacks"][0]
        assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), stack["StackStatus"]
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def physical_id(self, name: str, logical_id: str, region: str | None = None) -> str:
        resource = self.client("cloudformation", region).describe_stack_resource(
            StackName=name, LogicalResourceId=logical_id
        )["StackResourceDetail"]
        return str(resource["PhysicalResourceId"])


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def get_att(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def vpc_resources(cidr: str = "10.0.0.0/16", region: str = "us-east-1") -> dict[str, Any]:
    """A VPC with two subnets in two zones, for the resources that need a network."""
    prefix = cidr.rsplit(".", 2)[0]
    return {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": cidr}},
        "SubnetA": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": ref("Vpc"),
                "CidrBlock": f"{prefix}.1.0/24",
                "AvailabilityZone": f"{region}a",
            },
        },
        "SubnetB": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": ref("Vpc"),
                "CidrBlock": f"{prefix}.2.0/24",
                "AvailabilityZone": f"{region}b",
            },
        },
    }
