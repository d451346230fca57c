"""KMS keys."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.kms import models as moto_kms  # defines moto's Key model, which ours replaces

from .base import Properties, Provider, as_tag_list


def _document(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else json.dumps(value)


class Key(Provider, CloudFormationModel):
    """Gap: moto's model requires KeyPolicy (AWS applies the default policy), ignores
    KeySpec/KeyUsage/MultiRegion/PendingWindowInDays, cannot be updated (the resource is lost
    from the stack on update) and deletes the key at once instead of scheduling its deletion."""

    TYPE = "AWS::KMS::Key"
    REPLACE_ON = frozenset({"KeySpec", "KeyUsage", "MultiRegion", "Origin"})
    ATTRIBUTES = frozenset({"Arn", "KeyId"})

    @property
    def backend(self) -> moto_kms.KmsBackend:
        return moto_kms.kms_backends[self.account_id][self.region_name]

    def create(self) -> None:
        key = self.backend.create_key(
            policy=_document(self.prop("KeyPolicy")),
            key_usage=self.prop("KeyUsage", "ENCRYPT_DECRYPT"),
            key_spec=self.prop("KeySpec", "SYMMETRIC_DEFAULT"),
            description=self.prop("Description", ""),
            tags=self._kms_tags(self.prop("Tags")),
            multi_region=bool(self.prop("MultiRegion", False)),
        )
        self.physical_resource_id = key.id
        self.attributes = {"Arn": key.arn, "KeyId": key.id}
        self.update({})

    @staticmethod
    def _kms_tags(tags: Any) -> list[dict[str, str]]:
        # KMS spells tags TagKey/TagValue
        return [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in as_tag_list(tags)]

    def update(self, old: Properties) -> None:
        backend, key_id = self.backend, self.physical_resource_id
        key = backend.keys[key_id]
        if self.prop("KeyPolicy") is not None and old:
            backend.put_key_policy(key_id, _document(self.prop("KeyPolicy")) or "")
        backend.update_key_description(key_id, self.prop("Description", ""))
        if self.prop("EnableKeyRotation"):
            backend.enable_key_rotation(key_id)
        else:
            backend.disable_key_rotation(key_id)
        if self.prop("Enabled", True):
            backend.enable_key(key_id)
        else:
            backend.disable_key(key_id)
        if old:
            backend.untag_resource(key_id, [t["Key"] for t in as_tag_list(old.get("Tags"))])
            backend.tag_resource(key_id, self._kms_tags(self.prop("Tags")))
        key.key_usage = self.prop("KeyUsage", "ENCRYPT_DECRYPT")

    def destroy(self) -> None:
        # KMS never deletes a key at once: it waits PendingWindowInDays (7-30, default 30).
        if self.physical_resource_id in self.backend.keys:
            self.backend.schedule_key_deletion(
                self.physical_resource_id, int(self.prop("PendingWindowInDays", 30))
            )
