"""VPCs, subnets, route tables and routes, internet gateways, VPC endpoints and flow logs.

moto models these types, but none of them can be updated: after any change (a tag included,
and payctl tags every resource) the stack loses the resource and every `Ref` to it. Several
also ignore properties (VPC DNS attributes, MapPublicIpOnLaunch) or are never deleted.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ec2 import models as moto_ec2  # defines the moto models replaced below

from .base import Properties, Provider, as_tag_map


def _ec2(resource: Provider) -> moto_ec2.EC2Backend:
    return moto_ec2.ec2_backends[resource.account_id][resource.region_name]


def _retag(resource: Provider, old: Properties) -> None:
    ec2 = _ec2(resource)
    ec2.delete_tags([resource.physical_resource_id], as_tag_map(old.get("Tags")))
    if resource.tag_map():
        ec2.create_tags([resource.physical_resource_id], resource.tag_map())


class Taggable(Provider):
    """EC2 resources whose only in-place change is their tags."""

    def update(self, old: Properties) -> None:
        _retag(self, old)


class VPC(Provider, CloudFormationModel):
    """Gap: moto's model ignores EnableDnsSupport/EnableDnsHostnames and cannot be updated."""

    TYPE = "AWS::EC2::VPC"
    REPLACE_ON = frozenset({"CidrBlock", "InstanceTenancy", "Ipv4IpamPoolId", "Ipv4NetmaskLength"})
    ATTRIBUTES = frozenset(
        {"VpcId", "CidrBlock", "DefaultNetworkAcl", "DefaultSecurityGroup", "CidrBlockAssociations"}
    )

    def create(self) -> None:
        ec2 = _ec2(self)
        vpc = ec2.create_vpc(
            self.prop("CidrBlock"), self.prop("InstanceTenancy", "default"), tags=self.tag_list()
        )
        self.physical_resource_id = vpc.id
        default_acl = next(a for a in ec2.network_acls.values() if a.default and a.vpc_id == vpc.id)
        default_group = ec2.get_default_security_group(vpc.id)
        self.attributes = {
            "VpcId": vpc.id,
            "CidrBlock": vpc.cidr_block,
            "DefaultNetworkAcl": default_acl.id,
            "DefaultSecurityGroup": default_group.id if default_group else "",
            "CidrBlockAssociations": [a["association_id"] for a in vpc.cidr_block_association_set],
        }
        self._apply_dns()

    def _apply_dns(self) -> None:
        # AWS defaults: DNS support on, DNS host names off (interface endpoints with private DNS need both).
        vpc = _ec2(self).get_vpc(self.physical_resource_id)
        vpc.enable_dns_support = bool(self.prop("EnableDnsSupport", True))
        vpc.enable_dns_hostnames = bool(self.prop("EnableDnsHostnames", False))

    def update(self, old: Properties) -> None:
        self._apply_dns()
        _retag(self, old)

    def destroy(self) -> None:
        if self.physical_resource_id in _ec2(self).vpcs:
            _ec2(self).delete_vpc(self.physical_resource_id)


class Subnet(Provider, CloudFormationModel):
    """Gap: moto's model ignores MapPublicIpOnLaunch and cannot be updated."""

    TYPE = "AWS::EC2::Subnet"
    REPLACE_ON = frozenset({"VpcId", "AvailabilityZone", "AvailabilityZoneId", "CidrBlock", "Ipv6Native"})
    ATTRIBUTES = frozenset(
        {
            "SubnetId",
            "AvailabilityZone",
            "AvailabilityZoneId",
            "CidrBlock",
            "VpcId",
            "NetworkAclAssociationId",
        }
    )

    def create(self) -> None:
        subnet = _ec2(self).create_subnet(
            self.prop("VpcId"),
            self.prop("CidrBlock"),
            availability_zone=self.prop("AvailabilityZone"),
            availability_zone_id=self.prop("AvailabilityZoneId"),
        )
        self.physical_resource_id = subnet.id
        acl = next(
            a
            for a in _ec2(self).network_acls.values()
            if any(s.subnet_id == subnet.id for s in a.associations)
        )
        self.attributes = {
            "SubnetId": subnet.id,
            "AvailabilityZone": subnet.availability_zone,
            "AvailabilityZoneId": subnet.availability_zone_id,
            "CidrBlock": subnet.cidr_block,
            "VpcId": subnet.vpc_id,
            "NetworkAclAssociationId": next(s.id for s in acl.associations if s.subnet_id == subnet.id),
        }
        self.update({})

    def update(self, old: Properties) -> None:
        _ec2(self).modify_subnet_attribute(
            self.physical_resource_id,
            "map_public_ip_on_launch",
            bool(self.prop("MapPublicIpOnLaunch", False)),
        )
        _retag(self, old)

    def destroy(self) -> None:
        ec2 = _ec2(self)
        if any(self.physical_resource_id in zone for zone in ec2.subnets.values()):
            ec2.delete_subnet(self.physical_resource_id)


