"""payctl's patches to moto's CloudFormation (moto is pinned exactly; see `_guard`).

Each module names the moto gap it closes, checks the internals it relies on (`check()`) and binds
its fix (`apply()`). `apply_all()` runs every check before applying anything.
"""

from __future__ import annotations

import threading
from types import ModuleType

from ._guard import EXPECTED_MOTO_VERSION, MotoInternalsChanged

_lock = threading.Lock()
_applied = False


def patch_modules() -> list[ModuleType]:
    from . import (
        conditions,
        drift_api,
        ec2_zones,
        intrinsics,
        nested_stacks,
        resource_names,
        ssm_parameters,
        stacksets,
        template_url,
        update_dependencies,
        yaml_tags,
    )

    return [
        nested_stacks,
        yaml_tags,
        intrinsics,
        conditions,
        resource_names,
        template_url,
        ssm_parameters,
        ec2_zones,
        update_dependencies,
        stacksets,
        drift_api,
    ]


def check_all() -> None:
    import moto

    if moto.__version__ != EXPECTED_MOTO_VERSION:
        raise MotoInternalsChanged(
            f"payctl's emulator patches are written for moto {EXPECTED_MOTO_VERSION}, "
            f"found {moto.__version__}; "
            "re-run tests/local and update payctl/local/patches before moving the pin"
        )
    for module in patch_modules():
        module.check()


def apply_all() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        check_all()
        for module in patch_modules():
            module.apply()
        _applied = True


__all__ = ["MotoInternalsChanged", "apply_all", "check_all", "patch_modules"]
