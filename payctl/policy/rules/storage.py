"""S3 and DynamoDB: TLS only, no public access, versions and their lifecycle, replication with
Replication Time Control, point-in-time recovery."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from payctl.policy.effective import PARTITION, EffectiveTemplate, text
from payctl.policy.model import Context, Rule, Violation, as_list, props, statements

PUBLIC_ACCESS_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


def bucket_arn(template: EffectiveTemplate, logical_id: str) -> str:
    """The bucket's ARN as the effective template writes it (!GetAtt Bucket.Arn)."""
    name = props(template.resources[logical_id]).get("BucketName")
    return f"arn:{PARTITION}:s3:::{text(name)}" if name is not None else f"{{{{GetAtt {logical_id}.Arn}}}}"


def bucket_policy_statements(template: EffectiveTemplate, logical_id: str) -> list[dict[str, Any]]:
    """Statements of every bucket policy of this template attached to the bucket."""
    name = props(template.resources[logical_id]).get("BucketName")
    found = []
    for policy in template.of_type("AWS::S3::BucketPolicy").values():
        bucket = props(policy).get("Bucket")
        if (name is not None and text(bucket) == text(name)) or getattr(bucket, "ref", None) == logical_id:
            found += [statement for _, statement in statements(props(policy).get("PolicyDocument"))]
    return found


def denies_insecure_transport(statement: dict[str, Any], arn: str) -> bool:
    condition = statement.get("Condition") or {}
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and as_list(principal.get("AWS")) == ["*"])
    actions = {text(action) for action in as_list(statement.get("Action"))}
    covered = {text(item) for item in as_list(statement.get("Resource"))}
    return (
        text(statement.get("Effect")) == "Deny"
        and everyone
        and bool(actions & {"s3:*", "*"})
        and text((condition.get("Bool") or {}).get("aws:SecureTransport")).lower() == "false"
        and {arn, f"{arn}/*"} <= covered
    )


class TlsOnlyBuckets(Rule):
    id = "PAY008"
    title = "Bucket policies refuse requests without TLS"
    description = (
        "Every bucket has a bucket policy statement that denies s3:* to every principal when "
        "aws:SecureTransport is false, on the bucket and on its objects."
    )
    hint = (
        'Add a DenyInsecureTransport statement (Deny, Principal "*", s3:*, the bucket ARN and '
        'ARN/*, Condition Bool aws:SecureTransport "false").'
    )

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        for logical_id in template.of_type("AWS::S3::Bucket"):
            arn = bucket_arn(template, logical_id)
            if not any(
                denies_insecure_transport(s, arn) for s in bucket_policy_statements(template, logical_id)
            ):
                yield Violation(
                    logical_id,
                    (),
                    "no bucket policy statement denies requests without TLS "
                    "(aws:SecureTransport false) on the bucket and its objects",
                )


class PublicAccessBlocked(Rule):
    id = "PAY009"
    title = "S3 public access fully blocked"
    description = "Every bucket sets all four PublicAccessBlockConfiguration flags to true."
    hint = "Set BlockPublicAcls, BlockPublicPolicy, IgnorePublicAcls and RestrictPublicBuckets to true."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        for logical_id, bucket in template.of_type("AWS::S3::Bucket").items():
            block = props(bucket).get("PublicAccessBlockConfiguration")
            if not isinstance(block, dict):
                yield Violation(logical_id, ("Properties",), "no PublicAccessBlockConfiguration")
                continue
            open_flags = [flag for flag in PUBLIC_ACCESS_FLAGS if text(block.get(flag)) != "true"]
            if open_flags:
                yield Violation(
                    logical_id,
                    ("Properties", "PublicAccessBlockConfiguration"),
                    f"not true: {', '.join(open_flags)}",
                )


class PointInTimeRecovery(Rule):
    id = "PAY010"
    title = "DynamoDB point-in-time recovery on every replica"
    description = "Every DynamoDB table, and every replica of a global table, has point-in-time recovery on."
    hint = "Set PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true} on each replica."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        for logical_id, table in template.of_type("AWS::DynamoDB::Table").items():
            if not _pitr(props(table)):
                yield Violation(logical_id, ("Properties",), "point-in-time recovery is off")
        for logical_id, table in template.of_type("AWS::DynamoDB::GlobalTable").items():
            for index, replica in enumerate(as_list(props(table).get("Replicas"))):
                if isinstance(replica, dict) and not _pitr(replica):
                    yield Violation(
                        logical_id,
                        ("Properties", "Replicas", index),
                        f"replica {text(replica.get('Region'))}: point-in-time recovery is off",
                    )


