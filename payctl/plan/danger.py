"""Danger rules: small functions with an id, each looking at one resource change.

    PD001 stateful-replacement   replacing a data store (Aurora, DynamoDB, S3, KMS) loses its data
    PD002 stateful-removal       removing one does too
    PD003 audit-log-group        replacing or removing a log group that receives flow logs or CloudTrail
    PD101 iam-broadening         new permissions, wildcards or principals (also in resource policies)
    PD102 ingress-change         security group ingress opened, changed or closed

A rule returns a Finding or None. `assess` runs them all; adding a rule is adding a function to RULES.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from payctl.plan.documents import Document, resources
from payctl.plan.model import Danger, Finding, IngressChange, ResourceChange
from payctl.plan.security import IAM_TYPES, INGRESS_TYPES, broadening, security_changes

STATEFUL_TYPES = frozenset({
    "AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::RDS::GlobalCluster",
    "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable",
    "AWS::S3::Bucket", "AWS::KMS::Key",
})
LOG_GROUP = "AWS::Logs::LogGroup"
_AUDIT_NAME = re.compile(r"(audit|flow-?log|cloudtrail|trail)", re.IGNORECASE)


@dataclass(frozen=True)
class Context:
    change: ResourceChange
    before: Document | None  # the resource as deployed (template definition), when known
    after: Document | None  # the resource as planned
    audit_log_groups: frozenset[str]  # logical ids of log groups receiving flow logs or CloudTrail

    @property
    def before_unknown(self) -> bool:
        """A modified resource whose deployed definition could not be read: rows cannot be compared."""
        return self.before is None and self.change.action in ("Modify", "Dynamic")


Rule = Callable[[Context], Finding | None]


def _properties(resource: Document | None) -> dict[str, Any] | None:
    if resource is None:
        return None
    properties = resource.get("Properties")
    return properties if isinstance(properties, dict) else {}


def stateful_replacement(ctx: Context) -> Finding | None:
    change = ctx.change
    if change.resource_type not in STATEFUL_TYPES or not change.replaces:
        return None
    how = "will be replaced" if change.replacement == "True" else "may be replaced"
    forcing = ", ".join(change.forcing_properties) or "a property change"
    return Finding("PD001", Danger.DESTRUCTIVE,
                   f"{change.resource_type} {change.logical_id} {how} ({forcing}): its data does not move "
                   "to the new resource")


def stateful_removal(ctx: Context) -> Finding | None:
    change = ctx.change
    if change.resource_type not in STATEFUL_TYPES or change.action != "Remove":
        return None
    return Finding("PD002", Danger.DESTRUCTIVE,
                   f"{change.resource_type} {change.logical_id} will be deleted with its data")


def audit_log_group(ctx: Context) -> Finding | None:
    change = ctx.change
    if change.resource_type != LOG_GROUP or not (change.replaces or change.action == "Remove"):
        return None
    names = [change.logical_id, change.physical_id or ""]
    names += [str((_properties(resource) or {}).get("LogGroupName", ""))
              for resource in (ctx.before, ctx.after)]
    if change.logical_id not in ctx.audit_log_groups and not any(_AUDIT_NAME.search(name) for name in names):
        return None
    what = "deleted" if change.action == "Remove" else "replaced"
    return Finding("PD003", Danger.DESTRUCTIVE,
                   f"log group {change.logical_id} holds audit or flow logs and will be {what}: "
                   "the logs it holds are lost")


def iam_broadening(ctx: Context) -> Finding | None:
    if ctx.before_unknown and ctx.change.resource_type in IAM_TYPES:
        return Finding("PD101", Danger.SECURITY, f"{ctx.change.logical_id} changes permissions; the deployed "
                       "definition could not be read, so review it as broadening")
    wider = broadening(ctx.change.security)
    if not wider:
        return None
    wildcard = any("*" in (row.action + row.target + row.principal) for row in wider)
    first = wider[0]
    more = f" and {len(wider) - 1} more" if len(wider) > 1 else ""
    return Finding("PD101", Danger.SECURITY,
                   f"{ctx.change.logical_id} grants {first.action} on {first.target} "
                   f"to {first.principal}{more}"
                   + (" (wildcard)" if wildcard else ""))


def ingress_change(ctx: Context) -> Finding | None:
    if ctx.before_unknown and ctx.change.resource_type in INGRESS_TYPES:
        return Finding("PD102", Danger.SECURITY, f"{ctx.change.logical_id} changes a security group; the "
                       "deployed definition could not be read, so review its ingress")
    rows = [row for row in ctx.change.security if isinstance(row, IngressChange)]
    if not rows:
        return None
    opened = [row for row in rows if row.sign == "+"]
    sample = opened[0] if opened else rows[0]
    verb = "opens" if opened else "closes"
    world = any(row.source in ("0.0.0.0/0", "::/0") for row in opened)
    return Finding("PD102", Danger.SECURITY,
                   f"{ctx.change.logical_id} {verb} {sample.protocol}/{sample.ports} from {sample.source}"
                   + (f" and {len(rows) - 1} more rule changes" if len(rows) > 1 else "")
                   + (" (open to the internet)" if world else ""))


RULES: dict[str, Rule] = {
    "PD001": stateful_replacement,
    "PD002": stateful_removal,
    "PD003": audit_log_group,
    "PD101": iam_broadening,
    "PD102": ingress_change,
}


def audit_log_groups(*documents: Document | None) -> frozenset[str]:
    """Log groups that flow logs or a trail write to, found by reference in the templates."""
    found: set[str] = set()
    for document in documents:
        for resource in resources(document).values():
            if resource.get("Type") not in ("AWS::EC2::FlowLog", "AWS::CloudTrail::Trail"):
                continue
            found |= _referenced(resource.get("Properties"))
    return frozenset(found)


def _referenced(value: Any) -> set[str]:
    if isinstance(value, dict):
        names: set[str] = set()
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                names.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) and inner else str(inner).split(".")[0]
                names.add(str(target))
            else:
                names |= _referenced(inner)
        return names
    if isinstance(value, list):
        return set().union(*(_referenced(item) for item in value)) if value else set()
    return set()


def assess(change: ResourceChange, before: Document | None, after: Document | None,
           audit_groups: frozenset[str] = frozenset()) -> ResourceChange:
    """The change with its security rows and every matching rule's finding attached."""
    before_properties = None if change.action == "Add" else _properties(before)
    after_properties = None if change.action == "Remove" else _properties(after)
    context = Context(change, before, after, audit_groups)
    rows = () if context.before_unknown else \
        security_changes(change.logical_id, change.resource_type, before_properties, after_properties)
    with_rows = replace(change, security=rows)
    context = replace(context, change=with_rows)
    found = tuple(finding for rule in RULES.values() if (finding := rule(context)) is not None)
    return replace(with_rows, findings=found)
