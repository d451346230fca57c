"""Drift detection for the local emulator, shaped like CloudFormation's drift APIs.

Expected properties are the stack template's properties resolved against the stack (parameters,
Refs, GetAtts); actual properties are read from moto's backends. As in AWS, only properties set in
the template are checked, and a resource type without support is NOT_CHECKED (and left out of
DescribeStackResourceDrifts).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.core.utils import utcnow
from moto.moto_api._internal import mock_random

IN_SYNC, MODIFIED, DELETED, NOT_CHECKED = "IN_SYNC", "MODIFIED", "DELETED", "NOT_CHECKED"
ADD, REMOVE, NOT_EQUAL = "ADD", "REMOVE", "NOT_EQUAL"


@dataclass(frozen=True)
class PropertyDifference:
    path: str
    expected: str
    actual: str
    kind: str

    def to_dict(self) -> dict[str, str]:
        return {
            "PropertyPath": self.path,
            "ExpectedValue": self.expected,
            "ActualValue": self.actual,
            "DifferenceType": self.kind,
        }


@dataclass
class ResourceDrift:
    stack_id: str
    logical_id: str
    physical_id: str
    resource_type: str
    status: str
    timestamp: datetime
    expected: dict[str, Any] | None = None
    actual: dict[str, Any] | None = None
    differences: list[PropertyDifference] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "StackId": self.stack_id,
            "LogicalResourceId": self.logical_id,
            "PhysicalResourceId": self.physical_id,
            "ResourceType": self.resource_type,
            "StackResourceDriftStatus": self.status,
            "Timestamp": self.timestamp,
        }
        if self.expected is not None and self.status != NOT_CHECKED:
            result["ExpectedProperties"] = _json(self.expected)
        if self.actual is not None and self.status not in (DELETED, NOT_CHECKED):
            result["ActualProperties"] = _json(self.actual)
        if self.status != NOT_CHECKED:
            result["PropertyDifferences"] = [d.to_dict() for d in self.differences]
        return result


@dataclass
class StackDriftDetection:
    detection_id: str
    stack_id: str
    stack_drift_status: str
    drifted_count: int
    timestamp: datetime
    detection_status: str = "DETECTION_COMPLETE"
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "StackId": self.stack_id,
            "StackDriftDetectionId": self.detection_id,
            "StackDriftStatus": self.stack_drift_status,
            "DetectionStatus": self.detection_status,
            "DriftedStackResourceCount": self.drifted_count,
            "Timestamp": self.timestamp,
        }
        if self.reason:
            result["DetectionStatusReason"] = self.reason
        return result


@dataclass
class StackDriftState:
    """Kept on the moto Stack object, so moto's reset forgets it with the stack."""

    status: str = NOT_CHECKED
    last_check: datetime | None = None
    resources: dict[str, ResourceDrift] = field(default_factory=dict)
    detections: dict[str, StackDriftDetection] = field(default_factory=dict)


def state_of(stack: Any) -> StackDriftState:
    state = stack.__dict__.get("_payctl_drift")
    if state is None:
        state = StackDriftState()
        stack.__dict__["_payctl_drift"] = state
    return state  # type: ignore[no-any-return]


# ---- comparison --------------------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return _json(value)
    return "null" if value is None else str(value)


def _pointer(path: str, key: Any) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def compare(
    expected: Any, actual: Any, path: str = "", unordered: frozenset[str] = frozenset()
) -> list[PropertyDifference]:
    """Differences between `expected` and `actual`, as CloudFormation reports them (JSON pointers).

    Paths in `unordered` hold lists whose order does not matter (e.g. security group rules): items are
    matched by value; unmatched expected items are REMOVE, unmatched actual items are ADD.
    """
    if isinstance(expected, dict) and isinstance(actual, dict):
        differences: list[PropertyDifference] = []
        for key, value in expected.items():
            child = _pointer(path, key)
            if key not in actual:
                differences.append(PropertyDifference(child, _scalar(value), "null", REMOVE))
            else:
                differences += compare(value, actual[key], child, unordered)
        for key, value in actual.items():
            if key not in expected:
                differences.append(PropertyDifference(_pointer(path, key), "null", _scalar(value), ADD))
        return differences
    if isinstance(expected, list) and isinstance(actual, list):
        if _generic(path) in unordered:
            return _compare_unordered(expected, actual, path)
        differences = []
        for index, value in enumerate(expected):
            child = _pointer(path, index)
            if index >= len(actual):
                differences.append(PropertyDifference(child, _scalar(value), "null", REMOVE))
            else:
                differences += compare(value, actual[index], child, unordered)
        for index in range(len(expected), len(actual)):
            differences.append(PropertyDifference(_pointer(path, index), "null", _scalar(actual[index]), ADD))
        return differences
    if _scalar(expected) != _scalar(actual):
        return [PropertyDifference(path, _scalar(expected), _scalar(actual), NOT_EQUAL)]
    return []


