"""Which resource types take standard Tags, read from the schemas bundled with cfn-lint.

Importing cfn-lint costs over a second, so the schema index and files are read directly.
"""

from __future__ import annotations

import ast
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Literal

TagShape = Literal["list", "map"]


@cache
def _schemas_dir() -> Path:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cfn-lint is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"


@cache
def _type_index() -> dict[str, str]:
    """Resource type -> schema file digest. cfn-lint keeps this index as JSON (newer releases)
    or as a Python module holding a `types` dict (older ones)."""
    providers = _schemas_dir() / "providers"
    as_json = providers / "us-east-1.json"
    if as_json.is_file():
        return dict(json.loads(as_json.read_text(encoding="utf-8")))
    tree = ast.parse((providers / "us_east_1.py").read_text(encoding="utf-8"))
    for statement in tree.body:
        if isinstance(statement, ast.AnnAssign) and getattr(statement.target, "id", "") == "types" \
                and statement.value is not None:
            return dict(ast.literal_eval(statement.value))
    raise RuntimeError("cfn-lint schema index has an unexpected layout")


@cache
def tag_shape(resource_type: str) -> TagShape | None:
    """'list' for [{Key, Value}], 'map' for {key: value}, None when the type has no standard Tags."""
    digest = _type_index().get(resource_type)
    if digest is None:
        return None
    schema = json.loads((_schemas_dir() / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
    tags = schema.get("properties", {}).get("Tags")
    if not isinstance(tags, dict):
        return None
    if "$ref" in tags:
        tags = schema.get("definitions", {}).get(tags["$ref"].rsplit("/", 1)[-1], {})
    kind = tags.get("type")
    if kind == "array" or (isinstance(kind, list) and "array" in kind):
        item = tags.get("items", {})
        if "$ref" in item:
            item = schema.get("definitions", {}).get(item["$ref"].rsplit("/", 1)[-1], {})
        keys = set(item.get("properties", {}))
        return "list" if {"Key", "Value"} <= keys and not set(item.get("required", [])) - {"Key", "Value"} else None
    if kind == "object" and ("patternProperties" in tags or "additionalProperties" in tags):
        return "map"
    return None
