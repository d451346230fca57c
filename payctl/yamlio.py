"""YAML in and out with ruamel round-trip: comments, key order and short-form tags survive."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import threading
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from payctl.errors import Problem

_local = threading.local()


def _yaml() -> YAML:
    """One round-trip YAML per thread: ruamel's emitter keeps state between calls."""
    yaml: YAML | None = getattr(_local, "yaml", None)
    if yaml is None:
        yaml = _local.yaml = _new_yaml()
    return yaml


def _new_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold long lines: folding would change output across ruamel versions
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def load_path(path: Path, display: str, cache_dir: Path | None = None) -> Any:
    """Load one YAML file; syntax errors become a Problem naming file and line.

    With a cache folder, the parsed document (comments and line numbers included) is kept as a
    pickle keyed by the file's content: round-trip parsing is the slowest step of rendering.
    """
    text = path.read_text(encoding="utf-8")
    cached = _cache_path(cache_dir, "parsed", text) if cache_dir else None
    if cached is not None and cached.is_file():
        try:
            return pickle.loads(cached.read_bytes())  # our own cache folder, written below
        except Exception:  # a damaged entry is parsed again
            pass
    try:
        document = _yaml().load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        reason = error.problem or error.context or "invalid YAML"
        raise YamlSyntaxError(Problem(display, line, "", f"YAML syntax error: {reason}")) from None
    if cached is not None:
        _write_atomic(cached, pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL))
    return document


def dump_cached(data: Any, cache_dir: Path | None, inputs: str) -> str:
    """dump(), remembered under a digest of everything the document was made from (`inputs`)."""
    if cache_dir is None or not inputs:
        return dump(data)
    cached = _cache_path(cache_dir, "dumped", inputs)
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    text = dump(data)
    _write_atomic(cached, text.encode("utf-8"))
    return text


def _cache_path(cache_dir: Path, kind: str, content: str | bytes) -> Path:
    from ruamel.yaml import __version__ as ruamel_version

    from payctl import __version__

    material = content.encode("utf-8") if isinstance(content, str) else content
    digest = hashlib.sha256(f"{kind}:{ruamel_version}:{__version__}:".encode() + material).hexdigest()
    return cache_dir / kind / f"{digest}.{'pickle' if kind == 'parsed' else 'yaml'}"


def _write_atomic(path: Path, data: bytes) -> None:
    # Concurrent payctl runs may write the same entry; a rename never leaves a half-written file.
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def dump(data: Any) -> str:
    stream = io.StringIO()
    try:
        _yaml().dump(data, stream)
    except Exception:
        _local.yaml = None  # a failed dump leaves the emitter mid-document; start afresh next time
        raise
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
