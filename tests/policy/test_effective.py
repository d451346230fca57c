"""Effective templates: the repository's templates as each environment and region deploys them."""

from __future__ import annotations

from pathlib import Path

import pytest

from payctl.automation import Workspace
from payctl.policy.effective import EffectiveStack, Unresolved, evaluate, evaluate_environment, plain
from payctl.templates.compose import Template
from payctl.yamlio import load_path
from tests.policy.conftest import REPO


@pytest.fixture(scope="module")
def stacks() -> dict[tuple[str, str, str], EffectiveStack]:
    """(environment, wave, region) -> the evaluated stack, for every environment of the repo."""
    found = {}
    for rendered in Workspace(REPO, search=False).render():
        for stack in evaluate_environment(rendered):
            found[(stack.environment, stack.wave, stack.region)] = stack
    return found


def test_conditions_follow_the_environment_and_region(stacks: dict) -> None:
    prod_dr = stacks[("prod", "dr", "eu-west-1")].nested["Database"]
    dev_dr = stacks[("dev", "dr", "eu-west-1")].nested["Database"]
    assert prod_dr.conditions["HasDrSecondary"] is True
    assert "DatabaseCluster" in prod_dr.resources
    # dev has no global-database secondary: the cluster is dropped, and says why.
    assert dev_dr.conditions["HasDrSecondary"] is False
    assert dev_dr.dropped["DatabaseCluster"] == "HasDrSecondary"
    assert "DatabaseCluster" not in dev_dr.resources


def test_values_are_computed_and_aws_only_values_stay_symbolic(stacks: dict) -> None:
    database = stacks[("prod", "primary", "us-east-1")].nested["Database"]
    cluster = database.resources["DatabaseCluster"]["Properties"]
    assert cluster["DBClusterIdentifier"] == "payment-db-cluster-prod-001"
    assert cluster["BackupRetentionPeriod"] == "35"  # Ref to a parameter filled from envs/prod.yaml
    assert cluster["GlobalClusterIdentifier"] == "payment-global-prod-001"  # Ref to a named resource
    # Read from SSM at deploy time (an import of an earlier wave): symbolic, with its path.
    assert cluster["KmsKeyId"] == "{{resolve:ssm:/prod/security/kms-key-arn}}"
    assert cluster["KmsKeyId"].ssm == "/prod/security/kms-key-arn"
    # Fn::If with AWS::NoValue: the property is gone, not null.
    assert "ManageMasterUserPassword" not in cluster
    group = database.resources["DatabaseClusterParameterGroup"]["Properties"]
    assert group["Family"] == "aurora-postgresql16"  # Sub over Select over Split of a parameter


def test_nested_stacks_get_what_the_master_passes(stacks: dict) -> None:
    prod_dr = stacks[("prod", "dr", "eu-west-1")]
    # The Database stack's output, wired by the master, evaluated in the DR region.
    secret = prod_dr.nested["Compute"].parameters["DatabaseSecretArn"]
    assert secret == "arn:aws:secretsmanager:eu-west-1:333333333333:secret:payment-db-master-prod-001"
    assert prod_dr.nested["Compute"].conditions["HasDatabaseSecret"] is True
    dev_dr = stacks[("dev", "dr", "eu-west-1")]
    assert dev_dr.nested["Compute"].parameters["DatabaseSecretArn"] == ""
    assert dev_dr.nested["Compute"].conditions["HasDatabaseSecret"] is False


def test_cidrs_and_zones(stacks: dict) -> None:
    network = stacks[("staging", "foundation", "eu-west-1")].nested["Network"]
    subnets = {name: r["Properties"]["CidrBlock"] for name, r in network.of_type("AWS::EC2::Subnet").items()}
    assert all(block.startswith("10.101.") for block in subnets.values()), subnets
    zones = {r["Properties"]["AvailabilityZone"] for r in network.of_type("AWS::EC2::Subnet").values()}
    assert zones == {"{{AZ 0 of eu-west-1}}", "{{AZ 1 of eu-west-1}}", "{{AZ 2 of eu-west-1}}"}


def test_findings_point_at_fragment_lines(stacks: dict) -> None:
    database = stacks[("prod", "primary", "us-east-1")].nested["Database"]
    file, line = database.locate("DatabaseCluster", ("Properties", "BackupRetentionPeriod"))
    assert file == "stacks/database/primary/cluster.yaml"
    assert "BackupRetentionPeriod:" in (REPO / file).read_text().splitlines()[line - 1]


def _template(tmp_path: Path, text: str) -> Template:
    path = tmp_path / "t.yaml"
    path.write_text(text)
    return Template(name="t", body=load_path(path, "t.yaml"))


def test_account_conditions_and_mappings(tmp_path: Path) -> None:
    template = _template(tmp_path, """
Mappings:
  Sizes: {"333333333333": {Class: db.r5.large}, "111111111111": {Class: db.t3.medium}}
Conditions:
  IsProdAccount: !Equals [!Ref "AWS::AccountId", "333333333333"]
  IsEu: !Or [!Equals [!Ref "AWS::Region", eu-west-1], !Condition IsProdAccount]
Resources:
  Thing:
    Type: AWS::SNS::Topic
    Condition: IsProdAccount
    Properties:
      TopicName: !Join ["-", [a, !Select [1, !Split [",", "x,y"]]]]
      DisplayName: !FindInMap [Sizes, !Ref "AWS::AccountId", Class]
      Other: !GetAtt Missing.Arn
""")
    prod = evaluate(template, {}, region="us-east-1", account="333333333333")
    dev = evaluate(template, {}, region="us-east-1", account="111111111111")
    assert prod.conditions == {"IsProdAccount": True, "IsEu": True}
    assert dev.conditions == {"IsProdAccount": False, "IsEu": False}
    assert plain(prod.resources["Thing"]["Properties"]) == {
        "TopicName": "a-y", "DisplayName": "db.r5.large", "Other": "{{GetAtt Missing.Arn}}"}
    assert isinstance(prod.resources["Thing"]["Properties"]["Other"], Unresolved)
    assert "Thing" in dev.dropped
    # The account id alone decides the condition: recorded as an identity decision.
    assert prod.condition_traces["IsProdAccount"].identity == {"AWS::AccountId"}
