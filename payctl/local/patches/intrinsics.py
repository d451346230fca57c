"""Intrinsic functions that moto resolves wrongly or not at all.

moto gaps:
- `Fn::GetAZs` ignores its argument and always yields `us-east-1{a..d}`;
- `Fn::Cidr` is missing;
- `Fn::GetAtt` with more than two parts (`Child.Outputs.X` written in `Fn::Sub` or as a list of
  three) passes only the second part as the attribute name.
`moto.cloudformation.parsing.clean_json` recurses through its module global, so one wrapper bound
there sees every nested intrinsic.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError

from ._guard import require_attr, require_source

NAME = "intrinsics"

_original_clean_json: Callable[[Any, Any], Any] | None = None


def check() -> None:
    clean_json = _original_clean_json or require_attr(parsing, "clean_json", NAME)
    require_source(clean_json, "clean_json(", NAME)
    require_source(clean_json, '"Fn::GetAZs"', NAME)


def availability_zones(account_id: str, region: str) -> list[str]:
    """The zones moto's EC2 serves for `region`, so templates and EC2 agree."""
    from moto.ec2.models import ec2_backends

    return [zone.name for zone in ec2_backends[account_id][region].describe_availability_zones()]


def cidr(ip_block: str, count: int | str, cidr_bits: int | str) -> list[str]:
    """`Fn::Cidr`: the first `count` blocks of `ip_block`, each with `cidr_bits` host bits (AWS semantics)."""
    try:
        network = ipaddress.ip_network(str(ip_block), strict=False)
        how_many, host_bits = int(count), int(cidr_bits)
    except ValueError as error:
        raise ValidationError(message=f"Template error: Fn::Cidr has an invalid argument: {error}") from error
    if not 1 <= how_many <= 256:
        raise ValidationError(message="Template error: Fn::Cidr count must be between 1 and 256")
    new_prefix = network.max_prefixlen - host_bits
    if host_bits < 1 or new_prefix < network.prefixlen:
        raise ValidationError(
            message=f"Template error: Fn::Cidr cannot carve /{new_prefix} blocks out of {network}"
        )
    blocks: list[str] = []
    for block in network.subnets(new_prefix=new_prefix):
        blocks.append(str(block))
        if len(blocks) == how_many:
            return blocks
    raise ValidationError(
        message=f"Template error: Fn::Cidr cannot fit {how_many} /{new_prefix} blocks in {network}"
    )


def _normalise_get_att(value: Any) -> Any:
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        return [logical_id, attribute]
    if isinstance(value, list) and len(value) > 2:
        return [value[0], ".".join(str(part) for part in value[1:])]
    return value


def clean_json(resource_json: Any, resources_map: Any) -> Any:
    assert _original_clean_json is not None
    if isinstance(resource_json, dict):
        if "Fn::GetAZs" in resource_json:
            region = _original_clean_json(resource_json["Fn::GetAZs"], resources_map)
            region = region or resources_map["AWS::Region"]
            return availability_zones(resources_map["AWS::AccountId"], region)
        if "Fn::Cidr" in resource_json:
            arguments = clean_json(resource_json["Fn::Cidr"], resources_map)
            if not isinstance(arguments, list) or len(arguments) != 3:
                raise ValidationError(message="Template error: Fn::Cidr requires [ipBlock, count, cidrBits]")
            return cidr(*arguments)
        if "Fn::GetAtt" in resource_json:
            value = resource_json["Fn::GetAtt"]
            normalised = _normalise_get_att(value)
            if isinstance(normalised, list) and len(normalised) == 2 and isinstance(normalised[1], dict):
                normalised = [normalised[0], clean_json(normalised[1], resources_map)]
            if normalised is not value:
                resource_json = {**resource_json, "Fn::GetAtt": normalised}
    return _original_clean_json(resource_json, resources_map)


def apply() -> None:
    global _original_clean_json
    if _original_clean_json is None:
        _original_clean_json = parsing.clean_json
    parsing.clean_json = clean_json
