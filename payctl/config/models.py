"""Typed environment model. Field names mirror the YAML keys (camelCase via aliases)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

ACCOUNT_ID = r"^[0-9]{12}$"
SUFFIX = r"^[a-z]+-[0-9]{3}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"

# Commercial regions where the platform's services (Aurora global database, DynamoDB global
# tables, S3 RTC) are all available.
REGIONS = frozenset(
    {
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
        "ap-south-1", "sa-east-1",
    }
)
BURSTABLE_CLASSES = frozenset({"db.t3.medium", "db.t3.large", "db.t4g.medium", "db.t4g.large"})
INSTANCE_CLASSES = BURSTABLE_CLASSES | frozenset(
    {
        "db.r5.large", "db.r5.xlarge", "db.r5.2xlarge", "db.r6g.large", "db.r6g.xlarge",
        "db.r7g.large", "db.r7g.xlarge", "db.serverless",
    }
)
# Fargate task sizes AWS accepts: CPU units -> allowed memory (MiB).
FARGATE_MEMORY = {
    256: (512, 1024, 2048),
    512: (1024, 2048, 3072, 4096),
    1024: (2048, 3072, 4096, 5120, 6144, 7168, 8192),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}
LOG_RETENTION_DAYS = (7, 14, 30, 60, 90, 180, 365, 400, 545, 731, 1096, 1827, 3653)
RegionRole = Literal["primary", "dr"]


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, strict=False
    )


def _cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid network CIDR ({error})") from None
    if not network.is_private or not 16 <= network.prefixlen <= 24:
        raise ValueError(f"{value!r} must be a private range between /16 and /24")
    return value


class RegionPair(Model):
    primary: str
    dr: str

    @field_validator("primary", "dr")
    @classmethod
    def known_region(cls, value: str) -> str:
        if value not in REGIONS:
            raise ValueError(f"{value!r} is not a supported region; allowed: {', '.join(sorted(REGIONS))}")
        return value

    @model_validator(mode="after")
    def distinct(self) -> RegionPair:
        if self.primary == self.dr:
            raise ValueError("primary and dr must be different regions")
        return self


class CidrPair(Model):
    primary: str
    dr: str

    @field_validator("primary", "dr")
    @classmethod
    def network_cidr(cls, value: str) -> str:
        return _cidr(value)


class TransitGatewayPair(Model):
    """Transit gateways are regional: each region attaches to the hub's gateway in that region."""

    primary: str = Field("", pattern=r"^(tgw-[0-9a-f]{8,17})?$")
    dr: str = Field("", pattern=r"^(tgw-[0-9a-f]{8,17})?$")


class Network(Model):
    vpc_cidr: CidrPair
    transit_gateway_id: TransitGatewayPair = TransitGatewayPair()
    transit_gateway_route_cidr: str = "10.0.0.0/8"
    flow_log_retention_days: int = 365


class Database(Model):
    engine_version: str = Field(pattern=r"^1[4-7]\.[0-9]+$")
    instance_class: str
    reader_count: int = Field(ge=0, le=2)
    reader_max_count: int = Field(ge=1, le=15)
    reader_cpu_target: int = Field(ge=20, le=90)
    backup_retention_days: int = Field(ge=7, le=35)
    dr_secondary: bool
    deletion_protection: bool

    @field_validator("instance_class")
    @classmethod
    def known_class(cls, value: str) -> str:
        if value not in INSTANCE_CLASSES:
            raise ValueError(f"{value!r} is not an Aurora PostgreSQL class payctl supports; allowed: "
                             + ", ".join(sorted(INSTANCE_CLASSES)))
        return value

    @model_validator(mode="after")
    def coherent(self) -> Database:
        if self.dr_secondary and self.instance_class in BURSTABLE_CLASSES:
            raise ValueError(f"drSecondary: a global database does not accept burstable class "
                             f"{self.instance_class}; use db.r5.large or newer, or set drSecondary: false")
        if self.reader_max_count < self.reader_count:
            raise ValueError("readerMaxCount must be at least readerCount")
        return self


