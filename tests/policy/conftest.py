"""Helpers for the policy tests: fixture templates checked with an environment's values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from payctl.config import load_environments
from payctl.policy.effective import Unresolved
from payctl.policy.engine import PolicyFinding, check_template
from payctl.templates.compose import Template
from payctl.yamlio import key_line, load_path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SECTIONS = ("Parameters", "Conditions", "Mappings", "Resources", "Outputs")


def load_template(path: Path) -> tuple[Template, dict[str, Any]]:
    """A fixture file as a Template whose findings point at the fixture's own lines, and the
    fixture's settings (top-level Metadata.Fixture)."""
    display = path.relative_to(REPO).as_posix()
    body = load_path(path, display)
    origins: dict[tuple[str, str], tuple[str, int]] = {("", ""): (display, 1)}
    for section in SECTIONS:
        for entry in body.get(section) or {}:
            origins[(section, str(entry))] = (display, key_line(body[section], entry))
    settings = dict((body.get("Metadata") or {}).get("Fixture") or {})
    return Template(name=path.stem, body=body, origins=origins, source=display), settings


def parameter_value(value: Any) -> Any:
    """`ssm:/path` in a fixture stands for a value CloudFormation reads from SSM at deploy time."""
    text = str(value)
    return Unresolved(f"{{{{resolve:ssm:{text[4:]}}}}}", ssm=text[4:]) if text.startswith("ssm:") else text


def check_fixture(path: Path) -> tuple[list[PolicyFinding], dict[str, Any]]:
    template, settings = load_template(path)
    environment = load_environments(REPO)[settings.get("environment", "prod")]
    parameters = {name: parameter_value(value) for name, value in (settings.get("parameters") or {}).items()}
    findings = check_template(template, environment, REPO, role=settings.get("role", "primary"),
                              parameters=parameters)
    return findings, settings


@pytest.fixture(scope="session")
def repo_environments() -> Any:
    return load_environments(REPO)
