"""Effective templates: what CloudFormation would deploy for one environment and region.

Rendered templates are environment-independent; what they create depends on parameter values
and conditions. This module evaluates them the way CloudFormation does: Conditions are decided
(`Fn::Equals/And/Or/Not`, `Condition`, pseudo parameters such as `AWS::Region` and
`AWS::AccountId`), resources and outputs whose condition is false are dropped, `Fn::If` picks its
branch, `AWS::NoValue` disappears, and `Ref` to parameters, `Fn::Sub`, `Fn::Join`, `Fn::Select`,
`Fn::Split`, `Fn::FindInMap`, `Fn::Cidr` and `Fn::GetAZs` are computed where their inputs are
known. What only AWS knows at deploy time stays symbolic as an `Unresolved` string (attributes
and physical ids of resources, SSM-typed parameters). A master's nested stacks are evaluated with
the parameters the master passes, and `!GetAtt Stack.Outputs.Name` resolves to the sibling's
evaluated output.

Every evaluated value carries a `Trace`: the inputs (master parameters and pseudo parameters) it
was computed from and the inputs of the conditions that chose it. `payctl compare` uses traces
to tell parameter-driven differences between environments from structural ones.

Pure and fast: no AWS, no cfn-lint; the result keeps a link from every evaluated mapping and
list to the fragment node it came from, so findings point at fragment lines.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ruamel.yaml.comments import TaggedScalar

from payctl.templates.intrinsics import tag_of
from payctl.yamlio import key_line, node_line

if TYPE_CHECKING:
    from payctl.config.models import Environment
    from payctl.templates.compose import Template
    from payctl.templates.render import RenderedSet, RenderedStack

PARTITION = "aws"
# Inputs that name one environment by identity rather than by a declared parameter: a condition
# reading them singles out an account, which `payctl compare` reports as structural.
IDENTITY_INPUTS = frozenset({"AWS::AccountId", "AWS::StackName", "AWS::StackId"})
OTHER_ACCOUNT = "000000000000"  # what the counterfactual evaluation uses instead of the account id
OTHER_STACK = "{{another stack}}"
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")

# `Ref` to these resource types returns the value of the named property (when it is set).
REF_NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::RDS::GlobalCluster": "GlobalClusterIdentifier",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::RDS::DBClusterParameterGroup": "DBClusterParameterGroupName",
    "AWS::RDS::DBParameterGroup": "DBParameterGroupName",
    "AWS::SSM::Parameter": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::CloudTrail::Trail": "TrailName",
}


# --- values -------------------------------------------------------------------------------------
class Unresolved(str):
    """A value only AWS knows at deploy time, written as `{{...}}`; it compares as its text.

    `ref` names the resource it points at (Ref or GetAtt), `ssm` the SSM parameter path it is
    read from, so rules can follow a security group id from one stack to another."""

    ref: str | None
    ssm: str | None

    def __new__(cls, text: str, *, ref: str | None = None, ssm: str | None = None) -> Unresolved:
        value = super().__new__(cls, text)
        value.ref = ref
        value.ssm = ssm
        return value


def is_unresolved(value: Any) -> bool:
    return isinstance(value, Unresolved) or (isinstance(value, str) and "{{" in value and "}}" in value)


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


@dataclass(frozen=True)
class Trace:
    """Where a value came from: `inputs` it was computed from, and `decisions`, the inputs of the
    conditions (and mapping keys) that chose it. Inputs are master parameter names and pseudo
    parameters (`AWS::AccountId`, ...). `identity` names the identity inputs (account id, stack
    name) whose value alone changed a decision: with another account the outcome differs."""

    inputs: frozenset[str] = frozenset()
    decisions: frozenset[str] = frozenset()
    identity: frozenset[str] = frozenset()

    def __or__(self, other: Trace) -> Trace:
        if not other:
            return self
        if not self:
            return other
        return Trace(
            self.inputs | other.inputs, self.decisions | other.decisions, self.identity | other.identity
        )

    def as_decision(self) -> Trace:
        """This value's inputs, now deciding something."""
        return Trace(frozenset(), self.inputs | self.decisions, self.identity)

    def __bool__(self) -> bool:
        return bool(self.inputs or self.decisions or self.identity)


NO_TRACE = Trace()


class EMap(dict[str, Any]):
    """An evaluated mapping: `src` is the fragment node it came from, `traces` the Trace of each
    key whose value was computed (also of keys that vanished through `AWS::NoValue`)."""

    __slots__ = ("src", "traces")

    def __init__(self, src: Any = None) -> None:
        super().__init__()
        self.src = src
        self.traces: dict[str, Trace] = {}