def _pitr(node: dict[str, Any]) -> bool:
    return (
        text((node.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")) == "true"
    )


class BucketVersioning(Rule):
    id = "PAY011"
    title = "S3 versioning on every bucket"
    description = "Every bucket has VersioningConfiguration Status Enabled."
    hint = "Set VersioningConfiguration: {Status: Enabled}."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        for logical_id, bucket in template.of_type("AWS::S3::Bucket").items():
            if text((props(bucket).get("VersioningConfiguration") or {}).get("Status")) != "Enabled":
                yield Violation(logical_id, ("Properties",), "versioning is not enabled")


class BucketLifecycle(Rule):
    id = "PAY012"
    title = "S3 lifecycle on every bucket"
    description = (
        "Every bucket has an enabled lifecycle rule; the rules expire noncurrent versions "
        "(NoncurrentVersionExpiration) and abort incomplete multipart uploads."
    )
    hint = (
        "Add a LifecycleConfiguration rule with NoncurrentVersionExpiration and "
        "AbortIncompleteMultipartUpload."
    )

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        for logical_id, bucket in template.of_type("AWS::S3::Bucket").items():
            lifecycle = props(bucket).get("LifecycleConfiguration") or {}
            rules = [
                rule
                for rule in as_list(lifecycle.get("Rules"))
                if isinstance(rule, dict) and text(rule.get("Status")) == "Enabled"
            ]
            path = ("Properties", "LifecycleConfiguration") if lifecycle else ("Properties",)
            if not rules:
                yield Violation(logical_id, path, "no enabled lifecycle rule")
                continue
            if not any(
                (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays") for rule in rules
            ):
                yield Violation(
                    logical_id, path, "noncurrent versions never expire (NoncurrentVersionExpiration)"
                )
            if not any(
                (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
                for rule in rules
            ):
                yield Violation(logical_id, path, "incomplete multipart uploads are never aborted")


def replication_destinations(context: Context) -> set[str]:
    """Bucket ARNs some replication rule of the environment writes into."""
    found = set()
    for _, _, bucket in context.resources("AWS::S3::Bucket"):
        for rule in as_list((props(bucket).get("ReplicationConfiguration") or {}).get("Rules")):
            if isinstance(rule, dict):
                found.add(text((rule.get("Destination") or {}).get("Bucket")))
    return found


def is_artifact_bucket(logical_id: str, bucket: dict[str, Any]) -> bool:
    return "artifact" in logical_id.lower() or "artifact" in text(props(bucket).get("BucketName", "")).lower()


class ReplicationTimeControl(Rule):
    id = "PAY013"
    title = "Artifact buckets replicate with Replication Time Control"
    description = (
        "Every artifact bucket that is not itself a replica replicates to the DR region, and "
        "every replication rule is enabled with Replication Time Control (15 minutes) and "
        "replication metrics, and replicates delete markers."
    )
    hint = (
        "Add ReplicationConfiguration with Destination.ReplicationTime {Status: Enabled, Time: "
        "{Minutes: 15}} and Metrics {Status: Enabled, EventThreshold: {Minutes: 15}}."
    )

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        destinations = replication_destinations(context)
        for logical_id, bucket in template.of_type("AWS::S3::Bucket").items():
            configuration = props(bucket).get("ReplicationConfiguration")
            if not configuration:
                if (
                    is_artifact_bucket(logical_id, bucket)
                    and bucket_arn(template, logical_id) not in destinations
                ):
                    yield Violation(
                        logical_id,
                        ("Properties",),
                        "an artifact bucket without replication to "
                        "the DR region (and no replication rule writes into it)",
                    )
                continue
            for index, rule in enumerate(as_list(configuration.get("Rules"))):
                if not isinstance(rule, dict):
                    continue
                path = ("Properties", "ReplicationConfiguration", "Rules", index)
                label = f"rule {text(rule.get('Id', index))}"
                destination = rule.get("Destination") or {}
                rtc = destination.get("ReplicationTime") or {}
                metrics = destination.get("Metrics") or {}
                if text(rule.get("Status")) != "Enabled":
                    yield Violation(logical_id, path, f"{label} is not enabled")
                if (
                    text(rtc.get("Status")) != "Enabled"
                    or text((rtc.get("Time") or {}).get("Minutes")) != "15"
                ):
                    yield Violation(
                        logical_id, path, f"{label}: Replication Time Control is not enabled (15 minutes)"
                    )
                if text(metrics.get("Status")) != "Enabled":
                    yield Violation(logical_id, path, f"{label}: replication metrics are not enabled")
                if text((rule.get("DeleteMarkerReplication") or {}).get("Status")) != "Enabled":
                    yield Violation(logical_id, path, f"{label}: delete markers are not replicated")
