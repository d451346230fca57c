"""payctl's local AWS emulator: moto 5.2.1 plus payctl's patches, served on 127.0.0.1.

`install()` readies moto in this process (tests with `mock_aws`, or the server process);
`payctl.local.emulator` starts, stops and inspects the server process the CLI uses.
moto is imported lazily: importing this package stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
import logging

LIMITATIONS_BANNER = (
    "payctl local: moto-based emulator - no rollbacks, no replacement details in change sets, "
    "partial drift coverage; see payctl/local/LIMITATIONS.md"
)

_log = logging.getLogger(__name__)


def install() -> None:
    """Register payctl's CloudFormation resource providers and apply payctl's moto patches (idempotent)."""
    from .patches import apply_all

    apply_all()
    try:
        providers = importlib.import_module("payctl.local.providers")
    except ModuleNotFoundError as error:
        if error.name not in ("payctl.local.providers",):
            raise
        _log.debug("payctl.local.providers is not available; moto's own resource models only")
        return
    register_all = getattr(providers, "register_all", None)
    if register_all is not None:
        register_all()
    from moto.cloudformation import parsing

    # moto caches its type registry; providers registered after the first lookup need a fresh one.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


__all__ = ["LIMITATIONS_BANNER", "install"]
