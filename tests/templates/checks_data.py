"""Data-layer conventions (S3, DynamoDB, Aurora) as small checks, plus the evaluator they need.

Templates are environment-independent: what a bucket or cluster really looks like in prod
depends on parameters and conditions. ``concrete()`` evaluates a template in long form
(``Fn::``/``Ref`` dicts, as ``cfn_flip.load_yaml`` returns it) for one set of parameter
values and one region: conditions are decided, resources whose condition is false are
dropped, ``Fn::If`` picks its branch, ``AWS::NoValue`` disappears, and parameters, pseudo
parameters, ``Fn::Sub``/``Join``/``Select``/``Split``/``FindInMap`` are computed. References
to resources stay symbolic (``<Ref X>``, ``<GetAtt X.Attr>``), except that a ``Ref`` to a
resource with a fixed name resolves to that name, as CloudFormation's ``Ref`` does for
buckets, tables, clusters and parameters.

Each ``check_*`` returns a list of problems (empty when the template complies), so the tests
and a later policy gate can share them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Template = Mapping[str, Any]

# Ref to these resource types returns the value of the named property.
NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::RDS::GlobalCluster": "GlobalClusterIdentifier",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::RDS::DBClusterParameterGroup": "DBClusterParameterGroupName",
    "AWS::SSM::Parameter": "Name",
    "AWS::IAM::Role": "RoleName",
}
STANDARD_TAG_KEYS = ("Environment", "Application", "CostCenter")
RETAIN_POLICIES = {"Retain", "RetainExceptOnCreate"}
# CloudFormation types that hold data and are special everywhere (DESIGN.md rule 5).
STATEFUL_TYPES = {
    "AWS::S3::Bucket",
    "AWS::DynamoDB::GlobalTable",
    "AWS::DynamoDB::Table",
    "AWS::RDS::DBCluster",
    "AWS::RDS::GlobalCluster",
    "AWS::RDS::DBInstance",
    "AWS::SecretsManager::Secret",
}
SNAPSHOT_TYPES = {"AWS::RDS::DBCluster"}
# S3 storage classes bill at least this many days per object (S3 pricing, minimum storage duration).
MINIMUM_STORAGE_DAYS = {
    "STANDARD_IA": 30,
    "ONEZONE_IA": 30,
    "GLACIER_IR": 90,
    "GLACIER": 90,
    "DEEP_ARCHIVE": 180,
}
LOG_DELIVERY_PRINCIPALS = {"logging.s3.amazonaws.com", "logdelivery.elasticloadbalancing.amazonaws.com"}


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass
class Context:
    """What a template is evaluated against: parameter values and the stack's region/account."""

    parameters: Mapping[str, Any]
    region: str
    account: str
    partition: str = "aws"
    conditions: dict[str, bool] = field(default_factory=dict)


