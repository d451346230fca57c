"""Application load balancers, target groups, listeners and listener rules."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.elbv2 import models as moto_elbv2  # defines moto's ELBv2 models, which ours replace

from .base import Properties, Provider, ResourceError, as_tag_list


def _elbv2(resource: Provider) -> moto_elbv2.ELBv2Backend:
    return moto_elbv2.elbv2_backends[resource.account_id][resource.region_name]


def _attributes(resource: Provider, key: str) -> dict[str, str]:
    return {a["Key"]: str(a["Value"]) for a in resource.prop(key) or []}


def _retag(resource: Provider, old: Properties) -> None:
    elbv2 = _elbv2(resource)
    if old.get("Tags"):
        elbv2.remove_tags([resource.physical_resource_id], [t["Key"] for t in as_tag_list(old.get("Tags"))])
    if resource.tag_list():
        elbv2.add_tags([resource.physical_resource_id], resource.tag_list())


class LoadBalancer(Provider, CloudFormationModel):
    """Gap: moto's model drops LoadBalancerAttributes, Type, IpAddressType and Tags, has no
    LoadBalancerFullName or CanonicalHostedZoneID attribute and cannot be updated."""

    TYPE = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    NAME_PROPERTY = "Name"
    REPLACE_ON = frozenset({"Type", "Scheme"})
    ATTRIBUTES = frozenset(
        {"DNSName", "CanonicalHostedZoneID", "LoadBalancerFullName", "LoadBalancerName", "LoadBalancerArn",
         "SecurityGroups"}
    )  # fmt: skip

    def create(self) -> None:
        balancer = _elbv2(self).create_load_balancer(
            self.name,
            self.prop("SecurityGroups") or [],
            self.prop("Subnets") or [],
            subnet_mappings=self.prop("SubnetMappings"),
            scheme=self.prop("Scheme", "internet-facing"),
            loadbalancer_type=self.prop("Type", "application"),
            ip_address_type=self.prop("IpAddressType", "ipv4"),
            tags=self.tag_list(),
        )
        self.physical_resource_id = balancer.arn
        if self.prop("LoadBalancerAttributes"):
            _elbv2(self).modify_load_balancer_attributes(
                balancer.arn, _attributes(self, "LoadBalancerAttributes")
            )
        self.attributes = {
            "DNSName": balancer.dns_name,
            "CanonicalHostedZoneID": balancer.canonical_hosted_zone_id,
            # arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID -> app/NAME/ID
            "LoadBalancerFullName": balancer.arn.split(":loadbalancer/", 1)[1],
            "LoadBalancerName": balancer.name,
            "LoadBalancerArn": balancer.arn,
            "SecurityGroups": self.prop("SecurityGroups") or [],
        }

    def update(self, old: Properties) -> None:
        elbv2, arn = _elbv2(self), self.physical_resource_id
        if self.changed(old, "SecurityGroups"):
            elbv2.set_security_groups(arn, self.prop("SecurityGroups") or [])
            self.attributes["SecurityGroups"] = self.prop("SecurityGroups") or []
        if self.changed(old, "Subnets", "SubnetMappings"):
            elbv2.set_subnets(arn, self.prop("Subnets") or [], self.prop("SubnetMappings") or [])
        elbv2.modify_load_balancer_attributes(arn, _attributes(self, "LoadBalancerAttributes"))
        _retag(self, old)

    def destroy(self) -> None:
        elbv2, arn = _elbv2(self), self.physical_resource_id
        balancer = elbv2.load_balancers.get(arn)
        if balancer is None:
            return
        if balancer.attrs.get("deletion_protection.enabled") == "true":
            reason = "cannot be deleted because deletion protection is enabled"
            raise ResourceError(f"OperationNotPermitted: Load balancer '{arn}' {reason}")
        elbv2.delete_load_balancer(arn)


class TargetGroup(Provider, CloudFormationModel):
    """Gap: moto's model drops TargetGroupAttributes, HealthCheckEnabled and ProtocolVersion,
    has no TargetGroupFullName attribute and is never updated or deleted."""

    TYPE = "AWS::ElasticLoadBalancingV2::TargetGroup"
    NAME_PROPERTY = "Name"
    REPLACE_ON = frozenset({"TargetType", "ProtocolVersion", "Port", "VpcId", "Protocol", "IpAddressType"})
    ATTRIBUTES = frozenset({"TargetGroupArn", "TargetGroupFullName", "TargetGroupName", "LoadBalancerArns"})

    def create(self) -> None:
        enabled = self.prop("HealthCheckEnabled")
        group = _elbv2(self).create_target_group(
            self.name,
            vpc_id=self.prop("VpcId"),
            protocol=self.prop("Protocol"),
            port=self.prop("Port"),
            protocol_version=self.prop("ProtocolVersion"),
            healthcheck_protocol=self.prop("HealthCheckProtocol"),
            healthcheck_port=self.prop("HealthCheckPort"),
            healthcheck_path=self.prop("HealthCheckPath"),
            healthcheck_interval_seconds=self.prop("HealthCheckIntervalSeconds"),
            healthcheck_timeout_seconds=self.prop("HealthCheckTimeoutSeconds"),
            healthcheck_enabled=None if enabled is None else str(enabled).lower(),
            healthy_threshold_count=self.prop("HealthyThresholdCount"),
            unhealthy_threshold_count=self.prop("UnhealthyThresholdCount"),
            matcher=self.prop("Matcher"),
            target_type=self.prop("TargetType"),
            ip_address_type=self.prop("IpAddressType"),
            tags=self.tag_list(),
        )
        self.physical_resource_id = group.arn
        self.update({})

    def update(self, old: Properties) -> None:
        elbv2, arn = _elbv2(self), self.physical_resource_id
        if old:
            elbv2.modify_target_group(
                arn,
                health_check_proto=self.prop("HealthCheckProtocol"),
                health_check_port=self.prop("HealthCheckPort"),
                health_check_path=self.prop("HealthCheckPath"),
                health_check_interval=self.prop("HealthCheckIntervalSeconds"),
                health_check_timeout=self.prop("HealthCheckTimeoutSeconds"),
                healthy_threshold_count=self.prop("HealthyThresholdCount"),
                unhealthy_threshold_count=self.prop("UnhealthyThresholdCount"),
                http_codes=(self.prop("Matcher") or {}).get("HttpCode"),
            )
            _retag(self, old)
        if self.prop("TargetGroupAttributes"):
            elbv2.modify_target_group_attributes(arn, _attributes(self, "TargetGroupAttributes"))
        group = elbv2.target_groups[arn]
        self.attributes = {
            "TargetGroupArn": arn,
            # arn:...:targetgroup/NAME/ID -> targetgroup/NAME/ID
            "TargetGroupFullName": "targetgroup/" + arn.split(":targetgroup/", 1)[1],
            "TargetGroupName": group.name,
            "LoadBalancerArns": group.load_balancer_arns,
        }

    def destroy(self) -> None:
        if self.physical_resource_id in _elbv2(self).target_groups:
            _elbv2(self).delete_target_group(self.physical_resource_id)


def _actions(actions: list[Properties] | None) -> list[dict[str, Any]]:
    """moto's listener code wants `forward` actions reduced to their target group."""
    converted = []
    for action in actions or []:
        if action["Type"] == "forward" and action.get("TargetGroupArn"):
            converted.append({"Type": "forward", "TargetGroupArn": action["TargetGroupArn"]})
        else:
            converted.append(action)
    return converted


