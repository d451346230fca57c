"""`payctl validate`: cfn-lint, the platform rules and the security scanner over every rendered
template, as one report.

Each tool caches its results by the content it checked: lint per template under cache/lint,
policy per environment under cache/policy, the scanner per template under cache/scan. The
whole report is cached too (payctl.policy.report), so a run with nothing changed renders
nothing and imports neither cfn-lint nor the rules.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from payctl.lint import lint
from payctl.policy.engine import check as check_policy
from payctl.policy.report import LintFinding, ScanReport, ValidationReport
from payctl.policy.scanner import scan

if TYPE_CHECKING:
    from payctl.templates.compose import Template
    from payctl.templates.render import RenderedSet

__all__ = ["ValidationReport", "validate"]


# --- running ------------------------------------------------------------------------------------
def validate(
    root: Path,
    sets: list[RenderedSet],
    standalone: list[Template],
    cache_dir: Path | None,
    *,
    run_scan: bool = True,
) -> ValidationReport:
    """Lint, policy and scanner. The scanner is a separate program: it runs while cfn-lint works."""
    places: dict[str, tuple[Template, list[str]]] = {}
    for rendered in sets:
        for stack in rendered.stacks:
            for template in stack.all_templates():
                entry = places.setdefault(template.text, (template, []))
                entry[1].append(f"{stack.folder}/{template.name}")
    for template in standalone:
        places.setdefault(template.text, (template, []))[1].append(f"_standalone/{template.name}")
    with ThreadPoolExecutor(max_workers=1) as pool:
        scanning: Future[ScanReport] | None = None
        if run_scan:
            scanning = pool.submit(scan, places, cache_dir / "scan" if cache_dir else None)
        policy = check_policy(sets, root, cache_dir / "policy" if cache_dir else None)
        linted = lint(sets, cache_dir / "lint" if cache_dir else None, extra=standalone)
        scanned = scanning.result() if scanning is not None else ScanReport(templates=len(places))
    if not run_scan:
        scanned.detail = "not run (--no-scan)"
    return ValidationReport(
        findings=[LintFinding(**asdict(f)) for f in linted.findings],
        templates=linted.templates,
        cached=linted.cached,
        policy=policy,
        scan=scanned,
        environments=[s.environment.name for s in sets],
        root=str(root),
    )