def _generic(path: str) -> str:
    """`/Policies/0/PolicyDocument` -> `/Policies/*/PolicyDocument` for matching `unordered`."""
    return "/".join("*" if part.isdigit() else part for part in path.split("/"))


def _compare_unordered(expected: list[Any], actual: list[Any], path: str) -> list[PropertyDifference]:
    unmatched_actual = {index: _json(value) for index, value in enumerate(actual)}
    differences: list[PropertyDifference] = []
    for index, value in enumerate(expected):
        wanted = _json(value)
        match = next((i for i, text in unmatched_actual.items() if text == wanted), None)
        if match is None:
            differences.append(PropertyDifference(_pointer(path, index), _scalar(value), "null", REMOVE))
        else:
            del unmatched_actual[match]
    for index in unmatched_actual:
        differences.append(PropertyDifference(_pointer(path, index), "null", _scalar(actual[index]), ADD))
    return differences


# ---- actual state per resource type ------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """What a reader saw: the actual values of the properties it can check (None: resource gone)."""

    properties: dict[str, Any] | None
    unordered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ResourceContext:
    account_id: str
    region: str
    physical_id: str
    expected: dict[str, Any]
    stack: Any


Reader = Callable[[ResourceContext], Observed]


def _protocol(value: Any) -> str:
    text = str(value).lower()
    return {"6": "tcp", "17": "udp", "1": "icmp", "all": "-1", "-1": "-1"}.get(text, text)


_RULE_PEERS = (
    "CidrIp",
    "CidrIpv6",
    "SourceSecurityGroupId",
    "SourcePrefixListId",
    "DestinationSecurityGroupId",
    "DestinationPrefixListId",
    "SourceSecurityGroupOwnerId",
)


