"""Merging fragments into layer templates and generating each wave's master template.

Pure: reads files under stacks/ and lambdas/, never AWS; the same input gives the same output.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from payctl.errors import Problem, TemplateError
from payctl.templates.intrinsics import make, references
from payctl.templates.lambdas import code_key
from payctl.templates.schemas import tag_shape
from payctl.templates.waves import WAVES_FILE, Wave, load_waves
from payctl.yamlio import YamlSyntaxError, dump_cached, key_line, load_path

SHARED = "_shared"
TEMPLATE_VERSION = "2010-09-09"
SCALARS = ("AWSTemplateFormatVersion", "Description", "Transform")
KEYED = ("Metadata", "Parameters", "Mappings", "Conditions", "Rules", "Resources", "Outputs")
ORDER = ("AWSTemplateFormatVersion", "Description", "Transform", "Metadata", "Parameters", "Mappings",
         "Conditions", "Rules", "Resources", "Outputs")

Origin = tuple[str, int]


@dataclass
class Template:
    """One template as rendered, with where each of its top-level entries came from."""

    name: str
    body: CommentedMap
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    source: str = ""  # the folder(s) or file it was made from, for messages
    cache_dir: Path | None = None
    inputs: str = ""  # digest of everything the body was made from; keys the text cache

    @cached_property
    def text(self) -> str:
        return dump_cached(self.body, self.cache_dir, self.inputs)

    @property
    def parameter_names(self) -> list[str]:
        return [str(name) for name in self.body.get("Parameters", {})]

    def origin(self, section: str, entry: str) -> Origin:
        return self.origins.get((section, entry)) or self.origins.get(("", ""), (self.source, 0))


@dataclass(frozen=True)
class WaveTemplates:
    wave: Wave
    master: Template
    nested: dict[str, Template]  # nested stack logical id -> template
    wiring: dict[str, dict[str, str]]  # nested stack -> parameter -> "env" | "import" | "Stack.Output"


def file_stem(logical_id: str) -> str:
    """Network -> network, FoundationStorage -> foundation-storage."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", logical_id).lower()


