"""lambdas/schema_sync: the SSM table definition against the live table in both regions (moto)."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import boto3
import pytest
from lambda_support import DR_REGION, REGION, LambdaContext, TopicReader, load_event, load_handler

PARAMETER = "/dev/storage/session-table-schema"
TABLE = "payments-sessions-dev-001"
DEFINITION: dict[str, Any] = {
    "tableName": TABLE,
    "billingMode": "PAY_PER_REQUEST",
    "keySchema": [{"attributeName": "sessionId", "keyType": "HASH"}],
    "attributeDefinitions": [
        {"attributeName": "sessionId", "attributeType": "S"},
        {"attributeName": "customerId", "attributeType": "S"},
        {"attributeName": "createdAt", "attributeType": "N"},
    ],
    "globalSecondaryIndexes": [
        {
            "indexName": "byCustomer",
            "keySchema": [
                {"attributeName": "customerId", "keyType": "HASH"},
                {"attributeName": "createdAt", "keyType": "RANGE"},
            ],
            "projection": {"projectionType": "INCLUDE", "nonKeyAttributes": ["status", "amount"]},
        }
    ],
    "ttlAttribute": "expiresAt",
    "pointInTimeRecovery": True,
    "stream": "NEW_AND_OLD_IMAGES",
}


@pytest.fixture
def schema_sync(aws: None, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, TopicReader]:
    reader = TopicReader("payments-alerts-dev-001")
    monkeypatch.setenv("ENVIRONMENT_NAME", "dev")
    monkeypatch.setenv("SCHEMA_PARAMETER_NAME", PARAMETER)
    monkeypatch.setenv("PRIMARY_REGION", REGION)
    monkeypatch.setenv("DR_REGION", DR_REGION)
    monkeypatch.setenv("ALERT_TOPIC_ARN", reader.arn)
    monkeypatch.delenv("TABLE_NAME", raising=False)
    return load_handler("schema_sync"), reader


def put_definition(value: str) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(Name=PARAMETER, Type="String", Value=value)


def create_table(
    region: str,
    *,
    projection: dict[str, Any] | None = None,
    ttl: bool = True,
    pitr: bool = True,
    billing: str = "PAY_PER_REQUEST",
) -> None:
    dynamodb = boto3.client("dynamodb", region_name=region)
    throughput: dict[str, Any] = (
        {"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}
        if billing == "PROVISIONED"
        else {}
    )
    index: dict[str, Any] = {
        "IndexName": "byCustomer",
        "KeySchema": [
            {"AttributeName": "customerId", "KeyType": "HASH"},
            {"AttributeName": "createdAt", "KeyType": "RANGE"},
        ],
        "Projection": projection or {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["amount", "status"]},
        **throughput,
    }
    dynamodb.create_table(
        TableName=TABLE,
        BillingMode=billing,
        AttributeDefinitions=[
            {"AttributeName": "createdAt", "AttributeType": "N"},
            {"AttributeName": "sessionId", "AttributeType": "S"},
            {"AttributeName": "customerId", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "sessionId", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[index],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        **throughput,
    )
    if ttl:
        dynamodb.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"}
        )
    if pitr:
        dynamodb.update_continuous_backups(
            TableName=TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def run(module: ModuleType) -> dict[str, Any]:
    result: dict[str, Any] = module.handler(load_event("scheduled-event.json"), LambdaContext())
    return result


def published_differences(reader: TopicReader) -> list[tuple[str, str, Any, Any]]:
    return sorted(
        (p.message["region"], p.message["field"], p.message["expected"], p.message["actual"])
        for p in reader.messages()
    )


def test_tables_matching_the_definition_in_both_regions_publish_nothing(schema_sync):
    module, reader = schema_sync
    put_definition(json.dumps(DEFINITION))
    create_table(REGION)
    create_table(DR_REGION)

    result = run(module)

    assert reader.messages() == []
    assert result == {
        "status": "checked",
        "table": TABLE,
        "regions": [REGION, DR_REGION],
        "differences": 0,
        "failedRegions": [],
    }


def test_key_and_list_order_in_the_definition_do_not_matter(schema_sync):
    module, reader = schema_sync
    shuffled = {key: DEFINITION[key] for key in reversed(list(DEFINITION))}
    shuffled["attributeDefinitions"] = list(reversed(DEFINITION["attributeDefinitions"]))
    index = dict(DEFINITION["globalSecondaryIndexes"][0])
    index["keySchema"] = list(reversed(index["keySchema"]))
    index["projection"] = {"nonKeyAttributes": ["amount", "status"], "projectionType": "INCLUDE"}
    shuffled["globalSecondaryIndexes"] = [{key: index[key] for key in reversed(list(index))}]
    put_definition(json.dumps(shuffled, indent=2))
    create_table(REGION)
    create_table(DR_REGION)

    run(module)

    assert reader.messages() == []


def test_a_table_missing_in_the_dr_region_is_one_difference(schema_sync):
    module, reader = schema_sync
    put_definition(json.dumps(DEFINITION))
    create_table(REGION)

    result = run(module)

    [published] = reader.messages()
    assert published.message == {
        "schemaVersion": "1.0",
        "type": "TableSchemaDrift",
        "environment": "dev",
        "tableName": TABLE,
        "region": DR_REGION,
        "field": "table",
        "expected": TABLE,
        "actual": None,
        "parameterName": PARAMETER,
        "checkedAt": "2024-05-14T12:00:00Z",
    }
    assert published.subject == f"[SCHEMA DRIFT] dev {TABLE} {DR_REGION}: table"
    assert published.attributes == {"type": "TableSchemaDrift", "region": DR_REGION, "field": "table"}
    assert result["differences"] == 1


def test_each_difference_is_published_with_region_field_expected_and_actual(schema_sync):
    module, reader = schema_sync
    put_definition(json.dumps(DEFINITION))
    create_table(REGION, pitr=False)
    create_table(DR_REGION, ttl=False, billing="PROVISIONED", projection={"ProjectionType": "KEYS_ONLY"})

    run(module)

    assert published_differences(reader) == [
        (
            DR_REGION,
            "billingMode",
            "PAY_PER_REQUEST",
            "PROVISIONED",
        ),
        (
            DR_REGION,
            "globalSecondaryIndexes[byCustomer]",
            {
                "indexName": "byCustomer",
                "keySchema": [
                    {"attributeName": "customerId", "keyType": "HASH"},
                    {"attributeName": "createdAt", "keyType": "RANGE"},
                ],
                "projection": {"projectionType": "INCLUDE", "nonKeyAttributes": ["amount", "status"]},
            },
            {
                "indexName": "byCustomer",
                "keySchema": [
                    {"attributeName": "customerId", "keyType": "HASH"},
                    {"attributeName": "createdAt", "keyType": "RANGE"},
                ],
                "projection": {"projectionType": "KEYS_ONLY"},
            },
        ),
        (DR_REGION, "ttlAttribute", "expiresAt", None),
        (REGION, "pointInTimeRecovery", True, False),
    ]


def test_an_unreachable_region_is_reported_and_the_other_still_checked(schema_sync, monkeypatch):
    module, reader = schema_sync
    put_definition(json.dumps(DEFINITION))
    create_table(REGION, pitr=False)
    create_table(DR_REGION)
    real_client = module.client

    def client(service: str, region: str | None = None) -> Any:
        if (service, region) == ("dynamodb", DR_REGION):
            # What a VPC without a route to the other region's endpoint looks like, failing fast.
            return boto3.client(
                service, region_name=region, endpoint_url="http://127.0.0.1:9", config=module._RETRIES
            )
        return real_client(service, region)

    monkeypatch.setattr(module, "client", client)

    result = run(module)

    by_type = {p.message["type"]: p.message for p in reader.messages()}
    assert set(by_type) == {"TableSchemaDrift", "TableSchemaCheckFailed"}
    assert (by_type["TableSchemaDrift"]["region"], by_type["TableSchemaDrift"]["field"]) == (
        REGION,
        "pointInTimeRecovery",
    )
    assert by_type["TableSchemaCheckFailed"]["region"] == DR_REGION
    assert "Could not connect" in by_type["TableSchemaCheckFailed"]["reason"]
    assert result["failedRegions"] == [DR_REGION]


# The same definition spelled like a CreateTable request, as a CloudFormation author writes it.
CREATE_TABLE_SPELLING = {
    "AttributeDefinitions": [
        {"AttributeName": "createdAt", "AttributeType": "N"},
        {"AttributeName": "customerId", "AttributeType": "S"},
        {"AttributeName": "sessionId", "AttributeType": "S"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "byCustomer",
            "KeySchema": [
                {"AttributeName": "customerId", "KeyType": "HASH"},
                {"AttributeName": "createdAt", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["status", "amount"]},
        }
    ],
    "KeySchema": [{"AttributeName": "sessionId", "KeyType": "HASH"}],
    "PointInTimeRecoveryEnabled": True,
    "ProvisionedThroughput": None,
    "Replicas": [REGION, DR_REGION],
    "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    "TableName": TABLE,
    "TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True},
}


def test_create_table_spelling_of_the_definition_is_understood(schema_sync):
    module, reader = schema_sync
    put_definition(json.dumps(CREATE_TABLE_SPELLING, indent=2))
    create_table(REGION)
    create_table(DR_REGION, ttl=False)

    run(module)

    assert published_differences(reader) == [(DR_REGION, "ttlAttribute", "expiresAt", None)]
    assert module.parse_definition(json.dumps(CREATE_TABLE_SPELLING)) == module.parse_definition(
        json.dumps(DEFINITION)
    )


def test_fields_the_definition_leaves_out_are_not_checked(schema_sync):
    module, reader = schema_sync
    definition = {k: v for k, v in DEFINITION.items() if k not in ("ttlAttribute", "pointInTimeRecovery")}
    put_definition(json.dumps(definition))
    create_table(REGION, pitr=False, ttl=False)
    create_table(DR_REGION, pitr=False, ttl=False)

    run(module)

    assert reader.messages() == []


def test_an_index_the_definition_does_not_have_is_a_difference(schema_sync):
    module, reader = schema_sync
    put_definition(json.dumps({**DEFINITION, "globalSecondaryIndexes": []}))
    create_table(REGION)
    create_table(DR_REGION)

    run(module)

    differences = published_differences(reader)
    assert [(region, field, expected) for region, field, expected, _ in differences] == [
        (DR_REGION, "globalSecondaryIndexes[byCustomer]", None),
        (REGION, "globalSecondaryIndexes[byCustomer]", None),
    ]


def test_table_name_setting_that_disagrees_with_the_definition_is_reported(schema_sync, monkeypatch):
    module, reader = schema_sync
    monkeypatch.setenv("TABLE_NAME", TABLE)
    put_definition(json.dumps({**DEFINITION, "tableName": "payments-sessions-dev-002"}))
    create_table(REGION)
    create_table(DR_REGION)

    run(module)

    assert published_differences(reader) == [("*", "tableName", "payments-sessions-dev-002", TABLE)]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "ParameterNotFound"),
        ("{not json", "not valid JSON"),
        (
            json.dumps({"tableName": TABLE, "keySchema": []}),
            "missing required field(s): keySchema, attributeDefinitions",
        ),
        (json.dumps({**DEFINITION, "keySchema": [{"name": "sessionId"}]}), "unexpected shape"),
    ],
    ids=["missing-parameter", "invalid-json", "missing-fields", "wrong-shape"],
)
def test_an_unusable_definition_is_published_as_a_failed_check(schema_sync, value, reason):
    module, reader = schema_sync
    if value is not None:
        put_definition(value)

    result = run(module)

    [published] = reader.messages()
    assert published.message["type"] == "TableSchemaCheckFailed"
    assert published.message["region"] is None
    assert reason in published.message["reason"]
    assert published.subject == f"[SCHEMA CHECK FAILED] dev {PARAMETER}"
    assert result["status"] == "failed"


def test_single_region_when_dr_region_is_the_primary(schema_sync, monkeypatch):
    module, reader = schema_sync
    monkeypatch.setenv("DR_REGION", REGION)
    put_definition(json.dumps(DEFINITION))
    create_table(REGION)

    result = run(module)

    assert result["regions"] == [REGION]
    assert reader.messages() == []


def test_stream_spellings_for_no_stream_are_equivalent():
    module = load_handler("schema_sync")
    for value in (None, "NONE", False, ""):
        assert module.parse_definition(json.dumps({**DEFINITION, "stream": value}))["stream"] is None
