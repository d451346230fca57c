"""The Plan: what `payctl plan` found, per environment, wave, region and (nested) stack. Pure data.

Frozen dataclasses only; `payctl.plan.serialize` turns them into the versioned JSON documented in
docs/plan.md. Secrets never enter the model: NoEcho parameter values are "****" by construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

SCHEMA_VERSION = 1
MASK = "****"

Action = Literal["Add", "Modify", "Remove", "Import", "Dynamic", "SyncWithActual"]
Replacement = Literal["True", "Conditional", "False"]
StackStatus = Literal["create", "update", "delete", "no-changes", "deferred"]
Source = Literal["change-set", "template"]
NESTED_STACK = "AWS::CloudFormation::Stack"


class Danger(Enum):
    """How careful a reviewer must be; a change's danger is the highest of its findings."""

    NONE = "none"
    SECURITY = "security-sensitive"  # broadens IAM permissions or changes who may reach a port
    DESTRUCTIVE = "destructive"  # replaces or removes data that cannot come back from the template

    @property
    def rank(self) -> int:
        return _RANKS[self.value]


_RANKS = {"none": 0, "security-sensitive": 1, "destructive": 2}


def highest(dangers: Iterable[Danger]) -> Danger:
    return max(dangers, key=lambda danger: danger.rank, default=Danger.NONE)


@dataclass(frozen=True)
class Finding:
    """One danger rule that matched one resource change."""

    rule: str  # e.g. PD001
    danger: Danger
    message: str


@dataclass(frozen=True)
class PropertyChange:
    """One ResourceChangeDetail: which attribute changes, why, and whether it forces replacement."""

    attribute: str  # Properties, Metadata, Tags, DeletionPolicy, ...
    name: str | None  # the property name, when the attribute is Properties
    requires_recreation: str | None  # Never, Conditionally, Always
    evaluation: str | None  # Static, Dynamic
    change_source: str | None  # DirectModification, ParameterReference, ResourceReference, ...
    causing_entity: str | None  # the parameter or resource (attribute) that causes it
    path: str | None = None
    change_type: str | None = None  # Add, Remove, Modify (when property values were returned)
    before: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class IamChange:
    """A permission granted or taken away: principal may do action on resource."""

    kind: Literal["iam"]
    sign: Literal["+", "-"]
    resource: str  # logical id of the role/policy/resource policy
    effect: str
    principal: str
    action: str
    target: str  # the Resource of the statement
    condition: str = ""


@dataclass(frozen=True)
class IngressChange:
    """A security group ingress rule opened or closed."""

    kind: Literal["ingress"]
    sign: Literal["+", "-"]
    resource: str  # logical id of the group or ingress resource
    group: str
    protocol: str
    ports: str
    source: str  # CIDR, prefix list or source security group
    description: str = ""


SecurityChange = IamChange | IngressChange


@dataclass(frozen=True)
class ResourceChange:
    action: Action
    logical_id: str
    resource_type: str
    physical_id: str | None = None
    replacement: Replacement | None = None
    scope: tuple[str, ...] = ()
    details: tuple[PropertyChange, ...] = ()
    policy_action: str | None = None  # Delete, Retain, Snapshot, ReplaceAndDelete, ...
    before_context: str | None = None
    after_context: str | None = None
    findings: tuple[Finding, ...] = ()
    security: tuple[SecurityChange, ...] = ()

    @property
    def danger(self) -> Danger:
        return highest(finding.danger for finding in self.findings)

    @property
    def replaces(self) -> bool:
        return self.action == "Modify" and self.replacement in ("True", "Conditional")

    @property
    def forcing_properties(self) -> tuple[str, ...]:
        """The properties whose change recreates the resource."""
        names = [detail.name or detail.attribute for detail in self.details
                 if detail.requires_recreation in ("Always", "Conditionally")]
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class ParameterChange:
    name: str
    before: str | None  # None: the parameter is new
    after: str | None  # None: the parameter is gone
    no_echo: bool = False

    @staticmethod
    def masked(name: str, before: str | None, after: str | None, no_echo: bool) -> ParameterChange:
        """The only way plan code makes one: NoEcho values never reach the model."""
        if no_echo:
            before = MASK if before is not None else None
            after = MASK if after is not None else None
        return ParameterChange(name, before, after, no_echo)


