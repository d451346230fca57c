"""VPC plumbing: security groups and their rules, network ACLs, route table and ACL
associations, Transit Gateway and its VPC attachments."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ec2 import models as moto_ec2  # defines the moto models replaced below
from moto.ec2.exceptions import InvalidSecurityGroupNotFoundError

from .base import Properties, Provider, as_tag_map


def _ec2(resource: Provider) -> moto_ec2.EC2Backend:
    return moto_ec2.ec2_backends[resource.account_id][resource.region_name]


def _rule_arguments(rule: Properties, egress: bool) -> dict[str, Any]:
    """A CloudFormation security group rule as moto's authorize/revoke arguments."""
    described = {"Description": rule["Description"]} if rule.get("Description") else {}
    ip_ranges = [{"CidrIp": rule["CidrIp"], **described}] if rule.get("CidrIp") else []
    ip_ranges += [{"CidrIpv6": rule["CidrIpv6"], **described}] if rule.get("CidrIpv6") else []
    peer = rule.get("DestinationSecurityGroupId" if egress else "SourceSecurityGroupId")
    prefix_list = rule.get("DestinationPrefixListId" if egress else "SourcePrefixListId")
    return {
        "ip_protocol": str(rule["IpProtocol"]),
        "from_port": rule.get("FromPort"),
        "to_port": rule.get("ToPort"),
        "ip_ranges": ip_ranges,
        "source_groups": [{"GroupId": peer, **described}] if peer else [],
        "prefix_list_ids": [{"PrefixListId": prefix_list, **described}] if prefix_list else [],
    }


def _authorize(ec2: moto_ec2.EC2Backend, group_id: str, rule: Properties, egress: bool) -> list[str]:
    authorize = ec2.authorize_security_group_egress if egress else ec2.authorize_security_group_ingress
    rules, _ = authorize(group_id, **_rule_arguments(rule, egress))
    return [r.id for r in rules]


def _revoke(ec2: moto_ec2.EC2Backend, group_id: str, rule_ids: list[str], egress: bool) -> None:
    revoke = ec2.revoke_security_group_egress if egress else ec2.revoke_security_group_ingress
    with contextlib.suppress(InvalidSecurityGroupNotFoundError):  # the group went, and its rules with it
        revoke(group_id, ip_protocol="", from_port="", to_port="", ip_ranges=[], security_rule_ids=rule_ids)


def _retag(resource: Provider, old: Properties) -> None:
    """Replace the tags the template set (other tags, e.g. added by hand, stay)."""
    ec2 = _ec2(resource)
    ec2.delete_tags([resource.physical_resource_id], as_tag_map(old.get("Tags")))
    ec2.create_tags([resource.physical_resource_id], resource.tag_map())


def _key(rule: Properties) -> str:
    return json.dumps(rule, sort_keys=True)


