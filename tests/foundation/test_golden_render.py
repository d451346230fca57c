"""Golden files: the repository's rendered output is pinned, so any change shows in review.

Templates are environment- and region-independent by design, so each is pinned once per wave
(tests/golden/templates/<wave>/<name>.yaml) and every environment and region must render exactly
it; parameter files are pinned per environment, wave and region. After an intended change:
    PAYCTL_UPDATE_GOLDEN=1 python3 -m pytest tests/foundation/test_golden_render.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from payctl.automation import Workspace

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"


def _golden_name(relative: str) -> str:
    """build/<env>/<wave>/<region>/<name>.yaml -> templates/<wave>/<name>.yaml; others keep their path."""
    parts = relative.split("/")
    if parts[0] != "_standalone" and parts[-1].endswith(".yaml"):
        return f"templates/{parts[1]}/{parts[-1]}"
    return f"parameters/{relative}" if parts[0] != "_standalone" else f"templates/{relative}"


def test_rendered_output_matches_golden_files(tmp_path: Path) -> None:
    out = tmp_path / "build"
    Workspace(REPO, search=False).write(out)
    rendered: dict[str, bytes] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name, content = _golden_name(path.relative_to(out).as_posix()), path.read_bytes()
        assert rendered.setdefault(name, content) == content, f"{path} differs between environments or regions"
    if os.environ.get("PAYCTL_UPDATE_GOLDEN") == "1":
        for folder in ("templates", "parameters", "build"):
            shutil.rmtree(GOLDEN / folder, ignore_errors=True)
        for name, content in rendered.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(content)
        pytest.skip("golden files refreshed")
    golden = {p.relative_to(GOLDEN).as_posix(): p.read_bytes()
              for folder in ("templates", "parameters") for p in sorted((GOLDEN / folder).rglob("*")) if p.is_file()}
    assert sorted(rendered) == sorted(golden), "rendered file set changed; refresh the golden files if intended"
    changed = [name for name in rendered if rendered[name] != golden[name]]
    assert not changed, f"rendered output changed in {changed[:10]}; refresh the golden files if intended"
