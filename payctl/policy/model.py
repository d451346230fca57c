"""What rules are made of: a Rule yields Violations for an effective template, given a Context
that knows the environment file and every other effective template of the environment."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from payctl.policy.effective import EffectiveTemplate, Unresolved, text

if TYPE_CHECKING:
    from payctl.config.models import Environment

Severity = Literal["error", "warning"]
Path_ = tuple[str | int, ...]
WHY = "# why:"


@dataclass(frozen=True)
class Violation:
    """One breach of a rule: the resource, the path inside it, and what is wrong."""

    resource: str | None
    path: Path_
    message: str
    severity: Severity | None = None  # None: the rule's own severity


class Rule:
    """A platform rule, in the manner of cfn-lint's rules: an id, a severity, what it checks, how
    to fix a breach, and `check()` yielding Violations for one effective template."""

    id: ClassVar[str]
    severity: ClassVar[Severity] = "error"
    title: ClassVar[str]
    description: ClassVar[str]
    hint: ClassVar[str]

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        raise NotImplementedError


GroupKey = tuple[str, str]  # (template name, logical id): the same group in every region


@dataclass
class Context:
    """What a rule may know beyond the template it checks."""

    environment: Environment
    root: Path  # where fragment files live, for reading `# why:` comments
    templates: list[EffectiveTemplate] = field(default_factory=list)  # the whole environment
    complete: bool = True  # False when `templates` is not every stack of the environment
    memo: dict[str, Any] = field(default_factory=dict)  # what rules compute once per environment
    _lines: dict[str, list[str]] = field(default_factory=dict)

    # -- fragment source -----------------------------------------------------------------------
    def source_lines(self, file: str) -> list[str]:
        if file not in self._lines:
            path = self.root / file
            self._lines[file] = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        return self._lines[file]

    def justified(self, template: EffectiveTemplate, resource: str, node: Any) -> bool:
        """Whether a `# why:` comment sits in the comment block right above a mapping of the
        fragment (a policy statement) or inside it."""
        source = getattr(node, "src", None)
        line = getattr(getattr(source, "lc", None), "line", None)
        if line is None:
            return False
        file, _ = template.template.origin("Resources", resource)
        lines = self.source_lines(file)
        return any(WHY in item for item in statement_lines(lines, int(line)))

    # -- the environment -------------------------------------------------------------------------
    @cached_property
    def ssm_writers(self) -> dict[tuple[str, str], tuple[EffectiveTemplate, str, Any]]:
        """(region, parameter name) -> (template, logical id, value) of every SSM parameter the
        environment's stacks write."""
        found: dict[tuple[str, str], tuple[EffectiveTemplate, str, Any]] = {}
        for template in self.templates:
            for logical_id, resource in template.of_type("AWS::SSM::Parameter").items():
                properties = resource.get("Properties") or {}
                if isinstance(properties.get("Name"), str):
                    found[(template.region, properties["Name"])] = (
                        template,
                        logical_id,
                        properties.get("Value"),
                    )
        return found

    def groups(self, template: EffectiveTemplate, value: Any) -> list[GroupKey]:
        """The resources (template name, logical id) a value such as a security group id points
        at: a Ref in the same template, a sibling stack's output, or an SSM parameter written by
        an earlier wave of this environment."""
        found: list[GroupKey] = []
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, Unresolved):
                continue
            if item.ssm is not None:
                writer = self.ssm_writers.get((template.region, item.ssm))
                if writer is not None:
                    written_by, _, written = writer
                    found += self.groups(written_by, written)
            elif item.ref is not None and ":" in item.ref:
                stack, _, logical = item.ref.partition(":")
                sibling = next(
                    (
                        t
                        for t in self.templates
                        if t.region == template.region and t.wave == template.wave and t.stack == stack
                    ),
                    None,
                )
                found.append((sibling.name if sibling else stack, logical))
            elif item.ref is not None:
                found.append((template.name, item.ref))
        return found

    def resources(self, *types: str) -> Iterator[tuple[EffectiveTemplate, str, dict[str, Any]]]:
        for template in self.templates:
            for logical_id, resource in template.of_type(*types).items():
                yield template, logical_id, resource


def statement_lines(lines: list[str], first: int) -> list[str]:
    """The comment block right above a mapping starting at 0-based line `first`, and the
    mapping's own lines (until the indentation falls back)."""
    if not 0 <= first < len(lines):
        return []
    indent = len(lines[first]) - len(lines[first].lstrip(" -"))
    above = []
    index = first - 1
    while index >= 0 and lines[index].strip().startswith("#"):
        above.append(lines[index])
        index -= 1
    body = [lines[first]]
    index = first + 1
    while index < len(lines):
        stripped = lines[index].strip()
        current = len(lines[index]) - len(lines[index].lstrip(" "))
        if stripped and not stripped.startswith("#") and current < indent:
            break
        body.append(lines[index])
        index += 1
    # A trailing comment block belongs to whatever follows, not to this mapping.
    while len(body) > 1 and (not body[-1].strip() or body[-1].strip().startswith("#")):
        body.pop()
    return above + body


# --- small accessors shared by rules ------------------------------------------------------------
def props(resource: dict[str, Any]) -> dict[str, Any]:
    found = resource.get("Properties")
    return found if isinstance(found, dict) else {}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def tag_values(tags: Any) -> dict[str, Any]:
    """Tags in either shape ([{Key, Value}] or {key: value}) as a mapping."""
    if isinstance(tags, dict):
        return {str(k): v for k, v in tags.items()}
    found = {}
    for item in as_list(tags):
        if isinstance(item, dict) and "Key" in item:
            found[text(item["Key"])] = item.get("Value")
    return found


def statements(document: Any) -> list[tuple[int, dict[str, Any]]]:
    """(index, statement) of a policy document's statements."""
    if isinstance(document, str):
        return []
    found = (document or {}).get("Statement") if isinstance(document, dict) else None
    return [(index, item) for index, item in enumerate(as_list(found)) if isinstance(item, dict)]
