"""The validation report and its cache, light enough to answer `payctl validate` with nothing
changed without importing the renderer, the environment models, cfn-lint or the rules.

The whole report is cached under <cache>/validate by a fingerprint of what could change it: the
workspace's envs/, stacks/ and lambdas/, payctl's own code, cfn-lint's version, the scanner's
installation and its accepted findings. Only the standard library is imported here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA = "payctl.validate/1"
INPUT_FOLDERS = ("envs", "stacks", "lambdas")
SCANNER_CONFIG = Path(__file__).with_name("scanner.yaml")


@dataclass(frozen=True)
class PolicyFinding:
    """One finding of cfn-lint, the policy engine or the security scanner, located in a fragment."""

    tool: str  # cfn-lint | payctl | checkov
    rule: str
    severity: str  # error | warning | informational
    title: str
    message: str
    hint: str
    file: str
    line: int
    resource: str
    path: str
    where: tuple[str, ...] = ()  # environment/wave/region/template labels it was found in
    suppressed: str | None = None  # the reason, when a suppression covers it

    @property
    def blocking(self) -> bool:
        return self.severity == "error" and self.suppressed is None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["where"] = list(self.where)
        data["suppressed"] = {"reason": self.suppressed} if self.suppressed is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PolicyFinding:
        values = dict(data)
        values["where"] = tuple(values.get("where") or ())
        suppressed = values.get("suppressed")
        values["suppressed"] = suppressed.get("reason") if isinstance(suppressed, dict) else None
        return cls(**values)


def sort_findings(findings: Iterable[PolicyFinding]) -> list[PolicyFinding]:
    return sorted(
        findings,
        key=lambda f: (f.suppressed is not None, f.severity != "error", f.rule, f.file, f.line, f.message),
    )


@dataclass
class PolicyReport:
    findings: list[PolicyFinding] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    templates: int = 0  # effective templates checked (environment x wave x region x template)
    cached: int = 0  # environments whose results came from the cache

    @property
    def errors(self) -> list[PolicyFinding]:
        return [f for f in self.findings if f.blocking]

    @property
    def warnings(self) -> list[PolicyFinding]:
        return [f for f in self.findings if f.severity == "warning" and f.suppressed is None]

    @property
    def suppressed(self) -> list[PolicyFinding]:
        return [f for f in self.findings if f.suppressed is not None]


@dataclass
class ScanReport:
    status: str = "skipped"  # ran | not-installed | skipped | failed
    version: str = ""
    detail: str = ""
    findings: list[PolicyFinding] = field(default_factory=list)
    templates: int = 0
    cached: int = 0

    @property
    def errors(self) -> list[PolicyFinding]:
        return [f for f in self.findings if f.blocking]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": "checkov",
            "status": self.status,
            "version": self.version,
            "detail": self.detail,
            "templates": self.templates,
            "cached": self.cached,
        }


@dataclass(frozen=True)
class LintFinding:
    """A cfn-lint finding (the fields of payctl.lint.Finding)."""

    severity: str
    rule: str
    file: str
    line: int
    path: str
    message: str
    template: str

    def as_policy_finding(self) -> PolicyFinding:
        resource = self.path.split(".")[1] if self.path.startswith("Resources.") else ""
        return PolicyFinding(
            "cfn-lint",
            self.rule,
            self.severity,
            self.rule,
            self.message,
            "",
            self.file,
            self.line,
            resource,
            self.path,
            (self.template,),
            None,
        )


@dataclass
class ValidationReport:
    """cfn-lint findings (`findings`, `templates`, `cached` as payctl.lint.LintReport has them),
    the platform rules' findings and the scanner's."""

    findings: list[LintFinding] = field(default_factory=list)
    templates: int = 0
    cached: int = 0
    policy: PolicyReport = field(default_factory=PolicyReport)
    scan: ScanReport = field(default_factory=ScanReport)
    environments: list[str] = field(default_factory=list)
    from_cache: bool = False
    root: str = ""  # the workspace; not part of the cached data

    @property
    def errors(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def failed(self) -> bool:
        """Whether anything of error severity is left unsuppressed."""
        return bool(self.errors or self.policy.errors or self.scan.errors)

    def to_json(self) -> dict[str, Any]:
        """The documented `--json` schema (docs/policy.md)."""
        checked = self.policy.findings + self.scan.findings
        return {
            "schema": SCHEMA,
            "environments": self.environments,
            "summary": {
                "errors": len(self.errors) + len(self.policy.errors) + len(self.scan.errors),
                "warnings": len(self.warnings) + len(self.policy.warnings),
                "suppressed": len([f for f in checked if f.suppressed is not None]),
                "templates": self.templates,
                "effective_templates": self.policy.templates,
                "from_cache": self.from_cache,
            },
            "scanner": self.scan.to_json(),
            "findings": [f.as_policy_finding().to_json() for f in self.findings]
            + [f.to_json() for f in checked],
        }


# --- what the report depends on -----------------------------------------------------------------
@cache
def code_fingerprint() -> str:
    """Changes whenever payctl's own code does (rules, evaluator, renderer)."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# Where the README's install step puts checkov: its own environment beside the checkout, since
