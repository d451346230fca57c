"""YAML in and out with ruamel round-trip: comments, key order and short-form tags survive."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from payctl.errors import Problem


@cache
def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold long lines: folding would change output across ruamel versions
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def load_path(path: Path, display: str) -> Any:
    """Load one YAML file; syntax errors become a Problem naming file and line."""
    try:
        return _yaml().load(path.read_text(encoding="utf-8"))
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        reason = error.problem or error.context or "invalid YAML"
        raise YamlSyntaxError(Problem(display, line, "", f"YAML syntax error: {reason}")) from None


def dump(data: Any) -> str:
    stream = io.StringIO()
    _yaml().dump(data, stream)
    return stream.getvalue()


def key_line(node: Any, key: Any) -> int:
    """1-based line of `key` inside a loaded mapping (or index inside a sequence); 0 when unknown."""
    try:
        if isinstance(node, CommentedMap):
            return int(node.lc.key(key)[0]) + 1
        if isinstance(node, CommentedSeq):
            return int(node.lc.item(key)[0]) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return 0


def node_line(node: Any) -> int:
    """1-based line where a loaded mapping or sequence starts; 0 when unknown."""
    lc = getattr(node, "lc", None)
    line = getattr(lc, "line", None)
    return int(line) + 1 if line is not None else 0
