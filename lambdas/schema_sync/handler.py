"""Schema sync: checks the live DynamoDB table in both regions against its canonical definition.

Runs on an EventBridge schedule. Reads the canonical definition (JSON) from the SSM parameter
SCHEMA_PARAMETER_NAME, describes the table in PRIMARY_REGION and DR_REGION (DescribeTable,
DescribeTimeToLive, DescribeContinuousBackups) and publishes ONE message per difference to
ALERT_TOPIC_ARN. Nothing is published when both regions match.

Environment variables
---------------------
ENVIRONMENT_NAME        dev | staging | prod; copied into every message.
SCHEMA_PARAMETER_NAME   SSM String parameter holding the definition, e.g.
                        ``/dev/storage/session-table-schema``.
TABLE_NAME              the deployed table's name; optional, defaults to the definition's
                        ``tableName`` (a mismatch between the two is itself reported).
PRIMARY_REGION          e.g. us-east-1.
DR_REGION               e.g. eu-west-1 (may equal PRIMARY_REGION or be empty: then one region).
ALERT_TOPIC_ARN         SNS topic receiving the differences (required).

Canonical table definition (the SSM parameter's value)
------------------------------------------------------
::

    {
      "tableName": "payments-sessions-dev-001",
      "billingMode": "PAY_PER_REQUEST",
      "keySchema": [{"attributeName": "sessionId", "keyType": "HASH"}],
      "attributeDefinitions": [{"attributeName": "sessionId", "attributeType": "S"},
                               {"attributeName": "customerId", "attributeType": "S"}],
      "globalSecondaryIndexes": [{"indexName": "byCustomer",
                                  "keySchema": [{"attributeName": "customerId", "keyType": "HASH"}],
                                  "projection": {"projectionType": "INCLUDE",
                                                 "nonKeyAttributes": ["status"]}}],
      "ttlAttribute": "expiresAt",
      "pointInTimeRecovery": true,
      "stream": "NEW_AND_OLD_IMAGES"
    }

The same content spelled like a CreateTable request or a CloudFormation table (``TableName``,
``KeySchema``, ``AttributeName``..., ``StreamSpecification``, ``TimeToLiveSpecification``,
``PointInTimeRecoveryEnabled``) is accepted too; fields outside this list (``Replicas``,
``SSESpecification``, ``ProvisionedThroughput``) are logged and not checked.

``tableName``, ``keySchema`` and ``attributeDefinitions`` are required. Any other field left out
is not checked; ``globalSecondaryIndexes: []`` expects no index, ``ttlAttribute: null`` expects
TTL off, ``stream: null`` (or ``"NONE"``) expects no stream. ``attributeDefinitions`` lists the
key attributes of the table and its indexes, as DynamoDB stores only those. Object key order and
list order (key schema, attributes, indexes, non-key attributes) do not matter.

Message per difference (``type: TableSchemaDrift``, ``schemaVersion`` 1.0)::

    {"schemaVersion": "1.0", "type": "TableSchemaDrift", "environment": "...", "tableName": "...",
     "region": "eu-west-1", "field": "ttlAttribute", "expected": "expiresAt", "actual": null,
     "parameterName": "...", "checkedAt": "<event time>"}

``field`` is one of table (the table is missing: actual null), tableName (region ``*``),
keySchema, attributeDefinitions, globalSecondaryIndexes[<indexName>], billingMode, stream,
ttlAttribute, pointInTimeRecovery. Values are shown in the definition's own shape.
A definition that cannot be read, or a region that cannot be described, is published as
``type: TableSchemaCheckFailed`` with the reason.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

SCHEMA_VERSION = "1.0"
SUBJECT_MAX_CHARS = 100
KEY_TYPE_ORDER = {"HASH": 0, "RANGE": 1}
REQUIRED_FIELDS = ("tableName", "keySchema", "attributeDefinitions")
OPTIONAL_FIELDS = ("globalSecondaryIndexes", "billingMode", "stream", "ttlAttribute", "pointInTimeRecovery")

_CLIENTS: dict[tuple[str, str | None], Any] = {}
# Short timeouts: a region whose endpoint cannot be reached from the function's network is
# reported as a failed check instead of holding the invocation until it times out.
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


class DefinitionError(ValueError):
    """The canonical definition is not valid JSON of the documented shape."""


@dataclass(frozen=True)
class Settings:
    environment: str
    parameter_name: str
    table_name: str
    regions: tuple[str, ...]
    topic_arn: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        regions = [r for r in (env.get("PRIMARY_REGION", ""), env.get("DR_REGION", "")) if r]
        return cls(
            environment=env.get("ENVIRONMENT_NAME", ""),
            parameter_name=env.get("SCHEMA_PARAMETER_NAME", ""),
            table_name=env.get("TABLE_NAME", ""),
            regions=tuple(dict.fromkeys(regions)),
            topic_arn=env.get("ALERT_TOPIC_ARN", ""),
        )


@dataclass(frozen=True)
class Difference:
    region: str
    field: str
    expected: Any
    actual: Any


# --------------------------------------------------------------------------- canonical forms


def canonical_key_schema(elements: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    keys = [{"attributeName": str(e["attributeName"]), "keyType": str(e["keyType"])} for e in elements]
    return sorted(keys, key=lambda k: (KEY_TYPE_ORDER.get(k["keyType"], 9), k["attributeName"]))


def canonical_attributes(elements: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    attributes = [
        {"attributeName": str(e["attributeName"]), "attributeType": str(e["attributeType"])} for e in elements
    ]
    return sorted(attributes, key=lambda a: a["attributeName"])


def canonical_projection(projection: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"projectionType": str(projection.get("projectionType", "ALL"))}
    if projection.get("nonKeyAttributes"):
        result["nonKeyAttributes"] = sorted(str(a) for a in projection["nonKeyAttributes"])
    return result


def canonical_index(index: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "indexName": str(index["indexName"]),
        "keySchema": canonical_key_schema(index["keySchema"]),
        "projection": canonical_projection(index.get("projection") or {}),
    }


def canonical_stream(value: Any) -> str | None:
    if value in (None, False, "", "NONE"):
        return None
    return str(value)


def _lower_keys(value: Any) -> Any:
    """DynamoDB's PascalCase response -> the definition's camelCase."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def _from_create_table_spelling(raw: dict[str, Any]) -> dict[str, Any]:
    """Also accept the definition spelled like a CreateTable request / CloudFormation table
    (``TableName``, ``KeySchema``, ``StreamSpecification``, ``TimeToLiveSpecification``,
    ``PointInTimeRecoveryEnabled``...): same content, other names."""
    data: dict[str, Any] = _lower_keys(raw)
    if "pointInTimeRecovery" not in data:
        specification = data.pop("pointInTimeRecoverySpecification", None)
        if isinstance(specification, dict):
            data["pointInTimeRecovery"] = specification.get("pointInTimeRecoveryEnabled", False)
        elif "pointInTimeRecoveryEnabled" in data:
            data["pointInTimeRecovery"] = data.pop("pointInTimeRecoveryEnabled")
    if "ttlAttribute" not in data and isinstance(data.get("timeToLiveSpecification"), dict):
        specification = data.pop("timeToLiveSpecification")
        data["ttlAttribute"] = specification.get("attributeName") if specification.get("enabled") else None
    if "stream" not in data and isinstance(data.get("streamSpecification"), dict):
        specification = data.pop("streamSpecification")
        data["stream"] = specification.get("streamViewType") if specification.get("streamEnabled") else None
    return data


