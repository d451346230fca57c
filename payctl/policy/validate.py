"""`payctl validate`: cfn-lint, the platform rules and the security scanner over every rendered
template, as one report.

Two caches keep a re-run cheap. Each tool caches its results by the content it checked (lint
per template under cache/lint, policy per environment under cache/policy, the scanner per
template under cache/scan). And the whole report is cached under cache/validate by a
fingerprint of the workspace's inputs (envs/, stacks/, lambdas/), payctl's code and the tools'
versions, so a run with nothing changed renders nothing and imports neither cfn-lint nor the
rules.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from payctl.lint import Finding, LintReport, lint
from payctl.policy.engine import PolicyFinding, PolicyReport, code_fingerprint
from payctl.policy.engine import check as check_policy
from payctl.policy.scanner import ScanReport, command, identity, scan

if TYPE_CHECKING:
    from payctl.templates.compose import Template
    from payctl.templates.render import RenderedSet

SCHEMA = "payctl.validate/1"
INPUT_FOLDERS = ("envs", "stacks", "lambdas")


@dataclass
class ValidationReport(LintReport):
    """cfn-lint findings (`findings`, as LintReport has them), policy findings and the scan."""

    policy: PolicyReport = field(default_factory=PolicyReport)
    scan: ScanReport = field(default_factory=ScanReport)
    environments: list[str] = field(default_factory=list)
    from_cache: bool = False

    @property
    def failed(self) -> bool:
        """Whether anything of error severity is left unsuppressed."""
        return bool(self.errors or self.policy.errors or self.scan.errors)

    def to_json(self) -> dict[str, Any]:
        """The documented `--json` schema (docs/policy.md)."""
        findings = [lint_finding(f).to_json() for f in self.findings]
        findings += [f.to_json() for f in self.policy.findings + self.scan.findings]
        every = self.policy.findings + self.scan.findings
        return {
            "schema": SCHEMA,
            "environments": self.environments,
            "summary": {
                "errors": len(self.errors) + len(self.policy.errors) + len(self.scan.errors),
                "warnings": len(self.warnings) + len(self.policy.warnings),
                "suppressed": len([f for f in every if f.suppressed is not None]),
                "templates": self.templates,
                "effective_templates": self.policy.templates,
                "from_cache": self.from_cache,
            },
            "scanner": self.scan.to_json(),
            "findings": findings,
        }


def lint_finding(finding: Finding) -> PolicyFinding:
    """A cfn-lint finding in the shape of the others."""
    return PolicyFinding(
        "cfn-lint",
        finding.rule,
        finding.severity,
        finding.rule,
        finding.message,
        "",
        finding.file,
        finding.line,
        finding.path.split(".")[1] if finding.path.startswith("Resources.") else "",
        finding.path,
        (finding.template,),
        None,
    )


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
        findings=linted.findings,
        templates=linted.templates,
        cached=linted.cached,
        policy=policy,
        scan=scanned,
        environments=[s.environment.name for s in sets],
    )


# --- the whole-report cache ---------------------------------------------------------------------
def fingerprint(root: Path, names: list[str], run_scan: bool) -> str:
    """Changes when any input of the report does: the workspace's files, payctl, cfn-lint, checkov."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    runner = command() if run_scan else None
    digest.update(
        json.dumps(
            [
                SCHEMA,
                names,
                run_scan,
                code_fingerprint(),
                version("cfn-lint"),
                identity(runner[0]) if runner else None,
            ]
        ).encode()
    )
    scanner_config = Path(__file__).with_name("scanner.yaml")
    if scanner_config.is_file():
        digest.update(scanner_config.read_bytes())
    for folder in INPUT_FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def read_cached(cache_dir: Path, key: str) -> ValidationReport | None:
    path = cache_dir / "validate" / f"{key}.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        policy = PolicyReport(
            [PolicyFinding.from_json(f) for f in data["policy"]["findings"]],
            data["policy"]["environments"],
            data["policy"]["templates"],
            data["policy"]["cached"],
        )
        scanned = ScanReport(
            **{**data["scan"], "findings": [PolicyFinding.from_json(f) for f in data["scan"]["findings"]]}
        )
        return ValidationReport(
            findings=[Finding(**f) for f in data["lint"]["findings"]],
            templates=data["lint"]["templates"],
            cached=data["lint"]["templates"],
            policy=policy,
            scan=scanned,
            environments=data["environments"],
            from_cache=True,
        )
    except (ValueError, TypeError, KeyError):
        return None  # recomputed


def write_cached(cache_dir: Path, key: str, report: ValidationReport) -> None:
    folder = cache_dir / "validate"
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "environments": report.environments,
        "lint": {"findings": [asdict(f) for f in report.findings], "templates": report.templates},
        "policy": {
            "findings": [f.to_json() for f in report.policy.findings],
            "environments": report.policy.environments,
            "templates": report.policy.templates,
            "cached": report.policy.cached,
        },
        "scan": {
            **{k: v for k, v in asdict(report.scan).items() if k != "findings"},
            "findings": [f.to_json() for f in report.scan.findings],
        },
    }
    (folder / f"{key}.json").write_text(json.dumps(data), encoding="utf-8")
