"""Application Auto Scaling targets and policies (ECS services, Aurora readers, DynamoDB)."""

from __future__ import annotations

from moto.applicationautoscaling.models import ApplicationAutoscalingBackend, applicationautoscaling_backends
from moto.core.common_models import CloudFormationModel

from .base import Properties, Provider


def _autoscaling(resource: Provider) -> ApplicationAutoscalingBackend:
    return applicationautoscaling_backends[resource.account_id][resource.region_name]


class ScalableTarget(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::ApplicationAutoScaling::ScalableTarget."""

    TYPE = "AWS::ApplicationAutoScaling::ScalableTarget"
    REPLACE_ON = frozenset({"ResourceId", "ScalableDimension", "ServiceNamespace"})
    ATTRIBUTES = frozenset({"Id"})

    def create(self) -> None:
        self.update({})
        # CloudFormation's id of a target, which ScalingPolicy.ScalingTargetId takes.
        self.physical_resource_id = "|".join(
            (self.prop("ResourceId"), self.prop("ScalableDimension"), self.prop("ServiceNamespace"))
        )
        self.attributes = {"Id": self.physical_resource_id}

    def update(self, old: Properties) -> None:
        suspended = self.prop("SuspendedState")
        _autoscaling(self).register_scalable_target(
            self.prop("ServiceNamespace"),
            self.prop("ResourceId"),
            self.prop("ScalableDimension"),
            int(self.prop("MinCapacity")),
            int(self.prop("MaxCapacity")),
            self.prop("RoleARN", ""),
            suspended,
        )

    def destroy(self) -> None:
        backend = _autoscaling(self)
        resource_id, dimension = self.prop("ResourceId"), self.prop("ScalableDimension")
        if backend._scalable_target_exists(resource_id, dimension):
            # Deregistering a target also deletes its scaling policies.
            for policy in [p for p in backend.policies.values() if p.resource_id == resource_id]:
                backend.delete_scaling_policy(
                    policy.policy_name, policy.service_namespace, resource_id, dimension
                )
            backend.deregister_scalable_target(self.prop("ServiceNamespace"), resource_id, dimension)


class ScalingPolicy(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::ApplicationAutoScaling::ScalingPolicy."""

    TYPE = "AWS::ApplicationAutoScaling::ScalingPolicy"
    REPLACE_ON = frozenset(
        {"PolicyName", "ServiceNamespace", "ResourceId", "ScalableDimension", "ScalingTargetId"}
    )
    ATTRIBUTES = frozenset({"Arn"})

    def target(self) -> tuple[str, str, str]:
        if self.prop("ScalingTargetId"):
            resource_id, dimension, namespace = self.prop("ScalingTargetId").split("|")
            return namespace, resource_id, dimension
        return self.prop("ServiceNamespace"), self.prop("ResourceId"), self.prop("ScalableDimension")

    def create(self) -> None:
        self.update({})

    def update(self, old: Properties) -> None:
        namespace, resource_id, dimension = self.target()
        body = self.prop("TargetTrackingScalingPolicyConfiguration") or self.prop(
            "StepScalingPolicyConfiguration"
        )
        policy = _autoscaling(self).put_scaling_policy(
            self.prop("PolicyName"), namespace, resource_id, dimension, body, self.prop("PolicyType")
        )
        self.physical_resource_id = policy.policy_arn
        self.attributes = {"Arn": policy.policy_arn}

    def destroy(self) -> None:
        namespace, resource_id, dimension = self.target()
        backend = _autoscaling(self)
        if any(p.policy_arn == self.physical_resource_id for p in backend.policies.values()):
            backend.delete_scaling_policy(self.prop("PolicyName"), namespace, resource_id, dimension)
