"""cfn-lint over rendered templates, with findings located in the source fragments.

Each distinct template is linted once, for every region it deploys to and with every
environment's parameter values; results are cached by content hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from payctl.errors import Problem
from payctl.templates.compose import Template
from payctl.templates.render import RenderedSet
from payctl.yamlio import key_line

Severity = Literal["error", "warning", "informational"]


@dataclass(frozen=True, order=True)
class Finding:
    severity: Severity
    rule: str
    file: str
    line: int
    path: str
    message: str
    template: str  # the rendered template it was found in

    @property
    def problem(self) -> Problem:
        return Problem(self.file, self.line, self.path, f"{self.rule} {self.message}")


@dataclass
class LintReport:
    findings: list[Finding] = field(default_factory=list)
    templates: int = 0
    cached: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]


@dataclass
class _Job:
    template: Template
    regions: set[str] = field(default_factory=set)
    parameter_sets: list[dict[str, Any]] = field(default_factory=list)


def distinct_templates(sets: Iterable[RenderedSet], extra: Iterable[Template] = ()) -> list[_Job]:
    jobs: dict[str, _Job] = {}
    for rendered in sets:
        for stack in rendered.stacks:
            for template in stack.all_templates():
                job = jobs.setdefault(template.text, _Job(template))
                job.regions.add(stack.region)
                values = _typed_values(template, stack.parameters.get(template.name, {}))
                if values and values not in job.parameter_sets:
                    job.parameter_sets.append(values)
    for template in extra:
        jobs.setdefault(template.text, _Job(template, {"us-east-1"}))
    return list(jobs.values())


def _typed_values(template: Template, values: dict[str, str]) -> dict[str, Any]:
    """cfn-lint wants list-typed parameter values as JSON arrays, as deployment files give them."""
    declared = template.body.get("Parameters", {})
    typed: dict[str, Any] = {}
    for name, value in values.items():
        kind = str((declared.get(name) or {}).get("Type", "String"))
        is_list = kind == "CommaDelimitedList" or kind.startswith("List<") or "<List<" in kind
        typed[name] = value.split(",") if is_list else value
    return typed


def lint(sets: Iterable[RenderedSet], cache_dir: Path | None, extra: Iterable[Template] = ()) -> LintReport:
    report = LintReport()
    for job in distinct_templates(sets, extra):
        report.templates += 1
        key = _cache_key(job)
        cached = _read_cache(cache_dir, key)
        if cached is not None:
            report.cached += 1
            report.findings.extend(cached)
            continue
        findings = _run_cfn_lint(job)
        _write_cache(cache_dir, key, findings)
        report.findings.extend(findings)
    report.findings = sorted(set(report.findings), key=lambda f: (f.severity != "error", f.file, f.line, f.rule))
    return report


def _cache_key(job: _Job) -> str:
    from importlib.metadata import version

    material = json.dumps([job.template.text, sorted(job.regions), job.parameter_sets, version("cfn-lint")])
    return hashlib.sha256(material.encode()).hexdigest()


def _read_cache(cache_dir: Path | None, key: str) -> list[Finding] | None:
    if cache_dir is None or not (path := cache_dir / f"{key}.json").is_file():
        return None
    try:
        return [Finding(**item) for item in json.loads(path.read_text(encoding="utf-8"))]
    except (ValueError, TypeError):
        return None  # a damaged cache entry is simply recomputed


def _write_cache(cache_dir: Path | None, key: str, findings: list[Finding]) -> None:
    if cache_dir is None:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / f"{key}.json").write_text(json.dumps([asdict(f) for f in findings]), encoding="utf-8")


def _run_cfn_lint(job: _Job) -> list[Finding]:
    from cfnlint.api import lint as cfn_lint
    from cfnlint.config import ManualArgs

    options: dict[str, Any] = {"regions": sorted(job.regions)}
    if job.parameter_sets:
        options["parameters"] = job.parameter_sets
    matches = cfn_lint(job.template.text, config=ManualArgs(**options))
    findings = []
    for match in matches:
        path = [str(part) for part in (getattr(match, "path", None) or [])]
        file, line = locate(job.template, path)
        severity = str(getattr(match.rule, "severity", "error")).lower()
        findings.append(Finding(
            severity="error" if severity == "error" else "warning" if severity == "warning" else "informational",
            rule=str(match.rule.id), file=file, line=line or int(match.linenumber),
            path=".".join(path), message=str(match.message), template=job.template.name,
        ))
    return findings


def locate(template: Template, path: list[str]) -> tuple[str, int]:
    """The fragment file and line behind a path in a rendered template."""
    if len(path) < 2:
        file, line = template.origin(path[0] if path else "", "")
        return file, line
    file, line = template.origin(path[0], path[1])
    node: Any = template.body
    for part in path:
        key: Any = int(part) if isinstance(node, list) and part.isdigit() else part
        try:
            found = key_line(node, key)
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        if found:
            line = found
    return file, line
