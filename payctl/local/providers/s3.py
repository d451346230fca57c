"""S3 buckets with every configuration payctl sets, and bucket policies.

CloudFormation's bucket properties are shaped differently from the S3 API (`ExpirationInDays`
vs `Expiration.Days`, `DestinationBucketName` vs `TargetBucket`, ...). The functions below
translate them to the API's shape; botocore then writes the request XML and moto reads it
exactly as its S3 API does, so what `get_bucket_*` returns is what a real PUT would store.
"""

from __future__ import annotations

import json
from typing import Any

import xmltodict
from botocore.serialize import create_serializer
from botocore.session import get_session
from moto.core.common_models import CloudFormationModel
from moto.s3 import models as moto_s3  # defines moto's FakeBucket model, which ours replaces

from .base import Properties, Provider, ResourceError


def _request_xml(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """The body botocore would send for `operation`, parsed as moto's S3 API parses it."""
    model = get_session().get_service_model("s3").operation_model(operation)
    request = create_serializer("rest-xml", include_validation=True).serialize_to_request(params, model)
    return dict(xmltodict.parse(request["body"], dict_constructor=dict))


def _without_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _filter(rule: Properties, tags_key: str) -> dict[str, Any]:
    conditions: dict[str, Any] = {}
    if rule.get("Prefix") is not None:
        conditions["Prefix"] = rule["Prefix"]
    tags = rule.get(tags_key) or []
    for key in ("ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        if rule.get(key) is not None:
            conditions[key] = int(rule[key])
    if len(conditions) + len(tags) > 1:
        return {"And": {**conditions, **({"Tags": tags} if tags else {})}}
    if tags:
        return {"Tag": tags[0]}
    return conditions or {"Prefix": ""}


def lifecycle_rule(rule: Properties) -> dict[str, Any]:
    """AWS::S3::Bucket Rule -> S3 API LifecycleRule."""
    api: dict[str, Any] = {
        "ID": rule.get("Id"),
        "Status": rule["Status"],
        "Filter": _filter(rule, "TagFilters"),
    }
    expiration = _without_none(
        Days=rule.get("ExpirationInDays"),
        Date=rule.get("ExpirationDate"),
        ExpiredObjectDeleteMarker=rule.get("ExpiredObjectDeleteMarker"),
    )
    if expiration:
        api["Expiration"] = expiration
    transitions = (rule.get("Transitions") or []) + ([rule["Transition"]] if rule.get("Transition") else [])
    if transitions:
        api["Transitions"] = [_without_none(Days=t.get("TransitionInDays"), Date=t.get("TransitionDate"),
                                            StorageClass=t["StorageClass"]) for t in transitions]  # fmt: skip
    noncurrent = (rule.get("NoncurrentVersionTransitions") or []) + (
        [rule["NoncurrentVersionTransition"]] if rule.get("NoncurrentVersionTransition") else []
    )
    if noncurrent:
        api["NoncurrentVersionTransitions"] = [
            {"NoncurrentDays": t["TransitionInDays"], "StorageClass": t["StorageClass"]}
            | (
                {"NewerNoncurrentVersions": t["NewerNoncurrentVersions"]}
                if "NewerNoncurrentVersions" in t
                else {}
            )
            for t in noncurrent
        ]
    if rule.get("NoncurrentVersionExpiration"):
        api["NoncurrentVersionExpiration"] = rule["NoncurrentVersionExpiration"]
    elif rule.get("NoncurrentVersionExpirationInDays") is not None:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]}
    if rule.get("AbortIncompleteMultipartUpload"):
        api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return api


