"""payctl compare: environments differ only through parameters, and a template that singles out
an account by its id is caught."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from payctl.automation import Workspace
from payctl.compare import Comparison, compare
from tests.policy.conftest import REPO

PROD_ONLY_BY_ACCOUNT = """\
Conditions:
  IsProdAccount: !Equals [!Ref "AWS::AccountId", "333333333333"]
Resources:
  ProdOnlyTopic:
    Type: AWS::SNS::Topic
    Condition: IsProdAccount
    Properties:
      TopicName: !Sub payment-prod-only-${EnvironmentSuffix}
"""


def payctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "payctl", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def staging_vs_prod() -> Comparison:
    return compare(*Workspace(REPO, search=False).render(["staging", "prod"]))


def test_staging_and_prod_differ_only_by_parameters(staging_vs_prod: Comparison) -> None:
    assert [(d.stack, d.resource, d.path, d.reason) for d in staging_vs_prod.structural] == []
    assert staging_vs_prod.exit_code == 0


def test_parameter_driven_differences_name_their_inputs(staging_vs_prod: Comparison) -> None:
    by_place = {(d.stack, d.resource, d.path): d for d in staging_vs_prod.differences}
    # prod runs two Aurora readers, staging one (database.readerCount): a third instance in prod.
    third = by_place[("primary/primary/database", "DatabaseInstance3", "")]
    assert (third.kind, third.a, third.b) == ("resource", None, "AWS::RDS::DBInstance")
    assert not third.structural
    assert third.inputs == ("DbReaderCount",)
    assert third.file == "stacks/database/primary/cluster.yaml"
    retention = by_place[("primary/primary/database", "DatabaseCluster", "Properties.BackupRetentionPeriod")]
    assert (retention.a, retention.b, retention.inputs) == ("14", "35", ("DbBackupRetentionDays",))


def test_a_resource_only_in_prod_by_account_id_is_structural(repo_copy: Path) -> None:
    (repo_copy / "stacks" / "monitoring" / "topics" / "prod-only.yaml").write_text(PROD_ONLY_BY_ACCOUNT)
    comparison = compare(*Workspace(repo_copy, search=False).render(["staging", "prod"]))
    structural = {(d.stack, d.kind, d.resource) for d in comparison.structural}
    assert structural == {
        ("foundation/primary/topics", "condition", "IsProdAccount"),
        ("foundation/primary/topics", "resource", "ProdOnlyTopic"),
        ("foundation/dr/topics", "condition", "IsProdAccount"),
        ("foundation/dr/topics", "resource", "ProdOnlyTopic"),
    }
    topic = next(d for d in comparison.structural if d.resource == "ProdOnlyTopic")
    assert (topic.a, topic.b) == (None, "AWS::SNS::Topic")
    assert "AWS::AccountId" in topic.reason
    assert (topic.file, topic.line) == ("stacks/monitoring/topics/prod-only.yaml", 4)
    assert comparison.exit_code == 2


def test_cli_exit_codes_and_json(repo_copy: Path) -> None:
    same = payctl("compare", "staging", "prod", cwd=repo_copy)
    assert same.returncode == 0, same.stderr
    assert "0 structural" in same.stderr
    (repo_copy / "stacks" / "monitoring" / "topics" / "prod-only.yaml").write_text(PROD_ONLY_BY_ACCOUNT)
    differ = payctl("compare", "staging", "prod", "--json", cwd=repo_copy)
    assert differ.returncode == 2, differ.stderr
    report = json.loads(differ.stdout)
    assert report["schema"] == "payctl.compare/1"
    assert report["summary"]["structural"] == 4
    topic = [d for d in report["differences"] if d["resource"] == "ProdOnlyTopic"]
    assert topic[0]["classification"] == "structural" and topic[0]["inputs"] == ["AWS::AccountId"]
    table = payctl("compare", "staging", "prod", cwd=repo_copy)
    assert table.returncode == 2 and "ProdOnlyTopic" in table.stdout and "structural" in table.stdout
