"""Encryption at rest with the environment's customer-managed KMS key."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from payctl.policy.effective import EffectiveTemplate, text
from payctl.policy.model import Context, Rule, Violation, as_list, props, statements

# Principals that deliver logs into a bucket and accept only SSE-S3 (AES256) targets: S3 server
# access logging and Elastic Load Balancing access logs (AWS documents both).
LOG_DELIVERY_SERVICES = {"logging.s3.amazonaws.com", "logdelivery.elasticloadbalancing.amazonaws.com"}


def customer_key(value: Any) -> str | None:
    """Why a key reference is not a customer-managed key, or None when it is one."""
    if value is None or text(value) == "":
        return "no KMS key"
    name = text(value)
    if name.startswith("alias/aws/") or ":alias/aws/" in name:
        return f"{name} is an AWS-managed key"
    return None


def log_delivery_buckets(template: EffectiveTemplate) -> set[str]:
    """Logical ids of buckets whose policy lets an AWS log-delivery service write into them."""
    names = {
        text(props(bucket).get("BucketName", "")): logical
        for logical, bucket in template.of_type("AWS::S3::Bucket").items()
    }
    found = set()
    for policy in template.of_type("AWS::S3::BucketPolicy").values():
        bucket = props(policy).get("Bucket")
        target = names.get(text(bucket)) or getattr(bucket, "ref", None)
        for _, statement in statements(props(policy).get("PolicyDocument")):
            principal = statement.get("Principal")
            services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
            if (
                text(statement.get("Effect")) == "Allow"
                and target
                and LOG_DELIVERY_SERVICES & {text(service) for service in services}
            ):
                found.add(str(target))
    return found


class EncryptionAtRest(Rule):
    id = "PAY007"
    title = "Encryption at rest with a customer-managed KMS key"
    description = (
        "Aurora clusters (and their managed secret), DynamoDB tables and every global table "
        "replica, S3 buckets, SNS topics, SQS queues, CloudWatch log groups, Secrets Manager "
        "secrets and Lambda environment variables are encrypted with a customer-managed KMS "
        "key. Buckets that receive S3 server access logs or ALB access logs use SSE-S3, the "
        "only encryption those deliveries accept."
    )
    hint = "Set the type's KMS key property to the environment key (!Ref KmsKeyArn)."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        log_targets = log_delivery_buckets(template)
        for logical_id, resource in template.resources.items():
            kind = str(resource.get("Type"))
            checker = _CHECKS.get(kind)
            if checker is None:
                continue
            if kind == "AWS::S3::Bucket" and logical_id in log_targets:
                yield from _log_bucket(logical_id, props(resource))
                continue
            for path, message in checker(props(resource)):
                yield Violation(logical_id, ("Properties", *path), message)


Problems = Iterator[tuple[tuple[str | int, ...], str]]


def _key(properties: dict[str, Any], prop: str) -> Problems:
    problem = customer_key(properties.get(prop))
    if problem:
        yield ((prop,) if prop in properties else ()), f"{prop}: {problem}"


def _aurora_cluster(p: dict[str, Any]) -> Problems:
    if p.get("StorageEncrypted") is not True and text(p.get("StorageEncrypted")) != "true":
        yield ("StorageEncrypted",) if "StorageEncrypted" in p else (), "StorageEncrypted is not true"
    yield from _key(p, "KmsKeyId")
    if text(p.get("ManageMasterUserPassword")) == "true":
        problem = customer_key((p.get("MasterUserSecret") or {}).get("KmsKeyId"))
        if problem:
            yield ("MasterUserSecret",), f"managed master secret: {problem}"


def _global_cluster(p: dict[str, Any]) -> Problems:
    if text(p.get("StorageEncrypted")) != "true" and "SourceDBClusterIdentifier" not in p:
        yield ("StorageEncrypted",) if "StorageEncrypted" in p else (), "StorageEncrypted is not true"


def _dynamodb_table(p: dict[str, Any]) -> Problems:
    sse = p.get("SSESpecification") or {}
    if text(sse.get("SSEEnabled")) != "true" or text(sse.get("SSEType", "KMS")) != "KMS":
        yield ("SSESpecification",) if sse else (), "SSESpecification is not SSEEnabled with SSEType KMS"
    elif "KMSMasterKeyId" in sse or "Replicas" not in p:
        problem = customer_key(sse.get("KMSMasterKeyId"))
        if problem:
            yield ("SSESpecification",), f"KMSMasterKeyId: {problem}"
    for index, replica in enumerate(as_list(p.get("Replicas"))):
        if isinstance(replica, dict):
            problem = customer_key((replica.get("SSESpecification") or {}).get("KMSMasterKeyId"))
            if problem:
                yield ("Replicas", index), f"replica {text(replica.get('Region'))}: {problem}"


def _bucket(p: dict[str, Any]) -> Problems:
    rules = as_list((p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration"))
    defaults = [rule.get("ServerSideEncryptionByDefault") or {} for rule in rules if isinstance(rule, dict)]
    if not defaults:
        yield ("BucketEncryption",) if "BucketEncryption" in p else (), "no default encryption"
        return
    for default in defaults:
        if text(default.get("SSEAlgorithm")) not in ("aws:kms", "aws:kms:dsse"):
            yield ("BucketEncryption",), f"SSEAlgorithm {text(default.get('SSEAlgorithm'))}, not aws:kms"
        else:
            problem = customer_key(default.get("KMSMasterKeyID"))
            if problem:
                yield ("BucketEncryption",), f"KMSMasterKeyID: {problem}"


def _log_bucket(logical_id: str, p: dict[str, Any]) -> Iterable[Violation]:
    rules = as_list((p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration"))
    algorithms = {
        text((rule.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm"))
        for rule in rules
        if isinstance(rule, dict)
    }
    if algorithms != {"AES256"}:
        yield Violation(
            logical_id,
            ("Properties", "BucketEncryption"),
            f"a log-delivery bucket is encrypted with SSE-S3 (AES256), not {sorted(algorithms)}",
        )


def _lambda(p: dict[str, Any]) -> Problems:
    if (p.get("Environment") or {}).get("Variables"):
        yield from _key(p, "KmsKeyArn")


def _secret(p: dict[str, Any]) -> Problems:
    yield from _key(p, "KmsKeyId")
    for index, replica in enumerate(as_list(p.get("ReplicaRegions"))):
        if isinstance(replica, dict):
            problem = customer_key(replica.get("KmsKeyId"))
            if problem:
                yield ("ReplicaRegions", index), f"replica {text(replica.get('Region'))}: {problem}"


_CHECKS: dict[str, Any] = {
    "AWS::RDS::DBCluster": _aurora_cluster,
    "AWS::RDS::GlobalCluster": _global_cluster,
    "AWS::DynamoDB::Table": _dynamodb_table,
    "AWS::DynamoDB::GlobalTable": _dynamodb_table,
    "AWS::S3::Bucket": _bucket,
    "AWS::SNS::Topic": lambda p: _key(p, "KmsMasterKeyId"),
    "AWS::SQS::Queue": lambda p: _key(p, "KmsMasterKeyId"),
    "AWS::Logs::LogGroup": lambda p: _key(p, "KmsKeyId"),
    "AWS::Lambda::Function": _lambda,
    "AWS::SecretsManager::Secret": _secret,
}
