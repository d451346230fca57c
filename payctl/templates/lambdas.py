"""Reproducible Lambda packages: the same source always gives the same bytes and key."""

from __future__ import annotations

import hashlib
import io
import zipfile
from functools import cache
from pathlib import Path

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp; file times must not leak in
_SKIPPED = {"__pycache__", ".pytest_cache", "tests"}


@cache
def build_zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if path.is_dir() or _SKIPPED & set(relative.parts) or path.suffix in (".pyc", ".md"):
                continue
            info = zipfile.ZipInfo(relative.as_posix(), date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def code_key(name: str, folder: Path) -> str:
    """S3 key of a function's package, addressed by the package's content."""
    return f"lambdas/{name}/{hashlib.sha256(build_zip(folder)).hexdigest()}.zip"