class Evaluator:
    def __init__(self, template: Template, context: Context) -> None:
        self.template = template
        self.context = context
        self.resources: Mapping[str, Any] = template.get("Resources") or {}
        self.parameters = self._parameter_values()

    def _parameter_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, definition in (self.template.get("Parameters") or {}).items():
            if name in self.context.parameters:
                value = self.context.parameters[name]
            elif "Default" in definition:
                value = definition["Default"]
            else:
                raise KeyError(f"no value for parameter {name}")
            if (
                str(definition.get("Type", "")).startswith("List<")
                or definition.get("Type") == "CommaDelimitedList"
            ):
                value = value if isinstance(value, list) else [v for v in str(value).split(",") if v]
            else:
                value = str(value)
            values[name] = value
        return values

    # -- conditions ----------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self.context.conditions:
            definition = (self.template.get("Conditions") or {})[name]
            self.context.conditions[name] = self._truth(definition)
        return self.context.conditions[name]

    def _truth(self, node: Any) -> bool:
        if isinstance(node, Mapping) and len(node) == 1:
            ((function, argument),) = node.items()
            if function == "Fn::Equals":
                left, right = (self.value(item) for item in argument)
                return str(left) == str(right)
            if function == "Fn::And":
                return all(self._truth(item) for item in argument)
            if function == "Fn::Or":
                return any(self._truth(item) for item in argument)
            if function == "Fn::Not":
                return not self._truth(argument[0])
            if function == "Condition":
                return self.condition(str(argument))
        raise ValueError(f"not a condition expression: {node!r}")

    # -- values --------------------------------------------------------------------------------
    def pseudo(self, name: str) -> Any:
        return {
            "AWS::Region": self.context.region,
            "AWS::AccountId": self.context.account,
            "AWS::Partition": self.context.partition,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "stack",
            "AWS::NoValue": NO_VALUE,
        }[name]

    def reference(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        resource = self.resources.get(name)
        if resource is None:
            raise KeyError(f"Ref to unknown {name}")
        prop = NAME_PROPERTIES.get(str(resource.get("Type")))
        named = (resource.get("Properties") or {}).get(prop) if prop else None
        return self.value(named) if named is not None else f"<Ref {name}>"

    def value(self, node: Any) -> Any:
        """Evaluates node; NO_VALUE when it vanishes (AWS::NoValue)."""
        if isinstance(node, Mapping):
            if len(node) == 1:
                ((key, argument),) = node.items()
                if key == "Ref":
                    return self.reference(str(argument))
                if key.startswith("Fn::") or key == "Condition":
                    return self._function(key, argument)
            result = {}
            for key, item in node.items():
                evaluated = self.value(item)
                if evaluated is not NO_VALUE:
                    result[key] = evaluated
            return result
        if isinstance(node, list):
            return [evaluated for item in node if (evaluated := self.value(item)) is not NO_VALUE]
        return node

    def _function(self, function: str, argument: Any) -> Any:
        if function == "Fn::If":
            name, if_true, if_false = argument
            return self.value(if_true if self.condition(str(name)) else if_false)
        if function in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition"):
            return self._truth({function: argument})
        if function == "Fn::Sub":
            text, variables = argument if isinstance(argument, list) else (argument, {})
            bound = {name: self.value(item) for name, item in variables.items()}
            return _SUB_VARIABLE.sub(lambda match: self._sub_variable(match.group(1), bound), str(text))
        if function == "Fn::Join":
            separator, items = argument
            return str(separator).join(str(item) for item in self.value(items))
        if function == "Fn::Select":
            index, items = argument
            values = self.value(items)
            return (
                values[int(self.value(index))] if isinstance(values, list) else f"<Select {index} {values}>"
            )
        if function == "Fn::Split":
            separator, text = argument
            return str(self.value(text)).split(str(separator))
        if function == "Fn::FindInMap":
            name, first, second = (self.value(item) for item in argument)
            return (self.template.get("Mappings") or {})[name][first][second]
        if function == "Fn::GetAZs":
            return [f"{self.context.region}{letter}" for letter in "abcdef"]
        if function == "Fn::GetAtt":
            resource, attribute = argument if isinstance(argument, list) else str(argument).split(".", 1)
            return f"<GetAtt {resource}.{attribute}>"
        raise ValueError(f"cannot evaluate {function}")

    def _sub_variable(self, name: str, bound: Mapping[str, Any]) -> str:
        if name in bound:
            return str(bound[name])
        if "." in name:
            return f"<GetAtt {name}>"
        return str(self.reference(name))


def concrete(template: Template, context: Context) -> dict[str, Any]:
    """The template as deployed with these values: Conditions decided, Resources and Outputs
    present only where their condition holds, every intrinsic evaluated."""
    evaluator = Evaluator(template, context)
    conditions = {name: evaluator.condition(name) for name in template.get("Conditions") or {}}
    result: dict[str, Any] = {
        "Conditions": conditions,
        "Parameters": evaluator.parameters,
        "Resources": {},
        "Outputs": {},
    }
    for section in ("Resources", "Outputs"):
        for name, entry in (template.get(section) or {}).items():
            condition = entry.get("Condition")
            if condition is not None and not evaluator.condition(str(condition)):
                continue
            result[section][name] = evaluator.value(entry)
    return result


# --- small accessors ----------------------------------------------------------------------------
def resources(template: Template, *types: str) -> dict[str, Mapping[str, Any]]:
    """Resources of the given types (all when none are given), by logical id."""
    return {
        name: resource
        for name, resource in (template.get("Resources") or {}).items()
        if not types or resource.get("Type") in types
    }


def props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


def tags(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {item["Key"]: item["Value"] for item in props(resource).get("Tags") or []}


def statements(policy_document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = policy_document.get("Statement") or []
    return list(found) if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def ssm_parameters(template: Template) -> dict[str, Any]:
    """Concrete SSM parameter name -> value."""
    return {
        str(props(p)["Name"]): props(p).get("Value")
        for p in resources(template, "AWS::SSM::Parameter").values()
    }


# --- policies on stateful resources -----------------------------------------------------------
def check_no_retain(template: Template) -> list[str]:
    return [
        f"{name}: {policy} is {resource[policy]}"
        for name, resource in resources(template).items()
        for policy in ("DeletionPolicy", "UpdateReplacePolicy")
        if resource.get(policy) in RETAIN_POLICIES
    ]


def check_deletion_policies(template: Template) -> list[str]:
    """Aurora clusters keep a final snapshot on delete and on replacement; every other stateful
    resource says Delete explicitly (payctl destroy backs it up or empties it first)."""
    problems = []
    for name, resource in resources(template, *STATEFUL_TYPES).items():
        expected = "Snapshot" if resource["Type"] in SNAPSHOT_TYPES else "Delete"
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            if resource.get(policy) != expected:
                problems.append(f"{name}: {policy} is {resource.get(policy)!r}, expected {expected}")
    return problems


def check_roles_have_boundary(
    template: Template, boundary_parameter: str = "PermissionsBoundaryArn"
) -> list[str]:
    return [
        f"{name}: PermissionsBoundary is not !Ref {boundary_parameter}"
        for name, role in resources(template, "AWS::IAM::Role").items()
        if props(role).get("PermissionsBoundary") != {"Ref": boundary_parameter}
    ]


def check_names_carry_suffix(template: Template) -> list[str]:
    """Every fixed name embeds ${EnvironmentSuffix}; SSM parameters live under
    /${EnvironmentName}/ instead (raw template, before evaluation)."""
    problems = []
    for name, resource in resources(template).items():
        prop = NAME_PROPERTIES.get(str(resource.get("Type")))
        named = props(resource).get(prop) if prop else None
        if named is None:
            continue
        if resource["Type"] == "AWS::SSM::Parameter":
            if not json.dumps(named).startswith('{"Fn::Sub": "/${EnvironmentName}/'):
                problems.append(f"{name}: parameter name is not under /${{EnvironmentName}}/: {named!r}")
        elif "EnvironmentSuffix" not in json.dumps(named):
            problems.append(f"{name}: {prop} does not carry EnvironmentSuffix: {named!r}")
    return problems


# --- S3 -----------------------------------------------------------------------------------------
def bucket_policies(template: Template) -> dict[str, list[Mapping[str, Any]]]:
    """Bucket logical id (or name) -> statements of its bucket policy, concrete template."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    names = {
        str(props(b).get("BucketName")): logical
        for logical, b in resources(template, "AWS::S3::Bucket").items()
    }
    for policy in resources(template, "AWS::S3::BucketPolicy").values():
        bucket = str(props(policy)["Bucket"])
        found.setdefault(names.get(bucket, bucket), []).extend(statements(props(policy)["PolicyDocument"]))
    return found


def is_log_delivery_target(statements_: Iterable[Mapping[str, Any]]) -> bool:
    """A bucket whose policy lets an AWS log-delivery service write into it."""
    for statement in statements_:
        principal = statement.get("Principal")
        services = as_list(principal.get("Service")) if isinstance(principal, Mapping) else []
        if statement.get("Effect") == "Allow" and LOG_DELIVERY_PRINCIPALS & set(services):
            return True
    return False


def check_buckets(template: Template, kms_key: str | None = None) -> list[str]:
    """Every bucket (concrete template): versioned, public access blocked, ACLs disabled, a
    lifecycle that ages out noncurrent versions and aborts stale uploads, a TLS-only policy,
    server access logging (except log-delivery targets), and KMS encryption (with ``kms_key``
    when given). Log-delivery targets use SSE-S3: S3 server access log and ELB log delivery
    write into SSE-S3 buckets only (docs/aws-facts.md, "Data")."""
    problems = []
    policies = bucket_policies(template)
    for name, bucket in resources(template, "AWS::S3::Bucket").items():
        p = props(bucket)
        statements_ = policies.get(name, [])
        log_target = is_log_delivery_target(statements_)
        if (p.get("VersioningConfiguration") or {}).get("Status") != "Enabled":
            problems.append(f"{name}: versioning is not enabled")
        block = p.get("PublicAccessBlockConfiguration") or {}
        flags = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        if not all(block.get(flag) is True for flag in flags):
            problems.append(f"{name}: public access is not fully blocked")
        owners = [r.get("ObjectOwnership") for r in (p.get("OwnershipControls") or {}).get("Rules", [])]
        if owners != ["BucketOwnerEnforced"]:
            problems.append(f"{name}: ACLs are not disabled (BucketOwnerEnforced)")
        problems += [f"{name}: {problem}" for problem in lifecycle_problems(p)]
        if not any(denies_insecure_transport(s) for s in statements_):
            problems.append(f"{name}: no bucket policy statement denies aws:SecureTransport false")
        rules = (p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
        defaults = [r.get("ServerSideEncryptionByDefault") or {} for r in rules]
        algorithms = {d.get("SSEAlgorithm") for d in defaults}
        if log_target:
            if algorithms != {"AES256"}:
                problems.append(f"{name}: a log-delivery target must use SSE-S3 (AES256), has {algorithms}")
        else:
            if algorithms != {"aws:kms"}:
                problems.append(f"{name}: not encrypted with KMS ({algorithms})")
            elif kms_key is not None and {d.get("KMSMasterKeyID") for d in defaults} != {kms_key}:
                problems.append(f"{name}: encrypted with {defaults}, expected key {kms_key}")
            if not p.get("LoggingConfiguration", {}).get("DestinationBucketName"):
                problems.append(f"{name}: no server access logging")
    return problems


def lifecycle_problems(bucket_properties: Mapping[str, Any]) -> list[str]:
    rules = [
        r
        for r in (bucket_properties.get("LifecycleConfiguration") or {}).get("Rules", [])
        if r.get("Status") == "Enabled"
    ]
    problems = []
    if not rules:
        return ["no enabled lifecycle rule"]
    if not any((r.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation") for r in rules):
        problems.append("no AbortIncompleteMultipartUpload")
    versioned = (bucket_properties.get("VersioningConfiguration") or {}).get("Status") == "Enabled"
    if versioned and not any(
        (r.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays") for r in rules
    ):
        problems.append("noncurrent versions never expire")
    for rule in rules:
        # Expiring before a transition's minimum storage duration has passed pays for the
        # whole minimum anyway (early deletion).
        pairs = (
            ("Transitions", "Expiration", rule.get("ExpirationInDays")),
            (
                "NoncurrentVersionTransitions",
                "NoncurrentVersionExpiration",
                (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays"),
            ),
        )
        for transitions, expiry, expiry_days in pairs:
            for transition in rule.get(transitions) or []:
                storage_class = transition["StorageClass"]
                paid_until = int(transition["TransitionInDays"]) + MINIMUM_STORAGE_DAYS.get(storage_class, 0)
                if expiry_days is not None and int(expiry_days) < paid_until:
                    problems.append(
                        f"{rule.get('Id')}: {expiry} after {expiry_days} days, "
                        f"before the {storage_class} minimum ends (day {paid_until})"
                    )
    return problems


def denies_insecure_transport(statement: Mapping[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    return (
        statement.get("Effect") == "Deny"
        and statement.get("Principal") == "*"
        and as_list(statement.get("Action")) in (["s3:*"], ["*"])
        and str((condition.get("Bool") or {}).get("aws:SecureTransport")).lower() == "false"
        and len(as_list(statement.get("Resource"))) == 2
    )


def check_replication(template: Template) -> list[str]:
    """Every replication rule (concrete template): enabled, Replication Time Control at 15
    minutes with metrics, delete markers replicated, KMS-encrypted objects selected and
    re-encrypted with a destination key; the source bucket is versioned."""
    problems = []
    for name, bucket in resources(template, "AWS::S3::Bucket").items():
        configuration = props(bucket).get("ReplicationConfiguration")
        if not configuration:
            continue
        if (props(bucket).get("VersioningConfiguration") or {}).get("Status") != "Enabled":
            problems.append(f"{name}: replication source is not versioned")
        for rule in configuration.get("Rules") or []:
            label = f"{name}/{rule.get('Id')}"
            destination = rule.get("Destination") or {}
            if rule.get("Status") != "Enabled":
                problems.append(f"{label}: rule disabled")
            rtc = destination.get("ReplicationTime") or {}
            if rtc.get("Status") != "Enabled" or (rtc.get("Time") or {}).get("Minutes") != 15:
                problems.append(f"{label}: Replication Time Control is not enabled at 15 minutes")
            metrics = destination.get("Metrics") or {}
            if (
                metrics.get("Status") != "Enabled"
                or (metrics.get("EventThreshold") or {}).get("Minutes") != 15
            ):
                problems.append(f"{label}: replication metrics are not enabled at 15 minutes")
            if (rule.get("DeleteMarkerReplication") or {}).get("Status") != "Enabled":
                problems.append(f"{label}: delete markers are not replicated")
            selection = (rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects") or {}
            if selection.get("Status") != "Enabled":
                problems.append(f"{label}: KMS-encrypted objects are not selected")
            if not (destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID"):
                problems.append(f"{label}: no ReplicaKmsKeyID for the destination")
    return problems


# --- DynamoDB -----------------------------------------------------------------------------------
def check_global_tables(template: Template, deletion_protection: bool) -> list[str]:
    """Every global table (concrete template): a stream (needed beyond one replica), KMS at
    rest with a key per replica, PITR and the expected deletion protection on every replica,
    the standard tags on every replica, and capacity settings consistent with the billing mode."""
    problems = []
    for name, table in resources(template, "AWS::DynamoDB::GlobalTable").items():
        p = props(table)
        replicas = p.get("Replicas") or []
        provisioned = p.get("BillingMode") == "PROVISIONED"
        if len(replicas) > 1 and not (p.get("StreamSpecification") or {}).get("StreamViewType"):
            problems.append(f"{name}: several replicas without a stream")
        if (p.get("SSESpecification") or {}) != {"SSEEnabled": True, "SSEType": "KMS"}:
            problems.append(f"{name}: not KMS-encrypted")
        autoscaling = (p.get("WriteProvisionedThroughputSettings") or {}).get(
            "WriteCapacityAutoScalingSettings"
        )
        if provisioned != bool(autoscaling):
            problems.append(
                f"{name}: write autoscaling {'missing' if provisioned else 'set'} "
                f"for BillingMode {p.get('BillingMode')}"
            )
        for index in p.get("GlobalSecondaryIndexes") or []:
            if provisioned != bool(
                (index.get("WriteProvisionedThroughputSettings") or {}).get(
                    "WriteCapacityAutoScalingSettings"
                )
            ):
                problems.append(
                    f"{name}/{index.get('IndexName')}: index write capacity inconsistent with billing"
                )
        for replica in replicas:
            label = f"{name}@{replica.get('Region')}"
            if (replica.get("PointInTimeRecoverySpecification") or {}).get(
                "PointInTimeRecoveryEnabled"
            ) is not True:
                problems.append(f"{label}: point-in-time recovery off")
            if replica.get("DeletionProtectionEnabled") is not deletion_protection:
                problems.append(
                    f"{label}: deletion protection is {replica.get('DeletionProtectionEnabled')}, "
                    f"expected {deletion_protection}"
                )
            if not (replica.get("SSESpecification") or {}).get("KMSMasterKeyId"):
                problems.append(f"{label}: no KMS key")
            replica_tags = {t["Key"] for t in replica.get("Tags") or []}
            if missing := set(STANDARD_TAG_KEYS) - replica_tags:
                problems.append(f"{label}: missing tags {sorted(missing)}")
            if provisioned != bool(
                (replica.get("ReadProvisionedThroughputSettings") or {}).get("ReadCapacityUnits")
            ):
                problems.append(
                    f"{label}: read capacity inconsistent with BillingMode {p.get('BillingMode')}"
                )
    return problems


def schema_mismatches(table: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Differences between a concrete GlobalTable resource and the canonical JSON definition
    published for the schema-sync Lambda."""
    p = props(table)
    problems = []

    def differ(what: str, in_table: Any, in_schema: Any) -> None:
        if in_table != in_schema:
            problems.append(f"{what}: table has {in_table!r}, schema says {in_schema!r}")

    def by_name(items: Iterable[Mapping[str, Any]]) -> list[Any]:
        return sorted((dict(item) for item in items), key=lambda item: json.dumps(item, sort_keys=True))

    differ("TableName", p.get("TableName"), schema.get("TableName"))
    differ(
        "AttributeDefinitions",
        by_name(p.get("AttributeDefinitions") or []),
        by_name(schema.get("AttributeDefinitions") or []),
    )
    differ("KeySchema", [dict(k) for k in p.get("KeySchema") or []], schema.get("KeySchema"))
    differ(
        "GlobalSecondaryIndexes",
        by_name(
            {
                "IndexName": i["IndexName"],
                "KeySchema": [dict(k) for k in i["KeySchema"]],
                "Projection": dict(i["Projection"]),
            }
            for i in p.get("GlobalSecondaryIndexes") or []
        ),
        by_name(schema.get("GlobalSecondaryIndexes") or []),
    )
    differ("BillingMode", p.get("BillingMode"), schema.get("BillingMode"))
    stream = p.get("StreamSpecification")
    differ(
        "StreamSpecification",
        {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        if stream
        else {"StreamEnabled": False},
        schema.get("StreamSpecification"),
    )
    differ("SSESpecification", dict(p.get("SSESpecification") or {}), schema.get("SSESpecification"))
    differ(
        "TimeToLiveSpecification",
        dict(p.get("TimeToLiveSpecification") or {}),
        schema.get("TimeToLiveSpecification"),
    )
    replicas = p.get("Replicas") or []
    differ("Replicas", [r.get("Region") for r in replicas], schema.get("Replicas"))
    pitr = {
        (r.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled") is True
        for r in replicas
    }
    differ("PointInTimeRecoveryEnabled", pitr, {schema.get("PointInTimeRecoveryEnabled")})
    autoscaling = (p.get("WriteProvisionedThroughputSettings") or {}).get("WriteCapacityAutoScalingSettings")
    throughput = None
    if autoscaling:
        reads = {
            int((r.get("ReadProvisionedThroughputSettings") or {}).get("ReadCapacityUnits") or 0)
            for r in replicas
        }
        throughput = {
            "ReadCapacityUnits": reads.pop() if len(reads) == 1 else sorted(reads),
            "WriteAutoScaling": {
                "MinCapacity": int(autoscaling["MinCapacity"]),
                "MaxCapacity": int(autoscaling["MaxCapacity"]),
                "TargetUtilization": int(
                    autoscaling["TargetTrackingScalingPolicyConfiguration"]["TargetValue"]
                ),
            },
        }
    differ("ProvisionedThroughput", throughput, schema.get("ProvisionedThroughput"))
    return problems


# --- Aurora -------------------------------------------------------------------------------------
def instances_of(template: Template, cluster: str) -> dict[str, Mapping[str, Any]]:
    """DB instances whose DBClusterIdentifier is the given cluster (concrete template)."""
    identifier = props(resources(template)[cluster]).get("DBClusterIdentifier")
    return {
        name: instance
        for name, instance in resources(template, "AWS::RDS::DBInstance").items()
        if props(instance).get("DBClusterIdentifier") == identifier
    }


def check_aurora_encryption(template: Template, kms_key: str) -> list[str]:
    """Clusters encrypted with ``kms_key``; Performance Insights of every instance with it;
    every secret with a customer key."""
    problems = []
    for name, cluster in resources(template, "AWS::RDS::DBCluster").items():
        p = props(cluster)
        if p.get("StorageEncrypted") is not True or p.get("KmsKeyId") != kms_key:
            problems.append(f"{name}: storage not encrypted with {kms_key}")
        secret = p.get("MasterUserSecret")
        if p.get("ManageMasterUserPassword") is True and (secret or {}).get("KmsKeyId") != kms_key:
            problems.append(f"{name}: managed master secret not encrypted with {kms_key}")
    for name, instance in resources(template, "AWS::RDS::DBInstance").items():
        p = props(instance)
        if p.get("EnablePerformanceInsights") is True and p.get("PerformanceInsightsKMSKeyId") != kms_key:
            problems.append(f"{name}: Performance Insights not encrypted with {kms_key}")
        if p.get("PubliclyAccessible") is not False:
            problems.append(f"{name}: not explicitly private")
    for name, global_cluster in resources(template, "AWS::RDS::GlobalCluster").items():
        if props(global_cluster).get("StorageEncrypted") is not True:
            problems.append(f"{name}: global cluster not encrypted")
    for name, secret in resources(template, "AWS::SecretsManager::Secret").items():
        if props(secret).get("KmsKeyId") != kms_key:
            problems.append(f"{name}: secret not encrypted with {kms_key}")
    return problems


def check_aurora_instances_spread(template: Template, cluster: str) -> list[str]:
    """The cluster's instances sit in distinct Availability Zones."""
    zones = [props(i).get("AvailabilityZone") for i in instances_of(template, cluster).values()]
    if None in zones or len(set(zones)) != len(zones):
        return [f"{cluster}: instances share or omit Availability Zones: {zones}"]
    return []


def cluster_parameters(template: Template) -> dict[str, str]:
    found: dict[str, str] = {}
    for group in resources(template, "AWS::RDS::DBClusterParameterGroup").values():
        found.update({str(k): str(v) for k, v in (props(group).get("Parameters") or {}).items()})
    return found


def engine_version_problems(
    version: str,
    cluster_schema: Mapping[str, Any],
    deprecated_schema: Mapping[str, Any],
    engine: str = "aurora-postgresql",
) -> list[str]:
    """``version`` against cfn-lint's engine-version data (aws_rds_dbcluster extensions): it must
    be a known version of ``engine`` and not a deprecated one. cfn-lint cannot flag a version
    that comes in through a parameter, so this check does it for each environment's value."""

    def enum_for(schema: Mapping[str, Any]) -> list[str]:
        for branch in schema.get("allOf", []):
            props_ = branch.get("if", {}).get("properties", {})
            if props_.get("Engine", {}).get("const") == engine:
                version_node = props_.get("EngineVersion", {})
                enum = version_node.get("enum") or branch.get("then", {}).get("properties", {}).get(
                    "EngineVersion", {}
                ).get("enum")
                if enum:
                    return [str(v) for v in enum]
        return []

    problems = []
    if version not in enum_for(cluster_schema):
        problems.append(f"{engine} {version} is not a known engine version")
    if version in enum_for(deprecated_schema):
        problems.append(f"{engine} {version} is deprecated (cannot create new clusters)")
    return problems


def supports_global_write_forwarding(version: str) -> bool:
    """Aurora PostgreSQL write forwarding in a global database: 14.9+, 15.4+, 16 and later."""
    major, _, minor = version.partition(".")
    minimum = {"14": 9, "15": 4}
    if int(major) >= 16:
        return True
    return major in minimum and int(minor or 0) >= minimum[major]


def iam_statements(role: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for policy in props(role).get("Policies") or [] for s in statements(policy["PolicyDocument"])]


def check_no_wildcard_actions(template: Template) -> list[str]:
    """No inline IAM statement allows a ``*`` action or a write on every resource."""
    problems = []
    for name, role in resources(template, "AWS::IAM::Role").items():
        for statement in iam_statements(role):
            if statement.get("Effect") != "Allow":
                continue
            actions = as_list(statement.get("Action"))
            if any(a == "*" or str(a).endswith(":*") for a in actions):
                problems.append(f"{name}/{statement.get('Sid')}: wildcard action {actions}")
            if "*" in as_list(statement.get("Resource")):
                problems.append(f"{name}/{statement.get('Sid')}: Resource '*'")
    return problems


# --- rendered layers ----------------------------------------------------------------------------
# Values the master passes from SSM imports or other stacks' outputs, which a rendered
# parameter file does not contain: stand-ins of the right shape, per region and account.
IMPORT_STAND_INS = {
    "KmsKeyArn": "arn:aws:kms:{region}:{account}:key/00000000-0000-4000-8000-000000000001",
    "PermissionsBoundaryArn": "arn:aws:iam::{account}:policy/payment-boundary-{region}",
    "AccessLogBucketName": "payments-access-logs-stand-in-{region}-{account}",
    "DatabaseSecurityGroupId": "sg-0123456789abcdef0",
    "DataSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
}


@dataclass(frozen=True)
class LayerInstance:
    """One nested stack of one environment, wave and region: its template and values."""

    environment: str
    wave: str
    region: str
    account: str
    template: Mapping[str, Any]  # long form
    values: Mapping[str, Any]  # every parameter: environment values plus import stand-ins

    @property
    def context(self) -> Context:
        return Context(parameters=self.values, region=self.region, account=self.account)

    @property
    def concrete(self) -> dict[str, Any]:
        return concrete(self.template, self.context)

    def stand_in(self, name: str) -> Any:
        return self.values[name]


def layer_instances(
    rendered_sets: Iterable[Any], stack: str, accounts: Mapping[str, str]
) -> dict[tuple[str, str, str], LayerInstance]:
    """(environment, wave, region) -> the nested stack ``stack`` as payctl rendered it."""
    import cfn_flip

    found = {}
    for rendered in rendered_sets:
        for top in rendered.stacks:
            nested = top.templates.nested.get(stack)
            if nested is None:
                continue
            account = accounts[top.environment]
            values: dict[str, Any] = dict(top.parameters.get(nested.name, {}))
            for name, source in top.templates.wiring[stack].items():
                if source != "env":
                    stand_in = IMPORT_STAND_INS[name]
                    values[name] = (
                        stand_in.format(region=top.region, account=account)
                        if isinstance(stand_in, str)
                        else stand_in
                    )
            found[(top.environment, top.wave, top.region)] = LayerInstance(
                top.environment, top.wave, top.region, account, cfn_flip.load_yaml(nested.text), values
            )
    return found


def lint_findings(rendered_sets: Iterable[Any], stacks: Iterable[str], cache_dir: Any = None) -> list[Any]:
    """cfn-lint findings (payctl.lint) located in the fragments of the given nested stacks, for
    every environment and region the sets cover (each template linted with every parameter set)."""
    import dataclasses

    from payctl.lint import lint

    wanted = set(stacks)
    narrowed = []
    for rendered in rendered_sets:
        tops = []
        for top in rendered.stacks:
            nested = {name: t for name, t in top.templates.nested.items() if name in wanted}
            if nested:
                tops.append(
                    dataclasses.replace(top, templates=dataclasses.replace(top.templates, nested=nested))
                )
        narrowed.append(dataclasses.replace(rendered, stacks=tuple(tops)))
    names = {t.name for r in narrowed for top in r.stacks for t in top.templates.nested.values()}
    return [finding for finding in lint(narrowed, cache_dir).findings if finding.template in names]
