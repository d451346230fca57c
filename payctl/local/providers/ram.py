"""AWS RAM resource shares (the network hub's Transit Gateway)."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.ram.models import ResourceAccessManagerBackend, ram_backends

from .base import Properties, Provider


def _ram(resource: Provider) -> ResourceAccessManagerBackend:
    return ram_backends[resource.account_id][resource.region_name]


class ResourceShare(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::RAM::ResourceShare."""

    TYPE = "AWS::RAM::ResourceShare"
    ATTRIBUTES = frozenset({"Arn", "Status", "OwningAccountId"})

    def create(self) -> None:
        share = _ram(self).create_resource_share(
            name=self.prop("Name"),
            principals=self.prop("Principals") or [],
            resourceArns=self.prop("ResourceArns") or [],
            allowExternalPrincipals=self.prop("AllowExternalPrincipals", True),
            tags=[{"key": t["Key"], "value": t["Value"]} for t in self.tag_list()],
        )["resourceShare"]
        self.physical_resource_id = share["resourceShareArn"]
        self.attributes = {
            "Arn": share["resourceShareArn"],
            "Status": share["status"],
            "OwningAccountId": self.account_id,
        }

    def update(self, old: Properties) -> None:
        ram = _ram(self)
        ram.update_resource_share(
            self.physical_resource_id, self.prop("AllowExternalPrincipals", True), self.prop("Name")
        )
        share = next(s for s in ram.resource_shares if s.arn == self.physical_resource_id)
        share.principals = []
        share.add_principals(self.prop("Principals") or [])
        share.resource_arns = []
        share.add_resources(self.prop("ResourceArns") or [])

    def destroy(self) -> None:
        ram = _ram(self)
        if any(s.arn == self.physical_resource_id and s.status != "DELETED" for s in ram.resource_shares):
            ram.delete_resource_share(self.physical_resource_id)
