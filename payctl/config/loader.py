"""Finding the workspace and loading envs/ into validated Environment models."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from payctl.config.merge import Merged, merge_layers
from payctl.config.models import Environment
from payctl.errors import ConfigError, Problem, WorkspaceNotFound
from payctl.yamlio import YamlSyntaxError, load_path

DEFAULTS_FILE = "_defaults.yaml"


def find_workspace(start: Path, explicit: Path | None = None) -> Path:
    """The folder holding envs/ and stacks/ (or payctl.yaml), at or above `start`."""
    if explicit is not None:
        root = explicit.resolve()
        if not _is_workspace(root):
            raise WorkspaceNotFound(f"{explicit} is not a payctl workspace (no envs/ and stacks/, no payctl.yaml)")
        return root
    for folder in (start.resolve(), *start.resolve().parents):
        if _is_workspace(folder):
            return folder
    raise WorkspaceNotFound(
        f"no payctl workspace at or above {start}",
        hint="run payctl inside a checkout holding envs/ and stacks/, or pass --workspace DIR",
    )


def _is_workspace(folder: Path) -> bool:
    return (folder / "payctl.yaml").is_file() or ((folder / "envs").is_dir() and (folder / "stacks").is_dir())


@dataclass(frozen=True)
class Environments:
    """All environments of a workspace, in deploy order."""

    by_name: Mapping[str, Environment]

    def __getitem__(self, name: str) -> Environment:
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(self.by_name) or "none"
            raise ConfigError([Problem(f"envs/{name}.yaml", 0, "", f"no such environment (known: {known})")])\
                from None

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.by_name.values())

    def names(self) -> list[str]:
        return list(self.by_name)


def load_environments(root: Path) -> Environments:
    """Load, merge and validate every envs/<name>.yaml; report every problem at once."""
    envs_dir = root / "envs"
    problems: list[Problem] = []
    defaults = _load(envs_dir / DEFAULTS_FILE, f"envs/{DEFAULTS_FILE}", problems) \
        if (envs_dir / DEFAULTS_FILE).is_file() else {}
    loaded: list[tuple[Environment, Merged, str]] = []
    for path in sorted(envs_dir.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        display = f"envs/{path.name}"
        document = _load(path, display, problems)
        if document is None:
            continue
        merged = merge_layers([(f"envs/{DEFAULTS_FILE}", defaults or {}), (display, document)])
        if merged.data.get("name") != path.stem:
            problems.append(Problem(display, merged.origin(("name",), (display, 1))[1], "name",
                                    f"must be {path.stem!r}, the file's name (got {merged.data.get('name')!r})"))
            continue
        try:
            loaded.append((Environment.model_validate(merged.data), merged, display))
        except ValidationError as error:
            problems.extend(_problems_from(error, merged, display))
    problems.extend(_cross_environment_problems(loaded))
    if problems:
        raise ConfigError(problems)
    if not loaded:
        raise ConfigError([Problem("envs/", 0, "", "no environment files (envs/<name>.yaml)")])
    ordered = sorted(loaded, key=lambda item: (item[0].deploy_order, item[0].name))
    return Environments({env.name: env for env, _, _ in ordered})


def _load(path: Path, display: str, problems: list[Problem]) -> Any:
    try:
        document = load_path(path, display)
    except YamlSyntaxError as error:
        problems.append(error.problem)
        return None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        problems.append(Problem(display, 1, "", "must be a mapping of settings"))
        return None
    return document


def _problems_from(error: ValidationError, merged: Merged, display: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        path = tuple(str(part) for part in item["loc"])
        file, line = merged.origin(path, (display, 1))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            file, message = display, "required field is missing"
        elif item["type"] == "extra_forbidden":
            message = "unknown field (check the spelling; see envs/_defaults.yaml for the fields)"
        elif "input" in item and item["type"] not in ("value_error", "assertion_error") \
                and not isinstance(item["input"], Mapping):
            message = f"{message} (got {item['input']!r})"
        problems.append(Problem(file, line, ".".join(path) or "(file)", message))
    return problems


def _cross_environment_problems(loaded: list[tuple[Environment, Merged, str]]) -> list[Problem]:
    problems: list[Problem] = []
    networks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str, str, tuple[str, int]]] = []
    seen: dict[tuple[str, str], str] = {}
    for env, merged, display in loaded:
        for field, value in (("accountId", env.account_id), ("environmentSuffix", env.environment_suffix)):
            owner = seen.setdefault((field, value), env.name)
            if owner != env.name:
                problems.append(Problem(display, merged.origin((field,), (display, 1))[1], field,
                                        f"{value} is already used by environment {owner!r}"))
        for role in ("primary", "dr"):
            cidr = env.vpc_cidr(role)
            file, line = merged.origin(("network", "vpcCidr", role), (display, 1))
            network = ipaddress.ip_network(cidr)
            for other, other_name, other_role, (other_file, other_line) in networks:
                if network.overlaps(other):  # reported on both sides: either file may be the one to fix
                    problems.append(Problem(file, line, f"network.vpcCidr.{role}",
                                            f"{cidr} overlaps {other} ({other_name} {other_role})"))
                    problems.append(Problem(other_file, other_line, f"network.vpcCidr.{other_role}",
                                            f"{other} overlaps {cidr} ({env.name} {role})"))
            networks.append((network, env.name, role, (file, line)))
    return problems