@dataclass(frozen=True)
class OutputChange:
    name: str
    action: Literal["Add", "Modify", "Remove"]
    current_value: str | None  # the deployed stack's value, when known
    before: str | None  # the output's definition (Value, Export) as deployed, compact JSON
    after: str | None  # as planned


@dataclass(frozen=True)
class Fingerprint:
    """What `apply plan.json` compares with the world to refuse a stale plan."""

    template_sha256: str
    parameters_sha256: str
    change_set_id: str | None
    deployed_stack_id: str | None
    deployed_last_changed: str | None


@dataclass(frozen=True)
class StackPlan:
    """One stack: a wave's top-level stack in a region, or a nested stack inside it (`children`)."""

    name: str  # top level: the stack name; nested: the logical id in the parent
    status: StackStatus
    source: Source
    stack_name: str | None = None  # the real stack name (nested: known once deployed)
    stack_id: str | None = None
    change_set_id: str | None = None
    change_set_type: Literal["CREATE", "UPDATE"] | None = None
    kept: bool = False  # the change set was kept for apply
    note: str = ""
    changes: tuple[ResourceChange, ...] = ()
    parameters: tuple[ParameterChange, ...] = ()
    outputs: tuple[OutputChange, ...] = ()
    template_diff: str = ""
    children: tuple[StackPlan, ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.parameters or self.outputs
                     or any(child.has_changes for child in self.children))

    def walk(self) -> tuple[StackPlan, ...]:
        """This stack and every nested stack below it, parents first."""
        return (self, *(stack for child in self.children for stack in child.walk()))


@dataclass(frozen=True)
class WavePlan:
    """A wave's stack in one region."""

    wave: str
    region: str
    stack: StackPlan
    fingerprint: Fingerprint
    after: str | None = None  # deferred: the earlier wave that must be deployed first


@dataclass(frozen=True)
class EnvironmentPlan:
    environment: str
    account_id: str
    waves: tuple[WavePlan, ...]


@dataclass(frozen=True)
class Summary:
    add: int = 0
    change: int = 0
    replace: int = 0
    remove: int = 0
    import_: int = 0
    dynamic: int = 0
    destructive: int = 0
    security: int = 0
    parameters: int = 0
    outputs: int = 0
    deferred: int = 0

    @property
    def has_changes(self) -> bool:
        return any((self.add, self.change, self.replace, self.remove, self.import_, self.dynamic,
                    self.parameters, self.outputs, self.deferred))

    @property
    def dangerous(self) -> bool:
        return bool(self.destructive or self.security)


@dataclass(frozen=True)
class Plan:
    environments: tuple[EnvironmentPlan, ...]
    created_at: str = ""  # ISO time, set by the planner (the model itself never reads a clock)
    schema_version: int = SCHEMA_VERSION
    notes: tuple[str, ...] = field(default_factory=tuple)

    def stacks(self) -> tuple[tuple[EnvironmentPlan, WavePlan], ...]:
        return tuple((env, wave) for env in self.environments for wave in env.waves)

    def summary(self) -> Summary:
        return summarize(self)

    @property
    def has_changes(self) -> bool:
        return self.summary().has_changes


def counted(stack: StackPlan) -> tuple[ResourceChange, ...]:
    """The changes a summary counts: a nested stack resource shown as its own block is not
    counted itself, its resources are."""
    shown = {child.name for child in stack.children}
    return tuple(change for change in stack.changes
                 if not (change.resource_type == NESTED_STACK and change.logical_id in shown))


def summarize(plan: Plan) -> Summary:
    totals = {name: 0 for name in Summary.__dataclass_fields__}
    for _env, wave in plan.stacks():
        if wave.stack.status == "deferred":
            totals["deferred"] += 1
        for stack in wave.stack.walk():
            totals["parameters"] += len(stack.parameters)
            totals["outputs"] += len(stack.outputs)
            for change in counted(stack):
                key = {"Add": "add", "Remove": "remove", "Import": "import_", "Dynamic": "dynamic"}.get(
                    change.action, "replace" if change.replaces else "change")
                totals[key] += 1
                if change.danger == Danger.DESTRUCTIVE:
                    totals["destructive"] += 1
                elif change.danger == Danger.SECURITY:
                    totals["security"] += 1
    return Summary(**totals)
