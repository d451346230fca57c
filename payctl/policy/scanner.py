"""The security scanner: checkov over the same rendered templates, findings located in fragments.

checkov is a large install with pinned dependencies of its own (boto3 among them), so payctl runs
it as a separate program: `checkov` on PATH, or the executable named by PAYCTL_CHECKOV (e.g. a
virtualenv or pipx install). It scans offline (`--skip-download`). Each distinct template is
scanned once; results are cached by template content, checkov's identity and the suppressions.

Accepted findings are suppressed with a reason, either platform-wide in scanner.yaml beside this
module or on a resource with `Metadata: {payctl: {suppress: [{rule: CKV_AWS_18, reason: ...}]}}`.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from payctl.lint import locate
from payctl.policy.engine import parse_suppressions
from payctl.policy.report import PolicyFinding, ScanReport, scanner_command, scanner_identity, sort_findings
from payctl.templates.compose import Template
from payctl.yamlio import load_path

TOOL = "checkov"
CONFIG = Path(__file__).with_name("scanner.yaml")
TIMEOUT_SECONDS = 900
HINT = 'Fix the resource, or suppress the check on it with a reason (docs/policy.md, "Scanner").'


def command() -> list[str] | None:
    """How to run checkov here, or None when it is not installed."""
    return scanner_command()


identity = scanner_identity


@cache
def installed_version(executable: str) -> str:
    """checkov's version from the metadata of the environment it is installed in (starting it
    only to ask would take seconds)."""
    base = Path(executable).resolve().parent.parent
    for metadata in sorted(base.glob("lib/python*/site-packages/checkov-*.dist-info")):
        return metadata.name.removeprefix("checkov-").removesuffix(".dist-info")
    return "unknown"


def accepted() -> list[dict[str, Any]]:
    """Platform-wide accepted findings from scanner.yaml: check, optional fragment and resources,
    reason."""
    document = load_path(CONFIG, "payctl/policy/scanner.yaml") if CONFIG.is_file() else None
    entries = (document or {}).get("suppress") or []
    return [
        {
            "check": str(e["check"]),
            "fragment": str(e.get("fragment") or ""),
            "resources": [str(r) for r in e.get("resources") or []],
            "reason": str(e.get("reason") or "").strip(),
        }
        for e in entries
        if isinstance(e, Mapping)
    ]


def scan(templates: Mapping[str, tuple[Template, list[str]]], cache_dir: Path | None) -> ScanReport:
    """checkov over each distinct template (text -> (template, places it is deployed to))."""
    report = ScanReport(templates=len(templates))
    runner = command()
    if runner is None:
        report.status = "not-installed"
        report.detail = (
            "checkov is not installed: install it apart from payctl (pipx install checkov, "
            "or a virtualenv) and put it on PATH or set PAYCTL_CHECKOV"
        )
        return report
    rules = accepted()
    salt = json.dumps([identity(runner[0]), rules], sort_keys=True)
    keys = {text: hashlib.sha256((salt + text).encode()).hexdigest() for text in templates}
    results: dict[str, list[dict[str, Any]]] = {}
    pending = []
    for text, key in keys.items():
        cached = _read(cache_dir, key)
        if cached is None:
            pending.append(text)
        else:
            results[text] = cached
            report.cached += 1
    if pending:
        try:
            fresh = _run(runner, pending)
        except ScannerFailed as failure:
            report.status, report.detail = "failed", str(failure)
            return report
        for text in pending:
            results[text] = fresh.get(text, [])
            _write(cache_dir, keys[text], results[text])
    report.status = "ran"
    report.version = installed_version(runner[0])
    report.findings = sort_findings(_findings(templates, results, rules))
    return report


class ScannerFailed(Exception):
    pass


def _run(runner: list[str], texts: list[str]) -> dict[str, list[dict[str, Any]]]:
    """One checkov run over several templates: template text -> its failed and skipped checks."""
    with tempfile.TemporaryDirectory(prefix="payctl-scan-") as folder:
        names = {}
        for index, text in enumerate(texts):
            name = f"t{index:03d}.yaml"
            (Path(folder) / name).write_text(text, encoding="utf-8")
            names[name] = text
        arguments = [
            *runner,
            "--framework",
            "cloudformation",
            "--directory",
            folder,
            "--output",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
        ]
        environment = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
        try:
            done = subprocess.run(
                arguments,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                env=environment,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ScannerFailed(f"checkov did not run: {error}") from None
        # checkov exits 1 when checks fail; anything else but 0, or no JSON, is a broken run.
        try:
            if done.returncode not in (0, 1) or not done.stdout.strip():
                raise ValueError(done.returncode)
            output = json.loads(done.stdout)
        except ValueError:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ScannerFailed(f"checkov exited {done.returncode}: {tail[0]}") from None
    found: dict[str, list[dict[str, Any]]] = {text: [] for text in texts}
    for block in output if isinstance(output, list) else [output]:
        if not isinstance(block, dict) or block.get("check_type") not in (None, "cloudformation"):
            continue
        results = block.get("results") or {}
        for kind in ("failed_checks", "skipped_checks"):
            for check in results.get(kind) or []:
                scanned = names.get(Path(str(check.get("file_path", ""))).name)
                if scanned is None:
                    continue
                found[scanned].append(
                    {
                        "check": str(check.get("check_id")),
                        "title": str(check.get("check_name") or ""),
                        "resource": str(check.get("resource") or ""),
                        "skipped": (check.get("check_result") or {}).get("suppress_comment")
                        if kind == "skipped_checks"
                        else None,
                    }
                )
    return found


def _findings(
    templates: Mapping[str, tuple[Template, list[str]]],
    results: Mapping[str, list[dict[str, Any]]],
    rules: list[dict[str, Any]],
) -> Iterable[PolicyFinding]:
    for text, checks in results.items():
        template, places = templates[text]
        resources = template.body.get("Resources") or {}
        for check in checks:
            logical_id = check["resource"].rsplit(".", 1)[-1]
            file, line = (
                locate(template, ["Resources", logical_id])
                if logical_id in resources
                else template.origin("", "")
            )
            reason = check["skipped"] or _accepted_reason(check["check"], logical_id, file, resources, rules)
            yield PolicyFinding(
                TOOL,
                check["check"],
                "error",
                check["title"],
                check["title"],
                HINT,
                file,
                line,
                logical_id,
                "",
                tuple(places),
                reason,
            )


def _accepted_reason(
    check: str, logical_id: str, file: str, resources: Mapping[str, Any], rules: list[dict[str, Any]]
) -> str | None:
    resource = resources.get(logical_id)
    if isinstance(resource, Mapping):
        valid, _ = parse_suppressions(logical_id, resource.get("Metadata"))
        for suppression in valid:
            if suppression.rule == check:
                return suppression.reason
    for rule in rules:
        if (
            rule["check"] == check
            and rule["reason"]
            and (not rule["resources"] or logical_id in rule["resources"])
            and (not rule["fragment"] or rule["fragment"] == file)
        ):
            return str(rule["reason"])
    return None


def _read(cache_dir: Path | None, key: str) -> list[dict[str, Any]] | None:
    if cache_dir is None or not (path := cache_dir / f"{key}.json").is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, list) else None
    except ValueError:
        return None


def _write(cache_dir: Path | None, key: str, checks: list[dict[str, Any]]) -> None:
    if cache_dir is None:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / f"{key}.json").write_text(json.dumps(checks), encoding="utf-8")
