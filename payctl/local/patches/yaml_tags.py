"""YAML short-form intrinsic tags parsed as AWS parses them.

moto gap: moto's `yaml_tag_constructor` splits `!GetAtt A.B.C` at every dot (AWS splits at the
first one), returns raw YAML nodes for `!GetAtt [A, B]` and `!GetAZs {Ref: ...}`, and turns
`!Condition X` into `Fn::Condition`. moto looks the constructor up by name in
`moto.cloudformation.models` and `.responses` each time it parses, so binding a corrected one
there is enough.
"""

from __future__ import annotations

from typing import Any

import yaml
from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation import utils as cfn_utils

from ._guard import require_attr, require_source

NAME = "yaml_tags"


def check() -> None:
    for module in (cfn_models, cfn_responses, cfn_utils):
        require_attr(module, "yaml_tag_constructor", NAME)
    require_source(cfn_models.Stack.parse_template, "yaml_tag_constructor", NAME)
    require_source(cfn_models.ChangeSet._parse_template, "yaml_tag_constructor", NAME)


def yaml_tag_constructor(loader: Any, tag: str, node: yaml.Node) -> dict[str, Any]:
    """Turn `!Tag value` into the long form (`{"Fn::Tag": value}`), recursing into nested tags."""
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)

    if tag == "!Ref":
        return {"Ref": value}
    if tag == "!Condition":
        return {"Condition": value}
    if tag == "!GetAtt" and isinstance(value, str):
        # AWS: the logical id ends at the first dot; the rest (e.g. Outputs.VpcId) is the attribute.
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {f"Fn::{tag[1:]}": value}


def apply() -> None:
    for module in (cfn_models, cfn_responses, cfn_utils):
        module.yaml_tag_constructor = yaml_tag_constructor  # type: ignore[attr-defined]
    yaml.add_multi_constructor("", yaml_tag_constructor)
