"""Network conventions as small checks over a template in long form (``Fn::``/``Ref`` dicts,
as ``cfn_flip.load_yaml`` returns it).

Each ``check_*`` returns a list of problems (empty when the template complies), so the tests
and a later policy gate can share them.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Template = Mapping[str, Any]

OPEN_CIDRS = {"0.0.0.0/0", "::/0"}
EPHEMERAL = (1024, 65535)


def resources(template: Template, *types: str) -> dict[str, Mapping[str, Any]]:
    """Resources of the given types (all when none are given), by logical id."""
    return {
        name: resource
        for name, resource in (template.get("Resources") or {}).items()
        if not types or resource.get("Type") in types
    }


def props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


def tag(resource: Mapping[str, Any], key: str) -> Any:
    for item in props(resource).get("Tags") or []:
        if item.get("Key") == key:
            return item.get("Value")
    return None


def ref(value: Any) -> str | None:
    """The logical id a ``{"Ref": id}`` points at, else None."""
    if isinstance(value, Mapping) and set(value) == {"Ref"}:
        return str(value["Ref"])
    return None


# --- subnets --------------------------------------------------------------------------------
def subnets_by_tier(template: Template) -> dict[str, list[str]]:
    """Subnet logical ids grouped by their ``Tier`` tag."""
    tiers: dict[str, list[str]] = {}
    for name, subnet in resources(template, "AWS::EC2::Subnet").items():
        tiers.setdefault(str(tag(subnet, "Tier")), []).append(name)
    return tiers


def az_index(subnet: Mapping[str, Any]) -> int | None:
    """i when the subnet's zone is ``!Select [i, !GetAZs ""]`` (this region's zones), else None."""
    zone = props(subnet).get("AvailabilityZone")
    if not (isinstance(zone, Mapping) and "Fn::Select" in zone):
        return None
    index, zones = zone["Fn::Select"]
    if not (isinstance(zones, Mapping) and "Fn::GetAZs" in zones):
        return None
    if zones["Fn::GetAZs"] not in ("", {"Ref": "AWS::Region"}):
        return None
    return int(index)


def check_vpc_cidr_from_parameter(template: Template) -> list[str]:
    vpcs = resources(template, "AWS::EC2::VPC")
    problems = [f"{name}: CidrBlock is not !Ref VpcCidr" for name, vpc in vpcs.items()
                if ref(props(vpc).get("CidrBlock")) != "VpcCidr"]
    problems += [f"{name}: DNS support and hostnames must both be on (private DNS of endpoints)"
                 for name, vpc in vpcs.items()
                 if not (props(vpc).get("EnableDnsSupport") is True
                         and props(vpc).get("EnableDnsHostnames") is True)]
    return problems or ([] if vpcs else ["no AWS::EC2::VPC"])


def check_subnets_span_azs(template: Template, tiers: Iterable[str], zones: int = 3) -> list[str]:
    """Each tier has `zones` subnets in distinct ``!Select`` indexes of ``!GetAZs``."""
    problems = []
    by_tier = subnets_by_tier(template)
    for tier in tiers:
        names = by_tier.get(tier, [])
        indexes = [az_index(resources(template)[name]) for name in names]
        if None in indexes:
            problems.append(f"{tier}: AvailabilityZone not taken from !GetAZs in {sorted(names)}")
        if len(names) != zones or sorted(i for i in indexes if i is not None) != list(range(zones)):
            problems.append(f"{tier}: expected {zones} subnets in zones 0..{zones - 1}, got {indexes}")
    return problems


def _evaluate_cidr(value: Any, vpc_cidr: str) -> ipaddress.IPv4Network:
    """Evaluates ``!Select [i, !Cidr [!Ref VpcCidr, count, bits]]`` the way CloudFormation does."""
    if isinstance(value, str):
        return ipaddress.IPv4Network(value)
    index, cidr = value["Fn::Select"]
    block, count, bits = cidr["Fn::Cidr"]
    if ref(block) not in ("VpcCidr",) and block != {"Fn::GetAtt": ["Vpc", "CidrBlock"]}:
        raise ValueError(f"Fn::Cidr over {block!r}, not the VPC CIDR")
    network = ipaddress.IPv4Network(vpc_cidr)
    blocks = list(itertools.islice(network.subnets(new_prefix=32 - int(bits)), int(count)))
    if len(blocks) < int(count):
        raise ValueError(f"{vpc_cidr} cannot hold {count} blocks of /{32 - int(bits)}")
    return blocks[int(index)]


def subnet_cidrs(template: Template, vpc_cidr: str) -> dict[str, ipaddress.IPv4Network]:
    """The CIDR each subnet gets for a given VpcCidr."""
    return {name: _evaluate_cidr(props(subnet)["CidrBlock"], vpc_cidr)
            for name, subnet in resources(template, "AWS::EC2::Subnet").items()}


def check_subnet_cidrs(template: Template, vpc_cidr: str) -> list[str]:
    """Subnets lie inside the VPC and do not overlap, for this VpcCidr."""
    try:
        cidrs = subnet_cidrs(template, vpc_cidr)
    except (ValueError, KeyError, TypeError) as error:
        return [f"subnet CIDRs cannot be evaluated for {vpc_cidr}: {error}"]
    vpc = ipaddress.IPv4Network(vpc_cidr)
    problems = [f"{name}: {cidr} outside {vpc}" for name, cidr in cidrs.items() if not cidr.subnet_of(vpc)]
    for (a, ca), (b, cb) in itertools.combinations(sorted(cidrs.items()), 2):
        if ca.overlaps(cb):
            problems.append(f"{a} ({ca}) overlaps {b} ({cb})")
    return problems


# --- security groups ------------------------------------------------------------------------
@dataclass(frozen=True)
class SgRule:
    resource: str  # logical id of the rule's resource (the group for inline rules)
    group: str  # logical id of the group the rule belongs to
    direction: str  # ingress | egress
    protocol: str
    ports: tuple[Any, Any]
    cidr: str | None
    peer_group: str | None
    description: Any


def _rule(resource: str, group: str, direction: str, rule: Mapping[str, Any]) -> SgRule:
    peer = rule.get("SourceSecurityGroupId") or rule.get("DestinationSecurityGroupId")
    return SgRule(
        resource=resource,
        group=group,
        direction=direction,
        protocol=str(rule.get("IpProtocol")),
        ports=(rule.get("FromPort"), rule.get("ToPort")),
        cidr=rule.get("CidrIp") or rule.get("CidrIpv6"),
        peer_group=ref(peer) if peer is not None else None,
        description=rule.get("Description"),
    )


def security_group_rules(template: Template) -> list[SgRule]:
    """Inline and standalone security-group rules, both directions."""
    rules: list[SgRule] = []
    for name, group in resources(template, "AWS::EC2::SecurityGroup").items():
        for direction, key in (("ingress", "SecurityGroupIngress"), ("egress", "SecurityGroupEgress")):
            rules += [_rule(name, name, direction, rule) for rule in props(group).get(key) or []]
    for type_, direction in (("AWS::EC2::SecurityGroupIngress", "ingress"),
                             ("AWS::EC2::SecurityGroupEgress", "egress")):
        for name, resource in resources(template, type_).items():
            owner = ref(props(resource).get("GroupId")) or str(props(resource).get("GroupId"))
            rules.append(_rule(name, owner, direction, props(resource)))
    return rules


def check_open_ingress(template: Template, allowed: Iterable[tuple[str, int]]) -> list[str]:
    """Ingress from 0.0.0.0/0 or ::/0 only on the allowed (group, single port) pairs."""
    permitted = set(allowed)
    return [
        f"{rule.resource}: {rule.group} admits {rule.cidr} on {rule.protocol} {rule.ports}"
        for rule in security_group_rules(template)
        if rule.direction == "ingress" and rule.cidr in OPEN_CIDRS
        and not (rule.protocol == "tcp" and rule.ports[0] == rule.ports[1]
                 and (rule.group, rule.ports[0]) in permitted)
    ]


def check_rule_descriptions(template: Template) -> list[str]:
    return [f"{rule.resource}: {rule.direction} rule {rule.ports} of {rule.group} has no Description"
            for rule in security_group_rules(template) if not rule.description]


def check_no_default_egress(template: Template) -> list[str]:
    """Every group states its egress; CloudFormation leaves allow-all egress otherwise."""
    return [f"{name}: no SecurityGroupEgress, so AWS's allow-all egress stays"
            for name, group in resources(template, "AWS::EC2::SecurityGroup").items()
            if not props(group).get("SecurityGroupEgress")]


def ingress_sources(template: Template, group: str) -> set[tuple[Any, str | None]]:
    """(port, source group or CIDR) pairs a group admits; a ``!Ref`` port as ``(("Ref", name),)``."""
    return {(_key(rule.ports[0]), rule.peer_group or rule.cidr) for rule in security_group_rules(template)
            if rule.direction == "ingress" and rule.group == group}


# --- network ACLs ---------------------------------------------------------------------------
def nacl_of_subnets(template: Template) -> dict[str, list[str]]:
    """Subnet logical id -> NACL logical ids associated with it."""
    associations: dict[str, list[str]] = {name: [] for name in resources(template, "AWS::EC2::Subnet")}
    for association in resources(template, "AWS::EC2::SubnetNetworkAclAssociation").values():
        subnet = ref(props(association).get("SubnetId"))
        acl = ref(props(association).get("NetworkAclId"))
        if subnet is not None and acl is not None:
            associations.setdefault(subnet, []).append(acl)
    return associations


def nacl_entries(template: Template, acl: str) -> list[Mapping[str, Any]]:
    return [props(entry) for entry in resources(template, "AWS::EC2::NetworkAclEntry").values()
            if ref(props(entry).get("NetworkAclId")) == acl]


def check_nacls(template: Template) -> list[str]:
    """Every subnet has its own tier's NACL; NACLs have explicit entries both ways and no
    allow-everything entry; rule numbers are unique per direction."""
    problems = []
    for subnet, acls in nacl_of_subnets(template).items():
        if len(acls) != 1:
            problems.append(f"{subnet}: associated with {len(acls)} network ACLs, expected 1")
    for acl in resources(template, "AWS::EC2::NetworkAcl"):
        entries = nacl_entries(template, acl)
        for egress in (False, True):
            side = [e for e in entries if e.get("Egress") is egress]
            if not side:
                problems.append(f"{acl}: no {'egress' if egress else 'ingress'} entries")
            numbers = [str(e.get("RuleNumber")) for e in side]
            if len(numbers) != len(set(numbers)):
                problems.append(f"{acl}: duplicate rule numbers {sorted(numbers)}")
        for entry in entries:
            if str(entry.get("Protocol")) == "-1" and entry.get("RuleAction") == "allow":
                problems.append(f"{acl}: entry {entry.get('RuleNumber')} allows every protocol")
    return problems


def nacl_allowed(template: Template, acl: str, egress: bool) -> set[tuple[Any, Any, Any]]:
    """(from port, to port, CIDR) the NACL allows in one direction; intrinsic values (a
    ``!Ref`` port, a ``!GetAtt`` CIDR) as hashable tuples, see ``_key``."""
    return {
        (_key(entry["PortRange"]["From"]), _key(entry["PortRange"]["To"]), _key(entry.get("CidrBlock")))
        for entry in nacl_entries(template, acl)
        if entry.get("Egress") is egress and entry.get("RuleAction") == "allow"
    }


def _key(value: Any) -> Any:
    """A hashable form of a template value: {"Ref": "X"} -> (("Ref", "X"),)."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_key(v) for v in value)
    return value