# checkov pins an older boto3 than payctl needs.
SCANNER_ENVIRONMENT = Path(__file__).resolve().parents[2] / ".venv-scanner" / "bin" / "checkov"


def scanner_command() -> list[str] | None:
    """How to run checkov here (PAYCTL_CHECKOV, else `checkov` on PATH, else the checkout's
    .venv-scanner), or None."""
    configured = os.environ.get("PAYCTL_CHECKOV")
    if configured:
        return [configured] if Path(configured).is_file() else None
    found = shutil.which("checkov") or (str(SCANNER_ENVIRONMENT) if SCANNER_ENVIRONMENT.is_file() else None)
    return [found] if found else None


@cache
def scanner_identity(executable: str) -> str:
    """Changes when checkov is reinstalled or upgraded, without starting it (which takes seconds)."""
    path = Path(executable).resolve()
    stat = path.stat()
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def fingerprint(root: Path, names: list[str] | None, run_scan: bool) -> str:
    """Changes when any input of the report does; `names` None means every environment."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    runner = scanner_command() if run_scan else None
    digest.update(
        json.dumps(
            [
                SCHEMA,
                names,
                run_scan,
                code_fingerprint(),
                version("cfn-lint"),
                scanner_identity(runner[0]) if runner else None,
            ]
        ).encode()
    )
    if SCANNER_CONFIG.is_file():
        digest.update(SCANNER_CONFIG.read_bytes())
    for folder in INPUT_FOLDERS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_dir(root: Path) -> Path:
    """Where payctl caches results for a workspace (as Workspace.cache_dir says)."""
    return Path(os.environ.get("PAYCTL_CACHE_DIR") or root / ".payctl" / "cache")


def workspace_root(explicit: Path | None) -> Path | None:
    """The workspace as payctl.config.find_workspace finds it, or None (the full path then reports
    the error)."""
    if explicit is not None:
        candidates = [explicit.resolve()]
    else:
        start = Path.cwd().resolve()
        candidates = [start, *start.parents]
    for folder in candidates:
        if (folder / "payctl.yaml").is_file() or (
            (folder / "envs").is_dir() and (folder / "stacks").is_dir()
        ):
            return folder
    return None


# --- the cache ----------------------------------------------------------------------------------
def cached_validation(
    explicit: Path | None, names: list[str] | None, *, run_scan: bool
) -> ValidationReport | None:
    """The cached report when nothing it depends on changed, else None."""
    root = workspace_root(explicit)
    if root is None:
        return None
    return read_cached(cache_dir(root), fingerprint(root, names, run_scan), root)


def read_cached(folder: Path, key: str, root: Path) -> ValidationReport | None:
    path = folder / "validate" / f"{key}.json"
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
            findings=[LintFinding(**f) for f in data["lint"]["findings"]],
            templates=data["lint"]["templates"],
            cached=data["lint"]["templates"],
            policy=policy,
            scan=scanned,
            environments=data["environments"],
            from_cache=True,
            root=str(root),
        )
    except (ValueError, TypeError, KeyError):
        return None  # recomputed


def write_cached(folder: Path, key: str, report: ValidationReport) -> None:
    target = folder / "validate"
    target.mkdir(parents=True, exist_ok=True)
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
    (target / f"{key}.json").write_text(json.dumps(data), encoding="utf-8")
