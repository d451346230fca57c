"""EventBridge: patterns say exactly what they match."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from payctl.policy.effective import EffectiveTemplate, text
from payctl.policy.model import Context, Rule, Violation, props

# Content filters that match more than the values written down.
LOOSE_MATCHERS = ("wildcard", "prefix", "suffix", "anything-but", "exists", "equals-ignore-case")


def _leaves(pattern: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for key, value in pattern.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*path, str(key)))
        else:
            yield (*path, str(key)), value


def pattern_problems(pattern: Any) -> list[tuple[tuple[str, ...], str]]:
    """(field path, problem) for everything that makes a pattern match more than it names."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError:
            return [((), "EventPattern is not JSON")]
    if not isinstance(pattern, dict):
        return [((), "EventPattern is not a mapping")]
    problems: list[tuple[tuple[str, ...], str]] = [
        ((), f"no explicit {key}") for key in ("source", "detail-type") if key not in pattern
    ]
    for path, values in _leaves(pattern):
        where = ".".join(path)
        if "$or" in path:
            problems.append((path, f"{where}: $or"))
            continue
        if not isinstance(values, list) or not values:
            problems.append((path, f"{where}: {values!r} is not a non-empty list of values"))
            continue
        for value in values:
            if isinstance(value, dict):
                loose = [matcher for matcher in LOOSE_MATCHERS if matcher in value]
                if loose:
                    problems.append((path, f"{where}: {', '.join(loose)} match"))
                elif path[-1] in ("source", "detail-type") and len(path) == 1:
                    problems.append((path, f"{where}: content filter {sorted(value)} instead of values"))
            elif "*" in text(value):
                problems.append((path, f"{where}: {text(value)!r} contains a wildcard"))
            elif text(value) == "":
                problems.append((path, f"{where}: empty value"))
    return problems


class ExplicitEventPatterns(Rule):
    id = "PAY014"
    title = "EventBridge patterns are explicit"
    description = (
        "Every rule with an EventPattern names its source and detail-type explicitly, and no "
        "field uses a wildcard, prefix, suffix, anything-but, exists or equals-ignore-case "
        "match or $or: a rule fires only on what it was written for."
    )
    hint = "List the exact source, detail-type and field values the rule wants."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        for logical_id, rule in template.of_type("AWS::Events::Rule").items():
            pattern = props(rule).get("EventPattern")
            if pattern is None:
                continue
            for path, problem in pattern_problems(pattern):
                yield Violation(logical_id, ("Properties", "EventPattern", *path), problem)
