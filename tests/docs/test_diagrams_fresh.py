"""The diagrams committed in docs/ are what `payctl graph` draws from today's templates."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from diagrams import REPO, blocks, generate


def test_architecture_has_the_diagrams() -> None:
    found = [match["args"] for match in blocks((REPO / "docs/architecture.md").read_text(encoding="utf-8"))]
    assert found == ["--all", "prod --level stacks", "prod"]


def test_committed_diagrams_are_current() -> None:
    stale = []
    for path in sorted((REPO / "docs").rglob("*.md")):
        for match in blocks(path.read_text(encoding="utf-8")):
            if match["body"] != generate(match["args"]):
                stale.append(f"{path.relative_to(REPO)}: payctl graph {match['args']}")
    assert not stale, "stale diagrams (run `python tests/docs/diagrams.py`):\n" + "\n".join(stale)


def test_diagrams_stay_within_what_code_hosts_render() -> None:
    # Mermaid's defaults, which code hosts keep: maxTextSize 50,000 characters, maxEdges 500.
    for match in blocks((REPO / "docs/architecture.md").read_text(encoding="utf-8")):
        body = match["body"]
        assert len(body) < 50_000, match["args"]
        assert sum(arrow in line for line in body.splitlines() for arrow in ("-->", "==>", "-.->")) < 500
