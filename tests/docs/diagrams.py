"""The diagrams committed in docs/ between `<!-- payctl graph ARGS: begin -->` and
`<!-- payctl graph ARGS: end -->`, regenerated with `payctl graph ARGS`.

    python tests/docs/diagrams.py          # rewrite every stale diagram in docs/
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(
    r"(?P<begin><!-- payctl graph (?P<args>[^>]*?): begin -->\n)```(?P<lang>mermaid|dot)\n(?P<body>.*?)```\n"
    r"(?P<end><!-- payctl graph (?P=args): end -->)",
    re.S,
)


def generate(args: str) -> str:
    """What `payctl graph ARGS` prints for this checkout."""
    from payctl.cli import _register, app

    _register()
    result = CliRunner().invoke(app, ["--workspace", str(REPO), "graph", *shlex.split(args)])
    if result.exit_code != 0:
        raise RuntimeError(f"payctl graph {args} failed ({result.exit_code}): {result.output}")
    return result.stdout


def blocks(text: str) -> list[re.Match[str]]:
    return list(BLOCK.finditer(text))


def refreshed(text: str) -> str:
    return BLOCK.sub(lambda m: f"{m['begin']}```{m['lang']}\n{generate(m['args'])}```\n{m['end']}", text)


def main() -> int:
    changed = 0
    for path in sorted((REPO / "docs").rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        new = refreshed(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path.relative_to(REPO)}")
            changed += 1
    print(f"{changed} file(s) updated")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