ALLOW_ALL_EGRESS = {"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}


class SecurityGroup(Provider, CloudFormationModel):
    """Gap: moto passes inline ingress CIDRs in the wrong shape, ignores SecurityGroupEgress
    (so the default allow-all egress stays) and replaces the group on every update."""

    TYPE = "AWS::EC2::SecurityGroup"
    NAME_PROPERTY = "GroupName"
    REPLACE_ON = frozenset({"GroupDescription", "VpcId"})
    ATTRIBUTES = frozenset({"GroupId", "VpcId"})

    def create(self) -> None:
        group = _ec2(self).create_security_group(
            self.name, self.prop("GroupDescription"), self.prop("VpcId"), tags=self.tag_map()
        )
        self.physical_resource_id = group.id
        self.attributes = {"GroupId": group.id, "VpcId": group.vpc_id}
        # The default allow-all egress rule, as ids, so it can go when egress rules are given.
        self.rule_ids: dict[tuple[bool, str], list[str]] = {
            (True, _key(ALLOW_ALL_EGRESS)): [r.id for r in group.egress_rules]
        }
        self._sync_rules({"SecurityGroupEgress": [ALLOW_ALL_EGRESS]})

    def _rules(self, properties: Properties) -> set[tuple[bool, str]]:
        egress = properties.get("SecurityGroupEgress") or [ALLOW_ALL_EGRESS]
        return {(False, _key(r)) for r in properties.get("SecurityGroupIngress") or []} | {
            (True, _key(r)) for r in egress
        }

    def _sync_rules(self, old: Properties) -> None:
        ec2 = _ec2(self)
        wanted, present = self._rules(self.properties), self._rules(old)
        for egress, key in present - wanted:
            _revoke(ec2, self.physical_resource_id, self.rule_ids.pop((egress, key)), egress)
        for egress, key in sorted(wanted - present):
            self.rule_ids[(egress, key)] = _authorize(ec2, self.physical_resource_id, json.loads(key), egress)

    def update(self, old: Properties) -> None:
        self._sync_rules(old)
        _retag(self, old)

    def destroy(self) -> None:
        if _ec2(self).get_security_group_from_id(self.physical_resource_id) is not None:
            _ec2(self).delete_security_group(group_id=self.physical_resource_id)


class SecurityGroupIngress(Provider, CloudFormationModel):
    """Gap: moto's model has no physical id (`Ref` yields a Python object) and is never revoked."""

    TYPE = "AWS::EC2::SecurityGroupIngress"
    EGRESS = False
    REPLACE_ON = frozenset(
        {"GroupId", "GroupName", "IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6",
         "SourceSecurityGroupId", "SourceSecurityGroupName", "SourcePrefixListId",
         "DestinationSecurityGroupId", "DestinationPrefixListId"}
    )  # fmt: skip
    ATTRIBUTES = frozenset({"Id"})

    def create(self) -> None:
        self.group_id: str = (
            self.prop("GroupId")
            or _ec2(self).describe_security_groups(groupnames=[self.prop("GroupName")])[0].id
        )
        rule_ids = _authorize(_ec2(self), self.group_id, self.properties, self.EGRESS)
        self.physical_resource_id = rule_ids[0]
        self.attributes = {"Id": rule_ids[0]}

    def update(self, old: Properties) -> None:
        pass  # only Description can change in place; moto keeps descriptions on the CIDR entry

    def destroy(self) -> None:
        _revoke(_ec2(self), self.group_id, [self.physical_resource_id], self.EGRESS)


class SecurityGroupEgress(SecurityGroupIngress, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::EC2::SecurityGroupEgress."""

    TYPE = "AWS::EC2::SecurityGroupEgress"
    EGRESS = True


class NetworkAcl(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::EC2::NetworkAcl."""

    TYPE = "AWS::EC2::NetworkAcl"
    REPLACE_ON = frozenset({"VpcId"})
    ATTRIBUTES = frozenset({"Id"})

    def create(self) -> None:
        acl = _ec2(self).create_network_acl(self.prop("VpcId"), tags=self.tag_list())
        self.physical_resource_id = acl.id
        self.attributes = {"Id": acl.id}

    def update(self, old: Properties) -> None:
        _retag(self, old)

    def destroy(self) -> None:
        if self.physical_resource_id in _ec2(self).network_acls:
            _ec2(self).delete_network_acl(self.physical_resource_id)


class NetworkAclEntry(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::EC2::NetworkAclEntry."""

    TYPE = "AWS::EC2::NetworkAclEntry"
    REPLACE_ON = frozenset({"Egress", "RuleNumber", "NetworkAclId"})
    ATTRIBUTES = frozenset({"Id"})

    def _arguments(self) -> dict[str, Any]:
        ports, icmp = self.prop("PortRange") or {}, self.prop("Icmp") or {}
        return {
            "network_acl_id": self.prop("NetworkAclId"),
            "rule_number": int(self.prop("RuleNumber")),
            "protocol": str(self.prop("Protocol")),
            "rule_action": self.prop("RuleAction"),
            "egress": bool(self.prop("Egress", False)),
            "cidr_block": self.prop("CidrBlock"),
            "icmp_code": icmp.get("Code"),
            "icmp_type": icmp.get("Type"),
            "port_range_from": ports.get("From"),
            "port_range_to": ports.get("To"),
            "ipv6_cidr_block": self.prop("Ipv6CidrBlock"),
        }

    def create(self) -> None:
        _ec2(self).create_network_acl_entry(**self._arguments())
        args = self._arguments()
        self.physical_resource_id = (
            f"{args['network_acl_id']}|{args['rule_number']}|{str(args['egress']).lower()}"
        )
        self.attributes = {"Id": self.physical_resource_id}

    def update(self, old: Properties) -> None:
        _ec2(self).replace_network_acl_entry(**self._arguments())

    def destroy(self) -> None:
        args = self._arguments()
        if args["network_acl_id"] in _ec2(self).network_acls:
            _ec2(self).delete_network_acl_entry(args["network_acl_id"], args["rule_number"], args["egress"])


def _acl_association_of(ec2: moto_ec2.EC2Backend, subnet_id: str) -> str:
    for acl in ec2.network_acls.values():
        for association_id, association in acl._associations.items():
            if association.subnet_id == subnet_id:
                return str(association_id)
    raise KeyError(f"subnet {subnet_id} has no network ACL association")


class SubnetNetworkAclAssociation(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::EC2::SubnetNetworkAclAssociation."""

    TYPE = "AWS::EC2::SubnetNetworkAclAssociation"
    REPLACE_ON = frozenset({"SubnetId", "NetworkAclId"})
    ATTRIBUTES = frozenset({"AssociationId"})

    def create(self) -> None:
        ec2 = _ec2(self)
        current = _acl_association_of(ec2, self.prop("SubnetId"))
        association = ec2.replace_network_acl_association(current, self.prop("NetworkAclId"))
        self.physical_resource_id = association.id
        self.attributes = {"AssociationId": association.id}

    def destroy(self) -> None:
        # As in EC2, a subnet always has an ACL: it falls back to its VPC's default ACL.
        ec2 = _ec2(self)
        acl = next(
            (a for a in ec2.network_acls.values() if self.physical_resource_id in a._associations), None
        )
        if acl is None:
            return
        default = next((a for a in ec2.network_acls.values() if a.default and a.vpc_id == acl.vpc_id), None)
        if default is None:
            del acl._associations[self.physical_resource_id]
        else:
            ec2.replace_network_acl_association(self.physical_resource_id, default.id)


class SubnetRouteTableAssociation(Provider, CloudFormationModel):
    """Gap: moto records the association outside the route table (describe_route_tables does
    not show it), uses the route table id as physical id and never disassociates."""

    TYPE = "AWS::EC2::SubnetRouteTableAssociation"
    REPLACE_ON = frozenset({"SubnetId", "RouteTableId"})
    ATTRIBUTES = frozenset({"Id"})

    def create(self) -> None:
        association_id = _ec2(self).associate_route_table(
            self.prop("RouteTableId"), subnet_id=self.prop("SubnetId")
        )
        self.physical_resource_id = association_id
        self.attributes = {"Id": association_id}

    def destroy(self) -> None:
        ec2 = _ec2(self)
        if any(self.physical_resource_id in t._associations for t in ec2.route_tables.values()):
            ec2.disassociate_route_table(self.physical_resource_id)


class TransitGateway(Provider, CloudFormationModel):
    """Gap: moto's model fails without a Description, has no TransitGatewayArn attribute and
    cannot be updated or deleted."""

    TYPE = "AWS::EC2::TransitGateway"
    REPLACE_ON = frozenset({"AmazonSideAsn", "MulticastSupport"})
    ATTRIBUTES = frozenset({"Id", "TransitGatewayArn"})

    def _options(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.properties.items() if k not in ("Description", "Tags")}

    def create(self) -> None:
        gateway = _ec2(self).create_transit_gateway(
            self.prop("Description"), self._options(), self.tag_list()
        )
        self.physical_resource_id = gateway.id
        self.attributes = {"Id": gateway.id, "TransitGatewayArn": gateway.arn}

    def update(self, old: Properties) -> None:
        gateway = _ec2(self).modify_transit_gateway(
            self.physical_resource_id, self.prop("Description"), self._options()
        )
        gateway.description = self.prop("Description")

    def destroy(self) -> None:
        if self.physical_resource_id in _ec2(self).transit_gateways:
            _ec2(self).delete_transit_gateway(self.physical_resource_id)


class TransitGatewayAttachment(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::EC2::TransitGatewayAttachment."""

    TYPE = "AWS::EC2::TransitGatewayAttachment"
    REPLACE_ON = frozenset({"TransitGatewayId", "VpcId"})
    ATTRIBUTES = frozenset({"Id"})

    def create(self) -> None:
        ec2, gateway_id = _ec2(self), self.prop("TransitGatewayId")
        if gateway_id not in ec2.transit_gateways:
            self._see_shared_gateway(ec2, gateway_id)
        attachment = ec2.create_transit_gateway_vpc_attachment(
            gateway_id, self.prop("VpcId"), self.prop("SubnetIds"), self.tag_map(), self.prop("Options")
        )
        self.physical_resource_id = attachment.id
        self.attributes = {"Id": attachment.id}

    def _see_shared_gateway(self, ec2: moto_ec2.EC2Backend, gateway_id: str) -> None:
        """A gateway of another account (shared through RAM) is visible to this account in
        AWS; moto keeps it in the owner's backend only, so show it here too."""
        for account_id, regions in moto_ec2.ec2_backends.items():
            owner = regions.get(self.region_name) if account_id != self.account_id else None
            if owner is not None and gateway_id in owner.transit_gateways:
                gateway = owner.transit_gateways[gateway_id]
                ec2.transit_gateways[gateway_id] = gateway
                route_table = gateway.default_route_table
                ec2.transit_gateways_route_tables[route_table.id] = route_table
                return

    def update(self, old: Properties) -> None:
        before, after = set(old.get("SubnetIds") or []), set(self.prop("SubnetIds") or [])
        _ec2(self).modify_transit_gateway_vpc_attachment(
            self.physical_resource_id, list(after - before), self.prop("Options"), list(before - after)
        )

    def destroy(self) -> None:
        if self.physical_resource_id in _ec2(self).transit_gateway_attachments:
            _ec2(self).delete_transit_gateway_vpc_attachment(self.physical_resource_id)