def parse_definition(text: str) -> dict[str, Any]:
    """The definition from its JSON text, in canonical form with only the fields it sets."""
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise DefinitionError(f"not valid JSON: {error}") from error
    if not isinstance(raw, dict):
        raise DefinitionError("the definition must be a JSON object")
    raw = _from_create_table_spelling(raw)
    missing = [name for name in REQUIRED_FIELDS if not raw.get(name)]
    if missing:
        raise DefinitionError(f"missing required field(s): {', '.join(missing)}")
    unknown = sorted(set(raw) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        log("WARNING", "definition fields not checked", fields=unknown)
    try:
        definition: dict[str, Any] = {
            "tableName": str(raw["tableName"]),
            "keySchema": canonical_key_schema(raw["keySchema"]),
            "attributeDefinitions": canonical_attributes(raw["attributeDefinitions"]),
        }
        if "globalSecondaryIndexes" in raw:
            indexes = [canonical_index(i) for i in raw["globalSecondaryIndexes"] or []]
            definition["globalSecondaryIndexes"] = {i["indexName"]: i for i in indexes}
    except (KeyError, TypeError, AttributeError) as error:
        raise DefinitionError(f"unexpected shape: {error!r}") from error
    if "billingMode" in raw:
        definition["billingMode"] = str(raw["billingMode"])
    if "stream" in raw:
        definition["stream"] = canonical_stream(raw["stream"])
    if "ttlAttribute" in raw:
        definition["ttlAttribute"] = raw["ttlAttribute"] or None
    if "pointInTimeRecovery" in raw:
        definition["pointInTimeRecovery"] = bool(raw["pointInTimeRecovery"])
    return definition


def live_table(
    table: Mapping[str, Any], ttl: Mapping[str, Any], backups: Mapping[str, Any]
) -> dict[str, Any]:
    """DescribeTable, DescribeTimeToLive and DescribeContinuousBackups, in canonical form."""
    described = _lower_keys(table)
    stream = described.get("streamSpecification") or {}
    ttl_description = ttl.get("TimeToLiveDescription", {})
    pitr = backups.get("ContinuousBackupsDescription", {}).get("PointInTimeRecoveryDescription", {})
    return {
        "tableName": described.get("tableName"),
        "keySchema": canonical_key_schema(described.get("keySchema", [])),
        "attributeDefinitions": canonical_attributes(described.get("attributeDefinitions", [])),
        "globalSecondaryIndexes": {
            i["indexName"]: canonical_index(i) for i in described.get("globalSecondaryIndexes", [])
        },
        # Tables created before on-demand existed report no BillingModeSummary: provisioned.
        "billingMode": (described.get("billingModeSummary") or {}).get("billingMode", "PROVISIONED"),
        "stream": canonical_stream(stream.get("streamViewType")) if stream.get("streamEnabled") else None,
        "ttlAttribute": (
            ttl_description.get("AttributeName")
            if ttl_description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
            else None
        ),
        "pointInTimeRecovery": pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
    }


def compare(definition: Mapping[str, Any], live: Mapping[str, Any] | None, region: str) -> list[Difference]:
    """Differences between the canonical definition and one region's live table (None: missing)."""
    if live is None:
        return [Difference(region, "table", definition["tableName"], None)]
    differences = []
    for name in (
        "keySchema",
        "attributeDefinitions",
        "billingMode",
        "stream",
        "ttlAttribute",
        "pointInTimeRecovery",
    ):
        if name in definition and definition[name] != live.get(name):
            differences.append(Difference(region, name, definition[name], live.get(name)))
    if "globalSecondaryIndexes" in definition:
        expected, actual = definition["globalSecondaryIndexes"], live.get("globalSecondaryIndexes", {})
        for index_name in sorted(set(expected) | set(actual)):
            if expected.get(index_name) != actual.get(index_name):
                differences.append(
                    Difference(
                        region,
                        f"globalSecondaryIndexes[{index_name}]",
                        expected.get(index_name),
                        actual.get(index_name),
                    )
                )
    return differences


# --------------------------------------------------------------------------- AWS calls


def describe_live(region: str, table_name: str) -> dict[str, Any] | None:
    """The live table in canonical form, or None when it does not exist in the region."""
    dynamodb = client("dynamodb", region)
    try:
        table = dynamodb.describe_table(TableName=table_name)["Table"]
        ttl = dynamodb.describe_time_to_live(TableName=table_name)
        backups = dynamodb.describe_continuous_backups(TableName=table_name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in (
            "ResourceNotFoundException",
            "TableNotFoundException",
        ):
            return None
        raise
    return live_table(table, ttl, backups)


def _publish(
    settings: Settings, subject: str, message: Mapping[str, Any], attributes: Mapping[str, str]
) -> None:
    clean = "".join(c if 32 <= ord(c) < 127 else "?" for c in subject)
    client("sns").publish(
        TopicArn=settings.topic_arn,
        Subject=clean if len(clean) <= SUBJECT_MAX_CHARS else clean[: SUBJECT_MAX_CHARS - 3] + "...",
        Message=json.dumps(message, default=str, sort_keys=True),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )


def publish_difference(settings: Settings, table_name: str, difference: Difference, checked_at: str) -> None:
    message = {
        "schemaVersion": SCHEMA_VERSION,
        "type": "TableSchemaDrift",
        "environment": settings.environment,
        "tableName": table_name,
        "region": difference.region,
        "field": difference.field,
        "expected": difference.expected,
        "actual": difference.actual,
        "parameterName": settings.parameter_name,
        "checkedAt": checked_at,
    }
    _publish(
        settings,
        f"[SCHEMA DRIFT] {settings.environment} {table_name} {difference.region}: {difference.field}",
        message,
        {"type": "TableSchemaDrift", "region": difference.region, "field": difference.field},
    )


def publish_check_failed(settings: Settings, region: str | None, reason: str, checked_at: str) -> None:
    message = {
        "schemaVersion": SCHEMA_VERSION,
        "type": "TableSchemaCheckFailed",
        "environment": settings.environment,
        "region": region,
        "parameterName": settings.parameter_name,
        "reason": reason,
        "checkedAt": checked_at,
    }
    where = region or settings.parameter_name
    _publish(
        settings,
        f"[SCHEMA CHECK FAILED] {settings.environment} {where}",
        message,
        {"type": "TableSchemaCheckFailed"},
    )
    log("ERROR", "schema check failed", region=region, reason=reason)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = Settings.from_env(os.environ)
    checked_at = str(event.get("time", ""))
    try:
        text = client("ssm").get_parameter(Name=settings.parameter_name)["Parameter"]["Value"]
        definition = parse_definition(text)
    except (ClientError, BotoCoreError, DefinitionError) as error:
        publish_check_failed(settings, None, f"cannot use the table definition: {error}", checked_at)
        return {"status": "failed", "reason": str(error), "differences": 0}

    table_name = settings.table_name or definition["tableName"]
    differences: list[Difference] = []
    if table_name != definition["tableName"]:
        differences.append(Difference("*", "tableName", definition["tableName"], table_name))
    failed_regions = []
    for region in settings.regions:
        try:
            live = describe_live(region, table_name)
        except (ClientError, BotoCoreError) as error:
            publish_check_failed(settings, region, f"cannot describe {table_name}: {error}", checked_at)
            failed_regions.append(region)
            continue
        differences.extend(compare(definition, live, region))

    for difference in differences:
        publish_difference(settings, table_name, difference, checked_at)
        log("WARNING", "schema difference published", region=difference.region, field=difference.field)
    if not differences and not failed_regions:
        log("INFO", "table matches its definition", table=table_name, regions=list(settings.regions))
    return {
        "status": "checked",
        "table": table_name,
        "regions": list(settings.regions),
        "differences": len(differences),
        "failedRegions": failed_regions,
    }
