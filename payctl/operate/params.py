"""`payctl params`: SecureString values under `/{environment}/{service}/{parameter}`, written through
the SSM API (CloudFormation can create only String and StringList), encrypted with the environment's
KMS key (`alias/<application>-<suffix>`, the same alias in every region), in every region of the
environment so the DR region's services read the same secret.

Which services may hold SecureStrings is read from the rendered templates: a service qualifies when
its parameter read policy decrypts SecureStrings under its own subtree (the parameters layer's
`kms:EncryptionContext:PARAMETER_ARN` condition). The platform's own subtrees (network, security,
monitoring, ...) belong to CloudFormation and are refused.

Values are held in memory only: nothing here logs, prints or puts them in an error message.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from payctl.aws import parameters as ssm_api
from payctl.aws.session import AwsSession
from payctl.config import Environment
from payctl.errors import PayctlError, Refused
from payctl.operate.inventory import environment_target
from payctl.templates import RenderedSet

# The read policy condition naming the subtree whose SecureStrings a service may decrypt.
_DECRYPTABLE_SUBTREE = re.compile(
    r"kms:EncryptionContext:PARAMETER_ARN:[^\n]*:parameter/\$\{EnvironmentName\}/([A-Za-z0-9_.-]+)/\*")
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# Labels: letters, digits, periods, hyphens, underscores; not starting with a digit, "aws" or "ssm".
_LABEL = re.compile(r"^(?![0-9])(?!(?i:aws|ssm))[A-Za-z0-9_.-]{1,100}$")
STANDARD_LIMIT = 4096  # bytes of a Standard-tier value
ADVANCED_LIMIT = 8192
MASK = "********"


class InvalidParameterName(PayctlError):
    """The name is outside the SecureString hierarchy /{environment}/{service}/{parameter}."""


def secure_services(rendered: RenderedSet) -> tuple[str, ...]:
    """Services whose parameter read policy decrypts SecureStrings under their subtree."""
    found: set[str] = set()
    for stack in rendered.stacks:
        for template in stack.all_templates():
            found.update(_DECRYPTABLE_SUBTREE.findall(template.text))
    return tuple(sorted(found))


@dataclass(frozen=True)
class ParameterPath:
    environment: str
    service: str
    parameter: str

    @property
    def name(self) -> str:
        return f"/{self.environment}/{self.service}/{self.parameter}"

    def __str__(self) -> str:
        return self.name


def parse_path(text: str, environment: str, services: tuple[str, ...]) -> ParameterPath:
    """`/{environment}/{service}/{parameter}`, or `{service}/{parameter}` within the environment."""
    form = f"/{environment}/<service>/<parameter>"
    parts = text.strip().split("/")
    if text.startswith("/"):
        parts = parts[1:]
        if len(parts) != 3:
            raise InvalidParameterName(f"{text!r} is not {form}",
                                       hint="three levels: environment, service, parameter")
        if parts[0] != environment:
            raise InvalidParameterName(f"{text!r} belongs to environment {parts[0]!r}, not {environment!r}")
        parts = parts[1:]
    if len(parts) != 2:
        raise InvalidParameterName(f"{text!r} is not {form} (or <service>/<parameter>)")
    service, parameter = parts
    if service not in services:
        known = ", ".join(services) or "none"
        raise InvalidParameterName(
            f"{service!r} holds no SecureStrings (services: {known})",
            hint="a service qualifies when its parameter read policy in stacks/parameters decrypts "
                 "SecureStrings under /<environment>/<service>/")
    if not _SEGMENT.match(parameter):
        raise InvalidParameterName(f"parameter name {parameter!r} must be letters, digits, '.', '-' or '_' "
                                   "(at most 128, starting with a letter or digit)")
    return ParameterPath(environment, service, parameter)


def validate_labels(labels: list[str]) -> None:
    for label in labels:
        if not _LABEL.match(label):
            raise InvalidParameterName(f"label {label!r}: letters, digits, '.', '-', '_', at most 100, "
                                       "not starting with a digit, 'aws' or 'ssm'")


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


@dataclass(frozen=True)
class Written:
    region: str
    version: int
    created: bool


@dataclass(frozen=True)
class ParameterInfo:
    """A parameter or one version of it, without its value."""

    name: str
    region: str
    type: str
    version: int
    last_modified: str
    last_modified_by: str
    key_id: str = ""
    labels: tuple[str, ...] = ()
    description: str = ""
    tier: str = ""


@dataclass(frozen=True)
class Revealed:
    """A parameter's value: `value` is the mask unless the caller asked to reveal it."""

    info: ParameterInfo
    value: str
    revealed: bool


def _info(raw: dict[str, Any], region: str) -> ParameterInfo:
    return ParameterInfo(
        name=str(raw.get("Name", "")), region=region, type=str(raw.get("Type", "")),
        version=int(raw.get("Version", 0) or 0), last_modified=_iso(raw.get("LastModifiedDate")),
        last_modified_by=str(raw.get("LastModifiedUser", "")), key_id=str(raw.get("KeyId", "")),
        labels=tuple(str(label) for label in raw.get("Labels", []) or []),
        description=str(raw.get("Description", "")), tier=str(raw.get("Tier", "")),
    )