def normalise_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A template rule in a canonical form comparable with what EC2 reports."""
    protocol = _protocol(rule.get("IpProtocol"))
    result: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":
        for port in ("FromPort", "ToPort"):
            if rule.get(port) is not None:
                result[port] = int(rule[port])
    for key in (*_RULE_PEERS, "Description"):
        if rule.get(key) not in (None, ""):
            result[key] = rule[key]
    result.pop("SourceSecurityGroupOwnerId", None)
    return result


def _actual_rules(group: Any, egress: bool) -> list[dict[str, Any]]:
    rules = []
    for rule in group.egress_rules if egress else group.ingress_rules:
        entry: dict[str, Any] = {"IpProtocol": _protocol(rule.ip_protocol)}
        if entry["IpProtocol"] != "-1":
            entry["FromPort"], entry["ToPort"] = rule.from_port, rule.to_port
        peer_prefix = "Destination" if egress else "Source"
        if rule.ip_range:
            entry.update(
                {k: v for k, v in rule.ip_range.items() if k in ("CidrIp", "CidrIpv6", "Description") and v}
            )
        if rule.source_group:
            entry[f"{peer_prefix}SecurityGroupId"] = rule.source_group.get("GroupId")
            if rule.source_group.get("Description"):
                entry["Description"] = rule.source_group["Description"]
        if rule.prefix_list_id:
            entry[f"{peer_prefix}PrefixListId"] = rule.prefix_list_id
        rules.append(entry)
    return rules


def _standalone_rules(ctx: ResourceContext, group_id: str, resource_type: str) -> list[dict[str, Any]]:
    """Rules that other resources of the same stack add to this group (not drift of the group)."""
    rules = []
    for logical_id, resource_json in ctx.stack.resource_map._resource_json_map.items():
        if resource_json.get("Type") != resource_type:
            continue
        properties = _expected_properties(ctx.stack, logical_id)
        if properties and properties.get("GroupId") == group_id:
            rules.append(normalise_rule(properties))
    return rules


def read_security_group(ctx: ResourceContext) -> Observed:
    from moto.ec2.models import ec2_backends

    group = ec2_backends[ctx.account_id][ctx.region].get_security_group_from_id(ctx.physical_id)
    if group is None:
        return Observed(None)
    actual: dict[str, Any] = {
        "GroupDescription": group.description,
        "VpcId": group.vpc_id,
        "GroupName": group.name,
    }
    for key, egress, standalone in (
        ("SecurityGroupIngress", False, "AWS::EC2::SecurityGroupIngress"),
        ("SecurityGroupEgress", True, "AWS::EC2::SecurityGroupEgress"),
    ):
        if key not in ctx.expected:
            continue
        others = [json.dumps(r, sort_keys=True) for r in _standalone_rules(ctx, group.id, standalone)]
        rules = []
        for rule in _actual_rules(group, egress):
            text = json.dumps(rule, sort_keys=True)
            if text in others:
                others.remove(text)
            else:
                rules.append(rule)
        actual[key] = rules
    return Observed(actual, frozenset({"/SecurityGroupIngress", "/SecurityGroupEgress"}))


def _read_rule(ctx: ResourceContext, egress: bool) -> Observed:
    from moto.ec2.models import ec2_backends

    group = ec2_backends[ctx.account_id][ctx.region].get_security_group_from_id(
        str(ctx.expected.get("GroupId"))
    )
    wanted = normalise_rule(ctx.expected)
    if group is None or wanted not in _actual_rules(group, egress):
        return Observed(None)
    return Observed(dict(ctx.expected))


def read_ssm_parameter(ctx: ResourceContext) -> Observed:
    from moto.ssm.models import ssm_backends

    parameter = ssm_backends[ctx.account_id][ctx.region].get_parameter(ctx.physical_id)
    if parameter is None:
        return Observed(None)
    return Observed(
        {
            "Name": parameter.name,
            "Type": parameter.parameter_type,
            "Value": parameter.value,
            "Description": parameter.description,
            "AllowedPattern": parameter.allowed_pattern,
            "DataType": parameter.data_type,
            "Tier": getattr(parameter, "tier", None),
        }
    )


def _bucket(ctx: ResourceContext, name: str) -> Any:
    from moto.s3.exceptions import MissingBucket
    from moto.s3.models import s3_backends

    try:
        return s3_backends[ctx.account_id]["aws"].get_bucket(name)
    except MissingBucket:
        return None


def _bucket_encryption(encryption: dict[str, Any] | None) -> dict[str, Any] | None:
    if not encryption:
        return None
    rules = encryption.get("Rule") or []
    rules = rules if isinstance(rules, list) else [rules]
    converted = []
    for rule in rules:
        default = dict(rule.get("ApplyServerSideEncryptionByDefault") or {})
        entry: dict[str, Any] = {"ServerSideEncryptionByDefault": default}
        if rule.get("BucketKeyEnabled") is not None:
            entry["BucketKeyEnabled"] = str(rule["BucketKeyEnabled"]).lower() == "true"
        converted.append(entry)
    return {"ServerSideEncryptionConfiguration": converted}


def read_bucket(ctx: ResourceContext) -> Observed:
    bucket = _bucket(ctx, ctx.physical_id)
    if bucket is None:
        return Observed(None)
    actual: dict[str, Any] = {
        "BucketName": bucket.name,
        "BucketEncryption": None,
        "VersioningConfiguration": None,
        "PublicAccessBlockConfiguration": None,
    }
    encryption = _bucket_encryption(bucket.encryption)
    if encryption is not None:
        expected_rules = (ctx.expected.get("BucketEncryption") or {}).get(
            "ServerSideEncryptionConfiguration"
        ) or []
        for index, rule in enumerate(encryption["ServerSideEncryptionConfiguration"]):
            # BucketKeyEnabled defaults to false: only compared when the template sets it or it is on.
            template_rule = expected_rules[index] if index < len(expected_rules) else {}
            if "BucketKeyEnabled" not in template_rule and not rule.get("BucketKeyEnabled"):
                rule.pop("BucketKeyEnabled", None)
        actual["BucketEncryption"] = encryption
    if bucket.versioning_status:
        actual["VersioningConfiguration"] = {"Status": bucket.versioning_status}
    block = bucket.public_access_block
    if block is not None:
        actual["PublicAccessBlockConfiguration"] = {
            "BlockPublicAcls": block.block_public_acls,
            "BlockPublicPolicy": block.block_public_policy,
            "IgnorePublicAcls": block.ignore_public_acls,
            "RestrictPublicBuckets": block.restrict_public_buckets,
        }
    return Observed(actual)


def normalise_policy(document: Any) -> Any:
    """IAM policy documents compared as AWS compares them: JSON, single values as lists."""
    if isinstance(document, (str, bytes)):
        from urllib.parse import unquote

        text = document.decode() if isinstance(document, bytes) else document
        try:
            document = json.loads(text)
        except ValueError:
            document = json.loads(unquote(text))
    if not isinstance(document, dict):
        return document
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    normalised = []
    for statement in statements:
        if statement is None:  # `!If [..., !Ref AWS::NoValue]` inside a list: AWS drops the item
            continue
        entry = dict(statement)
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if isinstance(entry.get(key), str):
                entry[key] = [entry[key]]
        principal = entry.get("Principal")
        if isinstance(principal, dict):
            entry["Principal"] = {k: [v] if isinstance(v, str) else v for k, v in principal.items()}
        normalised.append(entry)
    return {**document, "Statement": normalised}


def read_bucket_policy(ctx: ResourceContext) -> Observed:
    bucket = _bucket(ctx, str(ctx.expected.get("Bucket")))
    if bucket is None or not bucket.policy:
        return Observed(None)
    return Observed({"Bucket": bucket.name, "PolicyDocument": normalise_policy(bucket.policy)})


def read_role(ctx: ResourceContext) -> Observed:
    from moto.iam.models import iam_backends

    backend = iam_backends[ctx.account_id]["global"]
    role = next((r for r in backend.roles.values() if r.name == ctx.physical_id), None)
    if role is None:
        return Observed(None)
    actual: dict[str, Any] = {
        "RoleName": role.name,
        "AssumeRolePolicyDocument": normalise_policy(role.assume_role_policy_document),
        "Path": role.path,
        "Description": role.description,
        "MaxSessionDuration": role.max_session_duration,
        "ManagedPolicyArns": sorted(role.managed_policies),
        "Policies": [
            {"PolicyName": name, "PolicyDocument": normalise_policy(document)}
            for name, document in sorted(role.policies.items())
        ],
    }
    if role.permissions_boundary_arn:  # the template names the policy ARN; moto's property is a dict
        actual["PermissionsBoundary"] = role.permissions_boundary_arn
    return Observed(actual, frozenset({"/ManagedPolicyArns", "/Policies"}))


def read_table(ctx: ResourceContext) -> Observed:
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[ctx.account_id][ctx.region].tables.get(ctx.physical_id)
    if table is None:
        return Observed(None)
    pitr = (table.continuous_backups or {}).get("PointInTimeRecoveryDescription", {})
    return Observed(
        {
            "TableName": table.name,
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": pitr.get("PointInTimeRecoveryStatus") == "ENABLED"
            },
            "DeletionProtectionEnabled": bool(getattr(table, "deletion_protection_enabled", False)),
            "BillingMode": getattr(table, "billing_mode", None),
        }
    )


def read_function(ctx: ResourceContext) -> Observed:
    from moto.awslambda.models import lambda_backends

    backend = lambda_backends[ctx.account_id][ctx.region]
    try:
        function = backend.get_function(ctx.physical_id)
    except Exception:  # moto raises UnknownFunctionException (a ServiceException) when it is gone
        return Observed(None)
    if function is None:
        return Observed(None)
    actual: dict[str, Any] = {
        "FunctionName": function.function_name,
        "MemorySize": function.memory_size,
        "Timeout": function.timeout,
        "Runtime": function.run_time,
        "Handler": function.handler,
        "Role": function.role,
        "Description": function.description,
    }
    actual["Environment"] = (
        {"Variables": dict(function.environment_vars)} if function.environment_vars else None
    )
    return Observed(actual)


def _prepare_expected(resource_type: str, expected: dict[str, Any]) -> dict[str, Any]:
    """Template values put in the shape the readers report (ports as numbers, policies normalised)."""
    result = dict(expected)
    if resource_type == "AWS::EC2::SecurityGroup":
        for key in ("SecurityGroupIngress", "SecurityGroupEgress"):
            if key in result:
                result[key] = [normalise_rule(rule) for rule in result[key] or []]
    if resource_type == "AWS::IAM::Role":
        if "AssumeRolePolicyDocument" in result:
            result["AssumeRolePolicyDocument"] = normalise_policy(result["AssumeRolePolicyDocument"])
        if "Policies" in result:
            result["Policies"] = sorted(
                (
                    {"PolicyName": p["PolicyName"], "PolicyDocument": normalise_policy(p["PolicyDocument"])}
                    for p in result["Policies"] or []
                ),
                key=lambda p: str(p["PolicyName"]),
            )
        if "ManagedPolicyArns" in result:
            result["ManagedPolicyArns"] = sorted(result["ManagedPolicyArns"] or [])
    if resource_type == "AWS::S3::BucketPolicy" and "PolicyDocument" in result:
        result["PolicyDocument"] = normalise_policy(result["PolicyDocument"])
    if resource_type == "AWS::Lambda::Function" and "Environment" in result:
        result["Environment"] = {
            "Variables": {
                k: str(v) for k, v in ((result["Environment"] or {}).get("Variables") or {}).items()
            }
        }
    return result


READERS: dict[str, Reader] = {
    "AWS::EC2::SecurityGroup": read_security_group,
    "AWS::EC2::SecurityGroupIngress": lambda ctx: _read_rule(ctx, egress=False),
    "AWS::EC2::SecurityGroupEgress": lambda ctx: _read_rule(ctx, egress=True),
    "AWS::SSM::Parameter": read_ssm_parameter,
    "AWS::S3::Bucket": read_bucket,
    "AWS::S3::BucketPolicy": read_bucket_policy,
    "AWS::IAM::Role": read_role,
    "AWS::DynamoDB::Table": read_table,
    "AWS::Lambda::Function": read_function,
}
"""Resource types whose drift the emulator checks; every other type is NOT_CHECKED."""


# ---- detection ---------------------------------------------------------------------------------


def _expected_properties(stack: Any, logical_id: str) -> dict[str, Any] | None:
    from moto.cloudformation import parsing

    resource_json = stack.resource_map._resource_json_map.get(logical_id)
    if resource_json is None:
        return None
    resolved = parsing.clean_json(resource_json.get("Properties") or {}, stack.resource_map)
    return resolved if isinstance(resolved, dict) else {}


def _stack_resources(stack: Any) -> dict[str, Any]:
    declared = stack.resource_map._resource_json_map
    parsed = stack.resource_map._parsed_resources
    return {logical_id: parsed[logical_id] for logical_id in declared if parsed.get(logical_id) is not None}


def detect_resource_drift(stack: Any, logical_id: str, resource: Any, checked_at: datetime) -> ResourceDrift:
    resource_type = stack.resource_map._resource_json_map[logical_id]["Type"]
    physical_id = str(getattr(resource, "physical_resource_id", "") or "")
    drift = ResourceDrift(stack.stack_id, logical_id, physical_id, resource_type, NOT_CHECKED, checked_at)
    reader = READERS.get(resource_type)
    if reader is None:
        return drift
    template_properties = _expected_properties(stack, logical_id) or {}
    expected = _prepare_expected(resource_type, template_properties)
    context = ResourceContext(stack.account_id, stack.region_name, physical_id, expected, stack)
    observed = reader(context)
    drift.expected = expected
    if observed.properties is None:
        drift.status = DELETED
        return drift
    # Only properties set in the template are checked; the rest are not part of the comparison.
    actual = {key: observed.properties[key] for key in expected if observed.properties.get(key) is not None}
    checked = {key: value for key, value in expected.items() if key in observed.properties}
    drift.actual = {**expected, **actual}
    drift.differences = compare(checked, actual, "", observed.unordered)
    drift.status = MODIFIED if drift.differences else IN_SYNC
    return drift


def detect_stack_drift(stack: Any, logical_ids: list[str] | None = None) -> StackDriftDetection:
    """Check every resource of `stack` (nested stacks are stacks of their own, checked separately)."""
    checked_at = utcnow()
    state = state_of(stack)
    resources = _stack_resources(stack)
    wanted = set(logical_ids) if logical_ids else None
    drifts = {
        logical_id: detect_resource_drift(stack, logical_id, resource, checked_at)
        for logical_id, resource in resources.items()
        if wanted is None or logical_id in wanted
    }
    if wanted is None:
        state.resources = drifts
    else:
        state.resources.update(drifts)
    drifted = sum(1 for d in state.resources.values() if d.status in (MODIFIED, DELETED))
    state.status = "DRIFTED" if drifted else IN_SYNC
    state.last_check = checked_at
    detection = StackDriftDetection(
        str(mock_random.uuid4()), stack.stack_id, state.status, drifted, checked_at
    )
    state.detections[detection.detection_id] = detection
    return detection


def find_detection(stacks: list[Any], detection_id: str) -> StackDriftDetection:
    for stack in stacks:
        detection = state_of(stack).detections.get(detection_id)
        if detection is not None:
            return detection
    raise ValidationError(message=f"Drift detection {detection_id} does not exist")


# ---- CloudFormation API responses (bound onto moto's CloudFormationResponse) --------------------


def _action_result(value: Any) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult(value)


def detect_stack_drift_response(response: Any) -> Any:
    stack = response.cloudformation_backend.get_stack(response._get_param("StackName"))
    detection = detect_stack_drift(stack, response._get_param("LogicalResourceIds"))
    return _action_result({"StackDriftDetectionId": detection.detection_id})


def describe_stack_drift_detection_status(response: Any) -> Any:
    backend = response.cloudformation_backend
    stacks = list(backend.stacks.values()) + list(backend.deleted_stacks.values())
    detection = find_detection(stacks, response._get_param("StackDriftDetectionId"))
    return _action_result(detection.to_dict())


def describe_stack_resource_drifts(response: Any) -> Any:
    stack = response.cloudformation_backend.get_stack(response._get_param("StackName"))
    filters = response._get_param("StackResourceDriftStatusFilters") or []
    drifts = [d for d in state_of(stack).resources.values() if d.status != NOT_CHECKED]
    if filters:
        drifts = [d for d in drifts if d.status in filters]
    start = int(response._get_param("NextToken") or 0)
    size = int(response._get_param("MaxResults") or 100)
    page = drifts[start : start + size]
    result: dict[str, Any] = {"StackResourceDrifts": [d.to_dict() for d in page]}
    if start + size < len(drifts):
        result["NextToken"] = str(start + size)
    return _action_result(result)


def detect_stack_resource_drift(response: Any) -> Any:
    stack = response.cloudformation_backend.get_stack(response._get_param("StackName"))
    logical_id = response._get_param("LogicalResourceId")
    resources = _stack_resources(stack)
    if logical_id not in resources:
        raise ValidationError(message=f"Resource {logical_id} does not exist for stack {stack.name}")
    drift = detect_resource_drift(stack, logical_id, resources[logical_id], utcnow())
    state_of(stack).resources[logical_id] = drift
    return _action_result({"StackResourceDrift": drift.to_dict()})


RESPONSES: dict[str, Callable[[Any], Any]] = {
    "detect_stack_drift": detect_stack_drift_response,
    "describe_stack_drift_detection_status": describe_stack_drift_detection_status,
    "describe_stack_resource_drifts": describe_stack_resource_drifts,
    "detect_stack_resource_drift": detect_stack_resource_drift,
}


def stack_drift_information(stack: Any) -> dict[str, Any]:
    """`DriftInformation` of DescribeStacks."""
    state = state_of(stack)
    info: dict[str, Any] = {"StackDriftStatus": state.status}
    if state.last_check is not None:
        info["LastCheckTimestamp"] = state.last_check
    return info


def resource_drift_information(stack: Any, logical_id: str) -> dict[str, Any]:
    """`DriftInformation` of DescribeStackResource(s) and ListStackResources."""
    drift = state_of(stack).resources.get(logical_id)
    if drift is None:
        return {"StackResourceDriftStatus": NOT_CHECKED}
    return {"StackResourceDriftStatus": drift.status, "LastCheckTimestamp": drift.timestamp}
