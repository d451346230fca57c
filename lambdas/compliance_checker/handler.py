"""Compliance checker: evaluates configuration changes as CloudTrail records them.

Triggered by EventBridge rules matching ``detail-type: "AWS API Call via CloudTrail"``.
Each finding is published as ONE JSON message to COMPLIANCE_TOPIC_ARN; compliant changes
publish nothing. Events this function does not know are logged and answered with a summary,
never an exception.

Environment variables
---------------------
ENVIRONMENT_NAME          dev | staging | prod; copied into every finding.
COMPLIANCE_TOPIC_ARN      SNS topic receiving the findings (required).
PERMISSIONS_BOUNDARY_ARN  ARN of the environment's permissions boundary policy; every IAM role
                          must carry exactly this boundary (the IAM rules are skipped when unset).
REQUIRED_TAGS             comma list of tag keys every created resource must carry
                          (default ``Environment,Application,CostCenter``).

Events evaluated (``detail.eventSource`` / ``detail.eventName``)
--------------------------------------------------------------
ec2.amazonaws.com       AuthorizeSecurityGroupIngress, ModifySecurityGroupRules,
                        CreateSecurityGroup, DeleteTags
s3.amazonaws.com        PutBucketPolicy, DeleteBucketPolicy, PutBucketEncryption,
                        DeleteBucketEncryption, PutBucketPublicAccessBlock,
                        DeleteBucketPublicAccessBlock, CreateBucket, PutBucketTagging,
                        DeleteBucketTagging
dynamodb.amazonaws.com  UpdateContinuousBackups, UpdateTable, DeleteTable, CreateTable,
                        UntagResource
iam.amazonaws.com       CreateRole, PutRolePermissionsBoundary, DeleteRolePermissionsBoundary,
                        AttachRolePolicy, UntagRole

CloudTrail names the S3 public-access-block calls ``PutBucketPublicAccessBlock`` and
``DeleteBucketPublicAccessBlock`` (the API operations are PutPublicAccessBlock and
DeletePublicAccessBlock); both spellings are accepted. Calls that failed (``errorCode`` set)
changed nothing and are skipped.

Message published per finding (``schemaVersion`` 1.0)::

    {"schemaVersion": "1.0", "ruleId": "...", "severity": "CRITICAL|HIGH|MEDIUM|LOW",
     "environment": "...", "resourceType": "AWS::...", "resourceId": "...", "resourceArn": "...",
     "account": "...", "region": "...", "eventSource": "...", "eventName": "...",
     "actor": "<userIdentity.arn>", "eventTime": "...", "eventId": "...",
     "details": {...}, "remediation": "..."}

SNS message attributes ``severity`` and ``rule`` carry the same values for filter policies.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

SCHEMA_VERSION = "1.0"
DEFAULT_REQUIRED_TAGS = ("Environment", "Application", "CostCenter")
SUBJECT_MAX_CHARS = 100

CRITICAL, HIGH, MEDIUM, LOW = "CRITICAL", "HIGH", "MEDIUM", "LOW"

# Ports whose exposure to the internet is an incident on its own: remote administration and
# data stores. A world-open range touching any of them is CRITICAL.
SENSITIVE_PORTS = {
    20: "ftp-data",
    21: "ftp",
    22: "ssh",
    23: "telnet",
    445: "smb",
    1433: "sql-server",
    1521: "oracle",
    2049: "nfs",
    3306: "mysql",
    3389: "rdp",
    5432: "postgresql",
    5439: "redshift",
    6379: "redis",
    9200: "opensearch",
    11211: "memcached",
    27017: "mongodb",
}
PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "-1": "all", "all": "all"}

# Roles under these paths are owned by AWS and cannot carry a customer boundary.
AWS_OWNED_ROLE_PATHS = ("/aws-service-role/", "/aws-reserved/")

_CLIENTS: dict[tuple[str, str | None], Any] = {}
# Short timeouts: in a VPC without the service's endpoint a call would otherwise hang for the
# whole invocation; a state read that fails falls back to the CloudTrail record instead.
_RETRIES = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})


def client(service: str, region: str | None = None) -> Any:
    """One boto3 client per (service, region), created on first use so tests can run under moto."""
    key = (service, region)
    if key not in _CLIENTS:
        # boto3's type stubs want a literal service name; this cache takes any.
        make_client: Any = boto3.client
        _CLIENTS[key] = make_client(service, region_name=region, config=_RETRIES)
    return _CLIENTS[key]


def log(level: str, message: str, **fields: Any) -> None:
    print(json.dumps({"level": level, "message": message, **fields}, default=str), file=sys.stdout)


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Settings:
    environment: str
    topic_arn: str
    boundary_arn: str
    required_tags: tuple[str, ...]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        tags = tuple(t.strip() for t in env.get("REQUIRED_TAGS", "").split(",") if t.strip())
        return cls(
            environment=env.get("ENVIRONMENT_NAME", ""),
            topic_arn=env.get("COMPLIANCE_TOPIC_ARN", ""),
            boundary_arn=env.get("PERMISSIONS_BOUNDARY_ARN", ""),
            required_tags=tags or DEFAULT_REQUIRED_TAGS,
        )


@dataclass(frozen=True)
class ApiCall:
    """The parts of a CloudTrail record the rules read."""

    event_source: str
    event_name: str
    region: str
    account: str
    actor: str
    event_time: str
    event_id: str
    error_code: str
    request: dict[str, Any]
    response: dict[str, Any]

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: str
    resource_type: str
    resource_id: str
    resource_arn: str
    details: dict[str, Any]
    remediation: str


def parse_api_call(event: Mapping[str, Any]) -> ApiCall | None:
    """The CloudTrail record inside an EventBridge event, or None when it is something else."""
    if event.get("detail-type") != "AWS API Call via CloudTrail":
        return None
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return None
    identity = detail.get("userIdentity") or {}
    actor = identity.get("arn") or identity.get("invokedBy") or identity.get("principalId") or "unknown"
    return ApiCall(
        event_source=str(detail.get("eventSource", "")),
        event_name=str(detail.get("eventName", "")),
        region=str(detail.get("awsRegion") or event.get("region") or ""),
        account=str(detail.get("recipientAccountId") or event.get("account") or ""),
        actor=str(actor),
        event_time=str(detail.get("eventTime") or event.get("time") or ""),
        event_id=str(detail.get("eventID") or event.get("id") or ""),
        error_code=str(detail.get("errorCode") or ""),
        request=_as_dict(detail.get("requestParameters")),
        response=_as_dict(detail.get("responseElements")),
    )


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def field(data: Mapping[str, Any], name: str) -> Any:
    """data[name] in either initial-letter case: CloudTrail spells the same field
    ``tableName`` for one service and ``TableName`` for another."""
    if not isinstance(data, Mapping):
        return None
    if name in data:
        return data[name]
    return data.get(name[:1].swapcase() + name[1:])


def items(value: Any) -> list[Any]:
    """EC2 and S3 records wrap lists as ``{"items": [...]}`` or give a lone object; flatten both."""
    if isinstance(value, dict) and "items" in value:
        value = value["items"]
    if value is None or value == {}:
        return []
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------- pure rules


def normalize_protocol(protocol: Any) -> str:
    text = str(protocol).lower() if protocol is not None else "all"
    return PROTOCOL_NAMES.get(text, text)


def ingress_severity(protocol: Any, from_port: Any, to_port: Any) -> str:
    """Severity of admitting the whole internet on a protocol and port range."""
    proto = normalize_protocol(protocol)
    if proto == "all":
        return CRITICAL
    if proto in ("icmp", "icmpv6"):
        return LOW
    low, high = _port(from_port), _port(to_port)
    if low is None or high is None or low < 0:
        return CRITICAL
    if any(low <= port <= high for port in SENSITIVE_PORTS):
        return CRITICAL
    if proto == "tcp" and (low, high) == (443, 443):
        return LOW
    if proto == "tcp" and (low, high) == (80, 80):
        return MEDIUM
    return HIGH


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def is_world(cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False


def port_label(protocol: Any, from_port: Any, to_port: Any) -> str:
    proto = normalize_protocol(protocol)
    if proto == "all":
        return "all traffic"
    low, high = _port(from_port), _port(to_port)
    if low is None or low < 0:
        return f"{proto} all ports"
    return f"{proto}/{low}" if low == high else f"{proto}/{low}-{high}"


@dataclass(frozen=True)
class IngressRule:
    protocol: str
    from_port: int | None
    to_port: int | None
    world_cidrs: tuple[str, ...]
    rule_ids: tuple[str, ...] = ()


def world_open_permissions(request: Mapping[str, Any]) -> list[IngressRule]:
    """World-open rules in an AuthorizeSecurityGroupIngress request (both the IpPermissions
    form and the legacy top-level CidrIp form)."""
    permissions = items(field(request, "ipPermissions"))
    if not permissions and field(request, "cidrIp"):
        permissions = [
            {
                "ipProtocol": field(request, "ipProtocol"),
                "fromPort": field(request, "fromPort"),
                "toPort": field(request, "toPort"),
                "ipRanges": {"items": [{"cidrIp": field(request, "cidrIp")}]},
            }
        ]
    rules = []
    for permission in permissions:
        cidrs = [field(r, "cidrIp") for r in items(field(permission, "ipRanges"))]
        cidrs += [field(r, "cidrIpv6") for r in items(field(permission, "ipv6Ranges"))]
        world = tuple(str(c) for c in cidrs if is_world(c))
        if world:
            rules.append(
                IngressRule(
                    protocol=normalize_protocol(field(permission, "ipProtocol")),
                    from_port=_port(field(permission, "fromPort")),
                    to_port=_port(field(permission, "toPort")),
                    world_cidrs=world,
                )
            )
    return rules


def modified_world_rules(request: Mapping[str, Any]) -> list[IngressRule]:
    """World-open rules in a ModifySecurityGroupRules request, which CloudTrail records as
    ``ModifySecurityGroupRulesRequest.SecurityGroupRule[].SecurityGroupRule``."""
    body = _as_dict(field(request, "ModifySecurityGroupRulesRequest"))
    rules = []
    for update in items(field(body, "SecurityGroupRule")):
        rule = _as_dict(field(update, "SecurityGroupRule"))
        world = tuple(str(c) for c in (field(rule, "CidrIpv4"), field(rule, "CidrIpv6")) if c and is_world(c))
        if world:
            rules.append(
                IngressRule(
                    protocol=normalize_protocol(field(rule, "IpProtocol")),
                    from_port=_port(field(rule, "FromPort")),
                    to_port=_port(field(rule, "ToPort")),
                    world_cidrs=world,
                    rule_ids=(str(field(update, "SecurityGroupRuleId")),),
                )
            )
    return rules


def missing_tags(tags: Mapping[str, str], required: tuple[str, ...]) -> list[str]:
    """Required keys absent or blank."""
    return [key for key in required if not str(tags.get(key, "")).strip()]


def tag_map(tags: Any) -> dict[str, str]:
    """Tags in any of the shapes AWS uses: [{Key, Value}], [{key, value}], {"items": [...]}, or a map."""
    if isinstance(tags, dict) and "items" not in tags:
        return {str(k): str(v) for k, v in tags.items()}
    result = {}
    for tag in items(tags):
        if isinstance(tag, dict) and field(tag, "key") is not None:
            result[str(field(tag, "key"))] = str(field(tag, "value") or "")
    return result


def public_policy_statements(policy: Any) -> list[dict[str, Any]]:
    """Allow statements granting access to everyone without any condition."""
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return []
    statements = items(_as_dict(policy).get("Statement"))
    public = []
    for statement in statements:
        if (
            not isinstance(statement, dict)
            or statement.get("Effect") != "Allow"
            or statement.get("Condition")
        ):
            continue
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            principal = principal.get("AWS")
        principals = principal if isinstance(principal, list) else [principal]
        if "*" in principals:
            public.append(statement)
    return public


PUBLIC_ACCESS_BLOCK_FLAGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)


def disabled_public_access_flags(configuration: Mapping[str, Any]) -> list[str]:
    """Public-access-block settings that are off (a missing setting counts as off)."""
    return [flag for flag in PUBLIC_ACCESS_BLOCK_FLAGS if str(field(configuration, flag)).lower() != "true"]


def foreign_kms_keys(configuration: Mapping[str, Any], account: str) -> list[str]:
    """KMS key ARNs in a bucket encryption configuration that belong to another account."""
    foreign = []
    rules = items(field(configuration, "Rule")) + items(field(configuration, "Rules"))
    for rule in rules:
        default = _as_dict(field(rule, "ApplyServerSideEncryptionByDefault"))
        key = str(field(default, "KMSMasterKeyID") or "")
        parts = key.split(":")
        if key.startswith("arn:") and len(parts) > 4 and parts[4] and parts[4] != account:
            foreign.append(key)
    return foreign


# --------------------------------------------------------------------------- current state


class State:
    """Reads current configuration where the CloudTrail record alone cannot tell.

    Every reader returns None when the state cannot be read (resource gone, access denied),
    so a rule can fall back to the event or skip; the reason is logged."""

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except (ClientError, BotoCoreError) as error:
            log("WARNING", "could not read current state", what=what, error=str(error))
            return None

    def security_group_tags(self, region: str, group_id: str) -> dict[str, str] | None:
        response = self._call(
            f"tags of {group_id}", lambda: client("ec2", region).describe_security_groups(GroupIds=[group_id])
        )
        groups = response.get("SecurityGroups", []) if response else []
        return tag_map(groups[0].get("Tags", [])) if groups else None

    def egress_rule_ids(self, region: str, group_id: str, rule_ids: list[str]) -> set[str] | None:
        response = self._call(
            f"rules of {group_id}",
            lambda: client("ec2", region).describe_security_group_rules(SecurityGroupRuleIds=rule_ids),
        )
        if response is None:
            return None
        return {r["SecurityGroupRuleId"] for r in response.get("SecurityGroupRules", []) if r.get("IsEgress")}

    def bucket_tags(self, region: str, bucket: str) -> dict[str, str] | None:
        try:
            response = client("s3", region).get_bucket_tagging(Bucket=bucket)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchTagSet":
                return {}
            log("WARNING", "could not read current state", what=f"tags of {bucket}", error=str(error))
            return None
        return tag_map(response.get("TagSet", []))

    def public_access_block(self, region: str, bucket: str) -> dict[str, Any] | None:
        try:
            response = client("s3", region).get_public_access_block(Bucket=bucket)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchPublicAccessBlockConfiguration":
                return {}
            log(
                "WARNING",
                "could not read current state",
                what=f"public access block of {bucket}",
                error=str(error),
            )
            return None
        return _as_dict(response.get("PublicAccessBlockConfiguration"))

    def table_tags(self, region: str, table_arn: str) -> dict[str, str] | None:
        response = self._call(
            f"tags of {table_arn}",
            lambda: client("dynamodb", region).list_tags_of_resource(ResourceArn=table_arn),
        )
        return tag_map(response.get("Tags", [])) if response is not None else None

    def pitr_enabled(self, region: str, table: str) -> bool | None:
        response = self._call(
            f"continuous backups of {table}",
            lambda: client("dynamodb", region).describe_continuous_backups(TableName=table),
        )
        if response is None:
            return None
        description = response.get("ContinuousBackupsDescription", {}).get(
            "PointInTimeRecoveryDescription", {}
        )
        return bool(description.get("PointInTimeRecoveryStatus") == "ENABLED")

    def role(self, role_name: str) -> dict[str, Any] | None:
        response = self._call(f"role {role_name}", lambda: client("iam").get_role(RoleName=role_name))
        return _as_dict(response.get("Role")) if response else None


# --------------------------------------------------------------------------- rules per event

Check = Callable[[ApiCall, Settings, State], list[Finding]]


def sg_arn(call: ApiCall, group_id: str) -> str:
    return f"arn:{call.partition}:ec2:{call.region}:{call.account}:security-group/{group_id}"


def bucket_arn(call: ApiCall, bucket: str) -> str:
    return f"arn:{call.partition}:s3:::{bucket}"


def table_arn(call: ApiCall, table: str) -> str:
    return f"arn:{call.partition}:dynamodb:{call.region}:{call.account}:table/{table}"


def role_arn(call: ApiCall, role_name: str, path: str = "/") -> str:
    return f"arn:{call.partition}:iam::{call.account}:role{path}{role_name}"


def _world_ingress_findings(call: ApiCall, group_id: str, rules: list[IngressRule]) -> list[Finding]:
    findings = []
    for rule in rules:
        label = port_label(rule.protocol, rule.from_port, rule.to_port)
        findings.append(
            Finding(
                rule_id="ec2-sg-world-open-ingress",
                severity=ingress_severity(rule.protocol, rule.from_port, rule.to_port),
                resource_type="AWS::EC2::SecurityGroup",
                resource_id=group_id,
                resource_arn=sg_arn(call, group_id),
                details={
                    "protocol": rule.protocol,
                    "fromPort": rule.from_port,
                    "toPort": rule.to_port,
                    "ports": label,
                    "cidrs": list(rule.world_cidrs),
                    "securityGroupRuleIds": list(rule.rule_ids),
                },
                remediation=(
                    f"Revoke the {label} rule open to {', '.join(rule.world_cidrs)} on {group_id}; admit "
                    "traffic from a security group or prefix list instead (only the load balancer "
                    "listens to the internet, on 443)."
                ),
            )
        )
    return findings


def check_authorize_ingress(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    group_id = str(field(call.request, "groupId") or field(call.request, "groupName") or "")
    rules = world_open_permissions(call.request)
    # The response lists the rule ids AWS assigned; attach them so the hint can name them.
    created = items(_as_dict(call.response.get("securityGroupRuleSet")))
    with_ids = []
    for rule in rules:
        ids = tuple(
            str(item.get("securityGroupRuleId"))
            for item in created
            if normalize_protocol(item.get("ipProtocol")) == rule.protocol
            and _port(item.get("fromPort")) == rule.from_port
            and _port(item.get("toPort")) == rule.to_port
            and (item.get("cidrIpv4") in rule.world_cidrs or item.get("cidrIpv6") in rule.world_cidrs)
        )
        with_ids.append(IngressRule(rule.protocol, rule.from_port, rule.to_port, rule.world_cidrs, ids))
    return _world_ingress_findings(call, group_id, with_ids)


def check_modify_rules(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    body = _as_dict(field(call.request, "ModifySecurityGroupRulesRequest"))
    group_id = str(field(body, "GroupId") or "")
    rules = modified_world_rules(call.request)
    if not rules:
        return []
    # The request does not say whether a rule is ingress or egress; an egress rule to the
    # world is normal. When the direction cannot be read, report it rather than miss it.
    egress = state.egress_rule_ids(call.region, group_id, [rid for r in rules for rid in r.rule_ids])
    ingress = [r for r in rules if not egress or not set(r.rule_ids) & egress]
    return _world_ingress_findings(call, group_id, ingress)


def _tag_finding(
    call: ApiCall, settings: Settings, resource_type: str, resource_id: str, arn: str, tags: Mapping[str, str]
) -> list[Finding]:
    missing = missing_tags(tags, settings.required_tags)
    if not missing:
        return []
    return [
        Finding(
            rule_id="required-tags-missing",
            severity=MEDIUM,
            resource_type=resource_type,
            resource_id=resource_id,
            resource_arn=arn,
            details={
                "missingTags": missing,
                "requiredTags": list(settings.required_tags),
                "presentTags": dict(tags),
            },
            remediation=(
                f"Tag {resource_id} with {', '.join(missing)}; resources deployed by payctl get these "
                "tags from the environment file, so an untagged resource was made outside payctl."
            ),
        )
    ]


def check_created_security_group(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    group_id = str(field(call.response, "groupId") or "")
    if not group_id:
        return []
    # Tags may be applied by a later CreateTags call; the group's current tags decide.
    tags = state.security_group_tags(call.region, group_id)
    if tags is None:
        tags = {}
        for spec in items(field(call.request, "tagSpecificationSet")):
            tags.update(tag_map(field(spec, "tags") or field(spec, "tag")))
    return _tag_finding(call, settings, "AWS::EC2::SecurityGroup", group_id, sg_arn(call, group_id), tags)


# EC2 id prefix -> (CloudFormation type, ARN resource kind)
EC2_ID_PREFIXES = {
    "sg": ("AWS::EC2::SecurityGroup", "security-group"),
    "vpc": ("AWS::EC2::VPC", "vpc"),
    "subnet": ("AWS::EC2::Subnet", "subnet"),
    "i": ("AWS::EC2::Instance", "instance"),
    "rtb": ("AWS::EC2::RouteTable", "route-table"),
    "vpce": ("AWS::EC2::VPCEndpoint", "vpc-endpoint"),
    "nat": ("AWS::EC2::NatGateway", "natgateway"),
    "igw": ("AWS::EC2::InternetGateway", "internet-gateway"),
    "eni": ("AWS::EC2::NetworkInterface", "network-interface"),
    "vol": ("AWS::EC2::Volume", "volume"),
}


def check_ec2_delete_tags(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    removed_keys = [str(field(t, "key")) for t in items(field(call.request, "tagSet"))]
    # EC2 DeleteTags without a tag list deletes every tag of the resources.
    removed = (
        set(settings.required_tags) if not removed_keys else set(removed_keys) & set(settings.required_tags)
    )
    if not removed:
        return []
    findings = []
    for resource in items(field(call.request, "resourcesSet")):
        resource_id = str(field(resource, "resourceId"))
        resource_type, arn_kind = EC2_ID_PREFIXES.get(
            resource_id.split("-", 1)[0], ("AWS::EC2::Resource", "")
        )
        arn_name = f"{arn_kind}/{resource_id}" if arn_kind else resource_id
        findings.append(
            Finding(
                rule_id="required-tags-missing",
                severity=MEDIUM,
                resource_type=resource_type,
                resource_id=resource_id,
                resource_arn=f"arn:{call.partition}:ec2:{call.region}:{call.account}:{arn_name}",
                details={"missingTags": sorted(removed), "requiredTags": list(settings.required_tags)},
                remediation=f"Restore the tags {', '.join(sorted(removed))} on {resource_id}.",
            )
        )
    return findings


def _bucket(call: ApiCall) -> str:
    return str(field(call.request, "bucketName") or "")


def check_bucket_tags(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    bucket = _bucket(call)
    tags = state.bucket_tags(call.region, bucket)
    if tags is None:
        return []
    return _tag_finding(call, settings, "AWS::S3::Bucket", bucket, bucket_arn(call, bucket), tags)


def check_put_bucket_policy(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    bucket = _bucket(call)
    public = public_policy_statements(field(call.request, "bucketPolicy"))
    if not public:
        return []
    return [
        Finding(
            rule_id="s3-bucket-policy-public",
            severity=CRITICAL,
            resource_type="AWS::S3::Bucket",
            resource_id=bucket,
            resource_arn=bucket_arn(call, bucket),
            details={"publicStatements": public},
            remediation=(
                f"Remove the statements granting Principal '*' from the policy of {bucket}, or restrict "
                "them with a condition (aws:PrincipalOrgID, aws:SourceVpce)."
            ),
        )
    ]


def check_delete_bucket_policy(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    bucket = _bucket(call)
    return [
        Finding(
            rule_id="s3-bucket-policy-removed",
            severity=MEDIUM,
            resource_type="AWS::S3::Bucket",
            resource_id=bucket,
            resource_arn=bucket_arn(call, bucket),
            details={"effect": "TLS-only and encryption guards of the bucket policy no longer apply"},
            remediation=f"Redeploy the storage stack (payctl apply) to restore the policy of {bucket}.",
        )
    ]


def check_delete_bucket_encryption(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    bucket = _bucket(call)
    return [
        Finding(
            rule_id="s3-encryption-removed",
            severity=HIGH,
            resource_type="AWS::S3::Bucket",
            resource_id=bucket,
            resource_arn=bucket_arn(call, bucket),
            details={
                "effect": "new objects fall back to SSE-S3; the environment's KMS key no longer applies"
            },
            remediation=f"Restore default encryption with the environment's KMS key on {bucket}.",
        )
    ]


def check_put_bucket_encryption(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    # SSE-S3 is legitimate (access-log buckets must use it); a key of another account is not:
    # whoever holds that key can lock the data away.
    bucket = _bucket(call)
    configuration = _as_dict(field(call.request, "ServerSideEncryptionConfiguration"))
    foreign = foreign_kms_keys(configuration, call.account)
    if not foreign:
        return []
    return [
        Finding(
            rule_id="s3-encryption-foreign-kms-key",
            severity=CRITICAL,
            resource_type="AWS::S3::Bucket",
            resource_id=bucket,
            resource_arn=bucket_arn(call, bucket),
            details={"kmsKeys": foreign},
            remediation=f"Set the default encryption of {bucket} back to the environment's own KMS key.",
        )
    ]


def check_put_public_access_block(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    bucket = _bucket(call)
    configuration = field(call.request, "PublicAccessBlockConfiguration")
    if not isinstance(configuration, dict):
        configuration = state.public_access_block(call.region, bucket)
        if configuration is None:
            return []
    disabled = disabled_public_access_flags(configuration)
    if not disabled:
        return []
    return [
        Finding(
            rule_id="s3-public-access-block-weakened",
            severity=HIGH,
            resource_type="AWS::S3::Bucket",
            resource_id=bucket,
            resource_arn=bucket_arn(call, bucket),
            details={"disabledSettings": disabled},
            remediation=f"Turn {', '.join(disabled)} back on for {bucket}.",
        )
    ]


def check_delete_public_access_block(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    bucket = _bucket(call)
    return [
        Finding(
            rule_id="s3-public-access-block-removed",
            severity=HIGH,
            resource_type="AWS::S3::Bucket",
            resource_id=bucket,
            resource_arn=bucket_arn(call, bucket),
            details={"disabledSettings": list(PUBLIC_ACCESS_BLOCK_FLAGS)},
            remediation=f"Restore the public access block of {bucket} with all four settings on.",
        )
    ]


def _table(call: ApiCall) -> str:
    return str(field(call.request, "tableName") or "")


def check_update_continuous_backups(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    table = _table(call)
    specification = _as_dict(field(call.request, "pointInTimeRecoverySpecification"))
    requested = field(specification, "pointInTimeRecoveryEnabled")
    enabled = (
        str(requested).lower() == "true" if requested is not None else state.pitr_enabled(call.region, table)
    )
    if enabled is None or enabled:
        return []
    return [
        Finding(
            rule_id="dynamodb-pitr-disabled",
            severity=HIGH,
            resource_type="AWS::DynamoDB::Table",
            resource_id=table,
            resource_arn=table_arn(call, table),
            details={"pointInTimeRecovery": "DISABLED"},
            remediation=(
                f"Re-enable point-in-time recovery on {table} (aws dynamodb update-continuous-backups "
                "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true)."
            ),
        )
    ]


def check_update_table(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    table = _table(call)
    findings = []
    if str(field(call.request, "deletionProtectionEnabled")).lower() == "false":
        findings.append(
            Finding(
                rule_id="dynamodb-deletion-protection-disabled",
                severity=MEDIUM,
                resource_type="AWS::DynamoDB::Table",
                resource_id=table,
                resource_arn=table_arn(call, table),
                details={"deletionProtectionEnabled": False},
                remediation=f"Turn deletion protection back on for {table}.",
            )
        )
    removed = [
        str(field(_as_dict(field(u, "delete")), "regionName"))
        for u in items(field(call.request, "replicaUpdates"))
        if field(u, "delete")
    ]
    if removed:
        findings.append(
            Finding(
                rule_id="dynamodb-replica-removed",
                severity=HIGH,
                resource_type="AWS::DynamoDB::GlobalTable",
                resource_id=table,
                resource_arn=table_arn(call, table),
                details={"removedReplicaRegions": removed},
                remediation=f"Re-add the {', '.join(removed)} replica of {table}; DR depends on it.",
            )
        )
    return findings


def check_delete_table(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    table = _table(call)
    return [
        Finding(
            rule_id="dynamodb-table-deleted",
            severity=HIGH,
            resource_type="AWS::DynamoDB::Table",
            resource_id=table,
            resource_arn=table_arn(call, table),
            details={"tableStatus": field(_as_dict(field(call.response, "tableDescription")), "tableStatus")},
            remediation=(
                f"Confirm the deletion of {table} was planned (payctl destroy backs tables up first); "
                "otherwise restore it from its latest backup."
            ),
        )
    ]


def check_create_table(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    table = _table(call)
    arn = str(field(_as_dict(field(call.response, "tableDescription")), "tableArn") or table_arn(call, table))
    tags = state.table_tags(call.region, arn)
    if tags is None:
        tags = tag_map(field(call.request, "tags"))
    return _tag_finding(call, settings, "AWS::DynamoDB::Table", table, arn, tags)


def check_untag_table(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    arn = str(field(call.request, "resourceArn") or "")
    removed = sorted(set(map(str, field(call.request, "tagKeys") or [])) & set(settings.required_tags))
    if not removed:
        return []
    return [
        Finding(
            rule_id="required-tags-missing",
            severity=MEDIUM,
            resource_type="AWS::DynamoDB::Table",
            resource_id=arn.rsplit("/", 1)[-1],
            resource_arn=arn,
            details={"missingTags": removed, "requiredTags": list(settings.required_tags)},
            remediation=f"Restore the tags {', '.join(removed)} on {arn}.",
        )
    ]


def _role_name(call: ApiCall) -> str:
    return str(field(call.request, "roleName") or "")


def _boundary_finding(
    call: ApiCall, settings: Settings, role_name: str, arn: str, actual: str, **details: Any
) -> list[Finding]:
    if not settings.boundary_arn or actual == settings.boundary_arn:
        return []
    return [
        Finding(
            rule_id="iam-role-missing-boundary",
            severity=HIGH,
            resource_type="AWS::IAM::Role",
            resource_id=role_name,
            resource_arn=arn,
            details={"expectedBoundary": settings.boundary_arn, "actualBoundary": actual or None, **details},
            remediation=(
                f"Attach the environment's boundary to {role_name} (aws iam put-role-permissions-boundary "
                f"--role-name {role_name} --permissions-boundary {settings.boundary_arn})."
            ),
        )
    ]


def _current_role(call: ApiCall, state: State) -> tuple[dict[str, Any] | None, str]:
    role = state.role(_role_name(call))
    arn = (
        str(role.get("Arn"))
        if role
        else role_arn(call, _role_name(call), str(field(call.request, "path") or "/"))
    )
    return role, arn


def _aws_owned(path: Any) -> bool:
    return str(path or "/").startswith(AWS_OWNED_ROLE_PATHS)


def check_create_role(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    role_name = _role_name(call)
    if _aws_owned(field(call.request, "path")):
        return []
    # The current role decides (a later call may have tagged it); the event is the fallback.
    role, arn = _current_role(call, state)
    if role is not None:
        boundary = str(role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") or "")
        tags = tag_map(role.get("Tags", []))
    else:
        boundary = str(field(call.request, "permissionsBoundary") or "")
        tags = tag_map(field(call.request, "tags"))
    return _boundary_finding(call, settings, role_name, arn, boundary) + _tag_finding(
        call, settings, "AWS::IAM::Role", role_name, arn, tags
    )


def check_put_role_boundary(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    role_name = _role_name(call)
    _, arn = _current_role(call, state)
    return _boundary_finding(
        call, settings, role_name, arn, str(field(call.request, "permissionsBoundary") or "")
    )


def check_delete_role_boundary(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    role_name = _role_name(call)
    _, arn = _current_role(call, state)
    return [
        Finding(
            rule_id="iam-role-boundary-removed",
            severity=CRITICAL,
            resource_type="AWS::IAM::Role",
            resource_id=role_name,
            resource_arn=arn,
            details={"expectedBoundary": settings.boundary_arn or None},
            remediation=(
                f"Put the boundary back on {role_name} at once and review what the role did meanwhile "
                "in CloudTrail."
            ),
        )
    ]


def check_attach_role_policy(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    role, arn = _current_role(call, state)
    if role is None or _aws_owned(role.get("Path")):
        return []
    boundary = str(role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") or "")
    return _boundary_finding(
        call, settings, _role_name(call), arn, boundary, attachedPolicyArn=field(call.request, "policyArn")
    )


def check_untag_role(call: ApiCall, settings: Settings, state: State) -> list[Finding]:
    role_name = _role_name(call)
    removed = sorted(set(map(str, field(call.request, "tagKeys") or [])) & set(settings.required_tags))
    if not removed:
        return []
    _, arn = _current_role(call, state)
    return [
        Finding(
            rule_id="required-tags-missing",
            severity=MEDIUM,
            resource_type="AWS::IAM::Role",
            resource_id=role_name,
            resource_arn=arn,
            details={"missingTags": removed, "requiredTags": list(settings.required_tags)},
            remediation=f"Restore the tags {', '.join(removed)} on {role_name}.",
        )
    ]


EC2, S3, DYNAMODB, IAM = (
    "ec2.amazonaws.com",
    "s3.amazonaws.com",
    "dynamodb.amazonaws.com",
    "iam.amazonaws.com",
)

CHECKS: dict[tuple[str, str], Check] = {
    (EC2, "AuthorizeSecurityGroupIngress"): check_authorize_ingress,
    (EC2, "ModifySecurityGroupRules"): check_modify_rules,
    (EC2, "CreateSecurityGroup"): check_created_security_group,
    (EC2, "DeleteTags"): check_ec2_delete_tags,
    (S3, "PutBucketPolicy"): check_put_bucket_policy,
    (S3, "DeleteBucketPolicy"): check_delete_bucket_policy,
    (S3, "PutBucketEncryption"): check_put_bucket_encryption,
    (S3, "DeleteBucketEncryption"): check_delete_bucket_encryption,
    (S3, "PutBucketPublicAccessBlock"): check_put_public_access_block,
    (S3, "PutPublicAccessBlock"): check_put_public_access_block,
    (S3, "DeleteBucketPublicAccessBlock"): check_delete_public_access_block,
    (S3, "DeletePublicAccessBlock"): check_delete_public_access_block,
    (S3, "CreateBucket"): check_bucket_tags,
    (S3, "PutBucketTagging"): check_bucket_tags,
    (S3, "DeleteBucketTagging"): check_bucket_tags,
    (DYNAMODB, "UpdateContinuousBackups"): check_update_continuous_backups,
    (DYNAMODB, "UpdateTable"): check_update_table,
    (DYNAMODB, "DeleteTable"): check_delete_table,
    (DYNAMODB, "CreateTable"): check_create_table,
    (DYNAMODB, "UntagResource"): check_untag_table,
    (IAM, "CreateRole"): check_create_role,
    (IAM, "PutRolePermissionsBoundary"): check_put_role_boundary,
    (IAM, "DeleteRolePermissionsBoundary"): check_delete_role_boundary,
    (IAM, "AttachRolePolicy"): check_attach_role_policy,
    (IAM, "UntagRole"): check_untag_role,
}


# --------------------------------------------------------------------------- publishing


def violation_message(finding: Finding, call: ApiCall, settings: Settings) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "ruleId": finding.rule_id,
        "severity": finding.severity,
        "environment": settings.environment,
        "resourceType": finding.resource_type,
        "resourceId": finding.resource_id,
        "resourceArn": finding.resource_arn,
        "account": call.account,
        "region": call.region,
        "eventSource": call.event_source,
        "eventName": call.event_name,
        "actor": call.actor,
        "eventTime": call.event_time,
        "eventId": call.event_id,
        "details": finding.details,
        "remediation": finding.remediation,
    }


def subject_line(text: str) -> str:
    """SNS subjects: printable ASCII, no line breaks, at most 100 characters."""
    clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return clean if len(clean) <= SUBJECT_MAX_CHARS else clean[: SUBJECT_MAX_CHARS - 3] + "..."


def publish(finding: Finding, call: ApiCall, settings: Settings) -> None:
    message = violation_message(finding, call, settings)
    client("sns").publish(
        TopicArn=settings.topic_arn,
        Subject=subject_line(
            f"[{finding.severity}] {settings.environment} {finding.rule_id}: {finding.resource_id}"
        ),
        Message=json.dumps(message, default=str, sort_keys=True),
        MessageAttributes={
            "severity": {"DataType": "String", "StringValue": finding.severity},
            "rule": {"DataType": "String", "StringValue": finding.rule_id},
        },
    )


def evaluate(call: ApiCall, settings: Settings, state: State) -> list[Finding] | None:
    """Findings for a CloudTrail record, or None when no rule covers it."""
    check = CHECKS.get((call.event_source, call.event_name))
    return None if check is None else check(call, settings, state)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = Settings.from_env(os.environ)
    call = parse_api_call(event)
    if call is None:
        log(
            "INFO",
            "not a CloudTrail API call; ignored",
            detailType=event.get("detail-type"),
            id=event.get("id"),
        )
        return {"status": "ignored", "reason": "not a CloudTrail API call", "findings": []}
    summary: dict[str, Any] = {
        "eventName": call.event_name,
        "eventSource": call.event_source,
        "eventId": call.event_id,
    }
    if call.error_code:
        log("INFO", "failed API call changed nothing; ignored", errorCode=call.error_code, **summary)
        return {
            "status": "ignored",
            "reason": f"call failed with {call.error_code}",
            "findings": [],
            **summary,
        }
    findings = evaluate(call, settings, State())
    if findings is None:
        log("INFO", "no rule covers this event; ignored", **summary)
        return {"status": "ignored", "reason": "no rule covers this event", "findings": [], **summary}
    for finding in findings:
        publish(finding, call, settings)
        log(
            "WARNING",
            "violation published",
            ruleId=finding.rule_id,
            severity=finding.severity,
            resourceId=finding.resource_id,
            **summary,
        )
    if not findings:
        log("INFO", "compliant change", **summary)
    return {"status": "evaluated", "findings": [f.rule_id for f in findings], **summary}
