"""Rich views. Data goes to stdout, progress and messages to stderr; nothing here calls AWS."""

from __future__ import annotations

from functools import cache

from rich.console import Console


@cache
def stdout() -> Console:
    return Console(soft_wrap=True)


@cache
def stderr() -> Console:
    return Console(stderr=True, soft_wrap=True)
