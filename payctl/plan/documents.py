"""Templates as plain data for comparison: short-form tags become their long form (Fn::..., Ref).

Deployed templates come back from GetTemplate as YAML or JSON text in whatever form they were
submitted; rendered ones are YAML with short-form tags. Both are read into the same shape, the one
cfn-flip produces, with libyaml when available (plans read every template of every stack).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import yaml

Document = dict[str, Any]
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TemplateLoader(_BaseLoader):  # type: ignore[misc]
    """A safe loader that also reads CloudFormation's short-form tags."""


def _short_form(loader: Any, suffix: str, node: Any) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if name == "Fn::GetAtt" and isinstance(node, yaml.ScalarNode):
        return {name: str(loader.construct_scalar(node)).split(".", 1)}  # AWS splits at the first dot
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}


_TemplateLoader.add_multi_constructor("!", _short_form)
# Versions and dates stay the strings they are written as ("2010-09-09").
_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", _TemplateLoader.construct_yaml_str)


@lru_cache(maxsize=512)
def load_document(text: str | None) -> Document | None:
    """The template as plain data (cached: the same nested template serves every environment and
    region; callers must not change what they get)."""
    if not text:
        return None
    try:
        is_json = text.lstrip().startswith("{")
        data = json.loads(text) if is_json else yaml.load(text, Loader=_TemplateLoader)  # safe + short tags
    except (ValueError, yaml.YAMLError):  # a template CloudFormation accepted but this cannot read
        return None
    return data if isinstance(data, dict) else None


def resources(document: Document | None) -> dict[str, Document]:
    found = (document or {}).get("Resources") or {}
    return {str(key): value for key, value in found.items() if isinstance(value, dict)}


def outputs(document: Document | None) -> dict[str, Any]:
    return dict((document or {}).get("Outputs") or {})


def no_echo_parameters(document: Document | None) -> frozenset[str]:
    parameters = (document or {}).get("Parameters") or {}
    return frozenset(name for name, definition in parameters.items()
                     if isinstance(definition, dict) and str(definition.get("NoEcho", "")).lower() == "true")


def ssm_parameters(document: Document | None) -> frozenset[str]:
    """Parameters CloudFormation reads from SSM Parameter Store (their value is a parameter path)."""
    parameters = (document or {}).get("Parameters") or {}
    return frozenset(name for name, definition in parameters.items()
                     if isinstance(definition, dict)
                     and str(definition.get("Type", "")).startswith("AWS::SSM::"))


def compact(value: Any) -> str:
    """A short, stable text form of a template value: strings as is, intrinsics in short form."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (key, inner), = value.items()
        if key == "Ref":
            return f"!Ref {inner}"
        if key == "Fn::GetAtt":
            return "!GetAtt " + (".".join(map(str, inner)) if isinstance(inner, list) else str(inner))
        if key == "Fn::Sub":
            return "!Sub " + (inner if isinstance(inner, str) else compact(inner[0]) if inner else "")
        if key == "Fn::ImportValue":
            return f"!ImportValue {compact(inner)}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
