"""ECS clusters, task definitions and services.

The ECS API spells its fields in camelCase (`containerPort`), CloudFormation in PascalCase
(`ContainerPort`); moto stores what the API sends, so properties are converted first.
"""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.core.utils import camelcase_to_underscores
from moto.ecs import models as moto_ecs  # defines moto's ECS models, which ours replace

from .base import Properties, Provider

# Values that are free-form maps (docker labels, log driver options): keys kept as written.
FREE_FORM = frozenset({"DockerLabels", "Options", "DriverOpts", "Labels"})


def camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys -> the ECS API's camelCase keys, recursively."""
    if isinstance(value, list):
        return [camel(v) for v in value]
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: v if k in FREE_FORM else camel(v) for k, v in value.items()}
    return value


def _ecs(resource: Provider) -> moto_ecs.EC2ContainerServiceBackend:
    return moto_ecs.ecs_backends[resource.account_id][resource.region_name]


def _tags(resource: Provider) -> list[dict[str, str]]:
    return [{"key": t["Key"], "value": t["Value"]} for t in resource.tag_list()]


class Cluster(Provider, CloudFormationModel):
    """Gap: moto's model ignores capacity providers and is never deleted."""

    TYPE = "AWS::ECS::Cluster"
    NAME_PROPERTY = "ClusterName"
    ATTRIBUTES = frozenset({"Arn"})

    def create(self) -> None:
        cluster = _ecs(self).create_cluster(
            self.name,
            _tags(self),
            camel(self.prop("ClusterSettings")),
            camel(self.prop("Configuration")),
            self.prop("CapacityProviders"),
            camel(self.prop("DefaultCapacityProviderStrategy")),
            service_connect_defaults=camel(self.prop("ServiceConnectDefaults")),
        )
        self.physical_resource_id = cluster.name
        self.attributes = {"Arn": cluster.arn}

    def update(self, old: Properties) -> None:
        ecs = _ecs(self)
        ecs.update_cluster(
            self.name,
            camel(self.prop("ClusterSettings")),
            camel(self.prop("Configuration")),
            camel(self.prop("ServiceConnectDefaults")),
        )
        ecs.put_cluster_capacity_providers(
            self.name,
            self.prop("CapacityProviders") or [],
            camel(self.prop("DefaultCapacityProviderStrategy")) or [],
        )

    def destroy(self) -> None:
        if self.physical_resource_id in _ecs(self).clusters:
            _ecs(self).delete_cluster(self.physical_resource_id)


class TaskDefinition(Provider, CloudFormationModel):
    """Gap: moto's model ignores Cpu, Memory, NetworkMode, RequiresCompatibilities, roles and
    runtime platform, and never deregisters a revision."""

    TYPE = "AWS::ECS::TaskDefinition"
    # Every property is create-only: a change registers a new revision (same family).
    REPLACE_ON = frozenset(
        {"Family", "ContainerDefinitions", "Cpu", "Memory", "NetworkMode", "RequiresCompatibilities",
         "TaskRoleArn", "ExecutionRoleArn", "Volumes", "PlacementConstraints", "ProxyConfiguration",
         "RuntimePlatform", "EphemeralStorage", "IpcMode", "PidMode", "InferenceAccelerators", "Tags"}
    )  # fmt: skip
    ATTRIBUTES = frozenset({"TaskDefinitionArn"})

    def create(self) -> None:
        definition = _ecs(self).register_task_definition(
            self.prop("Family") or self.name,
            camel(self.prop("ContainerDefinitions")),
            volumes=camel(self.prop("Volumes")),
            network_mode=self.prop("NetworkMode"),
            tags=_tags(self),
            placement_constraints=camel(self.prop("PlacementConstraints")),
            requires_compatibilities=self.prop("RequiresCompatibilities"),
            cpu=None if self.prop("Cpu") is None else str(self.prop("Cpu")),
            memory=None if self.prop("Memory") is None else str(self.prop("Memory")),
            task_role_arn=self.prop("TaskRoleArn"),
            execution_role_arn=self.prop("ExecutionRoleArn"),
            proxy_configuration=camel(self.prop("ProxyConfiguration")),
            runtime_platform=camel(self.prop("RuntimePlatform")),
            ipc_mode=self.prop("IpcMode"),
            pid_mode=self.prop("PidMode"),
            ephemeral_storage=camel(self.prop("EphemeralStorage")),
        )
        self.physical_resource_id = definition.arn
        self.attributes = {"TaskDefinitionArn": definition.arn}

    def destroy(self) -> None:
        _ecs(self).deregister_task_definition(self.physical_resource_id)


