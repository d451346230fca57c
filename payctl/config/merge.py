"""Merging an environment file over the shared defaults, by an explicit strategy table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from payctl.yamlio import key_line

Strategy = Literal["merge", "replace"]

# Maps merge key by key (the environment wins) and everything else replaces, except where
# this table says otherwise. A table entry names a dotted path of YAML keys.
STRATEGIES: dict[str, Strategy] = {
    # A CIDR pair is planned as a whole; inheriting half of it would be a silent overlap.
    "network.vpcCidr": "replace",
    # Percentages and counts exclude each other; mixing defaults with overrides is invalid.
    "stackSets.operationPreferences": "replace",
}

Path = tuple[str, ...]


@dataclass
class Merged:
    """Merged plain data plus, for every key path, the file and line it came from."""

    data: dict[str, Any]
    origins: dict[Path, tuple[str, int]] = field(default_factory=dict)

    def origin(self, path: Path, fallback: tuple[str, int]) -> tuple[str, int]:
        """Where a path was set; for a missing key, where its closest parent was set."""
        while path:
            if path in self.origins:
                return self.origins[path]
            path = path[:-1]
        return fallback


def merge_layers(layers: list[tuple[str, Mapping[str, Any]]]) -> Merged:
    """Merge loaded YAML documents in order (defaults first); later layers win."""
    merged = Merged(data={})
    for display, document in layers:
        _merge_into(merged, merged.data, document, display, ())
    return merged


def _merge_into(merged: Merged, target: dict[str, Any], source: Mapping[str, Any], display: str,
                prefix: Path) -> None:
    for key, value in source.items():
        path = (*prefix, str(key))
        merged.origins[path] = (display, key_line(source, key))
        strategy = STRATEGIES.get(".".join(path), "merge")
        if isinstance(value, Mapping) and strategy == "merge" and isinstance(target.get(key), dict):
            _merge_into(merged, target[key], value, display, path)
        else:
            for stale in [p for p in merged.origins if p[: len(path)] == path and len(p) > len(path)]:
                del merged.origins[stale]
            target[key] = _plain(value, merged, display, path)


def _plain(value: Any, merged: Merged, display: str, path: Path) -> Any:
    """Copy into plain dicts and lists, recording the line of every nested key."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            merged.origins[(*path, str(key))] = (display, key_line(value, key))
            out[str(key)] = _plain(item, merged, display, (*path, str(key)))
        return out
    if isinstance(value, list):
        items = []
        for index, item in enumerate(value):
            merged.origins[(*path, str(index))] = (display, key_line(value, index))
            items.append(_plain(item, merged, display, (*path, str(index))))
        return items
    return value
