"""Reading AWS errors: what AWS said, and the few answers payctl treats as results, not failures.

Every "is this really an error?" question about CloudFormation's wording lives here, so apply,
drift and destroy agree with plan on what "no changes" or "no such stack" means.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from payctl.errors import AwsError

# CloudFormation says "nothing to do" in three ways, depending on the API and the path taken:
# CreateChangeSet may fail synchronously ("No updates are to be performed."), or create a change set
# that ends FAILED with "The submitted information didn't contain changes. Submit different
# information to create a change set." (also for nested change sets); UpdateStack says the former.
_NO_CHANGES = (
    "didn't contain changes",
    "No updates are to be performed",
    "The submitted information didn't contain changes",
)
# DescribeStacks/GetTemplate on a stack that does not exist: ValidationError "Stack with id X does not exist".
_STACK_MISSING = re.compile(r"Stack with id .+ does not exist")
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})
_CREDENTIAL_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId",
                               "UnrecognizedClientException"})


def is_no_changes(message: str | None) -> bool:
    """True when CloudFormation's message means "the submitted stack equals the deployed one"."""
    return bool(message) and any(marker in str(message) for marker in _NO_CHANGES)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")) or str(error)


def is_stack_missing(error: ClientError) -> bool:
    return error_code(error) == "ValidationError" and bool(_STACK_MISSING.search(error_message(error)))


def is_not_found(error: ClientError) -> bool:
    """S3 HEAD/GET on a key or bucket that does not exist (HEAD answers carry only the status code)."""
    status = str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return error_code(error) in _NOT_FOUND_CODES or status == "404"


def translate(error: ClientError | BotoCoreError, doing: str) -> AwsError:
    """An AwsError carrying AWS's own words and what payctl was doing."""
    if isinstance(error, ClientError):
        code = error_code(error)
        hint = None
        if code in _CREDENTIAL_CODES:
            hint = "refresh the credentials of the environment's profile (aws sso login, or new keys)"
        elif code in ("AccessDenied", "AccessDeniedException"):
            hint = "the profile or role in envs/<env>.yaml access lacks this permission"
        return AwsError(f"{doing}: {code}: {error_message(error)}", hint=hint)
    return AwsError(f"{doing}: {error}")


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn botocore's exceptions raised inside the block into AwsError, naming what was being done."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise translate(error, doing) from error
