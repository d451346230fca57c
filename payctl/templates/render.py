"""Rendering an environment: every wave's templates with that environment's parameter files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from payctl.config.models import Environment, RegionRole
from payctl.config.parameters import parameter_values
from payctl.templates.compose import Composer, Template, WaveTemplates

Format = Literal["yaml", "json"]


@dataclass(frozen=True)
class RenderedStack:
    """One top-level stack: a wave deployed to one region of one environment."""

    environment: str
    wave: str
    role: RegionRole
    region: str
    stack_name: str
    templates: WaveTemplates
    parameters: dict[str, dict[str, str]]  # template name -> parameter values

    @property
    def master(self) -> Template:
        return self.templates.master

    def all_templates(self) -> list[Template]:
        return [self.templates.master, *self.templates.nested.values()]

    @property
    def folder(self) -> str:
        return f"{self.environment}/{self.wave}/{self.region}"


@dataclass(frozen=True)
class RenderedSet:
    environment: Environment
    stacks: tuple[RenderedStack, ...]

    def write(self, out: Path, fmt: Format = "yaml") -> list[Path]:
        written = []
        for stack in self.stacks:
            folder = out / stack.folder
            folder.mkdir(parents=True, exist_ok=True)
            for template in stack.all_templates():
                written.append(_write_if_changed(folder / f"{template.name}.{fmt}", template_text(template, fmt)))
                values = stack.parameters.get(template.name, {})
                written.append(_write_if_changed(folder / f"{template.name}.parameters.json",
                                                 parameters_json(values)))
        return written


def stack_name(env: Environment, wave: str) -> str:
    return f"{env.stack_prefix}-{wave}"


def render_environment(composer: Composer, env: Environment) -> RenderedSet:
    stacks = []
    for wave in composer.waves:
        templates = composer.wave_templates[wave.name]
        imports = {item.name: f"/{env.name}/{item.path}" for item in wave.imports}
        for role in wave.regions:
            master_values = parameter_values(env, role, templates.master.parameter_names)
            master_values.update({name: path for name, path in imports.items()
                                  if name in templates.master.parameter_names})
            parameters = {"master": master_values}
            for stack, template in templates.nested.items():
                env_names = [name for name, source in templates.wiring[stack].items() if source == "env"]
                parameters[template.name] = parameter_values(env, role, env_names)
            stacks.append(RenderedStack(env.name, wave.name, role, env.region(role), stack_name(env, wave.name),
                                        templates, parameters))
    return RenderedSet(env, tuple(stacks))


def template_text(template: Template, fmt: Format) -> str:
    if fmt == "yaml":
        return template.text
    from cfn_flip import to_json  # cfn-flip knows every short-form tag

    text: str = to_json(template.text).replace('.yaml"', '.json"')
    return text if text.endswith("\n") else text + "\n"


def parameters_json(values: dict[str, str]) -> str:
    """AWS CLI format: a list of ParameterKey/ParameterValue."""
    listing = [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]
    return json.dumps(listing, indent=2) + "\n"


def _write_if_changed(path: Path, text: str) -> Path:
    # Unchanged files keep their modification time, so tools watching build/ see only real changes.
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path
