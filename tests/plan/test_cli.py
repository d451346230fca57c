"""`payctl plan` as a user runs it: exit codes 0/1/2/3, JSON on stdout, progress on stderr, saved plans,
--all, and NoEcho values that never appear anywhere."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from plan_support import DEV, deploy_dev, edit, make_buckets

from payctl.cli import main
from payctl.plan import loads

Run = tuple[int, str, str]
Cli = Callable[..., Run]


def run(root: Path, *args: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["payctl", "--workspace", str(root), *args])
    with pytest.raises(SystemExit) as done:
        main()
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    def invoke(root: Path, *args: str) -> Run:
        return run(root, *args, monkeypatch=monkeypatch, capsys=capsys)
    return invoke


def test_exit_0_when_nothing_changes(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    deploy_dev(workspace_root)
    code, out, err = cli(workspace_root, "plan", "dev")
    assert code == 0
    assert "No changes" in out and "Plan: 0 to add, 0 to change, 0 to replace, 0 to remove" in out
    assert "dev: foundation us-east-1: no-changes" in err  # progress went to stderr


def test_exit_2_for_ordinary_changes(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    deploy_dev(workspace_root)
    edit(workspace_root / "stacks/storage/bucket.yaml", "RetentionInDays: !Ref LogRetentionDays",
         "RetentionInDays: 400")
    code, out, _err = cli(workspace_root, "plan", "dev", "--no-diff")
    assert code == 2
    assert "[~] AWS::Logs::LogGroup FlowLogGroup" in out
    assert "Plan: 0 to add, 2 to change, 0 to replace, 0 to remove" in out  # both regions


def test_exit_3_for_destructive_changes(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    deploy_dev(workspace_root)
    edit(workspace_root / "stacks/storage/bucket.yaml", "!Sub documents-", "!Sub docs-")
    code, out, _err = cli(workspace_root, "plan", "dev")
    assert code == 3
    assert "[~] AWS::S3::Bucket DocumentBucket replace (BucketName)" in out
    assert "destructive PD001" in out
    assert "(2 destructive)" in out


def test_exit_3_for_security_changes(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    deploy_dev(workspace_root)
    edit(workspace_root / "stacks/network/vpc.yaml", "CidrIp: !Ref VpcCidr", "CidrIp: 0.0.0.0/0")
    code, out, _err = cli(workspace_root, "plan", "dev")
    assert code == 3
    assert "Security group ingress changes" in out and "0.0.0.0/0" in out


def test_exit_1_when_the_bucket_is_missing(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    code, out, err = cli(workspace_root, "plan", "dev")
    assert code == 1 and out == ""
    assert "artifact bucket payctl-artifacts-111111111111-" in err and "payctl bootstrap" in err


def test_exit_1_for_the_wrong_account(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    make_buckets(DEV)
    code, _out, err = cli(workspace_root, "plan", "prod")
    assert code == 1
    assert "environment 'prod' is account 333333333333, but the credentials reach account 111111111111" in err


def test_json_goes_to_stdout_alone(moto_dev: None, workspace_root: Path, cli: Cli) -> None:
    make_buckets(DEV)
    code, out, err = cli(workspace_root, "plan", "dev", "--json")
    assert code == 3  # a first deployment adds IAM roles and security group ingress
    document = json.loads(out)
    assert document["schemaVersion"] == 1 and document["summary"]["deferred"] == 1
    statuses = [w["stack"]["status"] for w in document["environments"][0]["waves"]]
    assert statuses == ["create", "create", "deferred"]
    assert "planning 3 stacks" in err


def test_out_saves_a_plan_and_keeps_its_change_sets(moto_dev: None, workspace_root: Path, cli: Cli,
                                                    tmp_path: Path) -> None:
    make_buckets(DEV)
    saved = tmp_path / "plan.json"
    code, _out, err = cli(workspace_root, "plan", "dev", "--out", str(saved), "--quiet")
    assert code == 3 and f"saved the plan to {saved}" in err and "planning" not in err
    plan = loads(saved.read_text())
    first = plan.environments[0].waves[0]
    assert first.stack.kept and first.fingerprint.change_set_id == first.stack.change_set_id
    cfn = boto3.client("cloudformation", region_name="us-east-1")
    status = cfn.describe_change_set(ChangeSetName=first.stack.change_set_id)["ExecutionStatus"]
    assert status == "AVAILABLE"
    assert len(first.fingerprint.template_sha256) == 64 and len(first.fingerprint.parameters_sha256) == 64


def test_no_echo_values_never_appear(moto_dev: None, workspace_root: Path, cli: Cli, tmp_path: Path) -> None:
    secret = "dev-ops@example.com"  # OpsEmail is NoEcho in the fixture's shared parameters
    assert secret in (workspace_root / "envs/dev.yaml").read_text()
    deploy_dev(workspace_root)
    edit(workspace_root / "envs/dev.yaml", secret, "dev-oncall@example.com")
    edit(workspace_root / "stacks/storage/bucket.yaml", "RetentionInDays: !Ref LogRetentionDays",
         "RetentionInDays: 400")
    saved = tmp_path / "plan.json"
    outputs = [cli(workspace_root, "plan", "dev", "--out", str(saved)),
               cli(workspace_root, "plan", "dev", "--json")]
    texts = [text for _code, out, err in outputs for text in (out, err)] + [saved.read_text()]
    for text in texts:
        assert secret not in text and "dev-oncall@example.com" not in text
    assert outputs[0][0] == 2


def test_all_environments_in_one_summary(monkeypatch: pytest.MonkeyPatch, workspace_root: Path,
                                         cli: Cli) -> None:
    accounts = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
    for env, account in accounts.items():
        edit(workspace_root / f"envs/{env}.yaml", f"name: {env}\n",
             f"name: {env}\naccess:\n  roleArn: arn:aws:iam::{account}:role/payctl-deploy\n")
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    with mock_aws():
        for account in accounts.values():
            _bootstrap(account)
        code, out, err = cli(workspace_root, "plan", "--all", "--no-diff")
    assert code == 3
    for env, account in accounts.items():
        assert f"{env} (account {account})" in out
        assert f"{env}: planning 3 stacks in account {account}" in err
    assert out.count("Plan: ") == 1
    assert "Plan: 45 to add, 0 to change, 0 to replace, 0 to remove" in out  # 3 x (2 x 6 + 3)
    assert "3 stacks deferred until an earlier wave exists" in out


def _bootstrap(account: str) -> None:
    sts = boto3.client("sts", region_name="us-east-1")
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/bootstrap",
                                  RoleSessionName="bootstrap")["Credentials"]
    session = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"])
    for region in ("us-east-1", "eu-west-1"):
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3 = session.client("s3", region_name=region)
        s3.create_bucket(Bucket=f"payctl-artifacts-{account}-{region}", **extra)


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rich sizes tables to the terminal; tests read whole lines."""
    monkeypatch.setenv("COLUMNS", "250")
    from payctl.ui import stderr, stdout

    stdout.cache_clear()
    stderr.cache_clear()
    yield
    stdout.cache_clear()
    stderr.cache_clear()
