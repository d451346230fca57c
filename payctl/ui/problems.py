"""Printing located problems (config, template, lint) one per line."""

from __future__ import annotations

from rich.markup import escape

from payctl.errors import Problem, ProblemsError
from payctl.lint import LintReport
from payctl.ui import stderr, stdout


def show_problems(error: ProblemsError) -> None:
    for problem in error.problems:
        stderr().print(f"[red]error[/red] {escape(str(problem))}", highlight=False)


def show_lint(report: LintReport, *, environments: list[str]) -> None:
    out = stdout()
    for finding in report.findings:
        colour = "red" if finding.severity == "error" else "yellow" if finding.severity == "warning" else "blue"
        problem = Problem(finding.file, finding.line, finding.path, f"{finding.rule} {finding.message}")
        out.print(f"[{colour}]{finding.severity}[/{colour}] {escape(str(problem))}"
                  f" [dim](in {finding.template})[/dim]", highlight=False)
    summary = (f"{report.templates} templates for {', '.join(environments)}: "
               f"{len(report.errors)} errors, {len(report.warnings)} warnings"
               + (f" ({report.cached} from cache)" if report.cached else ""))
    stderr().print(("[green]✓[/green] " if not report.errors else "[red]✗[/red] ") + summary, highlight=False)
