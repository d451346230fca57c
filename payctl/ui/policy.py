"""Rich views of policy and scanner findings and of environment comparisons."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from payctl.ui import stderr, stdout

if TYPE_CHECKING:
    from payctl.compare import Comparison
    from payctl.policy.report import PolicyFinding, ValidationReport

MAX_PLACES = 2


def _places(where: tuple[str, ...]) -> str:
    shown = ", ".join(where[:MAX_PLACES])
    return shown + (f" (+{len(where) - MAX_PLACES} more)" if len(where) > MAX_PLACES else "")


def findings_table(title: str, findings: Iterable[PolicyFinding], *, reasons: bool = False) -> Table | None:
    """One table, a section per rule: the rule and how to fix it, then each finding's fragment
    file:line and resource, what is wrong (or why it is accepted), and where it was found."""
    rows = list(findings)
    if not rows:
        return None
    table = Table(title=title, title_justify="left", expand=True)
    table.add_column("rule", no_wrap=True)
    table.add_column("fragment and resource", ratio=2, overflow="fold")
    table.add_column("reason accepted" if reasons else "finding", ratio=3)
    current = None
    for finding in rows:
        if finding.rule != current:
            if current is not None:
                table.add_section()
            current = finding.rule
            colour = "yellow" if reasons or finding.severity != "error" else "red"
            heading = f"[bold]{escape(finding.title)}[/bold]"
            if not reasons and finding.hint:
                heading += f"\n[dim]fix: {escape(finding.hint)}[/dim]"
            table.add_row(
                f"[{colour}]{escape(finding.rule)}[/{colour}]\n[dim]{finding.tool}[/dim]", "", heading
            )
        where = f"{finding.file}:{finding.line}" if finding.line else finding.file
        shown = finding.suppressed if reasons else finding.message
        detail = "" if shown == finding.title else escape(shown or "")
        if finding.where:
            detail += ("\n" if detail else "") + f"[dim]in {escape(_places(finding.where))}[/dim]"
        table.add_row(
            "", escape(where) + (f"\n{escape(finding.resource)}" if finding.resource else ""), detail
        )
    return table


def show_validation(report: ValidationReport) -> None:
    """cfn-lint lines (as before), then the policy and scanner findings grouped by rule."""
    out = stdout()
    for finding in report.findings:
        colour = (
            "red" if finding.severity == "error" else "yellow" if finding.severity == "warning" else "blue"
        )
        where = f"{finding.file}:{finding.line}" if finding.line else finding.file
        place = f"{where}: {finding.path}: " if finding.path else f"{where}: "
        out.print(
            f"[{colour}]{finding.severity}[/{colour}] {escape(place + finding.rule + ' ' + finding.message)}"
            f" [dim](in {escape(finding.template)})[/dim]",
            highlight=False,
        )
    summary = (
        f"{report.templates} templates for {', '.join(report.environments)}: "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings"
        + (f" ({report.cached} from cache)" if report.cached else "")
    )
    stderr().print(("[green]✓[/green] " if not report.errors else "[red]✗[/red] ") + summary, highlight=False)
    open_findings = [f for f in report.policy.findings + report.scan.findings if f.suppressed is None]
    suppressed = [f for f in report.policy.findings + report.scan.findings if f.suppressed is not None]
    table = findings_table("Policy and security findings", sorted(open_findings, key=_by_rule))
    if table is not None:
        out.print(table)
    table = findings_table(
        "Suppressed, with the reasons given", sorted(suppressed, key=_by_rule), reasons=True
    )
    if table is not None:
        out.print(table)
    policy, scan = report.policy, report.scan
    mark = "[red]✗[/red]" if policy.errors else "[green]✓[/green]"
    stderr().print(
        f"{mark} policy: {policy.templates} effective templates, {len(policy.errors)} errors, "
        f"{len(policy.warnings)} warnings, {len(policy.suppressed)} suppressed"
        + (" (from cache)" if report.from_cache or policy.cached else ""),
        highlight=False,
    )
    if scan.status == "ran":
        mark = "[red]✗[/red]" if scan.errors else "[green]✓[/green]"
        stderr().print(
            f"{mark} scanner (checkov): {scan.templates} templates, {len(scan.errors)} errors, "
            f"{len([f for f in scan.findings if f.suppressed])} suppressed"
            + (f" ({scan.cached} from cache)" if scan.cached else ""),
            highlight=False,
        )
    elif scan.status == "not-installed":
        stderr().print(f"[yellow]![/yellow] scanner not run: {escape(scan.detail)}", highlight=False)
    elif scan.status == "failed":
        stderr().print(f"[red]✗[/red] scanner failed: {escape(scan.detail)}", highlight=False)
    else:
        stderr().print(f"[yellow]![/yellow] scanner skipped: {escape(scan.detail)}", highlight=False)


def _by_rule(finding: PolicyFinding) -> tuple[object, ...]:
    return (finding.severity != "error", finding.tool != "payctl", finding.rule, finding.file, finding.line)


def show_comparison(comparison: Comparison, *, structural_only: bool = False) -> None:
    out = stdout()
    differences = [d for d in comparison.differences if d.structural or not structural_only]
    if differences:
        table = Table(title=f"{comparison.a} vs {comparison.b}", title_justify="left", expand=True)
        table.add_column("difference", ratio=3, overflow="fold")
        table.add_column(f"{comparison.a} → {comparison.b}", ratio=2, overflow="fold")
        table.add_column("because", ratio=3)
        for difference in differences:
            kind = "[red]structural[/red]" if difference.structural else "[green]parameter-driven[/green]"
            what = f"{difference.kind} {difference.resource}" + (
                f" {difference.path}" if difference.path else ""
            )
            where = f"\n[dim]{escape(difference.file)}:{difference.line}[/dim]" if difference.file else ""
            table.add_row(
                f"{kind} {escape(difference.stack)}\n{escape(what)}{where}",
                f"{escape(_short(difference.a))}\n→ {escape(_short(difference.b))}",
                escape(difference.reason),
            )
        out.print(table)
    structural = len(comparison.structural)
    driven = len(comparison.differences) - structural
    mark = "[red]✗[/red]" if structural else "[green]✓[/green]"
    hint = "" if not driven or not structural_only else " (--all lists the parameter-driven ones)"
    stderr().print(
        f"{mark} {comparison.a} vs {comparison.b}: {driven} parameter-driven, {structural} structural "
        f"differences{hint}",
        highlight=False,
    )


def _short(value: object, limit: int = 60) -> str:
    shown = "—" if value is None else str(value)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