class EList(list[Any]):
    """An evaluated list: `src` is the fragment node, `origin[i]` the source index of item i,
    `traces[i]` the Trace of item i when it was computed."""

    __slots__ = ("origin", "src", "traces", "vanished")

    def __init__(self, src: Any = None) -> None:
        super().__init__()
        self.src = src
        self.origin: list[int] = []
        self.traces: dict[int, Trace] = {}
        self.vanished = NO_TRACE  # what removed items through AWS::NoValue


def plain(value: Any) -> Any:
    """Evaluated data as plain dicts, lists and scalars (for JSON and equality)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def text(value: Any) -> str:
    """A scalar as CloudFormation turns it into a string (true/false for booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _scalar(value: Any) -> Any:
    """ruamel's scalar subclasses as plain Python scalars."""
    if isinstance(value, bool) or value is None:
        return value
    if type(value).__name__ == "ScalarBoolean":
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


# --- evaluation ---------------------------------------------------------------------------------
Value = tuple[Any, Trace]
AttributeHook = Callable[[str, str], Value | None]


def intrinsic(node: Any) -> tuple[str, Any] | None:
    """(function without `Fn::`, argument) when node is an intrinsic call in short or long form."""
    tag = tag_of(node)
    if tag is not None:
        return tag, (node.value if isinstance(node, TaggedScalar) else node)
    if isinstance(node, Mapping) and len(node) == 1:
        ((key, argument),) = node.items()
        if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
            return str(key).removeprefix("Fn::"), argument
    return None


def _items(argument: Any) -> list[Any]:
    """The elements of a function's list argument (a tagged sequence is still a sequence)."""
    return list(argument) if isinstance(argument, list) else [argument]


class Evaluator:
    """Evaluates one template's values for given parameter values and pseudo parameters."""

    def __init__(
        self,
        body: Mapping[str, Any],
        parameters: Mapping[str, Value],
        pseudo: Mapping[str, Value],
        attribute: AttributeHook | None = None,
    ) -> None:
        self.body = body
        self.resources: Mapping[str, Any] = body.get("Resources") or {}
        self.mappings: Mapping[str, Any] = body.get("Mappings") or {}
        self.condition_definitions: Mapping[str, Any] = body.get("Conditions") or {}
        self.parameters = dict(parameters)
        self.pseudo = dict(pseudo)
        self.attribute_hook = attribute
        self.conditions: dict[str, Value] = {}
        self.assumptions: list[str] = []
        self._deciding: set[str] = set()
        self._naming: set[str] = set()
        self._other_account: Evaluator | None = None
        self.counterfactual = False  # True in the evaluator that plays another account

    # -- conditions ---------------------------------------------------------------------------
    def condition(self, name: str) -> Value:
        if name not in self.conditions:
            if name in self._deciding or name not in self.condition_definitions:
                self.assumptions.append(f"condition {name} is undefined or circular; taken as false")
                return False, NO_TRACE
            self._deciding.add(name)
            holds, trace = self.truth(self.condition_definitions[name])
            touched = (trace.inputs | trace.decisions) & IDENTITY_INPUTS
            if touched and not self.counterfactual:
                other, _ = self.other_account().condition(name)
                if other != holds:
                    trace = Trace(trace.inputs, trace.decisions, trace.identity | touched)
            self.conditions[name] = (holds, trace)
            self._deciding.discard(name)
        return self.conditions[name]

    def other_account(self) -> Evaluator:
        """The same template in another account (and stack): every value that carries this
        account id carries another one. A condition whose outcome changes there is decided by
        the account's identity rather than by a parameter."""
        if self._other_account is None:
            account = text(self.pseudo["AWS::AccountId"][0])
            stack = text(self.pseudo.get("AWS::StackName", ("", NO_TRACE))[0])

            def swap(value: Any) -> Any:
                if isinstance(value, list):
                    swapped = EList()
                    for item in value:
                        swapped.append(swap(item))
                        swapped.origin.append(0)
                    return swapped
                if isinstance(value, str):
                    changed = value.replace(account, OTHER_ACCOUNT) if account else value
                    changed = changed.replace(stack, OTHER_STACK) if stack else changed
                    return (
                        Unresolved(changed, ref=value.ref, ssm=value.ssm)
                        if isinstance(value, Unresolved)
                        else changed
                    )
                return value

            def hook(resource: str, attribute: str) -> Value | None:
                found = self.attribute_hook(resource, attribute) if self.attribute_hook else None
                return (swap(found[0]), found[1]) if found is not None else None

            parameters = {name: (swap(value), trace) for name, (value, trace) in self.parameters.items()}
            pseudo = {name: (swap(value), trace) for name, (value, trace) in self.pseudo.items()}
            self._other_account = Evaluator(self.body, parameters, pseudo, hook)
            self._other_account.counterfactual = True
        return self._other_account

    def present(self, logical_id: str) -> Value:
        """Whether a resource exists in this evaluation, and what decided it."""
        resource = self.resources.get(logical_id)
        if not isinstance(resource, Mapping):
            return False, NO_TRACE
        condition = resource.get("Condition")
        if condition is None:
            return True, NO_TRACE
        holds, trace = self.condition(str(condition))
        return holds, trace.as_decision()

    def truth(self, node: Any) -> Value:
        call = intrinsic(node)
        if call is None and isinstance(node, Mapping) and set(node) == {"Condition"}:
            call = ("Condition", node["Condition"])
        if call is None:
            value, trace = self.value(node)
            return text(value).lower() == "true", trace
        function, argument = call
        if function == "Condition":
            return self.condition(str(argument))
        if function in ("And", "Or"):
            results = [self.truth(item) for item in _items(argument)]
            trace = NO_TRACE
            for _, item_trace in results:
                trace = trace | item_trace
            outcome = all(r for r, _ in results) if function == "And" else any(r for r, _ in results)
            return outcome, trace
        if function == "Not":
            outcome, trace = self.truth(_items(argument)[0])
            return not outcome, trace
        if function == "Equals":
            (left, left_trace), (right, right_trace) = (self.value(item) for item in _items(argument)[:2])
            return self._equals(left, right), left_trace | right_trace
        value, trace = self.value(node)
        return text(value).lower() == "true", trace

    def _equals(self, left: Any, right: Any) -> bool:
        if isinstance(left, list) or isinstance(right, list):
            return bool(plain(left) == plain(right))
        left_text, right_text = text(left), text(right)
        if left_text == right_text:
            return True
        unknown = [side for side in (left, right) if isinstance(side, Unresolved)]
        if unknown and "" not in (left_text, right_text):
            # AWS-only values are never empty; against another literal the answer is unknown here.
            self.assumptions.append(f"assumed {left_text!r} != {right_text!r}")
        return False

    # -- values -------------------------------------------------------------------------------
    def value(self, node: Any) -> Value:
        """(evaluated value, trace); the value is NO_VALUE where `AWS::NoValue` removes it."""
        call = intrinsic(node)
        if call is not None:
            return self._call(*call)
        if isinstance(node, Mapping):
            result = EMap(node)
            for key, item in node.items():
                evaluated, trace = self.value(item)
                if trace:
                    result.traces[str(key)] = trace
                if evaluated is not NO_VALUE:
                    result[str(key)] = evaluated
            return result, NO_TRACE
        if isinstance(node, list):
            items = EList(node)
            for index, item in enumerate(node):
                evaluated, trace = self.value(item)
                if evaluated is NO_VALUE:
                    items.vanished = items.vanished | trace  # still explains the list's shape
                    continue
                if trace:
                    items.traces[len(items)] = trace
                items.append(evaluated)
                items.origin.append(index)
            return items, NO_TRACE
        return _scalar(node), NO_TRACE

    def _call(self, function: str, argument: Any) -> Value:
        handler = _HANDLERS.get(function)
        if handler is None:
            return Unresolved(f"{{{{{function}}}}}"), NO_TRACE
        return handler(self, argument)

    def ref(self, name: str) -> Value:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        resource = self.resources.get(name)
        if isinstance(resource, Mapping):
            return self._resource_ref(name, resource)
        return Unresolved(f"{{{{Ref {name}}}}}", ref=name), NO_TRACE

    def _resource_ref(self, name: str, resource: Mapping[str, Any]) -> Value:
        kind = str(resource.get("Type", ""))
        properties = resource.get("Properties") or {}
        symbol = Unresolved(f"{{{{Ref {name}}}}}", ref=name)
        if name in self._naming:
            return symbol, NO_TRACE
        self._naming.add(name)
        try:
            if kind in REF_NAME_PROPERTIES and properties.get(REF_NAME_PROPERTIES[kind]) is not None:
                value, trace = self.value(properties[REF_NAME_PROPERTIES[kind]])
                return value, trace
            if kind == "AWS::IAM::ManagedPolicy" and properties.get("ManagedPolicyName") is not None:
                policy, trace = self.value(properties["ManagedPolicyName"])
                path, path_trace = self.value(properties.get("Path", "/"))
                account, account_trace = self.ref("AWS::AccountId")
                arn = f"arn:{PARTITION}:iam::{account}:policy{path}{policy}"
                return _mark(arn, policy, path, account), trace | path_trace | account_trace
            return symbol, NO_TRACE
        finally:
            self._naming.discard(name)

    def get_att(self, resource: str, attribute: str) -> Value:
        if self.attribute_hook is not None:
            hooked = self.attribute_hook(resource, attribute)
            if hooked is not None:
                return hooked
        definition = self.resources.get(resource)
        symbol = Unresolved(f"{{{{GetAtt {resource}.{attribute}}}}}", ref=resource)
        if not isinstance(definition, Mapping):
            return symbol, NO_TRACE
        kind = str(definition.get("Type", ""))
        properties = definition.get("Properties") or {}
        if (
            attribute == "CidrBlock"
            and kind in ("AWS::EC2::VPC", "AWS::EC2::Subnet")
            and properties.get("CidrBlock") is not None
        ):
            return self.value(properties["CidrBlock"])
        if attribute == "Arn" and kind == "AWS::S3::Bucket" and properties.get("BucketName") is not None:
            name, trace = self.value(properties["BucketName"])
            return _mark(f"arn:{PARTITION}:s3:::{name}", name), trace
        if attribute == "Arn" and kind == "AWS::IAM::Role" and properties.get("RoleName") is not None:
            name, trace = self.value(properties["RoleName"])
            path, path_trace = self.value(properties.get("Path", "/"))
            account, account_trace = self.ref("AWS::AccountId")
            return (
                _mark(f"arn:{PARTITION}:iam::{account}:role{path}{name}", name, path, account),
                trace | path_trace | account_trace,
            )
        return symbol, NO_TRACE


def _mark(result: str, *parts: Any) -> str:
    """`result` as Unresolved when any part it was built from is."""
    return Unresolved(result) if any(isinstance(part, Unresolved) for part in parts) else result


# --- intrinsic functions ------------------------------------------------------------------------
def _fn_ref(ev: Evaluator, argument: Any) -> Value:
    return ev.ref(str(argument))


def _fn_get_att(ev: Evaluator, argument: Any) -> Value:
    if isinstance(argument, list):
        parts = _items(argument)
        resource = str(parts[0])
        attribute, trace = ev.value(parts[1]) if len(parts) > 1 else ("", NO_TRACE)
        value, value_trace = ev.get_att(resource, text(attribute))
        return value, value_trace | trace
    resource, _, attribute = str(argument).partition(".")
    return ev.get_att(resource, attribute)


def _fn_sub(ev: Evaluator, argument: Any) -> Value:
    if isinstance(argument, list):
        parts = _items(argument)
        template, variables_node = str(parts[0]), (parts[1] if len(parts) > 1 else {})
    else:
        template, variables_node = str(argument), {}
    trace = NO_TRACE
    variables: dict[str, Any] = {}
    for name, node in (variables_node or {}).items():
        value, value_trace = ev.value(node)
        variables[str(name)] = value
        trace = trace | value_trace
    unresolved: list[Unresolved] = []

    def substitute(match: re.Match[str]) -> str:
        nonlocal trace
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            value = variables[name]
        elif "." in name and not name.startswith("AWS::"):
            resource, _, attribute = name.partition(".")
            value, value_trace = ev.get_att(resource, attribute)
            trace = trace | value_trace
        else:
            value, value_trace = ev.ref(name)
            trace = trace | value_trace
        if isinstance(value, Unresolved):
            unresolved.append(value)
        return ",".join(map(text, value)) if isinstance(value, list) else text(value)

    result = _SUB_VARIABLE.sub(substitute, template)
    if unresolved:
        whole = len(unresolved) == 1 and result == str(unresolved[0])
        return (unresolved[0] if whole else Unresolved(result)), trace
    return result, trace


def _fn_join(ev: Evaluator, argument: Any) -> Value:
    parts = _items(argument)
    separator, separator_trace = ev.value(parts[0])
    items, trace = ev.value(parts[1]) if len(parts) > 1 else ([], NO_TRACE)
    trace = trace | separator_trace | _item_traces(items)
    if not isinstance(items, list):
        return Unresolved(f"{{{{Join {text(separator)!r} {items}}}}}") if isinstance(
            items, Unresolved
        ) else text(items), trace
    joined = text(separator).join(text(item) for item in items)
    return _mark(joined, *items), trace


def _item_traces(items: Any) -> Trace:
    trace = NO_TRACE
    if isinstance(items, (EList, EMap)):
        for item_trace in items.traces.values():
            trace = trace | item_trace
    return trace


def _fn_select(ev: Evaluator, argument: Any) -> Value:
    parts = _items(argument)
    index, index_trace = ev.value(parts[0])
    items, trace = ev.value(parts[1]) if len(parts) > 1 else ([], NO_TRACE)
    trace = trace | index_trace.as_decision()
    try:
        position = int(text(index))
    except ValueError:
        return Unresolved(f"{{{{Select {index} of {items}}}}}"), trace
    if (
        isinstance(items, list)
        and 0 <= position < len(items)
        and not (len(items) == 1 and isinstance(items[0], Unresolved) and position > 0)
    ):
        item_traces = items.traces if isinstance(items, EList) else {}
        return items[position], trace | item_traces.get(position, NO_TRACE)
    return Unresolved(f"{{{{Select {position} of {_describe(items)}}}}}"), trace


def _describe(items: Any) -> str:
    return str(items[0]) if isinstance(items, list) and len(items) == 1 else str(items)


def _fn_split(ev: Evaluator, argument: Any) -> Value:
    parts = _items(argument)
    separator, separator_trace = ev.value(parts[0])
    source, trace = ev.value(parts[1]) if len(parts) > 1 else ("", NO_TRACE)
    trace = trace | separator_trace
    if isinstance(source, Unresolved):
        return Unresolved(f"{{{{Split {text(separator)!r} {source}}}}}"), trace
    result = EList()
    for piece in text(source).split(text(separator)):
        result.append(piece)
        result.origin.append(0)
    return result, trace


def _fn_find_in_map(ev: Evaluator, argument: Any) -> Value:
    parts = _items(argument)
    keys = [ev.value(part) for part in parts[:3]]
    trace = NO_TRACE
    for _, key_trace in keys:  # mapping keys choose the value; keyed by account, by identity
        decided = key_trace.as_decision()
        identity = (key_trace.inputs | key_trace.decisions) & IDENTITY_INPUTS
        trace = trace | Trace(decided.inputs, decided.decisions, decided.identity | identity)
    names = [text(key) for key, _ in keys]
    try:
        node = ev.mappings[names[0]][names[1]][names[2]]
    except (KeyError, TypeError, IndexError):
        if len(parts) > 3:  # AWS::LanguageExtensions default value
            default = parts[3].get("DefaultValue") if isinstance(parts[3], Mapping) else None
            if default is not None:
                value, default_trace = ev.value(default)
                return value, trace | default_trace
        return Unresolved(f"{{{{FindInMap {' '.join(names)}}}}}"), trace
    value, value_trace = ev.value(node)
    return value, trace | value_trace


def _fn_if(ev: Evaluator, argument: Any) -> Value:
    parts = _items(argument)
    holds, condition_trace = ev.condition(str(parts[0]))
    chosen = parts[1] if holds else parts[2]
    value, trace = ev.value(chosen)
    return value, trace | condition_trace.as_decision()


def _fn_condition_value(function: str) -> Callable[[Evaluator, Any], Value]:
    def evaluate(ev: Evaluator, argument: Any) -> Value:
        outcome, trace = ev.truth({f"Fn::{function}" if function != "Condition" else "Condition": argument})
        return outcome, trace

    return evaluate


def _fn_get_azs(ev: Evaluator, argument: Any) -> Value:
    region, trace = ev.value(argument)
    if not text(region):
        region, region_trace = ev.ref("AWS::Region")
        trace = trace | region_trace
    zones = EList()
    for index in range(6):  # zone names differ per account; their order is what templates use
        zones.append(Unresolved(f"{{{{AZ {index} of {text(region)}}}}}"))
        zones.origin.append(0)
    return zones, trace


def _fn_cidr(ev: Evaluator, argument: Any) -> Value:
    parts = _items(argument)
    (block, block_trace), (count, count_trace), (bits, bits_trace) = (ev.value(part) for part in parts[:3])
    trace = block_trace | count_trace | bits_trace
    try:
        network = ipaddress.ip_network(text(block), strict=False)
        prefix = network.max_prefixlen - int(text(bits))
        blocks = EList()
        for subnet in network.subnets(new_prefix=prefix):
            if len(blocks) == int(text(count)):
                break
            blocks.append(str(subnet))
            blocks.origin.append(0)
        return blocks, trace
    except ValueError:
        return Unresolved(f"{{{{Cidr {block} {count} {bits}}}}}"), trace


def _fn_base64(ev: Evaluator, argument: Any) -> Value:
    return ev.value(argument)  # kept readable: rules and compare care about the text


def _fn_import_value(ev: Evaluator, argument: Any) -> Value:
    name, trace = ev.value(argument)
    return Unresolved(f"{{{{ImportValue {name}}}}}"), trace


def _fn_length(ev: Evaluator, argument: Any) -> Value:
    items, trace = ev.value(argument)
    return (len(items), trace) if isinstance(items, list) else (Unresolved(f"{{{{Length {items}}}}}"), trace)


def _fn_to_json_string(ev: Evaluator, argument: Any) -> Value:
    value, trace = ev.value(argument)
    return json.dumps(plain(value), separators=(",", ":")), trace


_HANDLERS: dict[str, Callable[[Evaluator, Any], Value]] = {
    "Ref": _fn_ref,
    "GetAtt": _fn_get_att,
    "Sub": _fn_sub,
    "Join": _fn_join,
    "Select": _fn_select,
    "Split": _fn_split,
    "FindInMap": _fn_find_in_map,
    "If": _fn_if,
    "Equals": _fn_condition_value("Equals"),
    "And": _fn_condition_value("And"),
    "Or": _fn_condition_value("Or"),
    "Not": _fn_condition_value("Not"),
    "Condition": _fn_condition_value("Condition"),
    "GetAZs": _fn_get_azs,
    "Cidr": _fn_cidr,
    "Base64": _fn_base64,
    "ImportValue": _fn_import_value,
    "Length": _fn_length,
    "ToJsonString": _fn_to_json_string,
}


# --- effective templates ------------------------------------------------------------------------
@dataclass
class EffectiveTemplate:
    """One template as deployed in one environment and region."""

    template: Template
    stack: str  # "master" or the nested stack's logical id in the master
    environment: str
    wave: str
    role: str
    region: str
    account: str
    parameters: dict[str, Any]
    conditions: dict[str, bool]
    resources: dict[str, EMap]  # only those whose condition holds
    outputs: dict[str, Any]
    dropped: dict[str, str] = field(default_factory=dict)  # logical id -> the false condition
    parameter_traces: dict[str, Trace] = field(default_factory=dict)
    condition_traces: dict[str, Trace] = field(default_factory=dict)
    resource_traces: dict[str, Trace] = field(default_factory=dict)  # what decided presence
    output_traces: dict[str, Trace] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.template.name

    @property
    def label(self) -> str:
        """e.g. prod/primary/us-east-1/database"""
        return f"{self.environment}/{self.wave}/{self.region}/{self.template.name}"

    def of_type(self, *types: str) -> dict[str, EMap]:
        return {name: resource for name, resource in self.resources.items() if resource.get("Type") in types}

    def locate(self, logical_id: str | None, path: tuple[str | int, ...] = ()) -> tuple[str, int]:
        """Fragment file and line of a resource (or of a path inside it)."""
        if not logical_id:
            return self.template.origin("", "")
        file, line = self.template.origin("Resources", logical_id)
        node: Any = self.resources.get(logical_id)
        if node is None:
            return file, line
        for part in path:
            source = getattr(node, "src", None)
            if isinstance(node, EMap) and isinstance(part, str) and part in node:
                found = key_line(source, part) if source is not None else 0
                node = node[part]
            elif isinstance(node, EList) and isinstance(part, int) and 0 <= part < len(node):
                index = node.origin[part] if part < len(node.origin) else part
                found = key_line(source, index) if source is not None else 0
                node = node[part]
            else:
                break
            line = found or _node_line(node) or line
        return file, line


def _node_line(node: Any) -> int:
    source = getattr(node, "src", None)
    return node_line(source) if source is not None else 0


def _typed(definition: Mapping[str, Any], value: Any) -> Any:
    """A parameter value as the template sees it: lists split, everything else a string."""
    kind = str((definition or {}).get("Type", "String"))
    listy = (
        kind.startswith("List<")
        or kind == "CommaDelimitedList"
        or kind.startswith("AWS::SSM::Parameter::Value<List<")
        or kind == "AWS::SSM::Parameter::Value<CommaDelimitedList>"
    )
    if isinstance(value, list):
        return value if listy else ",".join(map(text, value))
    if not listy:
        return value if isinstance(value, Unresolved) else text(value)
    if isinstance(value, Unresolved):
        items = EList()
        items.append(value)
        items.origin.append(0)
        return items
    items = EList()
    for piece in [] if text(value) == "" else text(value).split(","):
        items.append(piece.strip())
        items.origin.append(0)
    return items


def pseudo_parameters(region: str, account: str, stack_name: str | None) -> dict[str, Value]:
    def own(name: str, value: Any) -> Value:
        return value, Trace(frozenset({name}))

    return {
        "AWS::Region": own("AWS::Region", region),
        "AWS::AccountId": own("AWS::AccountId", account),
        "AWS::Partition": (PARTITION, NO_TRACE),
        "AWS::URLSuffix": ("amazonaws.com", NO_TRACE),
        "AWS::StackName": own("AWS::StackName", stack_name or Unresolved("{{AWS::StackName}}")),
        "AWS::StackId": own("AWS::StackId", Unresolved("{{AWS::StackId}}")),
        "AWS::NotificationARNs": ([], NO_TRACE),
        "AWS::NoValue": (NO_VALUE, NO_TRACE),
    }


def evaluate(
    template: Template,
    parameters: Mapping[str, Value],
    *,
    region: str,
    account: str,
    environment: str = "",
    wave: str = "",
    role: str = "",
    stack: str = "",
    stack_name: str | None = None,
    attribute: AttributeHook | None = None,
) -> EffectiveTemplate:
    """`template` with these parameter values (value, trace) in one account and region."""
    body = template.body
    values: dict[str, Value] = {}
    for name, definition in (body.get("Parameters") or {}).items():
        if name in parameters:
            value, trace = parameters[name]
        elif isinstance(definition, Mapping) and "Default" in definition:
            value, trace = _scalar(definition["Default"]), NO_TRACE
        else:
            value, trace = Unresolved(f"{{{{Param {name}}}}}"), NO_TRACE
        values[str(name)] = (_typed(definition, value), trace)
    evaluator = Evaluator(body, values, pseudo_parameters(region, account, stack_name), attribute)
    effective = EffectiveTemplate(
        template=template,
        stack=stack or template.name,
        environment=environment,
        wave=wave,
        role=role,
        region=region,
        account=account,
        parameters={name: value for name, (value, _) in values.items()},
        parameter_traces={name: trace for name, (_, trace) in values.items() if trace},
        conditions={},
        resources={},
        outputs={},
    )
    for name in body.get("Conditions") or {}:
        holds, trace = evaluator.condition(str(name))
        effective.conditions[str(name)] = holds
        if trace:
            effective.condition_traces[str(name)] = trace
    for logical_id, resource in (body.get("Resources") or {}).items():
        holds, trace = evaluator.present(str(logical_id))
        if trace:
            effective.resource_traces[str(logical_id)] = trace
        if not holds:
            effective.dropped[str(logical_id)] = str(resource.get("Condition"))
            continue
        evaluated, _ = evaluator.value(resource)
        effective.resources[str(logical_id)] = evaluated
    for name, output in (body.get("Outputs") or {}).items():
        condition = output.get("Condition") if isinstance(output, Mapping) else None
        trace = NO_TRACE
        if condition is not None:
            holds, condition_trace = evaluator.condition(str(condition))
            trace = condition_trace.as_decision()
            if not holds:
                continue
        value, value_trace = evaluator.value(output.get("Value") if isinstance(output, Mapping) else output)
        effective.outputs[str(name)] = value
        if trace | value_trace:
            effective.output_traces[str(name)] = trace | value_trace
    effective.assumptions = sorted(set(evaluator.assumptions))
    return effective


# --- whole stacks and environments --------------------------------------------------------------
@dataclass
class EffectiveStack:
    """One top-level stack (a wave in one region) with its nested stacks, as deployed."""

    environment: str
    wave: str
    role: str
    region: str
    account: str
    stack_name: str
    master: EffectiveTemplate
    nested: dict[str, EffectiveTemplate]  # nested stack logical id -> template (present ones)
    inputs: dict[str, Any]  # every root input (master parameters, pseudo parameters) -> value

    def templates(self) -> list[EffectiveTemplate]:
        return [self.master, *self.nested.values()]


def master_inputs(stack: RenderedStack, account: str) -> dict[str, Value]:
    """The master's parameter values, each its own input; SSM-typed ones stay symbolic."""
    values: dict[str, Value] = {}
    definitions = stack.master.body.get("Parameters") or {}
    for name, raw in stack.parameters.get("master", {}).items():
        kind = str((definitions.get(name) or {}).get("Type", ""))
        value: Any = raw
        if kind.startswith("AWS::SSM::Parameter::Value<"):
            value = Unresolved(f"{{{{resolve:ssm:{raw}}}}}", ssm=raw)
        values[name] = (value, Trace(frozenset({name})))
    return values


def evaluate_stack(stack: RenderedStack, account: str) -> EffectiveStack:
    """The master of one wave and region and every nested stack it creates, with the parameters
    the master passes them."""
    nested_templates = stack.templates.nested
    cache: dict[str, EffectiveTemplate | None] = {}
    busy: set[str] = set()
    master_evaluator: list[Evaluator] = []

    def common(template: Template, stack_id: str) -> dict[str, Any]:
        return {
            "region": stack.region,
            "account": account,
            "environment": stack.environment,
            "wave": stack.wave,
            "role": stack.role,
            "stack": stack_id,
        }

    def nested(logical_id: str) -> EffectiveTemplate | None:
        if logical_id in cache:
            return cache[logical_id]
        if logical_id in busy or not master_evaluator:
            return None
        busy.add(logical_id)
        evaluator = master_evaluator[0]
        holds, _ = evaluator.present(logical_id)
        result = None
        if holds:
            node = (evaluator.resources[logical_id].get("Properties") or {}).get("Parameters") or {}
            passed = {str(name): evaluator.value(item) for name, item in node.items()}
            template = nested_templates[logical_id]
            result = evaluate(template, passed, stack_name=None, **common(template, logical_id))
        busy.discard(logical_id)
        cache[logical_id] = result
        return result

    def outputs(resource: str, attribute: str) -> Value | None:
        if resource in nested_templates and attribute.startswith("Outputs."):
            child = nested(resource)
            name = attribute.removeprefix("Outputs.")
            if child is not None and name in child.outputs:
                return _qualified(child.outputs[name], resource), child.output_traces.get(name, NO_TRACE)
        return None

    inputs = master_inputs(stack, account)
    master_body = stack.master.body
    typed = {
        name: (_typed((master_body.get("Parameters") or {}).get(name) or {}, value), trace)
        for name, (value, trace) in inputs.items()
    }
    pseudo = pseudo_parameters(stack.region, account, stack.stack_name)
    master_evaluator.append(Evaluator(master_body, typed, pseudo, outputs))
    master = evaluate(
        stack.master, inputs, stack_name=stack.stack_name, attribute=outputs, **common(stack.master, "master")
    )
    children = {logical_id: child for logical_id in nested_templates if (child := nested(logical_id))}
    roots = {name: value for name, (value, _) in inputs.items()}
    roots.update(
        {
            name: value
            for name, (value, _) in pseudo.items()
            if name in ("AWS::Region", "AWS::AccountId", "AWS::StackName")
        }
    )
    return EffectiveStack(
        stack.environment,
        stack.wave,
        stack.role,
        stack.region,
        account,
        stack.stack_name,
        master,
        children,
        roots,
    )


_LOCAL_SYMBOL = re.compile(r"\{\{(Ref|GetAtt) ")


def _qualified(value: Any, stack: str) -> Any:
    """A sibling stack's output as seen from another stack: its resource symbols name that stack
    ({{Database:Ref Secret}}), so they are not mistaken for the receiving stack's resources."""
    if isinstance(value, Unresolved) and value.ssm is None:
        return Unresolved(
            _LOCAL_SYMBOL.sub(lambda m: "{{" + stack + ":" + m.group(1) + " ", value),
            ref=f"{stack}:{value.ref}" if value.ref else None,
        )
    if isinstance(value, list):
        return [_qualified(item, stack) for item in value]
    return value


def evaluate_environment(rendered: RenderedSet) -> list[EffectiveStack]:
    """Every stack of one environment, as deployed."""
    account = rendered.environment.account_id
    return [evaluate_stack(stack, account) for stack in rendered.stacks]


def template_inputs(
    template: Template, env: Environment, role: str, overrides: Mapping[str, Any] | None = None
) -> dict[str, Value]:
    """Parameter values for a single template from an environment file (each its own input),
    for checking one template outside a wave (tests, fixtures)."""
    from payctl.config.parameters import parameter_values

    values: dict[str, Value] = {
        name: (value, Trace(frozenset({name})))
        for name, value in parameter_values(env, role, template.parameter_names).items()  # type: ignore[arg-type]
    }
    for name, value in (overrides or {}).items():
        values[name] = (value, Trace(frozenset({name})))
    return values
