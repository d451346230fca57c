"""The one table mapping environment fields to template parameter values, per region role."""

from __future__ import annotations

from collections.abc import Callable

from payctl.config.models import Environment, RegionRole

Value = Callable[[Environment, RegionRole], object]


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _scale(env: Environment, role: RegionRole):  # type: ignore[no-untyped-def]
    return env.compute if role == "primary" else env.compute.dr


# Template parameter name -> how it is computed. Every name here is declared once in
# stacks/_shared/parameters.yaml; a layer receives those it references.
PARAMETERS: dict[str, Value] = {
    "EnvironmentName": lambda env, role: env.name,
    "EnvironmentSuffix": lambda env, role: env.environment_suffix,
    "ApplicationName": lambda env, role: env.application,
    "CostCenter": lambda env, role: env.cost_center,
    "PrimaryRegion": lambda env, role: env.regions.primary,
    "DrRegion": lambda env, role: env.regions.dr,
    "ArtifactBucket": lambda env, role: artifact_bucket(env.account_id, env.region(role)),
    "VpcCidr": lambda env, role: env.vpc_cidr(role),
    "TransitGatewayId": lambda env, role: getattr(env.network.transit_gateway_id, role),
    "TransitGatewayRouteCidr": lambda env, role: env.network.transit_gateway_route_cidr,
    "FlowLogRetentionDays": lambda env, role: env.network.flow_log_retention_days,
    "DbEngineVersion": lambda env, role: env.database.engine_version,
    "DbInstanceClass": lambda env, role: env.database.instance_class,
    "DbReaderCount": lambda env, role: env.database.reader_count,
    "DbReaderMaxCount": lambda env, role: env.database.reader_max_count,
    "DbReaderCpuTarget": lambda env, role: env.database.reader_cpu_target,
    "DbBackupRetentionDays": lambda env, role: env.database.backup_retention_days,
    "DbHasDrSecondary": lambda env, role: _flag(env.database.dr_secondary),
    "DeletionProtection": lambda env, role: _flag(env.database.deletion_protection),
    "ContainerImage": lambda env, role: env.compute.container_image,
    "ContainerPort": lambda env, role: env.compute.container_port,
    "CertificateArn": lambda env, role: env.compute.certificate_arn,
    "ServiceCpu": lambda env, role: env.compute.cpu,
    "ServiceMemory": lambda env, role: env.compute.memory,
    "ServiceDesiredCount": lambda env, role: _scale(env, role).desired_count,
    "ServiceMinCount": lambda env, role: _scale(env, role).min_count,
    "ServiceMaxCount": lambda env, role: _scale(env, role).max_count,
    "DynamoBillingMode": lambda env, role: env.dynamodb.billing_mode,
    "DynamoReadCapacity": lambda env, role: env.dynamodb.read_capacity,
    "DynamoWriteMinCapacity": lambda env, role: env.dynamodb.write_min_capacity,
    "DynamoWriteMaxCapacity": lambda env, role: env.dynamodb.write_max_capacity,
    "DynamoWriteTargetUtilization": lambda env, role: env.dynamodb.write_target_utilization,
    "LogRetentionDays": lambda env, role: env.monitoring.log_retention_days,
    "DriftSchedule": lambda env, role: env.monitoring.drift_schedule,
    "HasConfigRecorder": lambda env, role: _flag(env.monitoring.config_recorder),
    "CreateTrail": lambda env, role: _flag(env.monitoring.create_trail),
    "OpsEmail": lambda env, role: env.alerts.ops_email,
    "SecurityEmail": lambda env, role: env.alerts.security_email,
}


def artifact_bucket(account_id: str, region: str) -> str:
    """The bucket `payctl bootstrap` creates in each account and region for packaged artifacts."""
    return f"payctl-artifacts-{account_id}-{region}"


def parameter_values(env: Environment, role: RegionRole, names: list[str]) -> dict[str, str]:
    """Values of the named parameters that the environment provides, as CloudFormation strings."""
    return {name: str(PARAMETERS[name](env, role)) for name in names if name in PARAMETERS}
