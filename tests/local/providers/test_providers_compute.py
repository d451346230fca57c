"""The payment service's compute stack deployed through CloudFormation, read back through
the ECS, ELBv2, Cloud Map and Application Auto Scaling APIs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError
from provider_stacks import Stacks, get_att, ref, vpc_resources


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def compute_resources(desired: int = 2, deletion_protection: str = "false") -> dict[str, Any]:
    resources = vpc_resources()
    resources.update(
        {
            "AlbGroup": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "alb", "VpcId": ref("Vpc")},
            },
            "ServiceGroup": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {"GroupDescription": "service", "VpcId": ref("Vpc")},
            },
            "Cluster": {
                "Type": "AWS::ECS::Cluster",
                "Properties": {
                    "ClusterName": "payment-cluster-dev-001",
                    "ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}],
                    "CapacityProviders": ["FARGATE"],
                    "DefaultCapacityProviderStrategy": [{"CapacityProvider": "FARGATE", "Weight": 1}],
                },
            },
            "TaskDefinition": {
                "Type": "AWS::ECS::TaskDefinition",
                "Properties": {
                    "Family": "payment-service-dev-001",
                    "RequiresCompatibilities": ["FARGATE"],
                    "NetworkMode": "awsvpc",
                    "Cpu": "512",
                    "Memory": "1024",
                    "ExecutionRoleArn": "arn:aws:iam::123456789012:role/payment-ecs-execution",
                    "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},
                    "ContainerDefinitions": [
                        {
                            "Name": "payment-service",
                            "Image": "public.ecr.aws/example/payment:1.0.0",
                            "Essential": True,
                            "PortMappings": [{"ContainerPort": 8080, "Protocol": "tcp"}],
                            "Environment": [{"Name": "ENVIRONMENT", "Value": "dev"}],
                            "LogConfiguration": {
                                "LogDriver": "awslogs",
                                "Options": {"awslogs-group": "/ecs/payment-service-dev-001"},
                            },
                        }
                    ],
                },
            },
            "LoadBalancer": {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {
                    "Name": "payment-alb-dev-001",
                    "Type": "application",
                    "Scheme": "internal",
                    "Subnets": [ref("SubnetA"), ref("SubnetB")],
                    "SecurityGroups": [ref("AlbGroup")],
                    "LoadBalancerAttributes": [
                        {"Key": "deletion_protection.enabled", "Value": deletion_protection},
                        {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
                    ],
                },
            },
            "TargetGroup": {
                "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                "Properties": {
                    "Name": "payment-tg-dev-001",
                    "VpcId": ref("Vpc"),
                    "TargetType": "ip",
                    "Protocol": "HTTP",
                    "Port": 8080,
                    "HealthCheckPath": "/health",
                    "HealthCheckIntervalSeconds": 15,
                    "HealthCheckTimeoutSeconds": 5,
                    "TargetGroupAttributes": [{"Key": "deregistration_delay.timeout_seconds", "Value": "30"}],
                },
            },
            "Listener": {
                "Type": "AWS::ElasticLoadBalancingV2::Listener",
                "Properties": {
                    "LoadBalancerArn": ref("LoadBalancer"),
                    "Protocol": "HTTP",
                    "Port": 80,
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref("TargetGroup")}],
                },
            },
            "ApiRule": {
                "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
                "Properties": {
                    "ListenerArn": ref("Listener"),
                    "Priority": 10,
                    "Conditions": [{"Field": "path-pattern", "Values": ["/api/*"]}],
                    "Actions": [{"Type": "forward", "TargetGroupArn": ref("TargetGroup")}],
                },
            },
            "Namespace": {
                "Type": "AWS::ServiceDiscovery::PrivateDnsNamespace",
                "Properties": {"Name": "payment-dev-001.internal", "Vpc": ref("Vpc")},
            },
            "Discovery": {
                "Type": "AWS::ServiceDiscovery::Service",
                "Properties": {
                    "Name": "payment-api",
                    "NamespaceId": ref("Namespace"),
                    "DnsConfig": {"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 10}]},
                    "HealthCheckCustomConfig": {"FailureThreshold": 1},
                },
            },
            "Service": {
                "Type": "AWS::ECS::Service",
                "DependsOn": "Listener",
                "Properties": {
                    "ServiceName": "payment-service-dev-001",
                    "Cluster": ref("Cluster"),
                    "TaskDefinition": ref("TaskDefinition"),
                    "LaunchType": "FARGATE",
                    "DesiredCount": desired,
                    "DeploymentConfiguration": {"MinimumHealthyPercent": 100, "MaximumPercent": 200},
                    "HealthCheckGracePeriodSeconds": 60,
                    "NetworkConfiguration": {
                        "AwsvpcConfiguration": {
                            "AssignPublicIp": "DISABLED",
                            "Subnets": [ref("SubnetA"), ref("SubnetB")],
                            "SecurityGroups": [ref("ServiceGroup")],
                        }
                    },
                    "LoadBalancers": [
                        {
                            "ContainerName": "payment-service",
                            "ContainerPort": 8080,
                            "TargetGroupArn": ref("TargetGroup"),
                        }
                    ],
                    "ServiceRegistries": [{"RegistryArn": get_att("Discovery", "Arn")}],
                },
            },
            "ScalableTarget": {
                "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
                "Properties": {
                    "ServiceNamespace": "ecs",
                    "ScalableDimension": "ecs:service:DesiredCount",
                    "ResourceId": sub("service/${Cluster}/${Service.Name}"),
                    "MinCapacity": 2,
                    "MaxCapacity": 6,
                    "RoleARN": "arn:aws:iam::123456789012:role/ecs-autoscaling",
                },
            },
            "CpuPolicy": {
                "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
                "Properties": {
                    "PolicyName": "payment-service-cpu-dev-001",
                    "PolicyType": "TargetTrackingScaling",
                    "ScalingTargetId": ref("ScalableTarget"),
                    "TargetTrackingScalingPolicyConfiguration": {
                        "PredefinedMetricSpecification": {
                            "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                        },
                        "TargetValue": 60,
                    },
                },
            },
        }
    )
    return resources


OUTPUTS = {
    "ServiceName": get_att("Service", "Name"),
    "LoadBalancerFullName": get_att("LoadBalancer", "LoadBalancerFullName"),
    "TargetGroupFullName": get_att("TargetGroup", "TargetGroupFullName"),
    "ZoneId": get_att("LoadBalancer", "CanonicalHostedZoneID"),
    "Namespace": ref("Namespace"),
    "Policy": ref("CpuPolicy"),
}


def test_service_runs_behind_the_load_balancer(stacks: Stacks) -> None:
    outputs = stacks.create("compute", compute_resources(), OUTPUTS)
    ecs, elbv2 = stacks.client("ecs"), stacks.client("elbv2")
    service = ecs.describe_services(cluster="payment-cluster-dev-001", services=["payment-service-dev-001"])[
        "services"
    ][0]
    assert outputs["ServiceName"] == "payment-service-dev-001"
    assert service["launchType"] == "FARGATE"
    assert service["desiredCount"] == 2
    target_group_arn = stacks.physical_id("compute", "TargetGroup")
    assert service["loadBalancers"] == [
        {"targetGroupArn": target_group_arn, "containerName": "payment-service", "containerPort": 8080}
    ]
    awsvpc = service["networkConfiguration"]["awsvpcConfiguration"]
    assert awsvpc["securityGroups"] == [stacks.physical_id("compute", "ServiceGroup")]
    assert awsvpc["assignPublicIp"] == "DISABLED"
    assert service["serviceRegistries"][0]["registryArn"].startswith("arn:aws:servicediscovery:")
    assert service["deploymentConfiguration"]["minimumHealthyPercent"] == 100

    definition = ecs.describe_task_definition(taskDefinition="payment-service-dev-001")["taskDefinition"]
    assert (definition["cpu"], definition["memory"], definition["networkMode"]) == ("512", "1024", "awsvpc")
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    container = definition["containerDefinitions"][0]
    assert container["portMappings"][0]["containerPort"] == 8080
    assert container["logConfiguration"]["options"] == {"awslogs-group": "/ecs/payment-service-dev-001"}

    balancer = elbv2.describe_load_balancers(Names=["payment-alb-dev-001"])["LoadBalancers"][0]
    assert outputs["LoadBalancerFullName"] == balancer["LoadBalancerArn"].split(":loadbalancer/")[1]
    assert outputs["LoadBalancerFullName"].startswith("app/payment-alb-dev-001/")
    assert outputs["ZoneId"] == balancer["CanonicalHostedZoneId"]
    attributes = elbv2.describe_load_balancer_attributes(LoadBalancerArn=balancer["LoadBalancerArn"])[
        "Attributes"
    ]
    assert {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"} in attributes
    group = elbv2.describe_target_groups(Names=["payment-tg-dev-001"])["TargetGroups"][0]
    assert (
        outputs["TargetGroupFullName"] == "targetgroup/" + group["TargetGroupArn"].split(":targetgroup/")[1]
    )
    assert (group["HealthCheckPath"], group["HealthCheckIntervalSeconds"]) == ("/health", 15)
    group_attributes = elbv2.describe_target_group_attributes(TargetGroupArn=group["TargetGroupArn"])[
        "Attributes"
    ]
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in group_attributes
    listener = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"][0]
    rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    assert [r["Priority"] for r in rules] == ["10", "default"]

    discovery = stacks.client("servicediscovery")
    assert [n["Id"] for n in discovery.list_namespaces()["Namespaces"]] == [outputs["Namespace"]]
    assert discovery.list_services()["Services"][0]["Name"] == "payment-api"

    autoscaling = stacks.client("application-autoscaling")
    target = autoscaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert target["ResourceId"] == "service/payment-cluster-dev-001/payment-service-dev-001"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    policy = autoscaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"][0]
    assert policy["PolicyARN"] == outputs["Policy"]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 60


def test_compute_update_in_place_and_new_task_revision(stacks: Stacks) -> None:
    resources = compute_resources()
    stacks.create("compute", resources)
    service_arn = stacks.physical_id("compute", "Service")
    changed = copy.deepcopy(compute_resources(desired=3))
    changed["TaskDefinition"]["Properties"]["Cpu"] = "1024"
    changed["TaskDefinition"]["Properties"]["Memory"] = "2048"
    changed["ScalableTarget"]["Properties"]["MaxCapacity"] = 10
    changed["TargetGroup"]["Properties"]["HealthCheckPath"] = "/ready"
    stacks.update("compute", changed)
    ecs = stacks.client("ecs")
    assert stacks.physical_id("compute", "Service") == service_arn
    service = ecs.describe_services(cluster="payment-cluster-dev-001", services=["payment-service-dev-001"])[
        "services"
    ][0]
    assert service["desiredCount"] == 3
    assert service["taskDefinition"].endswith(":2")  # a new revision of the same family
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert definition["cpu"] == "1024"
    revisions = ecs.list_task_definitions(familyPrefix="payment-service-dev-001")["taskDefinitionArns"]
    assert [arn.rsplit(":", 1)[1] for arn in revisions] == ["2"]  # revision 1 deregistered
    target = stacks.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")
    assert target["ScalableTargets"][0]["MaxCapacity"] == 10
    group = stacks.client("elbv2").describe_target_groups(Names=["payment-tg-dev-001"])["TargetGroups"][0]
    assert group["HealthCheckPath"] == "/ready"


def test_compute_delete_removes_everything(stacks: Stacks) -> None:
    stacks.create("compute", compute_resources())
    stacks.delete("compute")
    ecs, elbv2 = stacks.client("ecs"), stacks.client("elbv2")
    services = ecs.describe_services(cluster="payment-cluster-dev-001", services=["payment-service-dev-001"])
    assert [s["status"] for s in services["services"]] in ([], ["INACTIVE"])
    clusters = ecs.describe_clusters(clusters=["payment-cluster-dev-001"])["clusters"]
    assert [c["status"] for c in clusters] == ["INACTIVE"]  # as ECS reports a deleted cluster
    assert elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert elbv2.describe_target_groups()["TargetGroups"] == []
    assert stacks.client("servicediscovery").list_namespaces()["Namespaces"] == []
    assert (
        stacks.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="ecs")[
            "ScalableTargets"
        ]
        == []
    )


def test_load_balancer_deletion_protection(stacks: Stacks) -> None:
    stacks.create("compute", compute_resources(deletion_protection="true"))
    with pytest.raises(ClientError, match="deletion protection is enabled"):
        stacks.client("cloudformation").delete_stack(StackName="compute")
