"""VPC plumbing deployed through CloudFormation shows up in the EC2 API."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError
from provider_stacks import Stacks, get_att, ref, vpc_resources


def acl_resources() -> dict[str, Any]:
    resources = vpc_resources()
    resources.update(
        {
            "Acl": {
                "Type": "AWS::EC2::NetworkAcl",
                "Properties": {"VpcId": ref("Vpc"), "Tags": [{"Key": "Tier", "Value": "app"}]},
            },
            "HttpsIn": {
                "Type": "AWS::EC2::NetworkAclEntry",
                "Properties": {
                    "NetworkAclId": ref("Acl"),
                    "RuleNumber": 100,
                    "Protocol": 6,
                    "RuleAction": "allow",
                    "Egress": False,
                    "CidrBlock": "10.0.0.0/16",
                    "PortRange": {"From": 443, "To": 443},
                },
            },
            "ReturnOut": {
                "Type": "AWS::EC2::NetworkAclEntry",
                "Properties": {
                    "NetworkAclId": ref("Acl"),
                    "RuleNumber": 100,
                    "Protocol": 6,
                    "RuleAction": "allow",
                    "Egress": True,
                    "CidrBlock": "10.0.0.0/16",
                    "PortRange": {"From": 1024, "To": 65535},
                },
            },
            "AclAssociation": {
                "Type": "AWS::EC2::SubnetNetworkAclAssociation",
                "Properties": {"SubnetId": ref("SubnetA"), "NetworkAclId": ref("Acl")},
            },
        }
    )
    return resources


def custom_acl(stacks: Stacks) -> dict[str, Any]:
    acls = [a for a in stacks.client("ec2").describe_network_acls()["NetworkAcls"] if not a["IsDefault"]]
    assert len(acls) == 1
    return acls[0]


def test_network_acl_entries_and_association(stacks: Stacks) -> None:
    outputs = stacks.create(
        "net", acl_resources(), {"AclId": get_att("Acl", "Id"), "Assoc": ref("AclAssociation")}
    )
    acl = custom_acl(stacks)
    assert outputs["AclId"] == acl["NetworkAclId"]
    entries = {(e["RuleNumber"], e["Egress"]): e for e in acl["Entries"] if e["RuleNumber"] < 32767}
    assert entries[(100, False)]["PortRange"] == {"From": 443, "To": 443}
    assert entries[(100, True)]["PortRange"] == {"From": 1024, "To": 65535}
    assert [a["SubnetId"] for a in acl["Associations"]] == [stacks.physical_id("net", "SubnetA")]
    assert outputs["Assoc"] == acl["Associations"][0]["NetworkAclAssociationId"]
    assert {"Key": "Tier", "Value": "app"} in acl["Tags"]


def test_network_acl_update_and_delete(stacks: Stacks) -> None:
    resources = acl_resources()
    stacks.create("net", resources)
    changed = copy.deepcopy(resources)
    changed["HttpsIn"]["Properties"]["CidrBlock"] = "10.1.0.0/16"  # in place (replace entry)
    changed["HttpsIn"]["Properties"]["PortRange"] = {"From": 8443, "To": 8443}
    del changed["AclAssociation"]  # the subnet goes back to the default ACL
    stacks.update("net", changed)
    acl = custom_acl(stacks)
    entry = next(e for e in acl["Entries"] if e["RuleNumber"] == 100 and not e["Egress"])
    assert (entry["CidrBlock"], entry["PortRange"]["From"]) == ("10.1.0.0/16", 8443)
    assert acl["Associations"] == []

    stacks.delete("net")
    assert [
        a for a in stacks.client("ec2").describe_network_acls()["NetworkAcls"] if not a["IsDefault"]
    ] == []


def security_group_resources() -> dict[str, Any]:
    resources = vpc_resources()
    resources.update(
        {
            "AlbGroup": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupName": "alb-sg-dev-001",
                    "GroupDescription": "alb",
                    "VpcId": ref("Vpc"),
                    "SecurityGroupIngress": [
                        {
                            "IpProtocol": "tcp",
                            "FromPort": 443,
                            "ToPort": 443,
                            "CidrIp": "0.0.0.0/0",
                            "Description": "HTTPS",
                        }
                    ],
                    "SecurityGroupEgress": [
                        {
                            "IpProtocol": "tcp",
                            "FromPort": 8080,
                            "ToPort": 8080,
                            "DestinationSecurityGroupId": ref("ServiceGroup"),
                        }
                    ],
                },
            },
            "ServiceGroup": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "service", "VpcId": ref("Vpc")},
            },
            "ServiceFromAlb": {
                "Type": "AWS::EC2::SecurityGroupIngress",
                "Properties": {
                    "GroupId": ref("ServiceGroup"),
                    "IpProtocol": "tcp",
                    "FromPort": 8080,
                    "ToPort": 8080,
                    "SourceSecurityGroupId": ref("AlbGroup"),
                },
            },
            "ServiceToDb": {
                "Type": "AWS::EC2::SecurityGroupEgress",
                "Properties": {
                    "GroupId": ref("ServiceGroup"),
                    "IpProtocol": "tcp",
                    "FromPort": 5432,
                    "ToPort": 5432,
                    "CidrIp": "10.0.2.0/24",
                },
            },
        }
    )
    return resources


def group(stacks: Stacks, group_id: str) -> dict[str, Any]:
    return stacks.client("ec2").describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]


def test_security_group_rules_replace_default_egress(stacks: Stacks) -> None:
    outputs = stacks.create(
        "sg",
        security_group_resources(),
        {"Alb": get_att("AlbGroup", "GroupId"), "Vpc": get_att("AlbGroup", "VpcId")},
    )
    alb, service = group(stacks, outputs["Alb"]), group(stacks, stacks.physical_id("sg", "ServiceGroup"))
    assert alb["GroupName"] == "alb-sg-dev-001"
    assert outputs["Vpc"] == stacks.physical_id("sg", "Vpc")
    assert alb["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS"}]
    # Explicit egress replaces the default allow-all rule.
    assert [(p["FromPort"], p["UserIdGroupPairs"][0]["GroupId"]) for p in alb["IpPermissionsEgress"]] == [
        (8080, service["GroupId"])
    ]
    assert [p["UserIdGroupPairs"][0]["GroupId"] for p in service["IpPermissions"]] == [alb["GroupId"]]
    egress = {p.get("FromPort", "all") for p in service["IpPermissionsEgress"]}
    assert egress == {"all", 5432}  # no inline egress: the default rule stays, plus the separate one
    assert stacks.physical_id("sg", "ServiceFromAlb").startswith("sgr-")


def test_security_group_update_keeps_group_and_delete_removes(stacks: Stacks) -> None:
    resources = security_group_resources()
    stacks.create("sg", resources)
    alb_id = stacks.physical_id("sg", "AlbGroup")
    changed = copy.deepcopy(resources)
    alb = changed["AlbGroup"]["Properties"]
    alb["SecurityGroupIngress"][0]["CidrIp"] = "10.9.0.0/16"
    del alb["SecurityGroupEgress"]  # back to AWS's default allow-all egress
    del changed["ServiceToDb"]
    stacks.update("sg", changed)
    assert stacks.physical_id("sg", "AlbGroup") == alb_id  # rules change in place
    updated = group(stacks, alb_id)
    assert updated["IpPermissions"][0]["IpRanges"][0]["CidrIp"] == "10.9.0.0/16"
    assert [p["IpProtocol"] for p in updated["IpPermissionsEgress"]] == ["-1"]
    service = group(stacks, stacks.physical_id("sg", "ServiceGroup"))
    assert [p["IpProtocol"] for p in service["IpPermissionsEgress"]] == ["-1"]

    stacks.delete("sg")
    names = {g["GroupName"] for g in stacks.client("ec2").describe_security_groups()["SecurityGroups"]}
    assert names == {"default"}


def test_security_group_rename_replaces_but_same_name_replacement_fails(stacks: Stacks) -> None:
    resources = security_group_resources()
    stacks.create("sg", resources)
    old_id = stacks.physical_id("sg", "AlbGroup")
    changed = copy.deepcopy(resources)
    changed["AlbGroup"]["Properties"]["GroupDescription"] = "new description"  # replacement
    with pytest.raises(ClientError, match="custom-named resource requires replacing"):
        stacks.update("sg", changed)
    changed["AlbGroup"]["Properties"]["GroupName"] = "alb-sg-dev-002"
    stacks.update("sg", changed)
    new_id = stacks.physical_id("sg", "AlbGroup")
    assert new_id != old_id
    assert group(stacks, new_id)["GroupName"] == "alb-sg-dev-002"
    with pytest.raises(ClientError, match=r"InvalidGroup\.NotFound"):
        group(stacks, old_id)


def test_route_table_association_is_visible_and_removed(stacks: Stacks) -> None:
    resources = vpc_resources()
    resources["Routes"] = {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": ref("Vpc")}}
    resources["Assoc"] = {
        "Type": "AWS::EC2::SubnetRouteTableAssociation",
        "Properties": {"SubnetId": ref("SubnetA"), "RouteTableId": ref("Routes")},
    }
    stacks.create("rt", resources)
    ec2 = stacks.client("ec2")
    table = ec2.describe_route_tables(RouteTableIds=[stacks.physical_id("rt", "Routes")])["RouteTables"][0]
    assert [(a["SubnetId"], a["RouteTableAssociationId"]) for a in table["Associations"]] == [
        (stacks.physical_id("rt", "SubnetA"), stacks.physical_id("rt", "Assoc"))
    ]
    del resources["Assoc"]
    stacks.update("rt", resources)
    table = ec2.describe_route_tables(RouteTableIds=[stacks.physical_id("rt", "Routes")])["RouteTables"][0]
    assert table["Associations"] == []


def test_transit_gateway_shared_to_another_account_and_attached(stacks: Stacks) -> None:
    hub = {
        "Gateway": {
            "Type": "AWS::EC2::TransitGateway",
            "Properties": {
                "AmazonSideAsn": 64512,
                "AutoAcceptSharedAttachments": "enable",
                "DefaultRouteTablePropagation": "disable",
            },
        }
    }
    outputs = stacks.create(
        "hub", hub, {"Id": ref("Gateway"), "Arn": get_att("Gateway", "TransitGatewayArn")}
    )
    gateway = stacks.client("ec2").describe_transit_gateways()["TransitGateways"][0]
    assert outputs == {"Id": gateway["TransitGatewayId"], "Arn": gateway["TransitGatewayArn"]}
    assert gateway["Options"]["AutoAcceptSharedAttachments"] == "enable"
    assert gateway["Options"]["DefaultRouteTablePropagation"] == "disable"

    # An environment account attaches its VPC to the hub account's gateway (shared through RAM).
    environment_account = stacks.in_account("111111111111")
    environment = vpc_resources()
    environment["Attachment"] = {
        "Type": "AWS::EC2::TransitGatewayAttachment",
        "Properties": {
            "TransitGatewayId": outputs["Id"],
            "VpcId": ref("Vpc"),
            "SubnetIds": [ref("SubnetA")],
            "Options": {"DnsSupport": "enable"},
        },
    }
    environment_account.create("env", environment)
    ec2 = environment_account.client("ec2")
    attachments = ec2.describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"]
    assert [(a["TransitGatewayId"], a["VpcId"], a["State"]) for a in attachments] == [
        (outputs["Id"], environment_account.physical_id("env", "Vpc"), "available")
    ]
    assert (
        environment_account.physical_id("env", "Attachment") == attachments[0]["TransitGatewayAttachmentId"]
    )
    environment_account.delete("env")
    attachments = ec2.describe_transit_gateway_vpc_attachments()["TransitGatewayVpcAttachments"]
    assert [a["State"] for a in attachments] in ([], ["deleted"])


def network_resources(cost_center: str) -> dict[str, Any]:
    tags = [{"Key": "CostCenter", "Value": cost_center}]
    resources = vpc_resources()
    resources["Vpc"]["Properties"].update(
        {"EnableDnsSupport": True, "EnableDnsHostnames": True, "Tags": tags}
    )
    resources["SubnetA"]["Properties"].update({"MapPublicIpOnLaunch": False, "Tags": tags})
    resources.update(
        {
            "Gateway": {"Type": "AWS::EC2::InternetGateway", "Properties": {"Tags": tags}},
            "GatewayAttachment": {
                "Type": "AWS::EC2::VPCGatewayAttachment",
                "Properties": {"VpcId": ref("Vpc"), "InternetGatewayId": ref("Gateway")},
            },
            "PublicRoutes": {
                "Type": "AWS::EC2::RouteTable",
                "Properties": {"VpcId": ref("Vpc"), "Tags": tags},
            },
            "DefaultRoute": {
                "Type": "AWS::EC2::Route",
                "DependsOn": "GatewayAttachment",
                "Properties": {
                    "RouteTableId": ref("PublicRoutes"),
                    "DestinationCidrBlock": "0.0.0.0/0",
                    "GatewayId": ref("Gateway"),
                },
            },
            "EndpointGroup": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "endpoints", "VpcId": ref("Vpc")},
            },
            "LogsEndpoint": {
                "Type": "AWS::EC2::VPCEndpoint",
                "Properties": {
                    "VpcId": ref("Vpc"),
                    "ServiceName": "com.amazonaws.us-east-1.logs",
                    "VpcEndpointType": "Interface",
                    "PrivateDnsEnabled": True,
                    "SubnetIds": [ref("SubnetA")],
                    "SecurityGroupIds": [ref("EndpointGroup")],
                    "Tags": tags,
                },
            },
            "FlowLogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": "/payments/vpc-flow-logs-dev-001", "RetentionInDays": 90},
            },
            "FlowLog": {
                "Type": "AWS::EC2::FlowLog",
                "Properties": {
                    "ResourceId": ref("Vpc"),
                    "ResourceType": "VPC",
                    "TrafficType": "ALL",
                    "LogDestinationType": "cloud-watch-logs",
                    "LogGroupName": ref("FlowLogGroup"),
                    "DeliverLogsPermissionArn": "arn:aws:iam::123456789012:role/flow-logs",
                    "Tags": tags,
                },
            },
        }
    )
    return resources


def test_network_tag_change_keeps_every_resource(stacks: Stacks) -> None:
    outputs = stacks.create(
        "network",
        network_resources("CC-1"),
        {
            "DefaultGroup": get_att("Vpc", "DefaultSecurityGroup"),
            "Zone": get_att("SubnetA", "AvailabilityZone"),
        },
    )
    ec2 = stacks.client("ec2")
    vpc_id = stacks.physical_id("network", "Vpc")
    assert outputs["Zone"] == "us-east-1a"
    assert ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute="enableDnsHostnames")["EnableDnsHostnames"][
        "Value"
    ]
    assert (
        outputs["DefaultGroup"]
        == ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"][0]["GroupId"]
    )
    endpoint = ec2.describe_vpc_endpoints()["VpcEndpoints"][0]
    assert (endpoint["VpcEndpointType"], endpoint["PrivateDnsEnabled"]) == ("Interface", True)
    table = ec2.describe_route_tables(RouteTableIds=[stacks.physical_id("network", "PublicRoutes")])[
        "RouteTables"
    ][0]
    assert any(r.get("GatewayId", "").startswith("igw-") for r in table["Routes"])
    assert ec2.describe_flow_logs()["FlowLogs"][0]["LogGroupName"] == "/payments/vpc-flow-logs-dev-001"

    before = {logical: stacks.physical_id("network", logical) for logical in network_resources("CC-1")}
    stacks.update("network", network_resources("CC-2"))  # what a CostCenter change does to every resource
    after = {logical: stacks.physical_id("network", logical) for logical in before}
    assert after == before
    tags = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["CostCenter"]}])["Tags"]
    assert {t["ResourceId"]: t["Value"] for t in tags} == {
        before[logical]: "CC-2"
        for logical in ("Vpc", "SubnetA", "Gateway", "PublicRoutes", "LogsEndpoint", "FlowLog")
    }

    stacks.delete("network")
    assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
    assert ec2.describe_internet_gateways()["InternetGateways"] == []
    assert [e["State"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]] == []
    assert ec2.describe_flow_logs()["FlowLogs"] == []