class Listener(Provider, CloudFormationModel):
    """Gap: moto's model is never deleted."""

    TYPE = "AWS::ElasticLoadBalancingV2::Listener"
    REPLACE_ON = frozenset({"LoadBalancerArn"})
    ATTRIBUTES = frozenset({"ListenerArn"})

    def _certificate(self) -> str | None:
        certificates = self.prop("Certificates") or []
        return certificates[0]["CertificateArn"] if certificates else None

    def create(self) -> None:
        listener = _elbv2(self).create_listener(
            self.prop("LoadBalancerArn"),
            self.prop("Protocol"),
            self.prop("Port"),
            self.prop("SslPolicy"),
            self._certificate(),
            _actions(self.prop("DefaultActions")),
            alpn_policy=self.prop("AlpnPolicy"),
        )
        self.physical_resource_id = listener.arn
        self.attributes = {"ListenerArn": listener.arn}

    def update(self, old: Properties) -> None:
        _elbv2(self).modify_listener(
            self.physical_resource_id,
            port=self.prop("Port"),
            protocol=self.prop("Protocol"),
            ssl_policy=self.prop("SslPolicy"),
            certificates=self.prop("Certificates"),
            actions=_actions(self.prop("DefaultActions")),
        )

    def destroy(self) -> None:
        elbv2 = _elbv2(self)
        if any(self.physical_resource_id in b.listeners for b in elbv2.load_balancers.values()):
            elbv2.delete_listener(self.physical_resource_id)


class ListenerRule(Provider, CloudFormationModel):
    """Gap: moto's model is never deleted."""

    TYPE = "AWS::ElasticLoadBalancingV2::ListenerRule"
    REPLACE_ON = frozenset({"ListenerArn"})
    ATTRIBUTES = frozenset({"RuleArn", "IsDefault"})

    def create(self) -> None:
        rule = _elbv2(self).create_rule(
            self.prop("ListenerArn"),
            self.prop("Conditions"),
            int(self.prop("Priority")),
            _actions(self.prop("Actions")),
        )
        self.physical_resource_id = rule.arn
        self.attributes = {"RuleArn": rule.arn, "IsDefault": False}

    def update(self, old: Properties) -> None:
        elbv2 = _elbv2(self)
        elbv2.modify_rule(self.physical_resource_id, self.prop("Conditions"), _actions(self.prop("Actions")))
        if self.changed(old, "Priority"):
            elbv2.set_rule_priorities(
                [{"RuleArn": self.physical_resource_id, "Priority": int(self.prop("Priority"))}]
            )

    def destroy(self) -> None:
        elbv2 = _elbv2(self)
        for balancer in elbv2.load_balancers.values():
            for listener in balancer.listeners.values():
                if self.physical_resource_id in listener.rules:
                    elbv2.delete_rule(self.physical_resource_id)
                    return
