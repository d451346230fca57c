"""Would changing this property replace the resource? The resource schemas bundled with cfn-lint say
(`createOnlyProperties`: always; `conditionalCreateOnlyProperties`: sometimes).

Only used where CloudFormation gave no answer: changes read from templates when a nested change set
is missing. A change set's own Replacement and RequiresRecreation always win.
"""

from __future__ import annotations

import json
from functools import cache

from payctl.templates.schemas import _schemas_dir, _type_index  # the one reader of cfn-lint's schemas


@cache
def create_only(resource_type: str) -> tuple[frozenset[str], frozenset[str]]:
    """(always, conditionally): top-level property names whose change recreates the resource."""
    digest = _type_index().get(resource_type)
    if digest is None:
        return frozenset(), frozenset()
    try:
        schema = json.loads((_schemas_dir() / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset(), frozenset()

    def top(paths: list[str] | None) -> list[tuple[str, bool]]:
        found = []
        for path in paths or []:
            parts = path.split("/")  # "/properties/Name" or "/properties/Name/Inner"
            if len(parts) >= 3 and parts[1] == "properties":
                found.append((parts[2], len(parts) == 3))
        return found

    always = {name for name, whole in top(schema.get("createOnlyProperties")) if whole}
    conditionally = {name for name, whole in top(schema.get("createOnlyProperties")) if not whole}
    conditionally |= {name for name, _whole in top(schema.get("conditionalCreateOnlyProperties"))}
    return frozenset(always), frozenset(conditionally - always)


def requires_recreation(resource_type: str, property_name: str) -> str:
    """Never, Conditionally or Always, in CloudFormation's words."""
    always, conditionally = create_only(resource_type)
    if property_name in always:
        return "Always"
    return "Conditionally" if property_name in conditionally else "Never"
