"""payctl apply for one environment on the local emulator (in-process): waves in order, saved plans,
stale plans, confirmation, protection of a protected environment and named replacements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from apply_support import DEV, PROD, REGIONS, client, edit, workspace

from payctl.apply.common import approve_all
from payctl.apply.events import (
    PolicyLifted,
    ProtectionApplied,
    StepFinished,
    StepSkipped,
    StepStarted,
    WaveStarted,
)
from payctl.apply.protection import protective_policy
from payctl.apply.stacks import ApplyOptions
from payctl.errors import Refused, StalePlan
from payctl.plan import dumps, loads
from payctl.plan.events import ArtifactsUploaded, StackPlanned
from payctl.plan.planner import PlanOptions


def _stacks(account: str, region: str) -> dict[str, str]:
    """Top-level stacks of an account and region, by name, with their status."""
    stacks = client("cloudformation", account, region).describe_stacks()["Stacks"]
    return {s["StackName"]: s["StackStatus"] for s in stacks if "ParentId" not in s}


def _pending_change_sets(account: str, region: str) -> list[str]:
    cfn = client("cloudformation", account, region)
    return [summary["ChangeSetName"] for stack in _stacks(account, region)
            for summary in cfn.list_change_sets(StackName=stack)["Summaries"]
            if summary["ExecutionStatus"] != "EXECUTE_COMPLETE"]


def _apply(root: Path, env: str = "dev", plan: Any = None, **options: Any) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    result = workspace(root).environment(env).apply(plan, options=ApplyOptions(**options),
                                                    on_event=events.append, confirm=approve_all)
    return result, events


def test_waves_in_order_and_the_deferred_wave_planned_at_its_turn(emulator: None, workspace_root: Path) -> None:
    result, events = _apply(workspace_root)

    assert _stacks(DEV, "us-east-1") == {"payments-dev-001-foundation": "CREATE_COMPLETE",
                                         "payments-dev-001-app": "CREATE_COMPLETE"}
    assert _stacks(DEV, "eu-west-1") == {"payments-dev-001-foundation": "CREATE_COMPLETE"}
    waves = [(e.wave, e.regions) for e in events if isinstance(e, WaveStarted)]
    assert waves == [("foundation", ("us-east-1", "eu-west-1")), ("app", ("us-east-1",))]
    # The app wave could not be planned before the foundation existed: planned when its turn came.
    app_planned = [i for i, e in enumerate(events) if isinstance(e, StackPlanned) and e.wave == "app"]
    foundation_done = [i for i, e in enumerate(events) if isinstance(e, StepFinished) and e.wave == "foundation"]
    assert [events[i].status for i in app_planned] == ["deferred", "create"]
    assert app_planned[1] > max(foundation_done)
    # The first apply made the artifact buckets the bootstrap would have made, and said so.
    assert {e.region for e in events if isinstance(e, ArtifactsUploaded) and e.bucket_created} == set(REGIONS)
    outputs = {(step.wave, path, name): value for step in result.steps for path, name, value in step.outputs}
    own_vpc = client("ssm", DEV).get_parameter(Name="/dev/network/vpc-id")["Parameter"]["Value"]
    assert outputs[("app", "App", "ServiceVpc")] == own_vpc
    assert outputs[("app", "App", "CodeBucket")] == f"payctl-artifacts-{DEV}-us-east-1"
    assert _pending_change_sets(DEV, "us-east-1") == [] and _pending_change_sets(DEV, "eu-west-1") == []


def test_second_apply_has_nothing_to_do(emulator: None, workspace_root: Path) -> None:
    _apply(workspace_root)
    asked: list[Any] = []
    events: list[Any] = []
    result = workspace(workspace_root).environment("dev").apply(
        on_event=events.append, confirm=lambda request: asked.append(request) or True)
    assert asked == []  # nothing to approve
    assert [step.status for step in result.steps] == ["no-changes"] * 3
    assert not [e for e in events if isinstance(e, StepStarted)]
    assert len([e for e in events if isinstance(e, StepSkipped)]) == 3


def test_saved_plan_is_applied_as_planned(emulator: None, workspace_root: Path) -> None:
    ws = workspace(workspace_root)
    saved = loads(dumps(ws.environment("dev").plan(options=PlanOptions(keep=True))))
    foundation_change_set = next(w.stack.change_set_id for _e, w in saved.stacks() if w.wave == "foundation")

    _result, events = _apply(workspace_root, plan=saved)

    assert _stacks(DEV, "us-east-1")["payments-dev-001-foundation"] == "CREATE_COMPLETE"
    cfn = client("cloudformation", DEV)
    executed = cfn.describe_change_set(ChangeSetName=foundation_change_set)
    assert executed["ExecutionStatus"] == "EXECUTE_COMPLETE"  # the very change set the plan showed
    assert [e.stack_name for e in events if isinstance(e, StepFinished)] == ["payments-dev-001-foundation"] * 2 + [
        "payments-dev-001-app"]


def test_stale_plan_is_refused_before_anything_changes(emulator: None, workspace_root: Path) -> None:
    ws = workspace(workspace_root)
    saved = loads(dumps(ws.environment("dev").plan(options=PlanOptions(keep=True))))
    edit(workspace_root / "stacks" / "storage" / "logs.yaml", "alerts-${EnvironmentSuffix}",
         "alerts-v2-${EnvironmentSuffix}")

    with pytest.raises(StalePlan) as stale:
        _apply(workspace_root, plan=saved)

    assert "foundation/us-east-1: template changed since the plan" in stale.value.message
    assert "payctl plan dev --out" in (stale.value.hint or "")
    assert set(_stacks(DEV, "us-east-1").values()) == {"REVIEW_IN_PROGRESS"}  # nothing was executed


def test_plan_goes_stale_when_the_stack_changed(emulator: None, workspace_root: Path) -> None:
    saved = loads(dumps(workspace(workspace_root).environment("dev").plan(options=PlanOptions(keep=True))))
    _apply(workspace_root, plan=saved)
    with pytest.raises(StalePlan) as stale:
        _apply(workspace_root, plan=saved)
    assert "deployed stack changed since the plan" in stale.value.message


def test_declined_plan_leaves_nothing_behind(emulator: None, workspace_root: Path) -> None:
    asked: list[Any] = []
    with pytest.raises(Refused) as refused:
        workspace(workspace_root).environment("dev").apply(confirm=lambda request: asked.append(request) or False)
    assert "nothing was changed" in refused.value.message
    assert asked[0].protected == ()  # dev is not protected: yes/no is enough
    # The kept change sets and the empty stacks their CREATE change sets made are gone.
    assert _stacks(DEV, "us-east-1") == {} and _stacks(DEV, "eu-west-1") == {}


def _policy(account: str, region: str, stack_id: str) -> Any:
    body = client("cloudformation", account, region).get_stack_policy(StackName=stack_id).get("StackPolicyBody")
    return json.loads(body) if body else None


def _tree(account: str, region: str, root_name: str) -> dict[str, str]:
    """Stack id by stack name for a top-level stack and its nested stacks."""
    stacks = client("cloudformation", account, region).describe_stacks()["Stacks"]
    root = next(s for s in stacks if s["StackName"] == root_name)
    return {s["StackName"]: s["StackId"] for s in stacks if s["StackId"] == root["StackId"]
            or s.get("ParentId") == root["StackId"]}


def test_protected_environment_gets_stack_policies_everywhere(emulator: None, workspace_root: Path) -> None:
    asked: list[Any] = []
    events: list[Any] = []
    workspace(workspace_root).environment("prod").apply(on_event=events.append,
                                                        confirm=lambda r: asked.append(r) or True)

    assert asked[0].protected == ("prod",)  # the name must be typed
    for region in REGIONS:
        tree = _tree(PROD, region, "payments-prod-001-foundation")
        assert len(tree) == 3  # root, Network, Storage
        assert all(_policy(PROD, region, stack_id) == protective_policy() for stack_id in tree.values())
    protection = [e for e in events if isinstance(e, ProtectionApplied)]
    assert {(e.region, e.stack_name) for e in protection} == {
        ("us-east-1", "payments-prod-001-foundation"), ("eu-west-1", "payments-prod-001-foundation"),
        ("us-east-1", "payments-prod-001-app")}
    # The emulator does not implement UpdateTerminationProtection: said, not pretended.
    assert {e.termination_protection for e in protection} == {"unavailable"}


def test_destructive_change_in_prod_needs_its_name(emulator: None, workspace_root: Path) -> None:
    _apply(workspace_root, "prod")
    edit(workspace_root / "stacks" / "app" / "table.yaml", "sessions-${EnvironmentSuffix}",
         "sessions-v2-${EnvironmentSuffix}")

    with pytest.raises(Refused) as refused:
        _apply(workspace_root, "prod")
    assert "App/SessionTable" in refused.value.message and "will be replaced" in refused.value.message
    assert "--allow-replace App/SessionTable" in (refused.value.hint or "")
    with pytest.raises(Refused) as typo:
        _apply(workspace_root, "prod", allow_replace=frozenset({"SessionTable", "SesionTable"}))
    assert "SesionTable" in typo.value.message

    _result, events = _apply(workspace_root, "prod", allow_replace=frozenset({"SessionTable"}))

    lifted = [e for e in events if isinstance(e, PolicyLifted)]
    assert [(e.path, e.resources, e.restored) for e in lifted] == [("App", ("SessionTable",), False),
                                                                  ("App", (), True)]
    tables = client("dynamodb", PROD).list_tables()["TableNames"]
    assert "sessions-v2-prod-001" in tables
    tree = _tree(PROD, "us-east-1", "payments-prod-001-app")
    assert all(_policy(PROD, "us-east-1", stack_id) == protective_policy() for stack_id in tree.values())