def replication_rule(rule: Properties) -> dict[str, Any]:
    """AWS::S3::Bucket ReplicationRule -> S3 API ReplicationRule (Id->ID, TagFilter->Tag)."""
    api = {k: v for k, v in rule.items() if k not in ("Id", "Filter")}
    if rule.get("Id"):
        api["ID"] = rule["Id"]
    if "Filter" in rule:
        cfn_filter = rule["Filter"]
        if "And" in cfn_filter:
            api["Filter"] = {
                "And": {
                    "Prefix": cfn_filter["And"].get("Prefix"),
                    "Tags": cfn_filter["And"].get("TagFilters"),
                }
            }
        elif "TagFilter" in cfn_filter:
            api["Filter"] = {"Tag": cfn_filter["TagFilter"]}
        else:
            api["Filter"] = {"Prefix": cfn_filter.get("Prefix", "")}
    return api


def encryption_rules(configuration: list[Properties]) -> list[dict[str, Any]]:
    return [
        {"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"]}
        | ({"BucketKeyEnabled": r["BucketKeyEnabled"]} if "BucketKeyEnabled" in r else {})
        for r in configuration
    ]


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


class Bucket(Provider, CloudFormationModel):
    """Gap: moto's model applies only BucketEncryption and Tags; versioning, lifecycle,
    replication, public access block, logging and ownership controls are dropped."""

    TYPE = "AWS::S3::Bucket"
    NAME_PROPERTY = "BucketName"
    ATTRIBUTES = frozenset({"Arn", "DomainName", "RegionalDomainName", "DualStackDomainName", "WebsiteURL"})

    @property
    def backend(self) -> moto_s3.S3Backend:
        return moto_s3.s3_backends[self.account_id][self.partition]

    def create(self) -> None:
        bucket = self.backend.create_bucket(self.name, self.region_name)
        self.physical_resource_id = bucket.name
        suffix = "amazonaws.com"
        self.attributes = {
            "Arn": f"arn:{self.partition}:s3:::{bucket.name}",
            "DomainName": f"{bucket.name}.s3.{suffix}",
            "RegionalDomainName": f"{bucket.name}.s3.{self.region_name}.{suffix}",
            "DualStackDomainName": f"{bucket.name}.s3.dualstack.{self.region_name}.{suffix}",
            "WebsiteURL": f"http://{bucket.name}.s3-website-{self.region_name}.{suffix}",
        }
        self.update({})

    def update(self, old: Properties) -> None:
        s3, name = self.backend, self.physical_resource_id
        versioning = self.prop("VersioningConfiguration")
        if versioning or old.get("VersioningConfiguration"):
            # A bucket never returns to "unversioned": removing the property suspends it.
            s3.put_bucket_versioning(name, versioning["Status"] if versioning else "Suspended")
        self._apply("BucketEncryption", self._put_encryption, lambda: s3.delete_bucket_encryption(name))
        self._apply("LifecycleConfiguration", self._put_lifecycle, lambda: s3.delete_bucket_lifecycle(name))
        self._apply(
            "PublicAccessBlockConfiguration",
            self._put_public_access_block,
            lambda: s3.delete_public_access_block(name),
        )
        self._apply(
            "OwnershipControls", self._put_ownership, lambda: s3.delete_bucket_ownership_controls(name)
        )
        self._apply("LoggingConfiguration", self._put_logging, lambda: s3.put_bucket_logging(name, {}))
        self._apply(
            "ReplicationConfiguration", self._put_replication, lambda: s3.delete_bucket_replication(name)
        )
        s3.put_bucket_tagging(name, self.tag_map())

    def _apply(self, key: str, put: Any, remove: Any) -> None:
        if self.prop(key):
            put(self.prop(key))
        else:
            remove()

    def _put_encryption(self, value: Properties) -> None:
        rules = encryption_rules(value["ServerSideEncryptionConfiguration"])
        body = _request_xml(
            "PutBucketEncryption",
            {"Bucket": self.physical_resource_id, "ServerSideEncryptionConfiguration": {"Rules": rules}},
        )
        self.backend.put_bucket_encryption(
            self.physical_resource_id, body["ServerSideEncryptionConfiguration"]
        )

    def _put_lifecycle(self, value: Properties) -> None:
        rules = [lifecycle_rule(r) for r in value["Rules"]]
        body = _request_xml(
            "PutBucketLifecycleConfiguration",
            {"Bucket": self.physical_resource_id, "LifecycleConfiguration": {"Rules": rules}},
        )
        parsed = body["LifecycleConfiguration"]["Rule"]
        self.backend.put_bucket_lifecycle(
            self.physical_resource_id, parsed if isinstance(parsed, list) else [parsed]
        )

    def _put_public_access_block(self, value: Properties) -> None:
        config = {
            k: _bool(value.get(k, False))
            for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        }
        body = _request_xml(
            "PutPublicAccessBlock",
            {"Bucket": self.physical_resource_id, "PublicAccessBlockConfiguration": config},
        )
        body["PublicAccessBlockConfiguration"].pop("@xmlns", None)
        self.backend.put_public_access_block(
            self.physical_resource_id, body["PublicAccessBlockConfiguration"]
        )

    def _put_ownership(self, value: Properties) -> None:
        self.backend.put_bucket_ownership_controls(
            self.physical_resource_id, value["Rules"][0]["ObjectOwnership"]
        )

    def _put_logging(self, value: Properties) -> None:
        # Set directly: moto's PutBucketLogging insists on a target-bucket grant that a bucket
        # policy created later in the same stack may not have given yet.
        target = value.get("DestinationBucketName", self.physical_resource_id)
        self.backend.get_bucket(target)  # must exist
        bucket = self.backend.get_bucket(self.physical_resource_id)
        bucket.logging = {"TargetBucket": target, "TargetPrefix": value.get("LogFilePrefix", "")}

    def _put_replication(self, value: Properties) -> None:
        name = self.physical_resource_id
        if not self.backend.get_bucket(name).is_versioned:
            raise ResourceError(f"Versioning must be 'Enabled' on bucket {name} to apply replication")
        for rule in value["Rules"]:
            # S3 checks the destination when the configuration is put: why payctl deploys the
            # versioned replica bucket in an earlier wave.
            destination = rule["Destination"]["Bucket"].split(":::")[-1]
            if destination not in self.backend.buckets:
                raise ResourceError(f"Destination bucket must exist: {destination}")
            if not self.backend.get_bucket(destination).is_versioned:
                raise ResourceError(f"Destination bucket must have versioning enabled: {destination}")
        config = {"Role": value["Role"], "Rules": [replication_rule(r) for r in value["Rules"]]}
        body = _request_xml(
            "PutBucketReplication", {"Bucket": self.physical_resource_id, "ReplicationConfiguration": config}
        )
        body["ReplicationConfiguration"].pop("@xmlns", None)
        self.backend.put_bucket_replication(self.physical_resource_id, body["ReplicationConfiguration"])

    def destroy(self) -> None:
        if self.physical_resource_id not in self.backend.buckets:
            return
        if self.backend.delete_bucket(self.physical_resource_id) is None:
            raise ResourceError(f"The bucket you tried to delete is not empty: {self.physical_resource_id}")


class BucketPolicy(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::S3::BucketPolicy."""

    TYPE = "AWS::S3::BucketPolicy"
    REPLACE_ON = frozenset({"Bucket"})

    def create(self) -> None:
        self.physical_resource_id = self.prop("Bucket")
        self.update({})

    def update(self, old: Properties) -> None:
        document = self.prop("PolicyDocument")
        policy = document if isinstance(document, str) else json.dumps(document)
        moto_s3.s3_backends[self.account_id][self.partition].put_bucket_policy(
            self.prop("Bucket"), policy.encode()
        )

    def destroy(self) -> None:
        backend = moto_s3.s3_backends[self.account_id][self.partition]
        if self.prop("Bucket") in backend.buckets:
            backend.delete_bucket_policy(self.prop("Bucket"))
