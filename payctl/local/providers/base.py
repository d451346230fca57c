"""The provider framework: how a CloudFormation resource type is plugged into moto.

moto's CloudFormation finds resource types among the *direct* subclasses of
`moto.core.common_models.CloudFormationModel` and calls classmethods on them
(`create_from_cloudformation_json`, `update_from_cloudformation_json`, ...).
A provider here is `class X(Provider, CloudFormationModel)`: `Provider` turns those calls
into three small hooks a type implements against moto's own service backend:

- `create()`: make the resource, set `physical_resource_id` and the `GetAtt` values;
- `update(old)`: apply changed properties in place (only called when no property in
  `REPLACE_ON` changed; otherwise the framework creates a replacement, then deletes the old
  resource, as CloudFormation does);
- `destroy()`: delete the backend resource.
"""

from __future__ import annotations

import contextlib
import random
import string
from collections.abc import Iterator
from typing import Any, ClassVar

from botocore import xform_name
from moto.cloudformation.exceptions import (
    CloudFormationError,
    UnformattedGetAttTemplateException,
    ValidationError,
)
from moto.utilities.utils import get_partition

Properties = dict[str, Any]


class ResourceError(Exception):
    """A refusal of the service behind a resource (what AWS's own API would answer)."""


@contextlib.contextmanager
def handler_errors(resource: Provider, action: str) -> Iterator[None]:
    """Report a service's error the way CloudFormation does, as the stack operation's error.

    Without this an S3 or DynamoDB error would reach the CloudFormation client in the other
    service's protocol, which botocore cannot parse."""
    try:
        yield
    except CloudFormationError:
        raise
    except Exception as error:
        message = getattr(error, "message", None) or str(error)
        where = f"{action} {resource.logical_id} ({resource.TYPE})"
        raise ValidationError(message=f"{where}: Resource handler returned message: {message}") from error


def without_no_value(value: Any) -> Any:
    """Drop list items that resolved to AWS::NoValue (`!If [c, x, !Ref AWS::NoValue]` in a
    list): moto's clean_json removes such map entries but leaves `None` in lists."""
    if isinstance(value, list):
        return [without_no_value(v) for v in value if v is not None]
    if isinstance(value, dict):
        return {k: without_no_value(v) for k, v in value.items() if v is not None}
    return value


def as_tag_list(tags: Any) -> list[dict[str, str]]:
    """Tags as AWS APIs take them, [{"Key": ..., "Value": ...}]; templates may give a map."""
    if isinstance(tags, dict):
        return [{"Key": k, "Value": str(v)} for k, v in tags.items()]
    return [{"Key": t["Key"], "Value": str(t["Value"])} for t in tags or []]


def as_tag_map(tags: Any) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in as_tag_list(tags)}


