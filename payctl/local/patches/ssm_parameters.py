"""SSM-typed stack parameters resolved as AWS resolves them.

moto gaps: `AWS::SSM::Parameter::Name` parameters are resolved to the parameter's value (AWS keeps
the name); a missing parameter crashes with AttributeError instead of a ValidationError.
Values are read in the stack's own account and region, as AWS does.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.ssm.models import ssm_backends

from ._guard import require_attr, require_params

NAME = "ssm_parameters"
VALUE_TYPE_PREFIX = "AWS::SSM::Parameter::Value<"


def check() -> None:
    method = require_attr(parsing.ResourceMap, "parse_ssm_parameter", NAME)
    require_params(method, ["self", "value", "value_type"], NAME)
    require_attr(parsing, "ssm_backends", NAME)


def parse_ssm_parameter(self: Any, value: str, value_type: str) -> Any:
    if not value_type.startswith(VALUE_TYPE_PREFIX):
        return value
    parameter = ssm_backends[self._account_id][self._region_name].get_parameter(value)
    if parameter is None:
        raise ValidationError(
            message=f"Unable to fetch parameters [{value}] from parameter store for this account."
        )
    if "List" in value_type:
        return parameter.value.split(",")
    return parameter.value


def apply() -> None:
    parsing.ResourceMap.parse_ssm_parameter = parse_ssm_parameter  # type: ignore[method-assign]
