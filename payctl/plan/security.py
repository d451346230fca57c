"""Who may do what, and who may reach which port: permission and ingress differences between the
deployed and the planned definition of one resource. Pure; reads template data only.

Statements are flattened into one row per principal x action x resource, so "broadening" is simply
a row that is new (or a Deny row that is gone).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

from payctl.plan.documents import compact
from payctl.plan.model import IamChange, IngressChange, SecurityChange

T = TypeVar("T")
Sign = Literal["+", "-"]
Grant = tuple[str, str, str, str, str]  # effect, principal, action, target, condition
Rule = tuple[str, str, str, str, str]  # group, protocol, ports, source, description

# Resource type -> (property holding a policy document, whose policy it is)
RESOURCE_POLICIES = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy",
    "AWS::ECR::Repository": "RepositoryPolicyText",
    "AWS::Logs::ResourcePolicy": "PolicyDocument",
    "AWS::Events::EventBusPolicy": "Statement",
}
IDENTITY_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy",
                     "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy")
IAM_TYPES = frozenset({"AWS::IAM::Role", "AWS::Lambda::Permission", *IDENTITY_POLICIES, *RESOURCE_POLICIES})
INGRESS_TYPES = frozenset({"AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"})


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _principals(statement: dict[str, Any], default: str) -> list[str]:
    for key, negated in (("Principal", ""), ("NotPrincipal", "not ")):
        if key not in statement:
            continue
        principal = statement[key]
        if principal == "*" or not isinstance(principal, dict):
            return [negated + compact(principal)]
        return [f"{negated}{kind}:{compact(item)}"
                for kind, items in principal.items() for item in _list(items)]
    return [default]


def statement_grants(document: Any, principal: str, default_target: str = "*") -> set[Grant]:
    """Rows of a policy document; `principal` stands for whoever an identity policy is attached to."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return {("Allow", principal, "(unreadable policy)", document[:80], "")}
    if not isinstance(document, dict):
        return set()
    statements = document.get("Statement")
    rows: set[Grant] = set()
    for statement in _list(statements):
        if not isinstance(statement, dict):
            rows.add(("Allow", principal, compact(statement), default_target, ""))
            continue
        effect = str(statement.get("Effect", "Allow"))
        actions = [compact(a) for a in _list(statement.get("Action"))] + \
                  [f"not {compact(a)}" for a in _list(statement.get("NotAction"))]
        targets = [compact(r) for r in _list(statement.get("Resource"))] + \
                  [f"not {compact(r)}" for r in _list(statement.get("NotResource"))]
        condition = compact(statement["Condition"]) if "Condition" in statement else ""
        for who in _principals(statement, principal):
            for action in actions or ["(none)"]:
                for target in targets or [default_target]:
                    rows.add((effect, who, action, target, condition))
    return rows


def iam_grants(resource_type: str, logical_id: str, properties: dict[str, Any] | None) -> set[Grant]:
    if not properties:
        return set()
    rows: set[Grant] = set()
    if resource_type == "AWS::IAM::Role":
        role = f"role {logical_id}"
        rows |= statement_grants(properties.get("AssumeRolePolicyDocument"), "?", default_target=role)
        for policy in _list(properties.get("Policies")):
            if isinstance(policy, dict):
                rows |= statement_grants(policy.get("PolicyDocument"), role)
        for arn in _list(properties.get("ManagedPolicyArns")):
            rows.add(("Allow", role, f"managed policy {compact(arn)}", "*", ""))
    elif resource_type in IDENTITY_POLICIES:
        holders = [compact(h) for key in ("Roles", "Users", "Groups", "RoleName", "UserName", "GroupName")
                   for h in _list(properties.get(key))]
        holder = ", ".join(holders) or f"policy {logical_id}"
        rows |= statement_grants(properties.get("PolicyDocument"), holder)
    elif resource_type == "AWS::Lambda::Permission":
        condition = " ".join(f"{key}={compact(properties[key])}" for key in ("SourceArn", "SourceAccount")
                             if key in properties)
        rows.add(("Allow", compact(properties.get("Principal", "?")), compact(properties.get("Action", "?")),
                  compact(properties.get("FunctionName", "?")), condition))
    elif resource_type in RESOURCE_POLICIES:
        value = properties.get(RESOURCE_POLICIES[resource_type])
        if resource_type == "AWS::Events::EventBusPolicy" and isinstance(value, dict):
            value = {"Statement": [value]}
        rows |= statement_grants(value, "?", default_target=f"{resource_type.split('::')[1]} {logical_id}")
    return rows


def _ports(rule: dict[str, Any]) -> tuple[str, str]:
    protocol = compact(rule.get("IpProtocol", "-1"))
    if protocol in ("-1", "all"):
        return "all", "all"
    low, high = compact(rule.get("FromPort", "")), compact(rule.get("ToPort", ""))
    ports = low if low == high else f"{low}-{high}"
    return protocol, "all" if ports in ("-1", "0-65535") else ports


_SOURCES = ("CidrIp", "CidrIpv6", "SourcePrefixListId", "SourceSecurityGroupId", "SourceSecurityGroupName")


def _source(rule: dict[str, Any]) -> str:
    for key in _SOURCES:
        if key in rule:
            return compact(rule[key])
    return "?"


def ingress_rules(resource_type: str, logical_id: str, properties: dict[str, Any] | None) -> set[Rule]:
    if not properties:
        return set()
    if resource_type == "AWS::EC2::SecurityGroupIngress":
        entries, group = [properties], compact(properties.get("GroupId", properties.get("GroupName", "?")))
    elif resource_type == "AWS::EC2::SecurityGroup":
        entries, group = _list(properties.get("SecurityGroupIngress")), logical_id
    else:
        return set()
    rows: set[Rule] = set()
    for entry in entries:
        if isinstance(entry, dict):
            protocol, ports = _ports(entry)
            rows.add((group, protocol, ports, _source(entry), compact(entry.get("Description", ""))))
    return rows


def security_changes(logical_id: str, resource_type: str, before: dict[str, Any] | None,
                     after: dict[str, Any] | None) -> tuple[SecurityChange, ...]:
    """Rows added (+) and removed (-) between the deployed and planned properties of one resource."""
    changes: list[SecurityChange] = []
    if resource_type in IAM_TYPES:
        old, new = iam_grants(resource_type, logical_id, before), iam_grants(resource_type, logical_id, after)
        changes += [IamChange("iam", sign, logical_id, *row)
                    for sign, rows in _signed(new - old, old - new) for row in sorted(rows)]
    if resource_type in INGRESS_TYPES:
        old_rules = ingress_rules(resource_type, logical_id, before)
        new_rules = ingress_rules(resource_type, logical_id, after)
        changes += [IngressChange("ingress", sign, logical_id, *row)
                    for sign, rows in _signed(new_rules - old_rules, old_rules - new_rules)
                    for row in sorted(rows)]
    return tuple(changes)


def _signed(added: set[T], removed: set[T]) -> tuple[tuple[Sign, set[T]], ...]:
    return (("+", added), ("-", removed))


def broadening(changes: Iterable[SecurityChange]) -> list[IamChange]:
    """Permission rows that widen access: a new Allow, or a Deny that is gone."""
    widening = {("+", "Allow"), ("-", "Deny")}
    return [change for change in changes
            if isinstance(change, IamChange) and (change.sign, change.effect) in widening]
