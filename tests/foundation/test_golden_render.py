"""Golden files: the repository's rendered templates are pinned, so any change shows in review.

After an intended change, refresh them with:
    PAYCTL_UPDATE_GOLDEN=1 python3 -m pytest tests/foundation/test_golden.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from payctl.automation import Workspace

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden" / "build"


def _rendered(tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "build"
    Workspace(REPO, search=False).write(out)
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_rendered_output_matches_golden_files(tmp_path: Path) -> None:
    rendered = _rendered(tmp_path)
    if os.environ.get("PAYCTL_UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, content in rendered.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(content)
        pytest.skip("golden files refreshed")
    golden = {p.relative_to(GOLDEN).as_posix(): p.read_bytes() for p in sorted(GOLDEN.rglob("*")) if p.is_file()}
    assert sorted(rendered) == sorted(golden), "rendered file set changed; refresh the golden files if intended"
    changed = [name for name in rendered if rendered[name] != golden[name]]
    assert not changed, f"rendered output changed in {changed[:10]}; refresh the golden files if intended"