def subnet_cidr_expr(subnet: str) -> Any:
    """The NACL CIDR expression that names a subnet's block."""
    return _key({"Fn::GetAtt": [subnet, "CidrBlock"]})


# --- endpoints ------------------------------------------------------------------------------
def endpoint_service(endpoint: Mapping[str, Any]) -> str:
    """'ecr.api' for ``!Sub com.amazonaws.${AWS::Region}.ecr.api``."""
    name = props(endpoint).get("ServiceName")
    text = name.get("Fn::Sub") if isinstance(name, Mapping) else name
    prefix = "com.amazonaws.${AWS::Region}."
    return text[len(prefix):] if isinstance(text, str) and text.startswith(prefix) else str(text)


def endpoints(template: Template, kind: str) -> dict[str, str]:
    """Service -> logical id of the endpoints of one kind (Interface or Gateway)."""
    return {endpoint_service(e): name for name, e in resources(template, "AWS::EC2::VPCEndpoint").items()
            if props(e).get("VpcEndpointType", "Gateway") == kind}


def check_interface_endpoints(template: Template, subnets: Iterable[str], security_group: str) -> list[str]:
    """Interface endpoints: private DNS on, in the given subnets, behind the given group."""
    problems = []
    wanted = sorted(subnets)
    for service, name in endpoints(template, "Interface").items():
        endpoint = props(resources(template)[name])
        if endpoint.get("PrivateDnsEnabled") is not True:
            problems.append(f"{name} ({service}): PrivateDnsEnabled is not true")
        if sorted(ref(s) or "" for s in endpoint.get("SubnetIds") or []) != wanted:
            problems.append(f"{name} ({service}): not in subnets {wanted}")
        if [ref(g) for g in endpoint.get("SecurityGroupIds") or []] != [security_group]:
            problems.append(f"{name} ({service}): security groups are not [{security_group}]")
    return problems


