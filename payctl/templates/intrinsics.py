"""Reading CloudFormation intrinsic functions in ruamel round-trip data, short or long form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}]+)\}")


def tag_of(node: Any) -> str | None:
    """The short-form tag of a node (`Ref`, `Sub`, ...) or None."""
    tag = getattr(node, "tag", None)
    value = getattr(tag, "value", None) if tag is not None and not isinstance(tag, str) else tag
    if isinstance(value, str) and value.startswith("!"):
        return value[1:]
    return None


def make(function: str, value: Any) -> Any:
    """A short-form intrinsic node, e.g. make("Ref", "VpcId") dumps as `!Ref VpcId`."""
    if isinstance(value, str):
        return TaggedScalar(value=value, tag=f"!{function}")
    node = CommentedSeq(value) if isinstance(value, list) else CommentedMap(value)
    if isinstance(node, CommentedSeq):
        node.fa.set_flow_style()  # !Join [",", !Ref X] reads better than a block list
    node.yaml_set_ctag(_ctag(f"!{function}"))
    return node


def _ctag(value: str) -> Any:
    from ruamel.yaml.tag import Tag

    return Tag(suffix=value)


def calls(node: Any) -> Iterator[tuple[str, Any]]:
    """Every intrinsic call below node, as (function name without Fn::, argument)."""
    tag = tag_of(node)
    if tag is not None:
        yield tag, node.value if isinstance(node, TaggedScalar) else node
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and (key == "Ref" or key.startswith("Fn::") or key == "Condition"):
                yield key.removeprefix("Fn::"), value
            yield from calls(value)
    elif isinstance(node, list):
        for item in node:
            yield from calls(item)


@dataclass
class References:
    """Names a piece of template refers to, by kind."""

    names: set[str] = field(default_factory=set)  # Ref targets and Sub variables: parameters or resources
    attributes: set[tuple[str, str]] = field(default_factory=set)  # GetAtt (resource, attribute)
    conditions: set[str] = field(default_factory=set)
    mappings: set[str] = field(default_factory=set)


def references(node: Any) -> References:
    found = References()
    for function, argument in calls(node):
        if function == "Ref" and isinstance(argument, str):
            found.names.add(argument)
        elif function == "Sub":
            text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
            for variable in _SUB_VARIABLE.findall(str(text)):
                head, _, attribute = variable.partition(".")
                if head in variables:
                    continue
                if attribute:
                    found.attributes.add((head, attribute))
                else:
                    found.names.add(head)
        elif function == "GetAtt":
            resource, _, attribute = (
                argument.partition(".") if isinstance(argument, str)
                else (str(argument[0]), ".", str(argument[1]))
            )
            found.attributes.add((resource, attribute))
        elif function in ("If",) and isinstance(argument, list) and argument:
            found.conditions.add(str(argument[0]))
        elif function == "Condition" and isinstance(argument, str):
            found.conditions.add(argument)
        elif function == "FindInMap" and isinstance(argument, list) and argument:
            found.mappings.add(str(argument[0]))
    found.names = {name for name in found.names if not name.startswith("AWS::")}
    return found
