"""A resource's name property is read from the model that handles the type.

moto gap: `resource_name_property_from_type` returns the name property of the FIRST model
registered for a type, while `get_model_map` uses the LAST. When a payctl provider replaces a
moto model (e.g. AWS::IAM::ManagedPolicy), the template's name (`ManagedPolicyName`) was ignored
and a generated `{stack}-{logical id}-{random}` name used instead.
"""

from __future__ import annotations

from collections.abc import Callable

from moto.cloudformation import parsing

from ._guard import require_attr, require_source

NAME = "resource_names"

_original: Callable[[str], str | None] | None = None


def check() -> None:
    function = _original or require_attr(parsing, "resource_name_property_from_type", NAME)
    require_source(function, "get_model_list()", NAME)
    require_source(require_attr(parsing, "parse_resource_and_generate_name", NAME),
                   "resource_name_property_from_type(", NAME)


def resource_name_property_from_type(resource_type: str) -> str | None:
    # get_name_type_map is built like get_model_map, so the handling model's name property wins.
    return parsing.get_name_type_map().get(resource_type) or None


def apply() -> None:
    global _original
    if _original is None:
        _original = parsing.resource_name_property_from_type
    parsing.resource_name_property_from_type = resource_name_property_from_type
