"""Names: every named resource carries the environment suffix; SSM parameters live under
/{environment}/{service}/{parameter}."""

from __future__ import annotations

import re
from collections.abc import Iterable

from payctl.policy.effective import EffectiveTemplate, is_unresolved, text
from payctl.policy.model import Context, Rule, Violation, props

# Resource types whose name is unique in an account (or region), and the property holding it.
NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::GlobalCluster": "GlobalClusterIdentifier",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::RDS::DBClusterParameterGroup": "DBClusterParameterGroupName",
    "AWS::RDS::DBParameterGroup": "DBParameterGroupName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::EC2::SecurityGroup": "GroupName",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::ECS::Service": "ServiceName",
    "AWS::ECS::TaskDefinition": "Family",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "Name",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::CloudTrail::Trail": "TrailName",
    "AWS::Config::ConfigRule": "ConfigRuleName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::CompositeAlarm": "AlarmName",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "PolicyName",
    "AWS::ServiceDiscovery::PrivateDnsNamespace": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
}
_WORDS = r"[a-z0-9]+(?:-[a-z0-9]+)*"


def _name_pattern(suffix: str, region: str, account: str) -> re.Pattern[str]:
    """{resource-type}-{suffix}, then optionally -{region} and -{account} for global names."""
    return re.compile(rf"^{_WORDS}-{re.escape(suffix)}(?:-{re.escape(region)})?(?:-{re.escape(account)})?$")


class ResourceNames(Rule):
    id = "PAY001"
    title = "Resource names carry the environment suffix"
    description = (
        "Every resource with a fixed name is named {resource-type}-{environmentSuffix}, "
        "with -{region} and -{account} appended where the name is global (IAM, S3)."
    )
    hint = (
        "Name it with !Sub <resource-type>-${EnvironmentSuffix} (add -${AWS::Region}, -${AWS::AccountId} "
        "for IAM and S3 names)."
    )

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        env = context.environment
        pattern = _name_pattern(env.environment_suffix, template.region, template.account)
        for logical_id, resource in template.resources.items():
            prop = NAME_PROPERTIES.get(str(resource.get("Type")))
            name = props(resource).get(prop) if prop else None
            if prop is None or name is None:
                continue
            value = text(name)
            if is_unresolved(value):
                if env.environment_suffix not in value:
                    yield Violation(
                        logical_id,
                        ("Properties", prop),
                        f"{prop} {value!r} does not carry the environment suffix {env.environment_suffix!r}",
                    )
                continue
            # The last path segment (log groups, aliases), or the first DNS label (namespaces).
            base = value.rsplit("/", 1)[-1]
            if resource.get("Type") == "AWS::ServiceDiscovery::PrivateDnsNamespace":
                base = base.split(".", 1)[0]
            if not pattern.match(base):
                yield Violation(
                    logical_id,
                    ("Properties", prop),
                    f"{prop} {value!r} does not follow <resource-type>-{env.environment_suffix}"
                    f"[-{template.region}][-{template.account}]",
                )


SSM_NAME = re.compile(rf"^/(?P<environment>[a-z0-9-]+)/(?P<service>{_WORDS})/(?P<parameter>{_WORDS})$")


class SsmParameterNames(Rule):
    id = "PAY015"
    title = "SSM parameter names are /{environment}/{service}/{parameter}"
    description = (
        "Every SSM parameter a template writes is named /{environment}/{service}/{parameter} "
        "(lower-case words joined by dashes) with this environment's name first, and is a "
        "String or StringList (CloudFormation cannot create SecureString)."
    )
    hint = "Name it !Sub /${EnvironmentName}/<service>/<parameter>."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        environment = context.environment.name
        for logical_id, resource in template.of_type("AWS::SSM::Parameter").items():
            properties = props(resource)
            name = text(properties.get("Name", ""))
            match = SSM_NAME.match(name)
            if "Name" not in properties:
                yield Violation(
                    logical_id,
                    ("Properties",),
                    "no Name: a generated name is not /{environment}/{service}/{parameter}",
                )
            elif match is None:
                yield Violation(
                    logical_id,
                    ("Properties", "Name"),
                    f"{name!r} is not /{environment}/<service>/<parameter>",
                )
            elif match["environment"] != environment:
                yield Violation(logical_id, ("Properties", "Name"), f"{name!r} is not under /{environment}/")
            if properties.get("Type") not in ("String", "StringList"):
                yield Violation(
                    logical_id,
                    ("Properties", "Type"),
                    f"Type {properties.get('Type')!r}: only String and StringList",
                )
