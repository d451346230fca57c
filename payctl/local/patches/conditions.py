"""`Fn::Equals` compared as CloudFormation compares it: as strings.

moto gap: moto turns `Number` parameters into Python numbers and then compares them with `==`,
so `!Equals [!Ref DbReaderCount, "2"]` is false for a Number parameter of value 2 (AWS: true).
Every condition is parsed through the module global `parse_condition`, so one wrapper bound
there sees them all, nested `Fn::Not`/`Fn::And`/`Fn::Or` included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing

from ._guard import require_attr, require_source

NAME = "conditions"

_original_parse_condition: Callable[..., bool] | None = None


def check() -> None:
    parse = _original_parse_condition or require_attr(parsing, "parse_condition", NAME)
    require_source(parse, '"Fn::Equals"', NAME)
    require_source(require_attr(parsing.ResourceMap, "load_conditions", NAME), "parse_condition,", NAME)


def as_cloudformation_text(value: Any) -> Any:
    """How CloudFormation sees a scalar in a comparison: numbers and booleans as their text."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def parse_condition(condition: Any, resources_map: Any, condition_map: Any) -> bool:
    assert _original_parse_condition is not None
    if isinstance(condition, dict) and list(condition) == ["Fn::Equals"]:
        values = [condition_map[v["Condition"]] if isinstance(v, dict) and "Condition" in v
                  else parsing.clean_json(v, resources_map) for v in condition["Fn::Equals"]]
        left, right = (as_cloudformation_text(value) for value in values)
        return bool(left == right)
    return _original_parse_condition(condition, resources_map, condition_map)


def apply() -> None:
    global _original_parse_condition
    if _original_parse_condition is None:
        _original_parse_condition = parsing.parse_condition
    parsing.parse_condition = parse_condition
