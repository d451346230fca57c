"""`payctl params` against moto: SecureStrings written in every region with the environment's key,
read back, versions with who and when, labels for promoted versions, the name hierarchy, and the
value never shown unless asked for with --reveal."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from operate_support import DR, PRIMARY, Cli, environment_key, workspace

from payctl.aws.parameters import ParameterNotFound
from payctl.errors import Refused
from payctl.operate.params import MASK, InvalidParameterName, ParameterStore

SECRET = "whsec_9f8e7d6c5b4a3210-never-shown"
NEWER = "whsec_0a1b2c3d4e5f6789-rotated"
NAME = "/dev/payment-api/webhook-secret"


@pytest.fixture
def store(moto_dev: None, workspace_root: Path) -> ParameterStore:
    environment_key()
    return workspace(workspace_root).environment("dev").parameters()


def stored(region: str, name: str = NAME) -> dict[str, object]:
    ssm = boto3.client("ssm", region_name=region)
    [described] = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return {
        "type": described["Type"],
        "key": described.get("KeyId"),
        "value": value,
        "version": described["Version"],
    }


def test_set_writes_a_secure_string_in_every_region_with_the_environment_key(store: ParameterStore) -> None:
    written = store.write(store.path("payment-api/webhook-secret"), SECRET, description="stripe webhook")

    assert [(w.region, w.version, w.created) for w in written] == [(PRIMARY, 1, True), (DR, 1, True)]
    for region in (PRIMARY, DR):
        assert stored(region) == {
            "type": "SecureString",
            "key": "alias/payments-dev-001",
            "value": SECRET,
            "version": 1,
        }
    tags = boto3.client("ssm", region_name=PRIMARY).list_tags_for_resource(
        ResourceType="Parameter", ResourceId=NAME
    )["TagList"]
    assert {t["Key"]: t["Value"] for t in tags}["ManagedBy"] == "payctl"

    again = store.write(store.path(NAME), NEWER)  # an existing parameter: overwritten, tags untouched
    assert [(w.version, w.created) for w in again] == [(2, False), (2, False)]
    assert stored(DR)["value"] == NEWER


def test_get_masks_the_value_unless_revealed(store: ParameterStore) -> None:
    path = store.path(NAME)
    store.write(path, SECRET)

    masked = store.read(path)
    assert masked.value == MASK and not masked.revealed
    assert masked.info.version == 1 and masked.info.type == "SecureString"
    assert SECRET not in repr(masked)
    revealed = store.read(path, reveal=True)
    assert revealed.value == SECRET and revealed.revealed
    assert store.read(path, region=DR, reveal=True).value == SECRET


def test_history_lists_versions_with_who_and_when_and_labels(store: ParameterStore) -> None:
    path = store.path(NAME)
    store.write(path, SECRET, description="first")
    store.write(path, NEWER, description="rotated")
    assert store.label(path, 1, ["promoted"]) == {PRIMARY: [], DR: []}

    history = store.history(path)

    assert [(h.version, h.labels, h.description) for h in history] == [
        (1, ("promoted",), "first"),
        (2, (), "rotated"),
    ]
    assert all(h.last_modified and h.last_modified_by for h in history)
    assert all(SECRET not in repr(h) and NEWER not in repr(h) for h in history)
    # The label selects the promoted version although a newer one exists.
    assert store.read(path, label="promoted", reveal=True).value == SECRET
    assert store.read(path, reveal=True).value == NEWER
    # Moving the label: a label is on one version at a time.
    store.label(path, 2, ["promoted"])
    assert store.read(path, region=DR, label="promoted", reveal=True).value == NEWER
    assert [h.labels for h in store.history(path, region=DR)] == [(), ("promoted",)]


def test_labelling_regions_that_hold_different_values_is_refused(store: ParameterStore) -> None:
    path = store.path(NAME)
    store.write(path, SECRET)
    store.write(path, NEWER, regions=[PRIMARY])
    store.write(path, "something-else", regions=[DR])  # version 2 in both regions, different values

    with pytest.raises(Refused) as refused:
        store.label(path, 2, ["promoted"])
    assert "holds different values in us-east-1 and eu-west-1" in refused.value.message
    assert NEWER not in refused.value.message and "something-else" not in refused.value.message
    assert store.label(path, 2, ["promoted"], regions=[PRIMARY]) == {PRIMARY: []}
    with pytest.raises(ParameterNotFound):
        store.label(path, 7, ["promoted"])


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/staging/payment-api/webhook-secret", "belongs to environment 'staging'"),
        ("/dev/network/vpc-id", "'network' holds no SecureStrings (services: payment-api)"),
        ("/dev/payment-api/nested/too-deep", "is not /dev/<service>/<parameter>"),
        ("payment-api/bad name", "parameter name 'bad name'"),
        ("webhook-secret", "is not /dev/<service>/<parameter>"),
    ],
)
def test_names_outside_the_hierarchy_are_refused(store: ParameterStore, name: str, expected: str) -> None:
    with pytest.raises(InvalidParameterName) as refused:
        store.path(name)
    assert expected in refused.value.message


def test_labels_are_validated(store: ParameterStore) -> None:
    path = store.path(NAME)
    for label in ("1st", "aws-promoted", "SSMgood", "has space"):
        with pytest.raises(InvalidParameterName):
            store.label(path, 1, [label])


def test_a_string_parameter_owned_by_cloudformation_is_not_overwritten(store: ParameterStore) -> None:
    boto3.client("ssm", region_name=DR).put_parameter(
        Name="/dev/payment-api/log-level", Value="info", Type="String"
    )
    with pytest.raises(Refused) as refused:
        store.write(store.path("payment-api/log-level"), SECRET)
    assert "exists in eu-west-1 as a String parameter" in refused.value.message
    # Nothing was written anywhere: the check runs before the first write.
    assert (
        boto3.client("ssm", region_name=PRIMARY).describe_parameters(
            ParameterFilters=[{"Key": "Name", "Values": ["/dev/payment-api/log-level"]}]
        )["Parameters"]
        == []
    )


def test_values_over_the_standard_tier_need_advanced(store: ParameterStore) -> None:
    path = store.path(NAME)
    with pytest.raises(Exception) as refused:
        store.write(path, "x" * 4097)
    assert "4097 bytes" in str(refused.value) and "xxxx" not in str(refused.value)
    store.write(path, "x" * 4097, advanced=True)
    assert stored(PRIMARY)["version"] == 1


# ---- the command line ---------------------------------------------------------------------------


def test_cli_round_trip_never_shows_the_value_unless_revealed(
    moto_dev: None, workspace_root: Path, cli: Cli
) -> None:
    environment_key()
    outputs: list[str] = []

    code, out, err = cli(
        workspace_root,
        "params",
        "set",
        "dev",
        "payment-api/webhook-secret",
        "--description",
        "stripe webhook",
        stdin=SECRET + "\n",
    )
    assert code == 0, err
    assert "version 1, encrypted with alias/payments-dev-001" in err and "eu-west-1" in err
    outputs += [out, err]
    assert stored(PRIMARY)["value"] == SECRET  # the trailing newline of stdin is not part of it

    code, out, err = cli(workspace_root, "params", "get", "dev", NAME)
    assert code == 0 and MASK in out and "version 1" in out
    outputs += [out, err]
    code, out, err = cli(workspace_root, "params", "history", "dev", NAME)
    assert code == 0 and "stripe webhook" in out
    outputs += [out, err]
    code, out, err = cli(
        workspace_root, "params", "label", "dev", NAME, "--version", "1", "--label", "promoted"
    )
    assert code == 0 and "version 1 labelled promoted" in err
    outputs += [out, err]
    code, out, err = cli(workspace_root, "params", "list", "dev", "payment-api")
    assert code == 0 and NAME in out and "SecureString" in out
    outputs += [out, err]
    assert all(SECRET not in text for text in outputs)

    code, out, err = cli(workspace_root, "params", "get", "dev", NAME, "--label", "promoted", "--reveal")
    assert (code, out) == (0, SECRET + "\n")


def test_cli_refuses_a_name_outside_the_hierarchy_before_reading_a_value(
    moto_dev: None, workspace_root: Path, cli: Cli
) -> None:
    code, out, err = cli(workspace_root, "params", "set", "dev", "/dev/security/kms-key", stdin=SECRET)
    assert code == 1 and "'security' holds no SecureStrings" in err
    assert SECRET not in out + err
    assert boto3.client("ssm", region_name=PRIMARY).describe_parameters()["Parameters"] == []
