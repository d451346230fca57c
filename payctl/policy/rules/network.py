"""Network: security groups open to the internet only where the ALB listens, the database reachable
only from the service and Lambda groups, CIDRs as the environment file says."""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from payctl.policy.effective import EffectiveTemplate, Unresolved, text
from payctl.policy.model import Context, GroupKey, Rule, Violation, as_list, props

OPEN_CIDRS = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class Ingress:
    resource: str  # logical id of the group (inline rule) or of the ingress resource
    path: tuple[str | int, ...]
    groups: tuple[GroupKey, ...]  # the group(s) the rule belongs to
    rule: dict[str, Any]


def ingress_rules(template: EffectiveTemplate, context: Context) -> Iterator[Ingress]:
    for logical_id, group in template.of_type("AWS::EC2::SecurityGroup").items():
        for index, rule in enumerate(as_list(props(group).get("SecurityGroupIngress"))):
            if isinstance(rule, dict):
                yield Ingress(
                    logical_id,
                    ("Properties", "SecurityGroupIngress", index),
                    ((template.name, logical_id),),
                    rule,
                )
    for logical_id, resource in template.of_type("AWS::EC2::SecurityGroupIngress").items():
        rule = props(resource)
        yield Ingress(logical_id, ("Properties",), tuple(context.groups(template, rule.get("GroupId"))), rule)


def internet_facing_alb_groups(context: Context) -> set[GroupKey]:
    if "alb-groups" not in context.memo:
        found: set[GroupKey] = set()
        for template, _, balancer in context.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"):
            p = props(balancer)
            if (
                text(p.get("Type", "application")) == "application"
                and text(p.get("Scheme", "internet-facing")) == "internet-facing"
            ):
                found.update(context.groups(template, p.get("SecurityGroups")))
        context.memo["alb-groups"] = found
    return set(context.memo["alb-groups"])


class OpenIngress(Rule):
    id = "PAY016"
    title = "No ingress from the internet except HTTPS to the internet-facing ALB"
    description = (
        "No security group admits 0.0.0.0/0 or ::/0, except the groups of internet-facing "
        "Application Load Balancers on TCP 443 alone."
    )
    hint = "Admit a security group or the VPC CIDR instead; only the ALB group takes 443 from the internet."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        alb_groups = internet_facing_alb_groups(context)
        for ingress in ingress_rules(template, context):
            rule = ingress.rule
            sources = {text(rule.get("CidrIp", "")), text(rule.get("CidrIpv6", ""))} & set(OPEN_CIDRS)
            if not sources:
                continue
            https_only = (
                text(rule.get("IpProtocol")) in ("tcp", "6")
                and text(rule.get("FromPort")) == text(rule.get("ToPort")) == "443"
            )
            if https_only and set(ingress.groups) & alb_groups:
                continue
            where = (
                "an internet-facing ALB group"
                if set(ingress.groups) & alb_groups
                else "a group that no internet-facing ALB uses"
            )
            yield Violation(
                ingress.resource,
                ingress.path,
                f"admits {', '.join(sorted(sources))} on {text(rule.get('IpProtocol'))} "
                f"{text(rule.get('FromPort'))}-{text(rule.get('ToPort'))} in {where}",
            )


def database_groups(context: Context) -> tuple[set[GroupKey], set[GroupKey]]:
    """(groups of Aurora clusters and instances, groups of ECS services and Lambda functions)."""
    if "database-groups" not in context.memo:
        databases: set[GroupKey] = set()
        callers: set[GroupKey] = set()
        for template, _, resource in context.resources("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"):
            databases.update(context.groups(template, props(resource).get("VpcSecurityGroupIds")))
        for template, _, service in context.resources("AWS::ECS::Service"):
            network = (props(service).get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}
            callers.update(context.groups(template, network.get("SecurityGroups")))
        for template, _, function in context.resources("AWS::Lambda::Function"):
            callers.update(
                context.groups(template, (props(function).get("VpcConfig") or {}).get("SecurityGroupIds"))
            )
        context.memo["database-groups"] = (databases, callers)
    databases, callers = context.memo["database-groups"]
    return set(databases), set(callers)


