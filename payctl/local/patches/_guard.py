"""Checks that the moto internals a patch relies on are still where it expects them.

moto is pinned exactly; on an upgrade these checks fail loudly at `install()` and in the
canary tests instead of letting a patch silently stop working.
"""

from __future__ import annotations

import inspect
from typing import Any

EXPECTED_MOTO_VERSION = "5.2.1"


class MotoInternalsChanged(RuntimeError):
    """A moto internal that a payctl patch relies on is gone or has changed shape."""


def require_attr(owner: Any, name: str, patch: str) -> Any:
    if not hasattr(owner, name):
        where = getattr(owner, "__name__", repr(owner))
        raise MotoInternalsChanged(f"{where}.{name} is gone; payctl.local.patches.{patch} relies on it")
    return getattr(owner, name)


def require_params(func: Any, params: list[str], patch: str) -> None:
    present = list(inspect.signature(func).parameters)
    missing = [p for p in params if p not in present]
    if missing:
        raise MotoInternalsChanged(
            f"{getattr(func, '__qualname__', func)} lost parameters {missing} (has {present}); "
            f"payctl.local.patches.{patch} relies on them"
        )


def require_source(func: Any, fragment: str, patch: str) -> None:
    """The function still contains `fragment` (e.g. it still looks a global up by name)."""
    source = inspect.getsource(inspect.unwrap(func))
    if fragment not in source:
        raise MotoInternalsChanged(
            f"{getattr(func, '__qualname__', func)} no longer contains {fragment!r}; "
            f"payctl.local.patches.{patch} relies on it"
        )
