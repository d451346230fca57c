"""The real plan flow against moto in-process: packaging, change sets for new and existing stacks,
no-change detection, cleanup, deferred waves and the account check."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from plan_support import DEV, PROD, deploy_dev, edit, make_buckets, workspace

from payctl.errors import AccountMismatch, ArtifactBucketMissing
from payctl.plan import Danger, check_fresh, dumps, loads
from payctl.plan.events import ArtifactsUploaded, ChangeSetStarted, PlanEvent, StackPlanned
from payctl.plan.planner import PlanOptions


def _objects(region: str, account: str = DEV) -> list[str]:
    s3 = boto3.client("s3", region_name=region)
    listing = s3.list_objects_v2(Bucket=f"payctl-artifacts-{account}-{region}")
    return sorted(o["Key"] for o in listing.get("Contents", []))


def _stacks(region: str) -> list[tuple[str, str]]:
    cfn = boto3.client("cloudformation", region_name=region)
    return [(s["StackName"], s["StackStatus"]) for s in cfn.describe_stacks()["Stacks"]]


def _change_sets(region: str, stack: str) -> list[str]:
    """Change sets waiting on a stack (AWS deletes executed ones; moto lists them as EXECUTE_COMPLETE)."""
    cfn = boto3.client("cloudformation", region_name=region)
    return [s["ChangeSetName"] for s in cfn.list_change_sets(StackName=stack)["Summaries"]
            if s["ExecutionStatus"] != "EXECUTE_COMPLETE"]


def test_packaging_uploads_templates_and_code_once(moto_dev: None, workspace_root: Path) -> None:
    make_buckets(DEV)
    events: list[PlanEvent] = []
    workspace(workspace_root).environment("dev").plan(on_event=events.append)

    keys = _objects("us-east-1")
    templates = [k for k in keys if k.startswith("templates/")]
    code = [k for k in keys if k.startswith("lambdas/fn/")]
    assert len(templates) == 3  # network, storage, app
    assert len(code) == 1 and code[0].endswith(".zip")
    assert len(_objects("eu-west-1")) == 2  # the DR region runs only the foundation wave
    first = {e.region: e.uploaded for e in events if isinstance(e, ArtifactsUploaded)}
    assert first == {"us-east-1": 4, "eu-west-1": 2}

    events.clear()
    workspace(workspace_root).environment("dev").plan(on_event=events.append)
    second = [(e.uploaded, e.skipped) for e in events if isinstance(e, ArtifactsUploaded)]
    assert sorted(second) == [(0, 2), (0, 4)]
    assert _objects("us-east-1") == keys


def test_changed_template_uploads_only_that_template(moto_dev: None, workspace_root: Path) -> None:
    make_buckets(DEV)
    workspace(workspace_root).environment("dev").plan()
    before = set(_objects("us-east-1"))
    edit(workspace_root / "stacks/storage/bucket.yaml", "TopicName: !Sub alerts-${EnvironmentSuffix}",
         "TopicName: !Sub alerts2-${EnvironmentSuffix}")
    workspace(workspace_root).environment("dev").plan()
    added = set(_objects("us-east-1")) - before
    assert len(added) == 1 and next(iter(added)).startswith("templates/")


def test_missing_artifact_bucket_says_to_bootstrap(moto_dev: None, workspace_root: Path) -> None:
    with pytest.raises(ArtifactBucketMissing) as raised:
        workspace(workspace_root).environment("dev").plan()
    assert "payctl-artifacts-111111111111-" in raised.value.message
    assert "payctl bootstrap" in (raised.value.hint or "")
    assert _stacks("us-east-1") == []  # nothing was proposed


def test_local_mode_creates_the_artifact_bucket(moto_dev: None, workspace_root: Path) -> None:
    ws = workspace(workspace_root)
    plan = ws.environment("dev").plan(options=PlanOptions(create_missing_bucket=True))
    assert plan.has_changes
    assert _objects("eu-west-1")


def test_new_environment_creates_then_cleans_up(moto_dev: None, workspace_root: Path) -> None:
    make_buckets(DEV)
    events: list[PlanEvent] = []
    plan = workspace(workspace_root).environment("dev").plan(on_event=events.append)

    waves = {(w.wave, w.region): w for _env, w in plan.stacks()}
    foundation = waves[("foundation", "us-east-1")].stack
    assert foundation.status == "create" and foundation.change_set_type == "CREATE"
    assert {c.logical_id for c in foundation.changes} == {"Network", "Storage"}
    network = next(child for child in foundation.children if child.name == "Network")
    assert {c.logical_id: c.action for c in network.changes} == {"Vpc": "Add", "ServiceSecurityGroup": "Add"}

    app = waves[("app", "us-east-1")]
    assert app.stack.status == "deferred" and app.after == "foundation"
    assert "would be created after wave foundation" in app.stack.note
    assert not any(isinstance(e, ChangeSetStarted) and e.wave == "app" for e in events)

    # The change sets and the empty REVIEW_IN_PROGRESS stacks they made are gone again.
    assert _stacks("us-east-1") == [] and _stacks("eu-west-1") == []
    summary = plan.summary()
    # foundation in two regions (VPC, group, bucket, log group, topic, subscription) + the deferred app wave
    assert summary.add == 2 * 6 + 3 and summary.deferred == 1


def test_keep_leaves_change_sets_for_apply(moto_dev: None, workspace_root: Path) -> None:
    make_buckets(DEV)
    plan = workspace(workspace_root).environment("dev").plan(options=PlanOptions(keep=True))
    foundation = next(w for _e, w in plan.stacks() if w.wave == "foundation" and w.region == "us-east-1")
    assert foundation.stack.kept and foundation.fingerprint.change_set_id == foundation.stack.change_set_id
    assert _stacks("us-east-1") == [("payments-dev-001-foundation", "REVIEW_IN_PROGRESS")]
    assert len(_change_sets("us-east-1", "payments-dev-001-foundation")) == 1


def test_deployed_environment_has_no_changes(moto_dev: None, workspace_root: Path) -> None:
    deploy_dev(workspace_root)
    plan = workspace(workspace_root).environment("dev").plan()
    assert [w.stack.status for _e, w in plan.stacks()] == ["no-changes"] * 3
    assert not plan.has_changes
    assert _change_sets("us-east-1", "payments-dev-001-foundation") == []
    assert _change_sets("us-east-1", "payments-dev-001-app") == []


def test_update_of_existing_stack_reads_nested_changes(moto_dev: None, workspace_root: Path) -> None:
    deploy_dev(workspace_root)
    edit(workspace_root / "stacks/app/function.yaml", "TableName: !Sub sessions-${EnvironmentSuffix}",
         "TableName: !Sub sessions-v2-${EnvironmentSuffix}")
    edit(workspace_root / "stacks/app/function.yaml", "Action: dynamodb:GetItem",
         "Action: [dynamodb:GetItem, dynamodb:PutItem]")

    plan = workspace(workspace_root).environment("dev").plan()

    app = next(w for _e, w in plan.stacks() if w.wave == "app").stack
    assert app.status == "update" and app.change_set_type == "UPDATE"
    assert "TemplateURL" in app.template_diff  # the nested template's content hash moved
    nested = app.children[0]
    assert nested.name == "App"
    assert nested.stack_name and nested.stack_name.startswith("payments-dev-001-app-App-")
    changes = {c.logical_id: c for c in nested.changes}
    table = changes["SessionTable"]
    assert table.replacement == "True" and table.forcing_properties == ("TableName",)
    assert table.danger == Danger.DESTRUCTIVE
    role = changes["FunctionRole"]
    assert role.danger == Danger.SECURITY
    assert [(r.sign, r.action) for r in role.security] == [("+", "dynamodb:PutItem")]
    assert "-      TableName: !Sub sessions-${EnvironmentSuffix}" in nested.template_diff
    foundation = [w.stack.status for _e, w in plan.stacks() if w.wave == "foundation"]
    assert foundation == ["no-changes", "no-changes"]
    summary = plan.summary()
    assert (summary.replace, summary.change, summary.destructive, summary.security) == (1, 1, 1, 1)


def test_saved_plan_goes_stale_when_the_stack_changes(moto_dev: None, workspace_root: Path) -> None:
    make_buckets(DEV)
    ws = workspace(workspace_root)
    saved = loads(dumps(ws.environment("dev").plan()))
    assert check_fresh(saved, ws.current_state(["dev"])) == []

    deploy_dev(workspace_root)
    stale = check_fresh(saved, workspace(workspace_root).current_state(["dev"]))
    assert {(d.wave, d.region, d.what) for d in stale} >= {("foundation", "us-east-1", "deployed stack")}

    edit(workspace_root / "stacks/network/vpc.yaml", "GroupDescription: payment service",
         "GroupDescription: payments service")
    stale = check_fresh(saved, workspace(workspace_root).current_state(["dev"]))
    assert ("foundation", "eu-west-1", "template") in {(d.wave, d.region, d.what) for d in stale}


def test_wrong_account_is_refused_before_any_call(monkeypatch: pytest.MonkeyPatch,
                                                  workspace_root: Path) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", DEV)  # the credentials reach dev ...
    with mock_aws():
        make_buckets(DEV)
        make_buckets(PROD)
        with pytest.raises(AccountMismatch) as raised:
            workspace(workspace_root).environment("prod").plan()  # ... while prod is 333333333333
        assert "333333333333" in raised.value.message and "111111111111" in raised.value.message
        assert _objects("us-east-1", DEV) == [] and _stacks("us-east-1") == []


def test_environment_role_is_assumed(monkeypatch: pytest.MonkeyPatch, workspace_root: Path) -> None:
    """access.roleArn in envs/<env>.yaml: credentials of another account assume the environment's role."""
    edit(workspace_root / "envs/prod.yaml", "name: prod\n",
         "name: prod\naccess:\n  roleArn: arn:aws:iam::333333333333:role/payctl-deploy\n")
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)  # moto's default account, 123456789012
    with mock_aws():
        events: list[PlanEvent] = []
        plan = workspace(workspace_root).environment("prod").plan(
            options=PlanOptions(create_missing_bucket=True), on_event=events.append)
        assert plan.environments[0].account_id == PROD
        assert any(isinstance(e, StackPlanned) and e.status == "create" for e in events)
        prod_s3 = boto3.client("s3", region_name="us-east-1")
        assert prod_s3.list_buckets()["Buckets"] == []  # nothing landed in the caller's own account
