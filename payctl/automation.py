"""The importable API. The CLI is one consumer; CI jobs and scripts are others.

    ws = Workspace("path/to/checkout")
    rendered = ws.environment("prod").render()
    report = ws.validate()
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from payctl.config import Environment, Environments, find_workspace, load_environments
from payctl.lint import LintReport, lint
from payctl.templates import Composer, RenderedSet, render_environment
from payctl.templates.compose import Template
from payctl.templates.render import Format


class Workspace:
    """A checkout holding envs/, stacks/ and lambdas/."""

    def __init__(self, path: Path | str | None = None, *, search: bool = True) -> None:
        start = Path(path) if path is not None else Path.cwd()
        self.root = find_workspace(start) if search else find_workspace(start, explicit=start)

    @cached_property
    def environments(self) -> Environments:
        return load_environments(self.root)

    @cached_property
    def composer(self) -> Composer:
        return Composer(self.root)

    @property
    def cache_dir(self) -> Path:
        return Path(os.environ.get("PAYCTL_CACHE_DIR") or self.root / ".payctl" / "cache")

    def environment(self, name: str) -> EnvironmentHandle:
        return EnvironmentHandle(self, self.environments[name])

    def select(self, names: list[str] | None) -> list[EnvironmentHandle]:
        """The named environments, or all of them in deploy order."""
        chosen = names or self.environments.names()
        return [self.environment(name) for name in chosen]

    def standalone_templates(self) -> dict[str, Template]:
        return self.composer.standalone()

    def render(self, names: list[str] | None = None) -> list[RenderedSet]:
        return [handle.render() for handle in self.select(names)]

    def write(self, out: Path, names: list[str] | None = None, fmt: Format = "yaml") -> list[Path]:
        from payctl.templates.render import template_text

        written = [path for rendered in self.render(names) for path in rendered.write(out, fmt)]
        for folder, template in self.standalone_templates().items():
            target = out / "_standalone" / f"{folder.replace('/', '-')}.{fmt}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(template_text(template, fmt), encoding="utf-8")
            written.append(target)
        return written

    def validate(self, names: list[str] | None = None, *, use_cache: bool = True) -> LintReport:
        return lint(self.render(names), self.cache_dir / "lint" if use_cache else None,
                    extra=self.standalone_templates().values())


@dataclass(frozen=True)
class EnvironmentHandle:
    workspace: Workspace
    config: Environment

    @property
    def name(self) -> str:
        return self.config.name

    def render(self) -> RenderedSet:
        return render_environment(self.workspace.composer, self.config)
