"""Nested stacks (`AWS::CloudFormation::Stack`) behave as in AWS.

moto gaps:
- moto's `Stack` model has no `get_cfn_attribute`, so `Fn::GetAtt Child.Outputs.X` crashes;
- `Ref` to a nested stack gives its name, AWS gives the stack ARN;
- an update of the parent deletes and recreates the child (and every resource in it);
- nested stacks carry no `ParentId`/`RootId`.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation.exceptions import ValidationError

from . import template_url
from ._guard import require_attr, require_params

NAME = "nested_stacks"
OUTPUTS_PREFIX = "Outputs."


def check() -> None:
    stack_cls = require_attr(cfn_models, "Stack", NAME)
    for attr in ("create_from_cloudformation_json", "update_from_cloudformation_json", "update"):
        require_attr(stack_cls, attr, NAME)
    require_params(stack_cls.update, ["template", "role_arn", "parameters", "tags"], NAME)
    require_attr(cfn_models, "cloudformation_backends", NAME)


def _has_cfn_attr(cls: type, attr: str) -> bool:
    return attr.startswith(OUTPUTS_PREFIX) or attr == "StackId"


def _get_cfn_attribute(self: Any, attr: str) -> Any:
    if attr == "StackId":
        return self.stack_id
    if attr.startswith(OUTPUTS_PREFIX):
        key = attr[len(OUTPUTS_PREFIX) :]
        if key in self.output_map.outputs:
            output = self.output_map[key]
            if output is not None:
                return output.value
        raise ValidationError(message=f"Template error: nested stack {self.name} has no output named {key}")
    raise ValidationError(
        message=f"Template error: resource type AWS::CloudFormation::Stack has no attribute {attr}"
    )


def _physical_resource_id(self: Any) -> str:
    # AWS: Ref to a nested stack returns the stack ARN.
    return str(self.stack_id)


def _template_and_parameters(
    cloudformation_json: dict[str, Any], account_id: str, region_name: str
) -> tuple[str, dict[str, Any]]:
    properties = cloudformation_json["Properties"]
    from moto.utilities.utils import get_partition

    body = template_url.get_stack_from_s3_url(
        properties["TemplateURL"], account_id=account_id, partition=get_partition(region_name)
    )
    parameters = {
        key: str(value) if isinstance(value, (int, float, bool)) else value
        for key, value in (properties.get("Parameters") or {}).items()
    }
    return body, parameters


def _create(
    cls: Any,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    backend = cfn_models.cloudformation_backends[account_id][region_name]
    body, parameters = _template_and_parameters(cloudformation_json, account_id, region_name)
    parent_id = kwargs.get("StackId")
    parent = backend.stacks.get(parent_id) if parent_id else None
    tags = dict(parent.tags) if parent is not None else None  # AWS propagates stack tags to nested stacks
    stack: Any = backend.create_stack(name=resource_name, template=body, parameters=parameters, tags=tags)
    if parent_id:
        stack.parent_id = parent_id
        stack.root_id = getattr(parent, "root_id", None) or parent_id
    return stack


def _update(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    # AWS updates the nested stack in place; its resources are kept unless the child template says otherwise.
    body, parameters = _template_and_parameters(cloudformation_json, account_id, region_name)
    original_resource.update(body, role_arn=None, parameters=parameters, tags=None)
    return original_resource


def apply() -> None:
    stack_cls: Any = cfn_models.Stack
    stack_cls.has_cfn_attr = classmethod(_has_cfn_attr)
    stack_cls.get_cfn_attribute = _get_cfn_attribute
    stack_cls.physical_resource_id = property(_physical_resource_id)
    stack_cls.create_from_cloudformation_json = classmethod(_create)  # type: ignore[arg-type]
    stack_cls.update_from_cloudformation_json = classmethod(_update)
    # Top-level stacks: DescribeStacks shows no ParentId/RootId.
    stack_cls.parent_id = None
    stack_cls.root_id = None
