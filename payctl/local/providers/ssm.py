"""SSM parameters (the values later waves read, e.g. /dev/network/vpc-id)."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.ssm import models as moto_ssm  # defines moto's Parameter model, which ours replaces

from .base import Properties, Provider, ResourceError, as_tag_list


class Parameter(Provider, CloudFormationModel):
    """Gap: moto's model fails on Tags given as a map (the parameter's schema shape), has no
    Type/Value attributes and deletes and re-creates the parameter on every update."""

    TYPE = "AWS::SSM::Parameter"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = frozenset({"Type", "Value"})

    @property
    def backend(self) -> moto_ssm.SimpleSystemManagerBackend:
        return moto_ssm.ssm_backends[self.account_id][self.region_name]

    def create(self) -> None:
        if self.prop("Type") not in ("String", "StringList"):
            # CloudFormation cannot create SecureString parameters (payctl writes those itself).
            raise ResourceError(
                f"Parameter type {self.prop('Type')} is not supported; use String or StringList"
            )
        self.physical_resource_id = self.name
        self._put(overwrite=False)

    def _put(self, overwrite: bool) -> None:
        self.backend.put_parameter(
            name=self.physical_resource_id,
            description=self.prop("Description"),
            value=str(self.prop("Value")),
            parameter_type=self.prop("Type"),
            allowed_pattern=self.prop("AllowedPattern"),
            keyid=None,  # type: ignore[arg-type]
            overwrite=overwrite,
            tags=[] if overwrite else as_tag_list(self.prop("Tags")),
            data_type=self.prop("DataType", "text"),
            tier=self.prop("Tier"),
            policies=self.prop("Policies"),
        )
        self.attributes = {"Type": self.prop("Type"), "Value": str(self.prop("Value"))}

    def update(self, old: Properties) -> None:
        if self.changed(old, "Type") and self.prop("Type") not in ("String", "StringList"):
            raise ResourceError(
                f"Parameter type {self.prop('Type')} is not supported; use String or StringList"
            )
        self._put(overwrite=True)  # a new version, as PutParameter with Overwrite makes
        old_keys = [t["Key"] for t in as_tag_list(old.get("Tags"))]
        if old_keys:
            self.backend.remove_tags_from_resource("Parameter", self.physical_resource_id, old_keys)
        if self.tag_list():
            self.backend.add_tags_to_resource("Parameter", self.physical_resource_id, self.tag_map())

    def destroy(self) -> None:
        if self.backend.get_parameter(self.physical_resource_id) is not None:
            self.backend.delete_parameter(self.physical_resource_id)
