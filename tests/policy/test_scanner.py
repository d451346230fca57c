"""The security scanner: checkov's findings located in fragments, suppressed with reasons, cached.

checkov is not a payctl dependency; one test replays a transcript of a real checkov 3.3.30 run
(fixtures/scanner/checkov-3.3.30.json, made from fixtures/scanner/template.yaml), another runs
the real program when it is installed (PAYCTL_CHECKOV or checkov on PATH)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from payctl.policy import scanner
from tests.policy.conftest import FIXTURES, load_template

TRANSCRIPT = FIXTURES / "scanner" / "checkov-3.3.30.json"


def _templates() -> dict[str, tuple[object, list[str]]]:
    template, _ = load_template(FIXTURES / "scanner" / "template.yaml")
    return {template.text: (template, ["prod/foundation/us-east-1/template"])}


def _replaying(tmp_path: Path) -> Path:
    """An executable answering like checkov did for the template (file t000.yaml)."""
    program = tmp_path / "checkov"
    program.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write(open({str(TRANSCRIPT)!r}).read())\n"
                       "sys.exit(1)\n")
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    return program


def test_findings_are_located_and_suppressed_with_reasons(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYCTL_CHECKOV", str(_replaying(tmp_path)))
    report = scanner.scan(_templates(), tmp_path / "cache")  # type: ignore[arg-type]
    assert report.status == "ran"
    found = {(f.rule, f.resource, f.file, f.line, f.suppressed) for f in report.findings}
    assert found == {
        ("CKV_AWS_18", "Bucket", "tests/policy/fixtures/scanner/template.yaml", 3, None),
        ("CKV_AWS_18", "LogBucket", "tests/policy/fixtures/scanner/template.yaml", 15,
         "The access-log bucket is the logging target; logging it into itself would loop."),
    }
    assert [f.resource for f in report.errors] == ["Bucket"]
    assert report.findings[0].where == ("prod/foundation/us-east-1/template",)


def test_results_are_cached_by_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program = _replaying(tmp_path)
    monkeypatch.setenv("PAYCTL_CHECKOV", str(program))
    monkeypatch.setattr(scanner, "identity", lambda executable: "checkov 3.3.30")
    first = scanner.scan(_templates(), tmp_path / "cache")  # type: ignore[arg-type]
    program.write_text("#!/bin/sh\nexit 3\n")  # running it again would fail
    second = scanner.scan(_templates(), tmp_path / "cache")  # type: ignore[arg-type]
    assert (first.cached, second.cached) == (0, 1)
    assert second.status == "ran" and second.findings == first.findings


def test_not_installed_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYCTL_CHECKOV", "/nonexistent/checkov")
    report = scanner.scan(_templates(), None)  # type: ignore[arg-type]
    assert report.status == "not-installed" and "not installed" in report.detail and report.findings == []


def test_a_broken_scanner_is_a_failure_not_a_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    program = tmp_path / "checkov"
    program.write_text("#!/bin/sh\necho 'Traceback: something broke' >&2\nexit 2\n")
    program.chmod(0o755)
    monkeypatch.setenv("PAYCTL_CHECKOV", str(program))
    report = scanner.scan(_templates(), None)  # type: ignore[arg-type]
    assert report.status == "failed" and "something broke" in report.detail


# CI installs checkov (README install step); elsewhere the scanner is optional.
needs_checkov = pytest.mark.skipif(scanner.command() is None and not os.environ.get("CI"),
                                   reason="checkov is not installed")


@needs_checkov
def test_real_checkov_finds_the_unlogged_bucket(tmp_path: Path) -> None:
    report = scanner.scan(_templates(), tmp_path)  # type: ignore[arg-type]
    assert report.status == "ran"
    assert {(f.rule, f.resource) for f in report.errors} == {("CKV_AWS_18", "Bucket")}


@needs_checkov
def test_the_repository_passes_lint_policy_and_scanner() -> None:
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-m", "payctl", "validate", "--all"], cwd=repo, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "scanner (checkov): 17 templates, 0 errors" in result.stderr
