"""SARIF 2.1.0 for code-scanning tools: one run per tool (cfn-lint, payctl, checkov), every result
located at its fragment file and line relative to the workspace root (%SRCROOT%)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from payctl import __version__

if TYPE_CHECKING:
    from payctl.policy.report import PolicyFinding, ValidationReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "informational": "note"}
TOOL_URIS = {
    "payctl": "docs/policy.md",
    "cfn-lint": "https://github.com/aws-cloudformation/cfn-lint",
    "checkov": "https://www.checkov.io/",
}


def sarif(report: ValidationReport) -> dict[str, Any]:
    by_tool: dict[str, list[PolicyFinding]] = {
        "cfn-lint": [f.as_policy_finding() for f in report.findings],
        "payctl": list(report.policy.findings),
    }
    if report.scan.status == "ran":
        by_tool["checkov"] = list(report.scan.findings)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [_run(tool, findings) for tool, findings in by_tool.items()],
    }


def _run(tool: str, findings: list[PolicyFinding]) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for finding in findings:
        if finding.rule not in rules:
            rules[finding.rule] = {
                "id": finding.rule,
                "name": finding.rule,
                "shortDescription": {"text": finding.title or finding.rule},
                "defaultConfiguration": {"level": LEVELS.get(finding.severity, "warning")},
                **({"help": {"text": finding.hint}} if finding.hint else {}),
            }
        result: dict[str, Any] = {
            "ruleId": finding.rule,
            "ruleIndex": list(rules).index(finding.rule),
            "level": LEVELS.get(finding.severity, "warning"),
            "message": {"text": _message(finding)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": finding.file, "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": max(finding.line, 1)},
                    },
                    **(
                        {"logicalLocations": [{"name": finding.resource, "kind": "resource"}]}
                        if finding.resource
                        else {}
                    ),
                }
            ],
            "partialFingerprints": {
                "payctl/v1": f"{finding.rule}:{finding.file}:{finding.resource}:"
                f"{finding.path}:{finding.message}"
            },
            "properties": {"foundIn": list(finding.where)},
        }
        if finding.suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": finding.suppressed}]
        results.append(result)
    driver: dict[str, Any] = {"name": tool, "rules": list(rules.values())}
    if tool == "payctl":
        driver["version"] = __version__
    if tool in TOOL_URIS:
        driver["informationUri"] = TOOL_URIS[tool]
    return {
        "tool": {"driver": driver},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///"}},
        "results": results,
    }


def _message(finding: PolicyFinding) -> str:
    where = f" [{finding.resource}]" if finding.resource else ""
    return f"{finding.message}{where}"


def write_sarif(report: ValidationReport, path: Path, root: Path) -> None:
    document = sarif(report)
    for run in document["runs"]:
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"] = root.resolve().as_uri() + "/"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
