"""Cloud Map private DNS namespaces and services."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.servicediscovery.models import ServiceDiscoveryBackend, servicediscovery_backends

from .base import Properties, Provider


def _discovery(resource: Provider) -> ServiceDiscoveryBackend:
    return servicediscovery_backends[resource.account_id][resource.region_name]


class PrivateDnsNamespace(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::ServiceDiscovery::PrivateDnsNamespace."""

    TYPE = "AWS::ServiceDiscovery::PrivateDnsNamespace"
    REPLACE_ON = frozenset({"Name", "Vpc"})
    ATTRIBUTES = frozenset({"Id", "Arn", "HostedZoneId"})

    def create(self) -> None:
        backend = _discovery(self)
        backend.create_private_dns_namespace(
            self.prop("Name"),
            creator_request_id=self.stack_id + self.logical_id,
            description=self.prop("Description", ""),
            vpc=self.prop("Vpc"),
            tags=self.tag_list(),
            properties=self.prop("Properties") or {},
        )
        namespace = next(n for n in backend.namespaces.values() if n.name == self.prop("Name"))
        self.physical_resource_id = namespace.id
        self.attributes = {
            "Id": namespace.id,
            "Arn": namespace.arn,
            "HostedZoneId": namespace.dns_properties["HostedZoneId"],
        }

    def update(self, old: Properties) -> None:
        namespace = _discovery(self).namespaces[self.physical_resource_id]
        namespace.description = self.prop("Description", "")

    def destroy(self) -> None:
        if self.physical_resource_id in _discovery(self).namespaces:
            _discovery(self).delete_namespace(self.physical_resource_id)


class Service(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::ServiceDiscovery::Service."""

    TYPE = "AWS::ServiceDiscovery::Service"
    REPLACE_ON = frozenset({"HealthCheckCustomConfig", "Name", "Type", "NamespaceId"})
    ATTRIBUTES = frozenset({"Id", "Arn", "Name"})

    def create(self) -> None:
        namespace_id = self.prop("NamespaceId") or self.prop("DnsConfig", {}).get("NamespaceId")
        service = _discovery(self).create_service(
            name=self.prop("Name", self.name),
            namespace_id=namespace_id,
            creator_request_id=self.stack_id + self.logical_id,
            description=self.prop("Description", ""),
            dns_config=self.prop("DnsConfig"),
            health_check_config=self.prop("HealthCheckConfig"),
            health_check_custom_config=self.prop("HealthCheckCustomConfig"),
            tags=self.tag_list(),
            service_type=self.prop("Type"),
        )
        self.physical_resource_id = service.id
        self.attributes = {"Id": service.id, "Arn": service.arn, "Name": service.name}

    def update(self, old: Properties) -> None:
        details = {"Description": self.prop("Description", "")}
        if self.prop("DnsConfig"):
            details["DnsConfig"] = {"DnsRecords": self.prop("DnsConfig")["DnsRecords"]}
        if self.prop("HealthCheckConfig"):
            details["HealthCheckConfig"] = self.prop("HealthCheckConfig")
        _discovery(self).update_service(self.physical_resource_id, details)

    def destroy(self) -> None:
        if self.physical_resource_id in _discovery(self).services:
            _discovery(self).delete_service(self.physical_resource_id)
