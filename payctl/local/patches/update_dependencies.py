"""Stack updates reach every resource whose resolved properties change.

moto gap: on update, moto re-creates or updates only resources whose template JSON changed or that
`Ref` a changed parameter; resources that use the parameter through `Fn::Sub`, or that read a
changed resource through `Ref`/`Fn::GetAtt` (e.g. an SSM parameter holding a nested stack's
output), keep stale values. AWS re-evaluates them. This wraps `ResourceMap.build_resource_diff` to
add those dependents (transitively) to the resources to modify.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing

from ._guard import require_attr, require_params

NAME = "update_dependencies"

_SUB_NAME = re.compile(r"\$\{(?!!)([^}.]+)(?:\.[^}]*)?\}")

_original: Callable[..., dict[str, Any]] | None = None


def check() -> None:
    method = _original or require_attr(parsing.ResourceMap, "build_resource_diff", NAME)
    require_params(method, ["self", "other_template", "parameters"], NAME)


def references(node: Any) -> set[str]:
    """Logical ids and parameter names a template fragment depends on."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value.split(".", 1)[0] if isinstance(value, str) else value[0]
                if isinstance(target, str):
                    found.add(target)
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                found |= set(_SUB_NAME.findall(text))
                if isinstance(value, list) and len(value) > 1:
                    found |= references(value[1])
            else:
                found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def _updatable(resource: dict[str, Any]) -> bool:
    # moto drops a "modified" resource whose model cannot update; leave those alone.
    model = parsing.resource_class_from_type(str(resource.get("Type", "")))
    update = getattr(model, "update_from_cloudformation_json", None)
    return update is not None and not hasattr(update, "__isabstractmethod__")


def build_resource_diff(
    self: Any, other_template: dict[str, Any], parameters: dict[str, Any] | None = None
) -> dict[str, Any]:
    assert _original is not None
    result = _original(self, other_template, parameters)
    old, new = self._resource_json_map, other_template.get("Resources") or {}
    changed = set(result["Modify"]) | set(result["Add"])
    if parameters:
        changed |= {key for key, value in parameters.items() if self.input_parameters.get(key) != value}
    grew = True
    while grew:
        grew = False
        for name, resource in new.items():
            if (
                name in old
                and name not in changed
                and _updatable(resource)
                and references(resource) & changed
            ):
                result["Modify"].append(name)
                changed.add(name)
                grew = True
    return result


def apply() -> None:
    global _original
    if _original is None:
        _original = parsing.ResourceMap.build_resource_diff
    parsing.ResourceMap.build_resource_diff = build_resource_diff  # type: ignore[method-assign]
