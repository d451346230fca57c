"""Running the rules over every environment's effective templates.

Findings are located in the fragments, suppressed where a resource says so with a reason, and
aggregated: one finding per fragment line and message, listing every environment, region and
template it was found in. Results are cached per environment by the content of what was checked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from payctl.policy.effective import EffectiveTemplate, evaluate_environment, text
from payctl.policy.model import Context, Rule, Violation, as_list
from payctl.policy.report import PolicyFinding, PolicyReport, code_fingerprint, sort_findings
from payctl.policy.rules import RULES, RULES_BY_ID

if TYPE_CHECKING:
    from payctl.config.models import Environment
    from payctl.templates.compose import Template
    from payctl.templates.render import RenderedSet

SUPPRESSION_RULE = "PAY000"
SUPPRESSION_TITLE = "Suppressions name a known rule and give a reason"
SUPPRESSION_HINT = (
    'Write Metadata: {payctl: {suppress: [{rule: PAY0xx, reason: "why this resource may '
    'break the rule"}]}} on the resource.'
)
SCANNER_RULE = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")


# --- suppressions -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Suppression:
    resource: str
    index: int
    rule: str
    reason: str


def suppressions(metadata: Any) -> list[tuple[int, Any]]:
    payctl = (metadata or {}).get("payctl") if isinstance(metadata, dict) else None
    entries = payctl.get("suppress") if isinstance(payctl, dict) else None
    return list(enumerate(as_list(entries)))


def parse_suppressions(resource: str, metadata: Any) -> tuple[list[Suppression], list[Violation]]:
    """The valid suppressions of a resource and a PAY000 violation for each invalid one."""
    valid, problems = [], []
    for index, entry in suppressions(metadata):
        path = ("Metadata", "payctl", "suppress", index)
        rule = text(entry.get("rule", "")).strip() if isinstance(entry, dict) else ""
        reason = text(entry.get("reason") or "").strip() if isinstance(entry, dict) else ""
        if not rule:
            problems.append(Violation(resource, path, "a suppression without a rule id"))
        elif rule not in RULES_BY_ID and not SCANNER_RULE.match(rule):
            problems.append(
                Violation(resource, path, f"suppresses {rule}, which is no payctl or scanner rule")
            )
        elif rule == SUPPRESSION_RULE:
            problems.append(Violation(resource, path, f"{SUPPRESSION_RULE} cannot be suppressed"))
        elif not reason:
            problems.append(
                Violation(resource, path, f"suppresses {rule} without a reason; the reason is mandatory")
            )
        else:
            valid.append(Suppression(resource, index, rule, reason))
    return valid, problems


# --- checking -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Raw:
    """A finding at one place, before aggregation."""

    rule: str
    severity: str
    message: str
    file: str
    line: int
    resource: str
    path: str
    where: str
    suppressed: str | None
    suppression: tuple[str, str, int] | None = None  # (file, resource, index) of the one used


def _rule_meta(rule_id: str) -> tuple[str, str]:
    rule = RULES_BY_ID.get(rule_id)
    return (rule.title, rule.hint) if rule else (SUPPRESSION_TITLE, SUPPRESSION_HINT)


def check_templates(
    templates: list[EffectiveTemplate],
    environment: Environment,
    root: Path,
    *,
    complete: bool = True,
    rules: Iterable[Rule] = RULES,
) -> list[_Raw]:
    """Every rule over every template of one environment; suppressions applied."""
    context = Context(environment=environment, root=root, templates=templates, complete=complete)
    raw: list[_Raw] = []
    chosen = list(rules)
    for template in templates:
        where = template.label
        found: list[tuple[Rule | None, Violation]] = []
        for checker in chosen:
            found += [(checker, violation) for violation in checker.check(template, context)]
        allowed: dict[tuple[str, str], Suppression] = {}
        for logical_id, resource in template.resources.items():
            valid, problems = parse_suppressions(logical_id, resource.get("Metadata"))
            found += [(None, problem) for problem in problems]
            allowed.update({(s.resource, s.rule): s for s in valid})
        used: set[tuple[str, str]] = set()
        for owner, violation in found:
            rule_id = owner.id if owner else SUPPRESSION_RULE
            severity = violation.severity or (owner.severity if owner else "error")
            file, line = template.locate(violation.resource, violation.path)
            suppression = allowed.get((violation.resource or "", rule_id)) if owner else None
            if suppression is not None:
                used.add((suppression.resource, suppression.rule))
            raw.append(
                _Raw(
                    rule_id,
                    severity,
                    violation.message,
                    file,
                    line,
                    violation.resource or "",
                    ".".join(map(str, violation.path)),
                    where,
                    suppression.reason if suppression else None,
                    (file, suppression.resource, suppression.index) if suppression else None,
                )
            )
        for key, suppression in allowed.items():
            if key not in used and not SCANNER_RULE.match(suppression.rule):
                file, line = template.locate(
                    suppression.resource, ("Metadata", "payctl", "suppress", suppression.index)
                )
                raw.append(
                    _Raw(
                        SUPPRESSION_RULE,
                        "warning",
                        f"suppresses {suppression.rule}, which finds nothing here",
                        file,
                        line,
                        suppression.resource,
                        f"Metadata.payctl.suppress.{suppression.index}",
                        where,
                        None,
                        (file, suppression.resource, suppression.index),
                    )
                )
    return raw


def aggregate(raw: Iterable[_Raw]) -> list[PolicyFinding]:
    """One finding per fragment place and message, with every place it was found in. A
    suppression is unused only where it was unused everywhere."""
    items = list(raw)
    used = {item.suppression for item in items if item.rule != SUPPRESSION_RULE and item.suppression}
    grouped: dict[tuple[Any, ...], set[str]] = {}
    for item in items:
        if item.rule == SUPPRESSION_RULE and item.severity == "warning" and item.suppression in used:
            continue
        key = (
            item.rule,
            item.severity,
            item.message,
            item.file,
            item.line,
            item.resource,
            item.path,
            item.suppressed,
        )
        grouped.setdefault(key, set()).add(item.where)
    findings = []
    for (rule, severity, message, file, line, resource, path, suppressed), where in grouped.items():
        title, hint = _rule_meta(rule)
        findings.append(
            PolicyFinding(
                "payctl",
                rule,
                severity,
                title,
                message,
                hint,
                file,
                line,
                resource,
                path,
                tuple(sorted(where)),
                suppressed,
            )
        )
    return sort_findings(findings)


# --- environments, with a cache -----------------------------------------------------------------
def _environment_key(rendered: RenderedSet) -> str:
    material: list[Any] = [code_fingerprint(), rendered.environment.model_dump_json()]
    for stack in rendered.stacks:
        material.append([stack.wave, stack.region, [t.text for t in stack.all_templates()], stack.parameters])
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def check_environment(rendered: RenderedSet, root: Path) -> tuple[list[_Raw], int]:
    stacks = evaluate_environment(rendered)
    templates = [template for stack in stacks for template in stack.templates()]
    return check_templates(templates, rendered.environment, root), len(templates)


def check(sets: Iterable[RenderedSet], root: Path, cache_dir: Path | None = None) -> PolicyReport:
    """Every rule over every environment of `sets`, findings aggregated."""
    report = PolicyReport()
    raw: list[_Raw] = []
    for rendered in sets:
        report.environments.append(rendered.environment.name)
        key = _environment_key(rendered) if cache_dir is not None else ""
        cached = _read(cache_dir, key)
        if cached is not None:
            found, count = cached
            report.cached += 1
        else:
            found, count = check_environment(rendered, root)
            _write(cache_dir, key, found, count)
        raw += found
        report.templates += count
    report.findings = aggregate(raw)
    return report


def _read(cache_dir: Path | None, key: str) -> tuple[list[_Raw], int] | None:
    if cache_dir is None or not (path := cache_dir / f"{key}.json").is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        raw = [
            _Raw(**{**item, "suppression": tuple(item["suppression"]) if item.get("suppression") else None})
            for item in data["findings"]
        ]
        return raw, int(data["templates"])
    except (ValueError, TypeError, KeyError):
        return None  # a damaged entry is recomputed


def _write(cache_dir: Path | None, key: str, raw: list[_Raw], count: int) -> None:
    if cache_dir is None:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    data = {"templates": count, "findings": [asdict(item) for item in raw]}
    (cache_dir / f"{key}.json").write_text(json.dumps(data), encoding="utf-8")


# --- one template, outside a workspace's waves (fixtures, experiments) ---------------------------
def check_template(
    template: Template,
    environment: Environment,
    root: Path,
    *,
    role: str = "primary",
    parameters: dict[str, Any] | None = None,
    wave: str = "fixture",
) -> list[PolicyFinding]:
    """The rules over one template evaluated with an environment's values (and `parameters` over
    them); rules that need the whole environment see only this template."""
    from payctl.policy.effective import evaluate, template_inputs

    region = environment.region(role)  # type: ignore[arg-type]
    effective = evaluate(
        template,
        template_inputs(template, environment, role, parameters),
        region=region,
        account=environment.account_id,
        environment=environment.name,
        wave=wave,
        role=role,
    )
    return aggregate(check_templates([effective], environment, root, complete=False))
