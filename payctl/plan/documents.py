"""Templates as plain data for comparison: short-form tags become their long form (Fn::..., Ref).

Deployed templates come back from GetTemplate as YAML or JSON text in whatever form they were
submitted; rendered ones are YAML with short-form tags. cfn-flip reads both into the same shape.
"""

from __future__ import annotations

import json
from typing import Any

from cfn_flip import load as cfn_load

Document = dict[str, Any]


def load_document(text: str | None) -> Document | None:
    if not text:
        return None
    try:
        data, _format = cfn_load(text)
    except Exception:  # a template CloudFormation accepted but cfn-flip cannot read: compare nothing
        return None
    return _plain(data) if isinstance(data, dict) else None


def _plain(value: Any) -> Any:
    """cfn-flip returns OrderedDicts and its own string subclasses; plain types compare and dump simply."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


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
