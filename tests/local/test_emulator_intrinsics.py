"""YAML short-form tags, Fn::GetAZs, Fn::Cidr, SSM-typed parameters and subnet zones."""

from __future__ import annotations

import boto3
import pytest
import yaml

from payctl.local.patches.intrinsics import cidr
from payctl.local.patches.yaml_tags import yaml_tag_constructor


def _load(text: str) -> object:
    yaml.add_multi_constructor("", yaml_tag_constructor)
    return yaml.load(text, Loader=yaml.Loader)


def test_short_form_tags_parse_like_aws() -> None:
    parsed = _load(
        """
        a: !GetAtt Child.Outputs.VpcId
        b: !GetAtt [Db, Endpoint.Address]
        c: !GetAZs {Ref: "AWS::Region"}
        d: !Condition IsPrimary
        e: !Join ["", [!Ref Name, "-", !GetAtt Role.Arn]]
        f: !Cidr [!GetAtt Vpc.CidrBlock, 6, 5]
        """
    )
    assert parsed == {
        "a": {"Fn::GetAtt": ["Child", "Outputs.VpcId"]},
        "b": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "c": {"Fn::GetAZs": {"Ref": "AWS::Region"}},
        "d": {"Condition": "IsPrimary"},
        "e": {"Fn::Join": ["", [{"Ref": "Name"}, "-", {"Fn::GetAtt": ["Role", "Arn"]}]]},
        "f": {"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 6, 5]},
    }


def test_cidr_matches_aws_documented_examples() -> None:
    # AWS docs: !Cidr ["192.168.0.0/24", 6, 5] gives six /27 blocks.
    assert cidr("192.168.0.0/24", 6, 5) == [
        "192.168.0.0/27",
        "192.168.0.32/27",
        "192.168.0.64/27",
        "192.168.0.96/27",
        "192.168.0.128/27",
        "192.168.0.160/27",
    ]
    # cidrBits 8 is a /24; parameters arrive as strings.
    assert cidr("10.0.0.0/16", "3", "8") == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
    assert cidr("2600:1f18:abc:de00::/56", 2, 64) == ["2600:1f18:abc:de00::/64", "2600:1f18:abc:de01::/64"]


def test_cidr_refuses_what_does_not_fit() -> None:
    from moto.cloudformation.exceptions import ValidationError

    with pytest.raises(ValidationError):
        cidr("10.0.0.0/24", 3, 7)  # only two /25 blocks in a /24
    with pytest.raises(ValidationError):
        cidr("10.0.0.0/24", 1, 9)  # /23 is larger than the block


NETWORK = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  VpcCidr: {Type: String, Default: 10.20.0.0/16}
Conditions:
  IsIreland: !Equals [!Ref "AWS::Region", eu-west-1]
  AlsoIreland: !And [!Condition IsIreland, !Not [!Equals [!Ref VpcCidr, ""]]]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: !Ref VpcCidr}
  SubnetA:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: !Select [0, !Cidr [!GetAtt Vpc.CidrBlock, 3, 8]]
      AvailabilityZone: !Select [0, !GetAZs {Ref: "AWS::Region"}]
  SubnetB:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: !Select [1, !Cidr [!Ref VpcCidr, 3, 8]]
      AvailabilityZone: !Select [1, !GetAZs ""]
Outputs:
  Zones: {Value: !Join [",", !GetAZs ""]}
  Ireland: {Value: !If [AlsoIreland, "yes", "no"]}
"""


def test_getazs_and_cidr_resolve_in_the_stack_region(aws: None) -> None:
    cf = boto3.client("cloudformation", region_name="eu-west-1")
    cf.create_stack(StackName="network", TemplateBody=NETWORK)

    stack = cf.describe_stacks(StackName="network")["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs == {"Zones": "eu-west-1a,eu-west-1b,eu-west-1c", "Ireland": "yes"}
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    subnets = sorted(
        (s["CidrBlock"], s["AvailabilityZone"])
        for s in ec2.describe_subnets()["Subnets"]
        if s["VpcId"]
        != ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    )
    assert subnets == [("10.20.0.0/24", "eu-west-1a"), ("10.20.1.0/24", "eu-west-1b")]


def test_ec2_refuses_a_subnet_in_another_regions_zone(aws: None) -> None:
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ec2.exceptions.ClientError, match=r"InvalidParameterValue.*us-east-1a"):
        ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/24")["Subnet"]
    assert subnet["AvailabilityZone"].startswith("eu-west-1")


SSM_TEMPLATE = """
Parameters:
  ImageId: {Type: "AWS::SSM::Parameter::Value<String>", Default: /platform/ami}
  Subnets: {Type: "AWS::SSM::Parameter::Value<List<String>>", Default: /platform/subnets}
  ParamName: {Type: "AWS::SSM::Parameter::Name", Default: /platform/ami}
Resources:
  Copy:
    Type: AWS::SSM::Parameter
    Properties: {Name: /copy/ami, Type: String, Value: !Sub "${ImageId}|${ParamName}"}
Outputs:
  Second: {Value: !Select [1, !Ref Subnets]}
"""


def test_ssm_typed_parameters_resolve_in_the_stacks_own_account_and_region(aws: None) -> None:
    boto3.client("ssm", region_name="eu-west-1").put_parameter(
        Name="/platform/ami", Value="ami-eu", Type="String"
    )
    boto3.client("ssm", region_name="eu-west-1").put_parameter(
        Name="/platform/subnets", Value="subnet-1,subnet-2", Type="StringList"
    )
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/platform/ami", Value="ami-us", Type="String"
    )
    cf = boto3.client("cloudformation", region_name="eu-west-1")
    cf.create_stack(StackName="ssm", TemplateBody=SSM_TEMPLATE)

    copy = boto3.client("ssm", region_name="eu-west-1").get_parameter(Name="/copy/ami")["Parameter"]["Value"]
    assert copy == "ami-eu|/platform/ami"  # ::Name stays the name, as in AWS
    outputs = cf.describe_stacks(StackName="ssm")["Stacks"][0]["Outputs"]
    assert outputs == [{"OutputKey": "Second", "OutputValue": "subnet-2"}]


def test_missing_ssm_parameter_is_a_validation_error(aws: None) -> None:
    cf = boto3.client("cloudformation", region_name="us-east-1")
    with pytest.raises(cf.exceptions.ClientError, match=r"Unable to fetch parameters \[/platform/ami\]"):
        cf.create_stack(StackName="ssm", TemplateBody=SSM_TEMPLATE)


def test_equals_compares_number_parameters_as_cloudformation_does(aws: None) -> None:
    # A Number parameter of 2 equals "2" on AWS; moto on its own compares int 2 with "2" and says no.
    template = """
Parameters:
  Readers: {Type: Number}
Conditions:
  HasTwo: !Equals [!Ref Readers, "2"]
  HasSome: !Not [!Equals [!Ref Readers, "0"]]
Resources:
  Second:
    Type: AWS::SNS::Topic
    Condition: HasSome
  Third:
    Type: AWS::SNS::Topic
    Condition: HasTwo
"""
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    cfn.create_stack(StackName="readers", TemplateBody=template,
                     Parameters=[{"ParameterKey": "Readers", "ParameterValue": "2"}])
    created = {r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName="readers")["StackResourceSummaries"]}
    assert created == {"Second", "Third"}