class Provider:
    TYPE: ClassVar[str]
    # The property holding the resource's name ("" when the type has none); moto generates
    # `{stack}-{logical id}-{random}` when the template leaves it out.
    NAME_PROPERTY: ClassVar[str] = ""
    # Properties whose change makes CloudFormation replace the resource (the type's
    # `createOnlyProperties` in its CloudFormation schema).
    REPLACE_ON: ClassVar[frozenset[str]] = frozenset()
    # Names accepted by Fn::GetAtt.
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        account_id: str,
        region_name: str,
        name: str,
        properties: Properties,
        logical_id: str = "",
        stack_id: str = "",
        deletion_policy: str = "Delete",
    ) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.name = name
        self.properties = properties
        self.logical_id = logical_id
        self.stack_id = stack_id
        self.deletion_policy = deletion_policy
        self.physical_resource_id = ""
        self.attributes: dict[str, Any] = {}
        self.pending_replacement: Provider | None = None

    # --- hooks a type implements -------------------------------------------------------
    def create(self) -> None:
        raise NotImplementedError

    def update(self, old: Properties) -> None:
        raise NotImplementedError

    def destroy(self) -> None:
        raise NotImplementedError

    # --- helpers for the hooks -----------------------------------------------------------
    @property
    def partition(self) -> str:
        return get_partition(self.region_name)

    @property
    def stack_name(self) -> str:
        # arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/ID
        parts = self.stack_id.split("/")
        return parts[1] if len(parts) > 2 else "stack"

    def prop(self, key: str, default: Any = None) -> Any:
        return self.properties.get(key, default)

    def tag_list(self, key: str = "Tags") -> list[dict[str, str]]:
        return as_tag_list(self.properties.get(key))

    def tag_map(self, key: str = "Tags") -> dict[str, str]:
        return as_tag_map(self.properties.get(key))

    def api_kwargs(self, *skip: str, properties: Properties | None = None) -> dict[str, Any]:
        """Top-level properties (all, or those given) renamed the way moto's backends name API
        parameters (`DBClusterIdentifier` -> `db_cluster_identifier`)."""
        given = self.properties if properties is None else properties
        return {xform_name(k): v for k, v in given.items() if k not in skip}

    def changed(self, old: Properties, *keys: str) -> bool:
        return any(old.get(k) != self.properties.get(k) for k in keys)

    def changes(self, old: Properties, *skip: str) -> Properties:
        """Properties whose value differs from `old` (removed ones are not included)."""
        return {k: v for k, v in self.properties.items() if old.get(k) != v and k not in skip}

    def random_suffix(self, length: int = 12) -> str:
        return "".join(random.choices(string.ascii_lowercase + string.digits, k=length))

    # --- what moto's CloudFormation calls ------------------------------------------------
    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Provider:
        resource = cls(
            account_id,
            region_name,
            resource_name,
            without_no_value(cloudformation_json.get("Properties") or {}),
            logical_id=kwargs.get("LogicalId", ""),
            stack_id=kwargs.get("StackId", ""),
            deletion_policy=cloudformation_json.get("DeletionPolicy", "Delete"),
        )
        with handler_errors(resource, "CREATE_FAILED"):
            resource.create()
        return resource

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Provider,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Provider:
        old = original_resource
        new_properties = without_no_value(cloudformation_json.get("Properties") or {})
        old.deletion_policy = cloudformation_json.get("DeletionPolicy", "Delete")
        changed = {
            k
            for k in old.properties.keys() | new_properties.keys()
            if old.properties.get(k) != new_properties.get(k)
        }
        if not changed:
            return old
        if not changed & (cls.REPLACE_ON | {cls.NAME_PROPERTY}):
            previous, old.properties = old.properties, new_properties
            with handler_errors(old, "UPDATE_FAILED"):
                try:
                    old.update(previous)
                except Exception:
                    old.properties = previous  # the resource keeps what it had
                    raise
            return old
        # Replacement: CloudFormation creates the new resource first, so a fixed name cannot be kept.
        fixed_name = new_properties.get(cls.NAME_PROPERTY) if cls.NAME_PROPERTY else None
        if fixed_name and fixed_name == old.properties.get(cls.NAME_PROPERTY):
            raise ValidationError(
                message=(
                    "CloudFormation cannot update a stack when a custom-named resource requires "
                    f"replacing. Rename {old.name} and update the stack again."
                )
            )
        # moto retries a failed update from the start: reuse a replacement made by an earlier try
        # whose clean-up (deleting the old resource, e.g. a cluster that still has members) failed.
        replacement = old.pending_replacement
        if replacement is None or replacement.properties != new_properties:
            replacement = cls(
                account_id,
                region_name,
                new_resource_name,
                new_properties,
                logical_id=old.logical_id,
                stack_id=old.stack_id,
                deletion_policy=old.deletion_policy,
            )
            with handler_errors(replacement, "UPDATE_FAILED"):
                replacement.create()
            old.pending_replacement = replacement
        with handler_errors(old, "DELETE_FAILED"):
            old.destroy()
        return replacement

    def delete(self, account_id: str, region_name: str) -> None:
        """Called by moto's ResourceMap when a stack (or a removed resource) is deleted."""
        with handler_errors(self, "DELETE_FAILED"):
            self.destroy()

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        # moto only falls back to this when `delete()` is missing; find the live resource by
        # its physical id among the instances moto tracks for this class.
        for resource in list(cls.instances_tracked):  # type: ignore[attr-defined]
            if (
                resource.physical_resource_id == resource_name
                and resource.account_id == account_id
                and resource.region_name == region_name
            ):
                resource.destroy()