class RouteTable(Taggable, CloudFormationModel):
    """Gap: moto's model cannot be updated and is never deleted."""

    TYPE = "AWS::EC2::RouteTable"
    REPLACE_ON = frozenset({"VpcId"})
    ATTRIBUTES = frozenset({"RouteTableId"})

    def create(self) -> None:
        table = _ec2(self).create_route_table(self.prop("VpcId"), tags=self.tag_list())
        self.physical_resource_id = table.id
        self.attributes = {"RouteTableId": table.id}

    def destroy(self) -> None:
        if self.physical_resource_id in _ec2(self).route_tables:
            _ec2(self).delete_route_table(self.physical_resource_id)


ROUTE_TARGETS = {
    "GatewayId": "gateway_id",
    "NatGatewayId": "nat_gateway_id",
    "TransitGatewayId": "transit_gateway_id",
    "InstanceId": "instance_id",
    "NetworkInterfaceId": "interface_id",
    "VpcPeeringConnectionId": "vpc_peering_connection_id",
    "EgressOnlyInternetGatewayId": "egress_only_igw_id",
}


class Route(Provider, CloudFormationModel):
    """Gap: moto's model cannot be updated (a new target) and is never deleted."""

    TYPE = "AWS::EC2::Route"
    REPLACE_ON = frozenset(
        {"RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"}
    )
    ATTRIBUTES = frozenset({"CidrBlock"})

    def _target(self) -> dict[str, Any]:
        return {api: self.prop(key) for key, api in ROUTE_TARGETS.items() if self.prop(key)}

    def create(self) -> None:
        _ec2(self).create_route(
            self.prop("RouteTableId"),
            self.prop("DestinationCidrBlock"),
            destination_ipv6_cidr_block=self.prop("DestinationIpv6CidrBlock"),
            destination_prefix_list_id=self.prop("DestinationPrefixListId"),
            **self._target(),
        )
        destination = self.prop("DestinationCidrBlock") or self.prop("DestinationIpv6CidrBlock")
        self.physical_resource_id = f"{self.prop('RouteTableId')}|{destination}"
        self.attributes = {"CidrBlock": destination}

    def update(self, old: Properties) -> None:
        _ec2(self).replace_route(
            self.prop("RouteTableId"),
            self.prop("DestinationCidrBlock"),
            destination_ipv6_cidr_block=self.prop("DestinationIpv6CidrBlock"),
            **self._target(),
        )

    def destroy(self) -> None:
        ec2, table_id = _ec2(self), self.prop("RouteTableId")
        table = ec2.route_tables.get(table_id)
        destination = self.prop("DestinationCidrBlock") or self.prop("DestinationIpv6CidrBlock")
        if table is not None and any(destination in route_id for route_id in table._routes):
            ec2.delete_route(
                table_id,
                self.prop("DestinationCidrBlock"),
                destination_ipv6_cidr_block=self.prop("DestinationIpv6CidrBlock"),
            )


class InternetGateway(Taggable, CloudFormationModel):
    """Gap: moto's model cannot be updated and is never deleted."""

    TYPE = "AWS::EC2::InternetGateway"
    ATTRIBUTES = frozenset({"InternetGatewayId"})

    def create(self) -> None:
        gateway = _ec2(self).create_internet_gateway(tags=self.tag_list())
        self.physical_resource_id = gateway.id
        self.attributes = {"InternetGatewayId": gateway.id}

    def destroy(self) -> None:
        if self.physical_resource_id in _ec2(self).internet_gateways:
            _ec2(self).delete_internet_gateway(self.physical_resource_id)


class VPCGatewayAttachment(Provider, CloudFormationModel):
    """Gap: moto's model cannot be updated and never detaches the gateway."""

    TYPE = "AWS::EC2::VPCGatewayAttachment"
    REPLACE_ON = frozenset({"VpcId", "InternetGatewayId", "VpnGatewayId"})
    ATTRIBUTES = frozenset({"AttachmentType"})

    def create(self) -> None:
        ec2, vpc_id = _ec2(self), self.prop("VpcId")
        if self.prop("InternetGatewayId"):
            ec2.attach_internet_gateway(self.prop("InternetGatewayId"), vpc_id)
            kind = "igw"
        else:
            ec2.attach_vpn_gateway(self.prop("VpnGatewayId"), vpc_id)
            kind = "vpngw"
        self.physical_resource_id = f"{kind}|{vpc_id}"
        self.attributes = {"AttachmentType": kind}

    def destroy(self) -> None:
        ec2, vpc_id = _ec2(self), self.prop("VpcId")
        gateway_id = self.prop("InternetGatewayId")
        if gateway_id:
            gateway = ec2.internet_gateways.get(gateway_id)
            if gateway is not None and gateway.vpc is not None:
                ec2.detach_internet_gateway(gateway_id, vpc_id)
        elif self.prop("VpnGatewayId") in ec2.vpn_gateways:
            ec2.detach_vpn_gateway(self.prop("VpnGatewayId"), vpc_id)


