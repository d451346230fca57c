"""Plan <-> JSON (schema version 1, documented in docs/plan.md).

Field names are the model's in camelCase; tuples are arrays; enums their string value. Two derived
fields are written for readers and ignored when loading: `danger` on each resource change and
`summary` on the plan. Loading checks `schemaVersion` and every field's type.
"""

from __future__ import annotations

import dataclasses
import json
import types
from enum import Enum
from functools import cache
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from payctl.errors import PlanFileError
from payctl.plan import model
from payctl.plan.model import SCHEMA_VERSION, Plan, ResourceChange

T = TypeVar("T")


def camel(name: str) -> str:
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(part.title() for part in rest)


def to_data(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {camel(f.name): to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, ResourceChange):
            data["danger"] = value.danger.value
        if isinstance(value, Plan):
            summary = value.summary()
            data["summary"] = {**to_data(summary), "hasChanges": summary.has_changes}
        return data
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_data(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_data(item) for key, item in value.items()}
    return value


def dumps(plan: Plan) -> str:
    document = to_data(plan)
    ordered = {"schemaVersion": document.pop("schemaVersion"), **document}
    return json.dumps(ordered, indent=2, sort_keys=False) + "\n"


def loads(text: str) -> Plan:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise PlanFileError(f"not a plan file: {error}") from None
    if not isinstance(document, dict):
        raise PlanFileError("not a plan file: expected a JSON object")
    version = document.get("schemaVersion")
    if version != SCHEMA_VERSION:
        raise PlanFileError(f"plan schema version {version!r} is not supported "
                            f"(this payctl reads {SCHEMA_VERSION})",
                            hint="make the plan again with this payctl")
    plan: Plan = from_data(Plan, document, "plan")
    return plan


@cache
def _hints(cls: Any) -> dict[str, Any]:
    return get_type_hints(cls, vars(model))


def from_data(kind: Any, data: Any, where: str) -> Any:
    origin, args = get_origin(kind), get_args(kind)
    if kind is Any:
        return data
    if origin is Literal:
        if data not in args:
            raise PlanFileError(f"{where}: {data!r} is not one of {', '.join(map(repr, args))}")
        return data
    if origin in (Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        options = [arg for arg in args if arg is not type(None)]
        if len(options) > 1 and isinstance(data, dict) and "kind" in data:
            for option in options:
                if isinstance(option, type) and data["kind"] in get_args(_hints(option).get("kind")):
                    return from_data(option, data, where)
        return from_data(options[0], data, where)
    if origin is tuple:
        if not isinstance(data, list):
            raise PlanFileError(f"{where}: expected a list")
        return tuple(from_data(args[0], item, f"{where}[{index}]") for index, item in enumerate(data))
    if origin is dict:
        if not isinstance(data, dict):
            raise PlanFileError(f"{where}: expected an object")
        return {str(key): from_data(args[1], item, f"{where}.{key}") for key, item in data.items()}
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(data)
        except ValueError:
            raise PlanFileError(f"{where}: {data!r} is not a valid {kind.__name__}") from None
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(data, dict):
            raise PlanFileError(f"{where}: expected an object")
        hints = _hints(kind)
        values = {}
        for f in dataclasses.fields(kind):
            key = camel(f.name)
            if key in data:
                values[f.name] = from_data(hints[f.name], data[key], f"{where}.{key}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise PlanFileError(f"{where}: {key} is missing")
        return kind(**values)
    if kind in (str, int, bool, float):
        if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
            raise PlanFileError(f"{where}: expected {kind.__name__}, got {data!r}")
        return data
    raise PlanFileError(f"{where}: cannot read a {kind!r}")
