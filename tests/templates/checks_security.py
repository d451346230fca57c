"""Security conventions as small checks, shared by the tests and a later policy gate.

Templates are in long form (``Fn::``/``Ref`` dicts, as ``cfn_flip.load_yaml`` returns them).
Each ``check_*`` returns a list of problems, empty when the template complies. ``resolve``
evaluates the intrinsic functions these checks meet (``Ref``, ``Fn::Sub``, ``Fn::Join``,
``Fn::If`` and the condition functions) for one environment and region, so names, ARNs and
conditions can be checked as AWS will see them.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from payctl.policy.model import statement_lines  # the product's reading of a `# why:` comment

Template = Mapping[str, Any]

NO_VALUE = object()  # what `Ref AWS::NoValue` resolves to; dropped from lists and maps
IDENTITY_POLICY_TYPES = ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::RolePolicy")
READ_PREFIXES = ("Describe", "Get", "List", "BatchGet", "Lookup", "Search", "Detect", "View")
MANAGED_POLICY_MAX_CHARS = 6144  # IAM quota, whitespace not counted
WHY = "# why:"


# --- access ---------------------------------------------------------------------------------
def resources(template: Template, *types: str) -> dict[str, Mapping[str, Any]]:
    """Resources of the given types (all when none are given), by logical id."""
    return {
        name: resource
        for name, resource in (template.get("Resources") or {}).items()
        if not types or resource.get("Type") in types
    }


def props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# --- evaluating intrinsics --------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """What CloudFormation knows when it deploys one stack: parameter values and pseudo parameters."""

    values: Mapping[str, Any]
    region: str
    account: str
    partition: str = "aws"

    def pseudo(self, name: str) -> Any:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }.get(name)


def with_defaults(template: Template, values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values as CloudFormation uses them: the given ones over the template's defaults."""
    merged: dict[str, Any] = {}
    for name, definition in (template.get("Parameters") or {}).items():
        if "Default" in definition:
            default = definition["Default"]
            if str(definition.get("Type")) == "CommaDelimitedList" and isinstance(default, str):
                default = default.split(",") if default else []
            merged[name] = default
    for name, value in values.items():
        kind = str(((template.get("Parameters") or {}).get(name) or {}).get("Type", ""))
        merged[name] = value.split(",") if kind == "CommaDelimitedList" and isinstance(value, str) else value
    return merged


def condition_value(template: Template, name: str, ctx: Context) -> bool:
    return bool(resolve(template["Conditions"][name], template, ctx))


def resolve(value: Any, template: Template, ctx: Context) -> Any:
    """The value with intrinsic functions evaluated; ``Fn::GetAtt`` becomes ``"<Resource.Attribute>"``
    and a ``Ref`` to a resource ``"<Resource>"``, since only AWS knows those."""
    if isinstance(value, list):
        items = [resolve(item, template, ctx) for item in value]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(value, Mapping):
        return value
    if len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            if str(argument).startswith("AWS::"):
                return ctx.pseudo(str(argument))
            if argument in ctx.values:
                return ctx.values[argument]
            return f"<{argument}>"
        if function == "Fn::GetAtt":
            parts = argument if isinstance(argument, list) else str(argument).split(".", 1)
            return f"<{'.'.join(str(p) for p in parts)}>"
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            local = {key: resolve(item, template, ctx) for key, item in variables.items()}
            return re.sub(r"\$\{([^}!]+)\}", lambda m: _sub_variable(m.group(1), local, template, ctx), text)
        if function == "Fn::Join":
            delimiter, items = argument
            return str(delimiter).join(str(item) for item in as_list(resolve(items, template, ctx)))
        if function == "Fn::Split":
            delimiter, text = argument
            return str(resolve(text, template, ctx)).split(str(delimiter))
        if function == "Fn::Select":
            index, items = argument
            return as_list(resolve(items, template, ctx))[int(resolve(index, template, ctx))]
        if function == "Fn::If":
            name, when_true, when_false = argument
            return resolve(when_true if condition_value(template, name, ctx) else when_false, template, ctx)
        if function == "Fn::Equals":
            left, right = (resolve(item, template, ctx) for item in argument)
            return str(left) == str(right)
        if function == "Fn::And":
            return all(resolve(item, template, ctx) for item in argument)
        if function == "Fn::Or":
            return any(resolve(item, template, ctx) for item in argument)
        if function == "Fn::Not":
            return not resolve(argument[0], template, ctx)
        if function == "Condition":
            return condition_value(template, str(argument), ctx)
    resolved = {key: resolve(item, template, ctx) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not NO_VALUE}


