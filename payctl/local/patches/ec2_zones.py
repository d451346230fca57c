"""EC2 subnets only in the region's own availability zones.

moto gap: `create_subnet` accepts any zone of any region (a `us-east-1a` subnet in eu-west-1) and
defaults to `us-east-1a` in every region. AWS refuses a foreign zone with InvalidParameterValue.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from moto.ec2.exceptions import InvalidAvailabilityZoneError
from moto.ec2.models import subnets

from ._guard import require_attr, require_params

NAME = "ec2_zones"

_original_create_subnet: Callable[..., Any] | None = None


def check() -> None:
    backend = require_attr(subnets, "SubnetBackend", NAME)
    require_params(
        _original_create_subnet or backend.create_subnet,
        ["vpc_id", "cidr_block", "availability_zone", "availability_zone_id"],
        NAME,
    )


def create_subnet(self: Any, *args: Any, **kwargs: Any) -> Any:
    assert _original_create_subnet is not None
    call = inspect.signature(_original_create_subnet).bind(self, *args, **kwargs)
    available = list(self.describe_availability_zones())
    names = [zone.name for zone in available]
    zone = call.arguments.get("availability_zone")
    zone_id = call.arguments.get("availability_zone_id")
    if zone and zone not in names:
        raise InvalidAvailabilityZoneError(zone, ", ".join(names))
    if zone_id and zone_id not in [z.zone_id for z in available]:
        raise InvalidAvailabilityZoneError(zone_id, ", ".join(names))
    if not zone and not zone_id and names:
        call.arguments["availability_zone"] = names[0]
    return _original_create_subnet(*call.args, **call.kwargs)


def apply() -> None:
    global _original_create_subnet
    if _original_create_subnet is None:
        _original_create_subnet = subnets.SubnetBackend.create_subnet
    subnets.SubnetBackend.create_subnet = create_subnet  # type: ignore[method-assign]