class Composer:
    """Loads stacks/ once and composes every template of the workspace."""

    def __init__(self, root: Path, cache_dir: Path | None = None) -> None:
        self.root = root
        self.cache_dir = cache_dir
        self.waves = load_waves(root)
        self._documents: dict[Path, Any] = {}
        self.shared = self._merge([SHARED], skip="tags.yaml")
        tags_file = self.root / "stacks" / SHARED / "tags.yaml"
        self.standard_tags: dict[str, Any] = dict(self._load(tags_file).get("Tags") or {}) \
            if tags_file.is_file() else {}

    # -- loading ------------------------------------------------------------------------------

    def _load(self, path: Path) -> Any:
        if path not in self._documents:
            display = path.relative_to(self.root).as_posix()
            try:
                self._documents[path] = load_path(path, display, self._cache("fragments")) or CommentedMap()
            except YamlSyntaxError as error:
                raise TemplateError([error.problem]) from None
        return self._documents[path]

    def _cache(self, kind: str) -> Path | None:
        return self.cache_dir / kind if self.cache_dir else None

    def _merge(self, folders: Iterable[str], *, skip: str = "") -> Template:
        body = CommentedMap()
        origins: dict[tuple[str, str], Origin] = {}
        problems: list[Problem] = []
        for folder in folders:
            files = sorted((self.root / "stacks" / folder).glob("*.yaml"))
            if not files:
                problems.append(Problem(f"stacks/{folder}", 0, "", "no fragments (*.yaml) in this folder"))
            for path in files:
                display = path.relative_to(self.root).as_posix()
                document = self._load(path)
                if path.name == skip:
                    continue
                if not isinstance(document, dict):
                    problems.append(Problem(display, 1, "", "a fragment must be a mapping of template sections"))
                    continue
                origins.setdefault(("", ""), (display, 1))
                self._merge_document(body, origins, document, display, problems)
        if problems:
            raise TemplateError(problems)
        return Template(name="", body=body, origins=origins, source=", ".join(f"stacks/{f}" for f in folders),
                        cache_dir=self._cache("templates"))

    @staticmethod
    def _merge_document(body: CommentedMap, origins: dict[tuple[str, str], Origin], document: Any,
                        display: str, problems: list[Problem]) -> None:
        header = _header_comment(document)
        for section, value in document.items():
            line = key_line(document, section)
            if section in SCALARS:
                if section in body and body[section] != value:
                    first = origins[(section, "")]
                    problems.append(Problem(display, line, section,
                                            f"already set to a different value in {first[0]}:{first[1]}"))
                else:
                    body[section] = value
                    origins.setdefault((section, ""), (display, line))
            elif section in KEYED:
                if not isinstance(value, dict):
                    problems.append(Problem(display, line, section, "must be a mapping"))
                    continue
                target = body.setdefault(section, CommentedMap())
                for entry, definition in value.items():
                    entry_line = key_line(value, entry)
                    if entry in target:
                        first = origins[(section, str(entry))]
                        problems.append(Problem(display, entry_line, f"{section}.{entry}",
                                                f"defined twice: also in {first[0]}:{first[1]}"))
                        continue
                    target[entry] = definition
                    origins[(section, str(entry))] = (display, entry_line)
                    if header:  # the fragment's opening comment goes above its first entry
                        target.yaml_set_comment_before_after_key(entry, before=header, indent=2)
                        header = ""
            else:
                problems.append(Problem(display, line, section,
                                        f"unknown template section; allowed: {', '.join(ORDER)}"))

    # -- composing ----------------------------------------------------------------------------
    def layer(self, name: str, folders: Iterable[str]) -> Template:
        """A nested stack's template: its fragments, the standard tags and Lambda code filled in,
        and the shared parameters, conditions and mappings it references."""
        template = self._merge(folders)
        template.name = name
        self._inject_tags(template)
        self._inject_lambda_code(template)
        self._add_shared(template)
        template.body = _ordered(template.body, default_description=f"payctl {name} layer")
        code_keys = [str(r["Properties"]["Code"].get("S3Key")) for r in template.body.get("Resources", {}).values()
                     if isinstance(r.get("Properties", {}).get("Code"), dict)]
        template.inputs = self._digest([f"stacks/{folder}" for folder in folders], name, *code_keys)
        return template

    def _digest(self, folders: list[str], *values: str) -> str:
        """What a template depends on: the fragments of its folders, the shared ones, and values."""
        digest = hashlib.sha256()
        for value in (_schema_version(), *values):
            digest.update(value.encode() + b"\0")
        for folder in (f"stacks/{SHARED}", *folders):
            digest.update(folder.encode() + b"\0")
            for path in sorted((self.root / folder).glob("*.yaml")):
                digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    @cached_property
    def wave_templates(self) -> dict[str, WaveTemplates]:
        return {wave.name: self._compose_wave(wave) for wave in self.waves}

    def standalone(self) -> dict[str, Template]:
        """Templates deployed outside the waves (network hub, bootstrap), by folder path."""
        used = {folder for wave in self.waves for _, folders in wave.stacks for folder in folders}
        found: dict[str, Template] = {}
        for path in sorted((self.root / "stacks").rglob("*.yaml")):
            folder = path.parent.relative_to(self.root / "stacks").as_posix()
            if folder in (".", SHARED) or folder in used or folder in found:
                continue
            found[folder] = self.layer(folder.replace("/", "-"), [folder])
        return found

    def _compose_wave(self, wave: Wave) -> WaveTemplates:
        nested = {stack: self.layer(file_stem(stack), folders) for stack, folders in wave.stacks}
        imports = {item.name: item for item in wave.imports}
        outputs: dict[str, list[str]] = {}
        for stack, template in nested.items():
            for output in template.body.get("Outputs", {}):
                outputs.setdefault(str(output), []).append(stack)
        shared_parameters = self.shared.body.get("Parameters", {})
        problems: list[Problem] = []
        wave_line = wave.line
        master = CommentedMap()
        master["AWSTemplateFormatVersion"] = TEMPLATE_VERSION
        master["Description"] = f"payctl {wave.name} wave: one nested stack per layer"
        parameters = CommentedMap()
        resources = CommentedMap()
        wiring: dict[str, dict[str, str]] = {}
        origins: dict[tuple[str, str], Origin] = {("", ""): (WAVES_FILE, wave_line)}
        for stack, template in nested.items():
            passed = CommentedMap()
            wiring[stack] = {}
            for name, definition in template.body.get("Parameters", {}).items():
                producers = [other for other in outputs.get(name, []) if other != stack]
                if name in imports:
                    item = imports[name]
                    parameters.setdefault(name, CommentedMap(
                        Type=f"AWS::SSM::Parameter::Value<{item.type}>",
                        Description=f"Read from SSM /<EnvironmentName>/{item.path}, written by an earlier wave.",
                    ))
                    passed[name], wiring[stack][name] = _pass_down(name, item.type), "import"
                elif len(producers) == 1:
                    passed[name] = make("GetAtt", f"{producers[0]}.Outputs.{name}")
                    wiring[stack][name] = f"{producers[0]}.{name}"
                elif len(producers) > 1:
                    problems.append(Problem(WAVES_FILE, wave_line, f"{wave.name}.stacks.{stack}",
                                            f"parameter {name} is an output of several stacks: {producers}"))
                elif name in shared_parameters:
                    parameters.setdefault(name, shared_parameters[name])
                    origins[("Parameters", str(name))] = self.shared.origin("Parameters", str(name))
                    passed[name] = _pass_down(name, str(shared_parameters[name].get("Type", "String")))
                    wiring[stack][name] = "env"
                elif "Default" not in definition:
                    file, line = template.origin("Parameters", str(name))
                    problems.append(Problem(file, line, f"Parameters.{name}",
                                            f"no value in wave {wave.name!r}: not an environment parameter, "
                                            "not an import, not another stack's output, and no Default"))
            resources[stack] = CommentedMap(
                Type="AWS::CloudFormation::Stack",
                # W3002: the local path is deliberate; `payctl plan` uploads the file and rewrites the URL.
                Metadata=CommentedMap({"cfn-lint": CommentedMap(config=CommentedMap(ignore_checks=["W3002"]))}),
                Properties=CommentedMap(TemplateURL=f"{template.name}.yaml", Parameters=passed),
            )
        if problems:
            raise TemplateError(problems)
        master["Parameters"] = parameters
        master["Resources"] = resources
        master["Outputs"] = CommentedMap(
            (f"{stack}StackId", CommentedMap(Description=f"Physical id of the {stack} nested stack",
                                             Value=make("Ref", stack)))
            for stack in nested
        )
        template = Template(name="master", body=master, origins=origins, source=WAVES_FILE,
                            cache_dir=self._cache("templates"),
                            inputs=self._digest([], "master", (self.root / WAVES_FILE).read_text(),
                                                *(f"{stack}={t.inputs}" for stack, t in nested.items())))
        self._inject_tags(template)
        self._add_shared(template)
        template.body = _ordered(template.body, default_description="")
        return WaveTemplates(wave=wave, master=template, nested=nested, wiring=wiring)

    # -- transforms -----------------------------------------------------------------------------
    def _inject_tags(self, template: Template) -> None:
        for resource in template.body.get("Resources", {}).values():
            shape = tag_shape(str(resource.get("Type", "")))
            if shape is None:
                continue
            properties = resource.setdefault("Properties", CommentedMap())
            tags = properties.get("Tags")
            if shape == "list":
                tags = properties.setdefault("Tags", CommentedSeq())
                if _untagged(tags):
                    present = {item.get("Key") for item in tags if isinstance(item, dict)}
                    tags.extend(CommentedMap(Key=key, Value=copy.deepcopy(value))
                                for key, value in self.standard_tags.items() if key not in present)
            else:
                tags = properties.setdefault("Tags", CommentedMap())
                if isinstance(tags, dict):
                    for key, value in self.standard_tags.items():
                        tags.setdefault(key, copy.deepcopy(value))

    def _inject_lambda_code(self, template: Template) -> None:
        problems = []
        for logical_id, resource in template.body.get("Resources", {}).items():
            code = ((resource.get("Metadata") or {}).get("payctl") or {}).get("code")
            if code is None:
                continue
            folder = self.root / "lambdas" / str(code)
            if not folder.is_dir():
                file, line = template.origin("Resources", str(logical_id))
                problems.append(Problem(file, line, f"Resources.{logical_id}.Metadata.payctl.code",
                                        f"no function folder lambdas/{code}"))
                continue
            resource.setdefault("Properties", CommentedMap())["Code"] = CommentedMap(
                S3Bucket=make("Ref", "ArtifactBucket"), S3Key=code_key(str(code), folder))
        if problems:
            raise TemplateError(problems)

    def _add_shared(self, template: Template) -> None:
        """Copy in the shared parameters, conditions and mappings the template references."""
        body = template.body
        shared = self.shared.body
        pending = [body]
        while pending:
            found = references(pending.pop())
            for section, names in (("Parameters", found.names), ("Conditions", found.conditions),
                                   ("Mappings", found.mappings)):
                for name in sorted(names):
                    if name in shared.get(section, {}) and name not in body.get(section, {}):
                        body.setdefault(section, CommentedMap())[name] = shared[section][name]
                        template.origins[(section, name)] = self.shared.origin(section, name)
                        pending.append(shared[section][name])


