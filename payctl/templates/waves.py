"""stacks/waves.yaml: the ordered deployment waves, as data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from payctl.config.models import RegionRole
from payctl.errors import Problem, TemplateError
from payctl.yamlio import YamlSyntaxError, key_line, load_path

WAVES_FILE = "stacks/waves.yaml"


@dataclass(frozen=True)
class Import:
    name: str
    type: str
    path: str  # below /{EnvironmentName}/


@dataclass(frozen=True)
class Wave:
    name: str
    regions: tuple[RegionRole, ...]
    stacks: tuple[tuple[str, tuple[str, ...]], ...]  # nested stack logical id -> fragment folders
    imports: tuple[Import, ...]
    line: int


def load_waves(root: Path) -> tuple[Wave, ...]:
    try:
        document = load_path(root / WAVES_FILE, WAVES_FILE)
    except YamlSyntaxError as error:
        raise TemplateError([error.problem]) from None
    problems: list[Problem] = []
    waves = []
    entries = (document or {}).get("waves") or []
    for index, entry in enumerate(entries):
        line = key_line(entries, index)
        try:
            waves.append(_wave(entry, root, line, problems))
        except (KeyError, TypeError, AttributeError) as error:
            problems.append(Problem(WAVES_FILE, line, f"waves[{index}]", f"malformed wave ({error})"))
    names = [wave.name for wave in waves]
    for wave in waves:
        if names.count(wave.name) > 1:
            problems.append(Problem(WAVES_FILE, wave.line, "name", f"wave {wave.name!r} is defined twice"))
    if not waves and not problems:
        problems.append(Problem(WAVES_FILE, 1, "waves", "no waves defined"))
    if problems:
        raise TemplateError(problems)
    return tuple(waves)


def _wave(entry: Any, root: Path, line: int, problems: list[Problem]) -> Wave:
    name = str(entry["name"])
    regions = tuple(entry["regions"])
    for region in regions:
        if region not in ("primary", "dr"):
            problems.append(Problem(WAVES_FILE, key_line(entry, "regions"), f"{name}.regions",
                                    f"{region!r} is not a region role; use primary or dr"))
    stacks = []
    for stack, folders in (entry.get("stacks") or {}).items():
        for folder in folders:
            if not (root / "stacks" / folder).is_dir():
                problems.append(Problem(WAVES_FILE, key_line(entry["stacks"], stack), f"{name}.stacks.{stack}",
                                        f"no fragment folder stacks/{folder}"))
        stacks.append((str(stack), tuple(str(folder) for folder in folders)))
    imports = tuple(
        Import(str(key), str(value["type"]), str(value["path"]))
        for key, value in (entry.get("imports") or {}).items()
    )
    return Wave(name, regions, tuple(stacks), imports, line)