class Scale(Model):
    desired_count: int = Field(ge=0, le=100)
    min_count: int = Field(ge=0, le=100)
    max_count: int = Field(ge=1, le=200)

    @model_validator(mode="after")
    def ordered(self) -> Scale:
        if not self.min_count <= self.desired_count <= self.max_count:
            raise ValueError(f"need minCount <= desiredCount <= maxCount, got "
                             f"{self.min_count} <= {self.desired_count} <= {self.max_count}")
        return self


class Compute(Scale):
    container_image: str = Field(min_length=1)
    container_port: int = Field(ge=1024, le=65535)
    certificate_arn: str = Field("", pattern=r"^(arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+)?$")
    cpu: int
    memory: int
    dr: Scale

    @model_validator(mode="after")
    def fargate_size(self) -> Compute:
        allowed = FARGATE_MEMORY.get(self.cpu)
        if allowed is None:
            raise ValueError(f"cpu {self.cpu} is not a Fargate size; allowed: {sorted(FARGATE_MEMORY)}")
        if self.memory not in allowed:
            raise ValueError(f"memory {self.memory} does not fit cpu {self.cpu}; allowed: "
                             f"{', '.join(map(str, allowed))}")
        return self


class DynamoDb(Model):
    billing_mode: Literal["PAY_PER_REQUEST", "PROVISIONED"]
    read_capacity: int = Field(ge=1)
    write_min_capacity: int = Field(ge=1)
    write_max_capacity: int = Field(ge=1)
    write_target_utilization: int = Field(ge=20, le=90)


class Monitoring(Model):
    log_retention_days: int
    drift_schedule: str = Field(pattern=r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$")
    config_recorder: bool
    create_trail: bool

    @field_validator("log_retention_days")
    @classmethod
    def cloudwatch_retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention; allowed: {LOG_RETENTION_DAYS}")
        return value


class Alerts(Model):
    ops_email: str = Field(pattern=EMAIL)
    security_email: str = Field(pattern=EMAIL)


class Access(Model):
    """How payctl reaches the environment's account: a profile, a role to assume, or both."""

    profile: str | None = None
    role_arn: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$")


class OperationPreferences(Model):
    region_concurrency_type: Literal["SEQUENTIAL", "PARALLEL"] = "SEQUENTIAL"
    max_concurrent_percentage: int | None = Field(None, ge=1, le=100)
    max_concurrent_count: int | None = Field(None, ge=1)
    failure_tolerance_count: int | None = Field(None, ge=0)
    failure_tolerance_percentage: int | None = Field(None, ge=0, le=100)
    concurrency_mode: Literal["STRICT_FAILURE_TOLERANCE", "SOFT_FAILURE_TOLERANCE"] = "STRICT_FAILURE_TOLERANCE"


class StackSets(Model):
    admin_account: str = Field(pattern=ACCOUNT_ID)
    permission_model: Literal["SELF_MANAGED", "SERVICE_MANAGED"]
    call_as: Literal["SELF", "DELEGATED_ADMIN"]
    organizational_unit_ids: tuple[str, ...] = ()
    operation_preferences: OperationPreferences


class Environment(Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,15}$")
    account_id: str = Field(pattern=ACCOUNT_ID)
    environment_suffix: str = Field(pattern=SUFFIX)
    deploy_order: int = Field(100, ge=0)  # lower deploys first (dev before staging before prod)
    application: str = Field(pattern=r"^[a-z][a-z0-9-]{1,20}$")
    cost_center: str = Field(min_length=1, max_length=64)
    regions: RegionPair
    network: Network
    database: Database
    compute: Compute
    dynamodb: DynamoDb
    monitoring: Monitoring
    alerts: Alerts
    access: Access = Access()
    termination_protection: bool
    stack_sets: StackSets

    @model_validator(mode="after")
    def prod_rules(self) -> Environment:
        if self.name == "prod":
            if self.database.backup_retention_days < 30:
                raise ValueError("prod keeps Aurora backups at least 30 days (database.backupRetentionDays)")
            if not self.database.deletion_protection:
                raise ValueError("prod requires database.deletionProtection: true")
        return self

    def region(self, role: RegionRole) -> str:
        return self.regions.primary if role == "primary" else self.regions.dr

    def vpc_cidr(self, role: RegionRole) -> str:
        return self.network.vpc_cidr.primary if role == "primary" else self.network.vpc_cidr.dr

    @property
    def stack_prefix(self) -> str:
        return f"{self.application}-{self.environment_suffix}"