@cache
def _schema_version() -> str:
    """Tag injection follows cfn-lint's schemas and the output follows payctl and ruamel."""
    from importlib.metadata import version

    from payctl import __version__

    return f"{__version__}/{version('cfn-lint')}/{version('ruamel.yaml')}"


def _pass_down(name: str, parameter_type: str) -> Any:
    """How the master passes one of its parameters to a nested stack, whose parameters are strings."""
    if parameter_type.startswith("List<") or parameter_type == "CommaDelimitedList":
        return make("Join", [",", make("Ref", name)])
    return make("Ref", name)


def _header_comment(document: Any) -> str:
    """The comment lines at the top of a fragment file, without their `#`."""
    tokens = (getattr(document, "ca", None) and document.ca.comment) or None
    if not tokens or not tokens[1]:
        return ""
    lines = []
    for token in tokens[1]:
        for line in token.value.splitlines():
            stripped = line.strip()
            if stripped.startswith("#"):
                lines.append(stripped[1:].removeprefix(" "))
    return "\n".join(lines)


def _untagged(tags: Any) -> bool:
    return isinstance(tags, list) and not getattr(getattr(tags, "tag", None), "value", None)


def _ordered(body: CommentedMap, default_description: str) -> CommentedMap:
    """Sections in CloudFormation's conventional order; the shared entries sorted for stability."""
    body.setdefault("AWSTemplateFormatVersion", TEMPLATE_VERSION)
    if default_description:
        body.setdefault("Description", default_description)
    ordered = CommentedMap()
    for section in ORDER:
        if section in body and body[section] not in (None, {}):
            ordered[section] = body[section]
    if hasattr(body, "ca"):
        ordered.ca.comment = body.ca.comment
    return ordered
