"""`TemplateURL` resolved against moto's S3 for every URL form payctl produces.

moto gap: moto's `get_stack_from_s3_url` only understands `localhost` path-style URLs and
`BUCKET.s3...amazonaws.com` hosts (splitting the host at its first dot, so bucket names with dots
break); `http://127.0.0.1:PORT/BUCKET/KEY` (what an upload to the local emulator yields) fails.
Buckets are looked up through moto's global bucket registry, so a stack in a target account can
read a template from the artifact bucket of another account, as the StackSet execution role does.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlparse

from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError

from ._guard import require_attr, require_params

NAME = "template_url"

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
# s3.amazonaws.com, s3.eu-west-1.amazonaws.com, s3-eu-west-1.amazonaws.com, s3.dualstack.REGION...
_PATH_STYLE_HOST = re.compile(r"^s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")
# BUCKET.s3.amazonaws.com, BUCKET.s3.REGION.amazonaws.com, BUCKET.s3-REGION.amazonaws.com
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>.+?)\.s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")


def check() -> None:
    original = require_attr(cfn_models, "get_stack_from_s3_url", NAME)
    require_params(original, ["template_url", "account_id", "partition"], NAME)
    require_attr(cfn_responses, "get_stack_from_s3_url", NAME)


def bucket_and_key(template_url: str) -> tuple[str, str]:
    parts = urlparse(template_url)
    host = (parts.hostname or "").lower()
    path = unquote(parts.path.lstrip("/"))
    virtual = _VIRTUAL_HOST.match(host)
    if host in _LOCAL_HOSTS or _PATH_STYLE_HOST.match(host) or virtual is None:
        bucket, _, key = path.partition("/")
    else:
        bucket, key = virtual.group("bucket"), path
    if not bucket or not key:
        raise ValidationError(message="TemplateURL must be a supported URL.")
    return bucket, key


def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import s3_backends

    bucket, key = bucket_and_key(template_url)
    try:
        obj = s3_backends[account_id][partition].get_object(bucket, key)
    except S3ClientError as error:
        raise ValidationError(message=f"S3 error: {error.message}") from error
    if obj is None:
        raise ValidationError(message="S3 error: The specified key does not exist.")
    value: Any = obj.value
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def apply() -> None:
    cfn_models.get_stack_from_s3_url = get_stack_from_s3_url  # type: ignore[attr-defined]
    cfn_responses.get_stack_from_s3_url = get_stack_from_s3_url  # type: ignore[attr-defined]
