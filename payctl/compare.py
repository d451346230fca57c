"""`payctl compare A B`: how two environments' effective templates differ, and whether each
difference comes from the environment files.

Both environments are evaluated (payctl.policy.effective) wave by wave and region role by region
role; resources present, their properties, the conditions taken and the outputs are compared.
Each difference carries the Trace of the values involved, so it is classified:

- parameter-driven: the values or the conditions that produced it read inputs (master
  parameters filled from envs/, or pseudo parameters such as the account id inside an ARN)
  whose values differ between the two environments;
- structural: anything else, in particular a condition or mapping key that reads the account
  id or stack name (a template singling out one account by identity instead of by a parameter),
  or a difference no differing input explains (the templates themselves differ).

Pure: no AWS; the same inputs give the same comparison.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from payctl.policy.effective import (
    NO_TRACE,
    EffectiveStack,
    EffectiveTemplate,
    EList,
    EMap,
    Trace,
    evaluate_environment,
    plain,
)
from payctl.templates.render import RenderedSet

SCHEMA = "payctl.compare/1"


@dataclass(frozen=True)
class Difference:
    stack: str  # <wave>/<region role>/<template>
    kind: str  # stack | resource | property | condition | output
    resource: str  # logical id (resource, condition or output name); "" for a whole stack
    path: str  # dotted path inside the resource
    a: Any  # the value in the first environment (None: absent)
    b: Any
    structural: bool
    inputs: tuple[str, ...]  # the differing inputs that explain it
    reason: str
    file: str = ""
    line: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "kind": self.kind,
            "resource": self.resource,
            "path": self.path,
            "a": plain(self.a),
            "b": plain(self.b),
            "classification": "structural" if self.structural else "parameter-driven",
            "inputs": list(self.inputs),
            "reason": self.reason,
            "file": self.file,
            "line": self.line,
        }


@dataclass
class Comparison:
    a: str
    b: str
    differences: list[Difference] = field(default_factory=list)

    @property
    def structural(self) -> list[Difference]:
        return [d for d in self.differences if d.structural]

    @property
    def exit_code(self) -> int:
        return 2 if self.structural else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "a": self.a,
            "b": self.b,
            "summary": {
                "differences": len(self.differences),
                "structural": len(self.structural),
                "parameter_driven": len(self.differences) - len(self.structural),
            },
            "differences": [d.to_json() for d in self.differences],
        }


def compare(first: RenderedSet, second: RenderedSet) -> Comparison:
    comparison = Comparison(first.environment.name, second.environment.name)
    a_stacks = {(s.wave, s.role): s for s in evaluate_environment(first)}
    b_stacks = {(s.wave, s.role): s for s in evaluate_environment(second)}
    for key in _union(a_stacks, b_stacks):
        a, b = a_stacks.get(key), b_stacks.get(key)
        label = f"{key[0]}/{key[1]}"
        if a is None or b is None:
            comparison.differences.append(
                Difference(
                    label,
                    "stack",
                    "",
                    "",
                    a.stack_name if a else None,
                    b.stack_name if b else None,
                    True,
                    (),
                    "the wave deploys to this region role in one environment only",
                )
            )
            continue
        comparison.differences += _compare_stacks(label, a, b)
    return comparison


def _union(first: Mapping[Any, Any], second: Mapping[Any, Any]) -> list[Any]:
    return list(first) + [key for key in second if key not in first]


class _Classifier:
    def __init__(self, a: EffectiveStack, b: EffectiveStack) -> None:
        self.a_inputs, self.b_inputs = a.inputs, b.inputs

    def __call__(self, trace: Trace) -> tuple[bool, tuple[str, ...], str]:
        differ = [
            name
            for name in sorted(trace.inputs | trace.decisions)
            if self.a_inputs.get(name) != self.b_inputs.get(name)
        ]
        identity = [name for name in sorted(trace.identity) if name in differ]
        if identity:
            return (
                True,
                tuple(differ),
                (
                    f"decided by {', '.join(identity)}: a condition singles out an "
                    "account by identity instead of reading a parameter"
                ),
            )
        if differ:
            shown = ", ".join(
                f"{name} {self._value(self.a_inputs, name)} → {self._value(self.b_inputs, name)}"
                for name in differ[:3]
            )
            more = f" (+{len(differ) - 3} more)" if len(differ) > 3 else ""
            return False, tuple(differ), f"from {shown}{more}"
        return True, (), "no differing parameter explains it: the templates differ"

    @staticmethod
    def _value(inputs: Mapping[str, Any], name: str) -> str:
        value = plain(inputs.get(name))
        text = str(value)
        return text if len(text) <= 40 else text[:39] + "…"


def _compare_stacks(label: str, a: EffectiveStack, b: EffectiveStack) -> list[Difference]:
    classify = _Classifier(a, b)
    found: list[Difference] = []
    a_templates = {t.stack: t for t in a.templates()}
    b_templates = {t.stack: t for t in b.templates()}
    for stack_id in _union(a_templates, b_templates):
        first, second = a_templates.get(stack_id), b_templates.get(stack_id)
        if first is None or second is None:
            continue  # a nested stack created in one environment only: the master's resource says why
        found += _compare_templates(f"{label}/{first.name}", first, second, classify)
    return found


def _compare_templates(
    label: str, a: EffectiveTemplate, b: EffectiveTemplate, classify: _Classifier
) -> list[Difference]:
    found: list[Difference] = []

    def add(
        kind: str,
        resource: str,
        path: tuple[str | int, ...],
        first: Any,
        second: Any,
        trace: Trace,
        *,
        decision: bool = False,
        located: EffectiveTemplate | None = None,
    ) -> None:
        structural, inputs, reason = classify(trace.as_decision() if decision else trace)
        file, line = (
            (located or a).locate(resource, path)
            if kind in ("resource", "property")
            else (located or a).template.origin("Conditions" if kind == "condition" else "Outputs", resource)
        )
        found.append(
            Difference(
                label,
                kind,
                resource,
                ".".join(map(str, path)),
                first,
                second,
                structural,
                inputs,
                reason,
                file,
                line,
            )
        )

    for name in _union(a.conditions, b.conditions):
        if a.conditions.get(name) != b.conditions.get(name):
            trace = a.condition_traces.get(name, NO_TRACE) | b.condition_traces.get(name, NO_TRACE)
            add("condition", name, (), a.conditions.get(name), b.conditions.get(name), trace, decision=True)

    a_defined = set(a.resources) | set(a.dropped)
    b_defined = set(b.resources) | set(b.dropped)
    for logical_id in _union(dict.fromkeys(sorted(a_defined)), dict.fromkeys(sorted(b_defined))):
        first, second = a.resources.get(logical_id), b.resources.get(logical_id)
        trace = a.resource_traces.get(logical_id, NO_TRACE) | b.resource_traces.get(logical_id, NO_TRACE)
        if first is None and second is None:
            continue  # created in neither
        if logical_id not in a_defined or logical_id not in b_defined:
            add(
                "resource",
                logical_id,
                (),
                _type(first),
                _type(second),
                NO_TRACE,
                located=a if logical_id in a_defined else b,
            )
        elif first is None or second is None:
            add(
                "resource",
                logical_id,
                (),
                _type(first),
                _type(second),
                trace,
                located=a if first is not None else b,
            )
        else:
            for path, value_a, value_b, value_trace in _diff(first, second, (), NO_TRACE):
                add("property", logical_id, path, value_a, value_b, value_trace | trace)

    for name in _union(a.outputs, b.outputs):
        first, second = a.outputs.get(name, _ABSENT), b.outputs.get(name, _ABSENT)
        if plain(first) != plain(second):
            trace = a.output_traces.get(name, NO_TRACE) | b.output_traces.get(name, NO_TRACE)
            add(
                "output",
                name,
                (),
                None if first is _ABSENT else first,
                None if second is _ABSENT else second,
                trace | _traces_below(first) | _traces_below(second),
            )
    return found


_ABSENT: Any = object()


def _type(resource: Any) -> Any:
    return resource.get("Type") if isinstance(resource, dict) else None


def _diff(a: Any, b: Any, path: tuple[str | int, ...], trace: Trace) -> Iterator[tuple[Any, ...]]:
    """(path, a, b, trace) of every place two evaluated values differ; the trace is everything
    recorded on the way down (a branch chosen by Fn::If above a value explains it too)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in _union(a, b):
            below = trace | _own(a, key) | _own(b, key)
            if key not in a or key not in b:
                yield (
                    (*path, key),
                    a.get(key),
                    b.get(key),
                    below | _traces_below(a.get(key)) | _traces_below(b.get(key)),
                )
            else:
                yield from _diff(a[key], b[key], (*path, key), below)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) == len(b):
            for index, (first, second) in enumerate(zip(a, b, strict=True)):
                yield from _diff(first, second, (*path, index), trace | _own(a, index) | _own(b, index))
        else:
            yield path, a, b, trace | _traces_below(a) | _traces_below(b)
    elif plain(a) != plain(b):
        yield path, a, b, trace


def _own(container: Any, key: Any) -> Trace:
    traces = getattr(container, "traces", None)
    return traces.get(key, NO_TRACE) if traces else NO_TRACE


def _traces_below(value: Any) -> Trace:
    """Every trace recorded inside a value (for a part present in one environment only)."""
    trace = NO_TRACE
    if isinstance(value, (EMap, EList)):
        for item in value.traces.values():
            trace = trace | item
        if isinstance(value, EList):
            trace = trace | value.vanished
        for item in value.values() if isinstance(value, EMap) else value:
            trace = trace | _traces_below(item)
    return trace
