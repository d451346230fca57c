"""SSM Parameter Store through its API: SecureString values (which CloudFormation cannot create),
their versions, history and labels, and plain String reads.

Values pass through here and nowhere else in payctl's AWS layer; error messages name the
parameter, never the value.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from payctl.aws.errors import aws_errors, error_code, error_message, translate
from payctl.errors import AwsError, PayctlError


class ParameterNotFound(PayctlError):
    """The parameter (or the asked version or label of it) does not exist."""


_HINTS = {
    "InvalidKeyId": "the environment's KMS key alias does not exist in this region: deploy the foundation "
                    "wave (security layer) first",
    "ParameterMaxVersionLimitExceeded": "SSM keeps 100 versions and will not drop a labelled oldest version: "
                                        "move its labels, then set the value again",
    "ParameterVersionLabelLimitExceeded": "a version holds at most 10 labels",
    "ParameterAlreadyExists": "the parameter exists; payctl overwrites only SecureStrings it manages",
    "HierarchyLevelLimitExceededException": "names have at most 15 levels",
}


def _error(error: ClientError, doing: str) -> PayctlError:
    code = error_code(error)
    if code in ("ParameterNotFound", "ParameterVersionNotFound"):
        return ParameterNotFound(f"{doing}: {error_message(error)}")
    translated = translate(error, doing)
    return AwsError(translated.message, hint=_HINTS.get(code, translated.hint))


def read_string(ssm: Any, name: str) -> str | None:
    """A plain parameter's value (for platform values such as topic ARNs); None when it is missing."""
    try:
        return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return None
        raise _error(error, f"reading {name}") from error


def describe(ssm: Any, name: str) -> dict[str, Any] | None:
    """A parameter's metadata (Type, KeyId, Version, LastModifiedUser, ...; no value), or None."""
    with aws_errors(f"describing {name}"):
        found = ssm.describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])["Parameters"]
    return dict(found[0]) if found else None


def list_under(ssm: Any, path: str) -> list[dict[str, Any]]:
    """Metadata of every parameter below `path` (recursive, all pages; no values)."""
    found: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {
        "ParameterFilters": [{"Key": "Path", "Option": "Recursive", "Values": [path]}],
        "MaxResults": 50,
    }
    with aws_errors(f"listing parameters under {path}"):
        while True:
            page = ssm.describe_parameters(**arguments)
            found.extend(page.get("Parameters", []))
            token = page.get("NextToken")
            if not token:
                return sorted(found, key=lambda p: str(p.get("Name")))
            arguments["NextToken"] = token


def put_secure_string(ssm: Any, name: str, value: str, *, key_id: str, description: str = "",
                      tier: str = "Standard", tags: dict[str, str] | None = None, exists: bool) -> int:
    """Write a SecureString encrypted with `key_id`; returns the new version.

    PutParameter refuses Tags together with Overwrite, so tags are set only when the parameter is
    created; later versions keep them."""
    arguments: dict[str, Any] = {"Name": name, "Value": value, "Type": "SecureString", "KeyId": key_id,
                                 "Tier": tier}
    if description:
        arguments["Description"] = description
    if exists:
        arguments["Overwrite"] = True
    elif tags:
        arguments["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    try:
        return int(ssm.put_parameter(**arguments)["Version"])
    except ClientError as error:
        raise _error(error, f"writing {name}") from error


def get_parameter(ssm: Any, selector: str, *, decrypt: bool) -> dict[str, Any]:
    """GetParameter; `selector` is a name, `name:version` or `name:label`."""
    try:
        return dict(ssm.get_parameter(Name=selector, WithDecryption=decrypt)["Parameter"])
    except ClientError as error:
        raise _error(error, f"reading {selector}") from error


def history(ssm: Any, name: str) -> list[dict[str, Any]]:
    """GetParameterHistory, every page, oldest first, without values decrypted."""
    found: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"Name": name, "WithDecryption": False, "MaxResults": 50}
    try:
        while True:
            page = ssm.get_parameter_history(**arguments)
            found.extend(page.get("Parameters", []))
            token = page.get("NextToken")
            if not token:
                return sorted(found, key=lambda p: int(p.get("Version", 0)))
            arguments["NextToken"] = token
    except ClientError as error:
        raise _error(error, f"reading the history of {name}") from error


def label_version(ssm: Any, name: str, version: int, labels: list[str]) -> list[str]:
    """Attach labels to a version (moving them off any other version); returns labels SSM refused."""
    try:
        response = ssm.label_parameter_version(Name=name, ParameterVersion=version, Labels=labels)
    except ClientError as error:
        raise _error(error, f"labelling {name} version {version}") from error
    return [str(label) for label in response.get("InvalidLabels", [])]
