"""Packaging: content-addressed artifacts for a wave's stack, and its master pointing at them.

Pure part (`package_stack`): nested templates become `templates/<sha256>.yaml`, Lambda folders the
reproducible zips whose keys the renderer already wrote into the templates, and the master's
`TemplateURL`s point at the region's artifact bucket. Upload part (`upload`): put what the bucket
lacks; the keys are content hashes, so a second run uploads nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from payctl.aws.artifacts import Artifact, ArtifactStore, UploadReport, object_url
from payctl.aws.changesets import TEMPLATE_BODY_LIMIT
from payctl.config.parameters import artifact_bucket
from payctl.errors import Problem, TemplateError
from payctl.templates import RenderedStack
from payctl.templates.lambdas import build_zip, code_key
from payctl.yamlio import dump

YAML_TYPE = "application/x-yaml"
ZIP_TYPE = "application/zip"


def sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def parameters_sha256(values: dict[str, str]) -> str:
    return sha256(json.dumps(values, sort_keys=True, separators=(",", ":")))


def template_key(text: str) -> str:
    return f"templates/{sha256(text)}.yaml"


@dataclass(frozen=True)
class PackagedStack:
    """A wave's stack in one region, ready to be proposed to CloudFormation."""

    stack: RenderedStack
    bucket: str
    master_text: str  # nested TemplateURLs rewritten to the artifact bucket
    template_sha256: str  # of master_text; nested templates are covered by their content-hashed URLs
    parameters_sha256: str
    artifacts: tuple[Artifact, ...]
    nested_urls: dict[str, str]  # nested stack logical id -> TemplateURL
    master_url: str | None  # set when the master is too large for TemplateBody and goes by URL

    @property
    def parameters(self) -> dict[str, str]:
        return self.stack.parameters.get("master", {})


def bucket_for(stack: RenderedStack, account_id: str) -> str:
    """The ArtifactBucket parameter the stack is given, or the conventional name."""
    given = stack.parameters.get("master", {}).get("ArtifactBucket")
    return given or artifact_bucket(account_id, stack.region)


def package_stack(stack: RenderedStack, root: Path, account_id: str) -> PackagedStack:
    bucket = bucket_for(stack, account_id)
    artifacts: dict[str, Artifact] = {}
    nested_urls: dict[str, str] = {}
    by_file = {f"{template.name}.yaml": logical_id for logical_id, template in stack.templates.nested.items()}
    for logical_id, template in stack.templates.nested.items():
        text = template.text
        key = template_key(text)
        artifacts[key] = Artifact(key, text.encode("utf-8"), YAML_TYPE)
        nested_urls[logical_id] = object_url(bucket, stack.region, key)
        for artifact in _lambda_artifacts(template.body, root, template.name):
            artifacts[artifact.key] = artifact
    master_text = _point_at(stack, by_file, nested_urls)
    master_url: str | None = None
    if len(master_text.encode("utf-8")) > TEMPLATE_BODY_LIMIT:
        key = template_key(master_text)
        artifacts[key] = Artifact(key, master_text.encode("utf-8"), YAML_TYPE)
        master_url = object_url(bucket, stack.region, key)
    return PackagedStack(
        stack=stack,
        bucket=bucket,
        master_text=master_text,
        template_sha256=sha256(master_text),
        parameters_sha256=parameters_sha256(stack.parameters.get("master", {})),
        artifacts=tuple(artifacts.values()),
        nested_urls=nested_urls,
        master_url=master_url,
    )


_TEMPLATE_URL = re.compile(r"^(?P<indent>[ ]+)TemplateURL: (?P<file>[A-Za-z0-9._-]+\.yaml)$", re.MULTILINE)


def _point_at(stack: RenderedStack, by_file: dict[str, str], urls: dict[str, str]) -> str:
    """The master's text with each nested TemplateURL pointing at its uploaded template.

    The rendered text is the same for every environment and region, so the local file names are
    replaced in it rather than re-dumping the template (by far the slowest step of packaging).
    Should the text ever not show the expected lines, the template is rewritten and dumped."""
    replaced = 0

    def url(match: re.Match[str]) -> str:
        nonlocal replaced
        logical_id = by_file.get(match["file"])
        if logical_id is None:
            return match[0]
        replaced += 1
        return f"{match['indent']}TemplateURL: {urls[logical_id]}"

    text = _TEMPLATE_URL.sub(url, stack.master.text)
    if replaced == len(by_file):
        return text
    master = copy.deepcopy(stack.master.body)
    for resource in (master.get("Resources") or {}).values():
        properties = resource.get("Properties") or {}
        nested_id = by_file.get(str(properties.get("TemplateURL", "")))
        if nested_id is not None:
            properties["TemplateURL"] = urls[nested_id]
    return dump(master)


def _lambda_artifacts(body: Any, root: Path, template: str) -> list[Artifact]:
    found = []
    for logical_id, resource in (body.get("Resources") or {}).items():
        code = ((resource.get("Metadata") or {}).get("payctl") or {}).get("code")
        if code is None:
            continue
        folder = root / "lambdas" / str(code)
        key = str(((resource.get("Properties") or {}).get("Code") or {}).get("S3Key", ""))
        if not folder.is_dir() or key != code_key(str(code), folder):
            # The renderer computed the key from this folder; a difference means it changed meanwhile.
            raise TemplateError([Problem(f"lambdas/{code}", 0, f"{template}.Resources.{logical_id}",
                                         "function code changed while packaging; render again")])
        found.append(Artifact(key, build_zip(folder), ZIP_TYPE))
    return found


def region_artifacts(packaged: Iterable[PackagedStack]) -> dict[tuple[str, str], list[Artifact]]:
    """(region, bucket) -> the distinct artifacts to put there."""
    grouped: dict[tuple[str, str], dict[str, Artifact]] = {}
    for item in packaged:
        bucket = grouped.setdefault((item.stack.region, item.bucket), {})
        for artifact in item.artifacts:
            bucket.setdefault(artifact.key, artifact)
    return {place: list(artifacts.values()) for place, artifacts in grouped.items()}


def upload(store: ArtifactStore, artifacts: list[Artifact]) -> UploadReport:
    return store.put_all(artifacts)