class DatabaseReachability(Rule):
    id = "PAY017"
    title = "The database is reachable only from the service and Lambda groups"
    description = (
        "Every ingress rule of a security group attached to an Aurora cluster or instance "
        "names a source security group used by an ECS service or a Lambda function; no CIDR "
        "or prefix-list sources."
    )
    hint = "Admit 5432 from the service or Lambda security group (SourceSecurityGroupId) only."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        databases, callers = database_groups(context)
        for ingress in ingress_rules(template, context):
            if not set(ingress.groups) & databases:
                continue
            rule = ingress.rule
            cidrs = [text(rule[key]) for key in ("CidrIp", "CidrIpv6", "SourcePrefixListId") if key in rule]
            if cidrs:
                yield Violation(ingress.resource, ingress.path, f"database group admits {', '.join(cidrs)}")
                continue
            source = rule.get("SourceSecurityGroupId")
            if source is None:
                yield Violation(
                    ingress.resource, ingress.path, "database group admits a rule without a source group"
                )
                continue
            sources = context.groups(template, source)
            if not sources or not set(sources) <= callers:
                named = ", ".join(f"{t}:{g}" for t, g in sources) or text(source)
                yield Violation(
                    ingress.resource,
                    ingress.path,
                    f"database group admits {named}, which no ECS service or Lambda function uses",
                )


class NetworkCidrs(Rule):
    id = "PAY019"
    title = "Network CIDRs match the environment file"
    description = (
        "Each VPC's CidrBlock is the environment file's network.vpcCidr for its region; "
        "subnets lie inside their VPC without overlapping; Transit Gateway routes use "
        "network.transitGatewayRouteCidr."
    )
    hint = "Take CIDRs from parameters (VpcCidr, TransitGatewayRouteCidr) and carve subnets with !Cidr."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        env = context.environment
        expected = env.vpc_cidr("dr" if template.role == "dr" else "primary")
        vpcs: dict[str, Any] = {}  # logical id -> network (None when not a CIDR)
        for logical_id, vpc_resource in template.of_type("AWS::EC2::VPC").items():
            block = text(props(vpc_resource).get("CidrBlock"))
            vpcs[logical_id] = _network(block)
            if block != expected:
                yield Violation(
                    logical_id,
                    ("Properties", "CidrBlock"),
                    f"CidrBlock {block} is not network.vpcCidr.{template.role or 'primary'} {expected}",
                )
        subnets: dict[str, Any] = {}
        for logical_id, subnet in template.of_type("AWS::EC2::Subnet").items():
            p = props(subnet)
            network = _network(text(p.get("CidrBlock")))
            vpc_ref = getattr(p.get("VpcId"), "ref", None)
            vpc = vpcs.get(str(vpc_ref)) if vpc_ref else None
            if network is None:
                if not isinstance(p.get("CidrBlock"), Unresolved):
                    yield Violation(
                        logical_id, ("Properties", "CidrBlock"), f"{text(p.get('CidrBlock'))!r} is not a CIDR"
                    )
                continue
            subnets[logical_id] = network
            if vpc is not None and (network.version != vpc.version or not network.subnet_of(vpc)):
                yield Violation(
                    logical_id, ("Properties", "CidrBlock"), f"{network} lies outside the VPC's {vpc}"
                )
        for (first, a), (second, b) in itertools.combinations(sorted(subnets.items()), 2):
            if a.version == b.version and a.overlaps(b):
                yield Violation(second, ("Properties", "CidrBlock"), f"{b} overlaps {first} ({a})")
        route_cidr = env.network.transit_gateway_route_cidr
        for logical_id, route in template.of_type("AWS::EC2::Route").items():
            p = props(route)
            if "TransitGatewayId" in p and text(p.get("DestinationCidrBlock")) != route_cidr:
                yield Violation(
                    logical_id,
                    ("Properties", "DestinationCidrBlock"),
                    f"Transit Gateway route to {text(p.get('DestinationCidrBlock'))}, not "
                    f"network.transitGatewayRouteCidr {route_cidr}",
                )


def _network(block: str) -> Any:
    try:
        return ipaddress.ip_network(block, strict=True)
    except ValueError:
        return None