def _document(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value)


class VPCEndpoint(Provider, CloudFormationModel):
    """Gap: moto's model cannot be updated and is never deleted."""

    TYPE = "AWS::EC2::VPCEndpoint"
    REPLACE_ON = frozenset({"ServiceName", "VpcEndpointType", "VpcId"})
    ATTRIBUTES = frozenset({"Id", "DnsEntries", "NetworkInterfaceIds", "CreationTimestamp"})

    def create(self) -> None:
        endpoint = _ec2(self).create_vpc_endpoint(
            vpc_id=self.prop("VpcId"),
            service_name=self.prop("ServiceName"),
            endpoint_type=self.prop("VpcEndpointType", "Gateway"),
            policy_document=_document(self.prop("PolicyDocument")),
            route_table_ids=self.prop("RouteTableIds") or [],
            subnet_ids=self.prop("SubnetIds") or [],
            security_group_ids=self.prop("SecurityGroupIds") or [],
            tags=self.tag_map(),
            private_dns_enabled=bool(self.prop("PrivateDnsEnabled", False)),
        )
        self.physical_resource_id = endpoint.id
        self.attributes = {
            "Id": endpoint.id,
            "DnsEntries": [f"{e['hosted_zone_id']}:{e['dns_name']}" for e in endpoint.dns_entries or []],
            "NetworkInterfaceIds": endpoint.network_interface_ids,
            "CreationTimestamp": endpoint.creation_timestamp.isoformat(),
        }

    def update(self, old: Properties) -> None:
        def delta(key: str) -> tuple[list[str], list[str]]:
            before, after = set(old.get(key) or []), set(self.prop(key) or [])
            return sorted(after - before), sorted(before - after)

        (add_subnets, remove_subnets), (add_tables, remove_tables) = (
            delta("SubnetIds"),
            delta("RouteTableIds"),
        )
        add_groups, remove_groups = delta("SecurityGroupIds")
        _ec2(self).modify_vpc_endpoint(
            self.physical_resource_id,
            _document(self.prop("PolicyDocument")) or "",
            add_subnets,
            remove_subnets,
            remove_tables,
            add_tables,
            add_groups,
            remove_groups,
        )
        endpoint = _ec2(self).vpc_end_points[self.physical_resource_id]
        endpoint.private_dns_enabled = bool(self.prop("PrivateDnsEnabled", False))
        _retag(self, old)

    def destroy(self) -> None:
        ec2 = _ec2(self)
        if self.physical_resource_id in ec2.vpc_end_points:
            ec2.delete_vpc_endpoints([self.physical_resource_id])
            del ec2.vpc_end_points[self.physical_resource_id]


class FlowLog(Taggable, CloudFormationModel):
    """Gap: moto's model cannot be updated (tags) and is never deleted."""

    TYPE = "AWS::EC2::FlowLog"
    REPLACE_ON = frozenset(
        {"DeliverCrossAccountRole", "DeliverLogsPermissionArn", "LogGroupName", "LogDestination",
         "ResourceId", "TrafficType", "LogDestinationType", "ResourceType", "LogFormat",
         "MaxAggregationInterval", "DestinationOptions"}
    )  # fmt: skip
    ATTRIBUTES = frozenset({"Id"})

    def create(self) -> None:
        logs, errors = _ec2(self).create_flow_logs(
            resource_type=self.prop("ResourceType"),
            resource_ids=[self.prop("ResourceId")],
            traffic_type=self.prop("TrafficType"),
            deliver_logs_permission_arn=self.prop("DeliverLogsPermissionArn"),
            log_destination_type=self.prop("LogDestinationType", "cloud-watch-logs"),
            log_destination=self.prop("LogDestination"),
            log_group_name=self.prop("LogGroupName"),
            log_format=self.prop("LogFormat"),
            max_aggregation_interval=int(self.prop("MaxAggregationInterval", 600)),
        )
        if errors:
            raise ValueError(errors[0][2])  # (resource id, code, message)
        self.physical_resource_id = logs[0].id
        self.attributes = {"Id": logs[0].id}
        if self.tag_map():
            _ec2(self).create_tags([logs[0].id], self.tag_map())

    def destroy(self) -> None:
        if self.physical_resource_id in _ec2(self).flow_logs:
            _ec2(self).delete_flow_logs([self.physical_resource_id])