class ParameterStore:
    """The environment's SecureStrings in its regions (primary first)."""

    def __init__(self, aws: AwsSession, env: Environment, services: tuple[str, ...]) -> None:
        self.aws = aws
        self.env = env
        self.services = services
        self.regions = (env.regions.primary, env.regions.dr)

    @property
    def key_alias(self) -> str:
        return f"alias/{self.env.application}-{self.env.environment_suffix}"

    def path(self, text: str) -> ParameterPath:
        return parse_path(text, self.env.name, self.services)

    def _ssm(self, region: str) -> Any:
        if region not in self.regions:
            raise PayctlError(f"{region} is no region of {self.env.name} ({', '.join(self.regions)})")
        target = environment_target(self.env, region)
        self.aws.verify_account(target, self.env.name)
        return self.aws.client("ssm", target)

    def _regions(self, regions: list[str] | None) -> tuple[str, ...]:
        return tuple(regions) if regions else self.regions

    def write(self, path: ParameterPath, value: str, *, regions: list[str] | None = None,
              description: str = "", advanced: bool = False) -> list[Written]:
        """Write a new version in each region; refuses names CloudFormation owns as String parameters."""
        if not value:
            raise PayctlError("refusing an empty value")
        size = len(value.encode("utf-8"))
        limit = ADVANCED_LIMIT if advanced else STANDARD_LIMIT
        if size > limit:
            tier = "Advanced" if advanced else "Standard"
            raise PayctlError(f"the value has {size} bytes; the {tier} tier takes at most {limit}",
                              hint=None if advanced else "pass --advanced (an Advanced parameter is charged)")
        chosen = self._regions(regions)
        existing = {region: ssm_api.describe(self._ssm(region), path.name) for region in chosen}
        for region, found in existing.items():
            if found is not None and found.get("Type") != "SecureString":
                raise Refused(f"{path} exists in {region} as a {found.get('Type')} parameter, which "
                              "CloudFormation manages; payctl writes only SecureStrings",
                              hint="choose another name, or change it in the template")
        tags = {"Environment": self.env.name, "Application": self.env.application,
                "CostCenter": self.env.cost_center, "ManagedBy": "payctl"}
        written = []
        for region in chosen:
            version = ssm_api.put_secure_string(
                self._ssm(region), path.name, value, key_id=self.key_alias, description=description,
                tier="Advanced" if advanced else "Standard", tags=tags, exists=existing[region] is not None)
            written.append(Written(region, version, existing[region] is None))
        return written

    def read(self, path: ParameterPath, *, region: str | None = None, version: int | None = None,
            label: str | None = None, reveal: bool = False) -> Revealed:
        """The parameter (a version or label of it); decrypted only when `reveal` is asked for."""
        region = region or self.regions[0]
        selector = path.name + (f":{version}" if version is not None else f":{label}" if label else "")
        raw = ssm_api.get_parameter(self._ssm(region), selector, decrypt=reveal)
        meta = ssm_api.describe(self._ssm(region), path.name) or {}
        info = _info({**meta, **{k: v for k, v in raw.items() if k != "Value"}}, region)
        if raw.get("Type") != "SecureString":
            raise Refused(f"{path} is a {raw.get('Type')} parameter, not a SecureString")
        return Revealed(info, str(raw.get("Value", "")) if reveal else MASK, reveal)

    def listing(self, prefix: str | None = None, *, region: str | None = None) -> list[ParameterInfo]:
        """Every parameter under /{environment} (or a service's subtree), without values."""
        region = region or self.regions[0]
        path = f"/{self.env.name}" + (f"/{prefix.strip('/')}" if prefix else "")
        return [_info(raw, region) for raw in ssm_api.list_under(self._ssm(region), path)]

    def history(self, path: ParameterPath, *, region: str | None = None) -> list[ParameterInfo]:
        """Every version with who wrote it and when, and its labels; no values."""
        region = region or self.regions[0]
        return [_info(raw, region) for raw in ssm_api.history(self._ssm(region), path.name)]

    def label(self, path: ParameterPath, version: int, labels: list[str], *,
              regions: list[str] | None = None) -> dict[str, list[str]]:
        """Move `labels` to `version` in each region; returns the labels SSM refused, per region.

        Version numbers are per region: labelling several regions requires that version to hold
        the same value in each (compared by digest, never shown), so "promoted" means one secret."""
        validate_labels(labels)
        chosen = self._regions(regions)
        if len(chosen) > 1:
            digests = {}
            for region in chosen:
                raw = ssm_api.get_parameter(self._ssm(region), f"{path.name}:{version}", decrypt=True)
                digests[region] = hashlib.sha256(str(raw.get("Value", "")).encode("utf-8")).hexdigest()
            if len(set(digests.values())) > 1:
                raise Refused(f"version {version} of {path} holds different values in "
                              f"{' and '.join(chosen)}",
                              hint="label one region with --region, or set the value again in every region")
        return {region: ssm_api.label_version(self._ssm(region), path.name, version, labels)
                for region in chosen}