def _sub_variable(name: str, local: Mapping[str, Any], template: Template, ctx: Context) -> str:
    if name in local:
        return str(local[name])
    if "." in name and not name.startswith("AWS::"):
        return f"<{name}>"
    return str(resolve({"Ref": name}, template, ctx))


def resolved_resources(template: Template, ctx: Context, *types: str) -> dict[str, dict[str, Any]]:
    """Resources whose Condition holds, with their properties resolved."""
    found = {}
    for name, resource in resources(template, *types).items():
        condition = resource.get("Condition")
        if condition is not None and not condition_value(template, str(condition), ctx):
            continue
        found[name] = {**resource, "Properties": resolve(props(resource), template, ctx)}
    return found


# --- policies ---------------------------------------------------------------------------------
def statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A policy document's statements; both branches of an unresolved ``Fn::If``."""
    found: list[Mapping[str, Any]] = []
    for item in as_list(document.get("Statement")):
        if isinstance(item, Mapping) and "Fn::If" in item:
            found += [
                branch
                for branch in item["Fn::If"][1:]
                if isinstance(branch, Mapping) and branch != {"Ref": "AWS::NoValue"}
            ]
        elif isinstance(item, Mapping):
            found.append(item)
    return found


def identity_policies(template: Template) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, document) of every identity policy: role inline policies and managed policies."""
    for name, role in resources(template, "AWS::IAM::Role").items():
        for policy in as_list(props(role).get("Policies")):
            yield f"{name}.{policy.get('PolicyName')}", policy.get("PolicyDocument") or {}
    for name, policy in resources(template, *IDENTITY_POLICY_TYPES).items():
        yield name, props(policy).get("PolicyDocument") or {}


def actions(statement: Mapping[str, Any]) -> list[str]:
    return [str(action) for action in as_list(statement.get("Action"))]


def is_wildcard(action: str) -> bool:
    return "*" in action


def is_read_only(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return verb != "*" and verb.startswith(READ_PREFIXES)


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, ``*`` and ``?`` wildcards."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def boundary_verdict(boundary: Mapping[str, Any], action: str) -> str:
    """ "allow", "deny" or "implicit-deny" for an action under a boundary, ignoring resources and
    conditions (a boundary must at least name an action for any role to use it)."""
    chosen = statements(boundary)
    if any(s.get("Effect") == "Deny" and any(action_matches(p, action) for p in actions(s)) for s in chosen):
        return "deny"
    if any(s.get("Effect") == "Allow" and any(action_matches(p, action) for p in actions(s)) for s in chosen):
        return "allow"
    return "implicit-deny"


def principals(statement: Mapping[str, Any]) -> dict[str, list[Any]]:
    principal = statement.get("Principal")
    if principal == "*":
        return {"*": ["*"]}
    return {str(kind): as_list(value) for kind, value in (principal or {}).items()}


def condition_keys(statement: Mapping[str, Any]) -> set[str]:
    """The condition keys a statement tests, whatever the operators."""
    return {
        str(key)
        for block in (statement.get("Condition") or {}).values()
        if isinstance(block, Mapping)
        for key in block
    }


def policy_size(document: Any) -> int:
    """Characters IAM counts against the managed-policy quota (JSON without whitespace)."""
    return len(json.dumps(document, separators=(",", ":")))


# --- checks over rendered templates -----------------------------------------------------------
def boundary_exemptions(template: Template) -> dict[str, str]:
    """Roles exempt from the boundary rule, with the reason their Metadata gives."""
    return {
        name: str(((role.get("Metadata") or {}).get("payctl") or {}).get("boundaryExempt") or "")
        for name, role in resources(template, "AWS::IAM::Role").items()
        if ((role.get("Metadata") or {}).get("payctl") or {}).get("boundaryExempt") is not None
    }


def check_roles_have_boundary(template: Template, boundary: Any | None = None) -> list[str]:
    """Every role carries a permissions boundary (``boundary`` exactly, when given), unless its
    Metadata ``payctl.boundaryExempt`` says why not."""
    problems = []
    exempt = boundary_exemptions(template)
    for name, role in resources(template, "AWS::IAM::Role").items():
        if name in exempt:
            if len(exempt[name].split()) < 5:
                problems.append(f"{name}: boundaryExempt needs a real reason, got {exempt[name]!r}")
            if props(role).get("PermissionsBoundary"):
                problems.append(f"{name}: exempt yet carries a boundary; drop one of them")
            continue
        value = props(role).get("PermissionsBoundary")
        if not value:
            problems.append(f"{name}: no PermissionsBoundary")
        elif boundary is not None and value != boundary:
            problems.append(f"{name}: PermissionsBoundary is {value}, expected {boundary}")
    return problems


def check_keys_rotate(template: Template) -> list[str]:
    keys = resources(template, "AWS::KMS::Key")
    problems = [
        f"{name}: EnableKeyRotation is not true"
        for name, key in keys.items()
        if props(key).get("EnableKeyRotation") is not True
    ]
    problems += [
        f"{name}: KeySpec {props(key)['KeySpec']} cannot rotate"
        for name, key in keys.items()
        if props(key).get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT"
    ]
    return problems


def check_key_policy_least_privilege(template: Template) -> list[str]:
    """No wildcard actions; data-plane use by account principals only through named services or
    encryption contexts; no anonymous principal without an organization condition."""
    data_plane = (
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:CreateGrant",
    )
    problems = []
    for name, key in resources(template, "AWS::KMS::Key").items():
        for statement in statements(props(key).get("KeyPolicy") or {}):
            sid = statement.get("Sid", "?")
            if statement.get("Effect") != "Allow":
                continue
            problems += [f"{name}.{sid}: wildcard action {a}" for a in actions(statement) if is_wildcard(a)]
            keys = condition_keys(statement)
            who = principals(statement)
            if "*" in who.get("AWS", []) + who.get("*", []) and "aws:PrincipalOrgID" not in keys:
                problems.append(f"{name}.{sid}: anonymous principal without aws:PrincipalOrgID")
            uses_data = [a for a in actions(statement) if a in data_plane]
            if (
                "AWS" in who
                and uses_data
                and not any(k == "kms:ViaService" or k.startswith("kms:EncryptionContext:") for k in keys)
            ):
                problems.append(
                    f"{name}.{sid}: {uses_data} for account principals without "
                    "kms:ViaService or an encryption-context condition"
                )
    return problems


def check_no_retain(template: Template) -> list[str]:
    return [
        f"{name}: {policy} is {resource[policy]}"
        for name, resource in resources(template).items()
        for policy in ("DeletionPolicy", "UpdateReplacePolicy")
        if str(resource.get(policy, "")).startswith("Retain")
    ]


def ssm_parameters(template: Template, ctx: Context) -> dict[str, dict[str, Any]]:
    """Resolved name -> resolved properties of every SSM parameter the template creates."""
    return {
        str(parameter["Properties"]["Name"]): parameter["Properties"]
        for parameter in resolved_resources(template, ctx, "AWS::SSM::Parameter").values()
    }


SSM_NAME = re.compile(
    r"^/(?P<environment>[a-z]+)/(?P<service>[a-z0-9]+(-[a-z0-9]+)*)"
    r"/(?P<parameter>[a-z0-9]+(-[a-z0-9]+)*)$"
)


def check_ssm_names(template: Template, ctx: Context, environment: str) -> list[str]:
    """Names are /{environment}/{service}/{parameter}, lower-case words joined by dashes; types are
    String or StringList (CloudFormation cannot create SecureString)."""
    problems = []
    for name, properties in ssm_parameters(template, ctx).items():
        match = SSM_NAME.match(name)
        if not match:
            problems.append(f"{name}: not /{{environment}}/{{service}}/{{parameter}}")
        elif match["environment"] != environment:
            problems.append(f"{name}: environment segment is not {environment}")
        if properties.get("Type") not in ("String", "StringList"):
            problems.append(f"{name}: Type {properties.get('Type')} (String or StringList only)")
    return problems


def parameter_arn(name: str, ctx: Context) -> str:
    return f"arn:{ctx.partition}:ssm:{ctx.region}:{ctx.account}:parameter{name}"


def check_subtree_read_policy(
    document: Mapping[str, Any], subtree: str, key_arn: Any, ctx: Context
) -> list[str]:
    """A resolved policy reads SSM parameters under ``subtree`` (e.g. /prod/payment-api) and nothing
    else, and decrypts SecureStrings with ``key_arn`` only through SSM, only for that subtree."""
    allowed_resources = {parameter_arn(subtree, ctx), parameter_arn(subtree, ctx) + "/*"}
    problems = []
    for statement in statements(document):
        sid = statement.get("Sid", "?")
        if statement.get("Effect") != "Allow":
            continue
        for action in actions(statement):
            service = action.split(":", 1)[0]
            if service == "ssm":
                if action not in ("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"):
                    problems.append(f"{sid}: {action} is not a parameter read")
                extra = set(map(str, as_list(statement.get("Resource")))) - allowed_resources
                problems += [f"{sid}: reads {r} outside {subtree}" for r in sorted(extra)]
            elif action == "kms:Decrypt":
                condition = statement.get("Condition") or {}
                if as_list(statement.get("Resource")) != [key_arn]:
                    problems.append(
                        f"{sid}: decrypts with {statement.get('Resource')}, not the environment key"
                    )
                if (condition.get("StringEquals") or {}).get(
                    "kms:ViaService"
                ) != f"ssm.{ctx.region}.amazonaws.com":
                    problems.append(f"{sid}: kms:Decrypt not limited to SSM in {ctx.region}")
                context = (condition.get("StringLike") or {}).get("kms:EncryptionContext:PARAMETER_ARN")
                if context != parameter_arn(subtree, ctx) + "/*":
                    problems.append(f"{sid}: kms:Decrypt encryption context {context!r} is not {subtree}/*")
            else:
                problems.append(f"{sid}: unexpected action {action}")
    return problems


def policy_reads(document: Mapping[str, Any], arn: str) -> bool:
    """Whether a resolved policy lets ssm:GetParameter reach this parameter ARN."""
    return any(
        statement.get("Effect") == "Allow"
        and any(action_matches(a, "ssm:GetParameter") for a in actions(statement))
        and any(fnmatch.fnmatchcase(arn, str(r)) for r in as_list(statement.get("Resource")))
        for statement in statements(document)
    )


# --- checks over fragment sources (comments live only there) ---------------------------------
@dataclass(frozen=True)
class SourceStatement:
    file: str
    line: int  # 1-based line of the statement's first key
    effect: str
    actions: tuple[str, ...]
    resource_star: bool
    has_principal: bool
    explained: bool  # a "# why:" comment inside the statement or in the comment block above it


def _mappings(node: Any) -> Iterator[CommentedMap]:
    if isinstance(node, CommentedMap):
        yield node
        for value in node.values():
            yield from _mappings(value)
    elif isinstance(node, CommentedSeq):
        for item in node:
            yield from _mappings(item)


def _plain(node: Any) -> list[str]:
    """Action/Resource values as strings; intrinsic functions become their text."""
    return [str(item) for item in (node if isinstance(node, list) else [node])]


def source_statements(path: Path, root: Path | None = None) -> list[SourceStatement]:
    """Every policy statement (a mapping with Effect and Action) written in a fragment."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    document = YAML(typ="rt").load(text)
    display = path.relative_to(root).as_posix() if root else str(path)
    found = []
    for node in _mappings(document):
        if "Effect" not in node or "Action" not in node:
            continue
        first = min(node.lc.key(key)[0] for key in node)  # 0-based
        found.append(
            SourceStatement(
                file=display,
                line=first + 1,
                effect=str(node["Effect"]),
                actions=tuple(_plain(node["Action"])),
                resource_star="*" in _plain(node.get("Resource", "")),
                has_principal="Principal" in node,
                explained=any(WHY in line for line in statement_lines(lines, first)),
            )
        )
    return found


def check_wildcards_explained(paths: Iterable[Path], root: Path | None = None) -> list[str]:
    """Allow statements with a wildcard action, or an identity-policy write on ``Resource: "*"``,
    carry a ``# why:`` comment (above the statement or inside it). Deny statements only narrow."""
    problems = []
    for path in paths:
        for statement in source_statements(path, root):
            if statement.effect != "Allow" or statement.explained:
                continue
            wildcards = [a for a in statement.actions if is_wildcard(a)]
            writes = (
                [a for a in statement.actions if not is_read_only(a)]
                if statement.resource_star and not statement.has_principal
                else []
            )
            if wildcards:
                problems.append(
                    f"{statement.file}:{statement.line}: wildcard actions {wildcards} without {WHY}"
                )
            elif writes:
                problems.append(f'{statement.file}:{statement.line}: {writes} on Resource "*" without {WHY}')
    return problems