# Service properties moto's create_service does not take; set on the service as update_service does.
SERVICE_SETTINGS = (
    "DeploymentConfiguration",
    "HealthCheckGracePeriodSeconds",
    "EnableECSManagedTags",
    "EnableExecuteCommand",
    "AvailabilityZoneRebalancing",
    "CapacityProviderStrategy",
    "PlacementConstraints",
    "PlacementStrategies",
)


class Service(Provider, CloudFormationModel):
    """Gap: moto's model drops LoadBalancers, NetworkConfiguration, ServiceRegistries,
    LaunchType and deployment settings, and never deletes the service."""

    TYPE = "AWS::ECS::Service"
    NAME_PROPERTY = "ServiceName"
    REPLACE_ON = frozenset({"Cluster", "Role", "SchedulingStrategy", "LaunchType"})
    ATTRIBUTES = frozenset({"Name", "ServiceArn"})

    @property
    def cluster(self) -> str:
        return str(self.prop("Cluster", "default")).split("/")[-1]

    def create(self) -> None:
        service = _ecs(self).create_service(
            self.cluster,
            self.name,
            int(self.prop("DesiredCount", 1)),
            task_definition_str=self.prop("TaskDefinition"),
            load_balancers=camel(self.prop("LoadBalancers")) or [],
            scheduling_strategy=self.prop("SchedulingStrategy"),
            tags=_tags(self),
            deployment_controller=camel(self.prop("DeploymentController")),
            launch_type=self.prop("LaunchType"),
            service_registries=camel(self.prop("ServiceRegistries")),
            platform_version=self.prop("PlatformVersion"),
            propagate_tags=self.prop("PropagateTags", "NONE"),
            network_configuration=camel(self.prop("NetworkConfiguration")),
            role_arn=self.prop("Role"),
        )
        self.physical_resource_id = service.arn
        self.attributes = {"Name": service.name, "ServiceArn": service.arn}
        self._apply_settings({})

    def _apply_settings(self, changed: Properties) -> None:
        settings = {
            "cluster": self.cluster,
            "service": self.attributes["Name"],
            **{self.api_name(k): camel(v) for k, v in changed.items()},
        }
        settings.update(
            {self.api_name(k): camel(self.prop(k)) for k in SERVICE_SETTINGS if self.prop(k) is not None}
        )
        _ecs(self).update_service(settings)

    @staticmethod
    def api_name(key: str) -> str:
        # the attribute names moto's ECS Service uses (its API handler snake_cases the request)
        known = {"TaskDefinition": "task_definition", "Role": "role_arn"}
        return known.get(key) or camelcase_to_underscores(key[:1].lower() + key[1:])

    def update(self, old: Properties) -> None:
        changed = self.changes(old, "ServiceName", "Cluster", "Tags")
        if "DesiredCount" in changed:
            changed["DesiredCount"] = int(changed["DesiredCount"])
        self._apply_settings(changed)

    def destroy(self) -> None:
        # CloudFormation scales the service to zero, then deletes it (it stays INACTIVE a while).
        ecs, name = _ecs(self), self.attributes["Name"]
        if f"{self.cluster}:{name}" in ecs.services:
            ecs.delete_service(self.cluster, name, force=True)