# --- flow logs, IAM, lifecycle --------------------------------------------------------------
def check_flow_logs_encrypted(template: Template) -> list[str]:
    """A VPC flow log of all traffic goes to a log group of this template with a KMS key and
    a retention."""
    problems = []
    logs = resources(template, "AWS::EC2::FlowLog")
    vpcs = set(resources(template, "AWS::EC2::VPC"))
    covered = {ref(props(log).get("ResourceId")) for log in logs.values()
               if props(log).get("ResourceType") == "VPC" and props(log).get("TrafficType") == "ALL"}
    problems += [f"{vpc}: no flow log of ALL traffic" for vpc in sorted(vpcs - covered)]
    for name, log in logs.items():
        group_name = ref(props(log).get("LogGroupName"))
        group = resources(template, "AWS::Logs::LogGroup").get(group_name or "")
        if group is None:
            problems.append(f"{name}: log group is not a log group of this template")
            continue
        if not props(group).get("KmsKeyId"):
            problems.append(f"{group_name}: no KmsKeyId")
        if not props(group).get("RetentionInDays"):
            problems.append(f"{group_name}: no RetentionInDays")
    return problems


def check_roles(template: Template) -> list[str]:
    """Every role has a permissions boundary and, when named, the region in its name."""
    problems = []
    for name, role in resources(template, "AWS::IAM::Role").items():
        if not props(role).get("PermissionsBoundary"):
            problems.append(f"{name}: no PermissionsBoundary")
        role_name = props(role).get("RoleName")
        if role_name is not None and "${AWS::Region}" not in str(role_name):
            problems.append(f"{name}: RoleName {role_name} lacks ${{AWS::Region}} (IAM is global)")
    return problems


def check_no_retain(template: Template) -> list[str]:
    return [f"{name}: {policy} is Retain" for name, resource in resources(template).items()
            for policy in ("DeletionPolicy", "UpdateReplacePolicy")
            if str(resource.get(policy, "")).startswith("Retain")]


def check_conditional(template: Template, types: Iterable[str], condition: str) -> list[str]:
    """Every resource of these types carries the condition; at least one exists."""
    found = resources(template, *types)
    problems = [f"{name}: Condition is {r.get('Condition')!r}, expected {condition}"
                for name, r in found.items() if r.get("Condition") != condition]
    return problems or ([] if found else [f"no resource of {sorted(types)}"])


def ssm_exports(template: Template) -> dict[str, str]:
    """Path below /${EnvironmentName}/ -> SSM parameter type, for the parameters a template writes."""
    exported = {}
    for parameter in resources(template, "AWS::SSM::Parameter").values():
        name = props(parameter).get("Name")
        text = name.get("Fn::Sub") if isinstance(name, Mapping) else name
        prefix = "/${EnvironmentName}/"
        if isinstance(text, str) and text.startswith(prefix):
            exported[text[len(prefix):]] = str(props(parameter).get("Type"))
    return exported
