"""apply --all-accounts on the local emulator (in-process): one StackSet per wave in the admin account,
instances in dev, staging and prod in the wave's regions, each with its environment's values, checked
through each account's own clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply_support import ADMIN, DEV, PROD, REGIONS, STAGING, client, edit, workspace

from payctl.apply.common import approve_all
from payctl.apply.events import InstanceStatus, OperationFinished, OperationStarted, StackSetStarted
from payctl.apply.stacksets import StackSetOptions
from payctl.errors import DeploymentFailed, Refused
from payctl.local.organization import seed_organization

ENVS = {DEV: ("dev", "dev-001", 30, {"us-east-1": "10.0.0.0/16", "eu-west-1": "10.100.0.0/16"}),
        STAGING: ("staging", "stg-001", 90, {"us-east-1": "10.1.0.0/16", "eu-west-1": "10.101.0.0/16"}),
        PROD: ("prod", "prod-001", 365, {"us-east-1": "10.2.0.0/16", "eu-west-1": "10.102.0.0/16"})}


def _apply(root: Path, **options: Any) -> list[Any]:
    events: list[Any] = []
    workspace(root).apply_all_accounts(options=StackSetOptions(**options), on_event=events.append,
                                       confirm=approve_all)
    return events


def _instance_stack(account: str, region: str, stack_set: str) -> dict[str, Any]:
    stacks = client("cloudformation", account, region).describe_stacks()["Stacks"]
    [stack] = [s for s in stacks if s["StackName"].startswith(f"StackSet-{stack_set}-") and "ParentId" not in s]
    return dict(stack)


def _parameters(stack: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}


def _operations(events: list[Any], stack_set: str) -> list[tuple[str, tuple[tuple[str, str, str], ...]]]:
    return [(e.action, e.targets) for e in events if isinstance(e, OperationStarted) and e.stack_set == stack_set]


def test_every_account_and_region_gets_its_own_values(emulator: None, workspace_root: Path) -> None:
    _apply(workspace_root)

    admin = client("cloudformation", ADMIN)
    assert [admin.describe_stack_set(StackSetName=name)["StackSet"]["Status"]
            for name in ("payments-foundation", "payments-app")] == ["ACTIVE", "ACTIVE"]
    instances = admin.list_stack_instances(StackSetName="payments-foundation")["Summaries"]
    assert sorted((i["Account"], i["Region"], i["Status"]) for i in instances) == sorted(
        (account, region, "CURRENT") for account in ENVS for region in REGIONS)

    for account, (env, suffix, retention, cidrs) in ENVS.items():
        for region in REGIONS:
            stack = _instance_stack(account, region, "payments-foundation")
            values = _parameters(stack)
            assert (values["EnvironmentName"], values["EnvironmentSuffix"], values["VpcCidr"]) == \
                (env, suffix, cidrs[region])
            # The resources, as each account sees them.
            vpcs = client("ec2", account, region).describe_vpcs()["Vpcs"]
            assert cidrs[region] in {v["CidrBlock"] for v in vpcs}
            groups = client("logs", account, region).describe_log_groups(
                logGroupNamePrefix=f"/payments/{suffix}/audit")["logGroups"]
            assert [g.get("retentionInDays") for g in groups] == [retention]
            vpc_id = client("ssm", account, region).get_parameter(Name=f"/{env}/network/vpc-id")["Parameter"]["Value"]
            assert vpc_id in {v["VpcId"] for v in vpcs}

        app = _instance_stack(account, "us-east-1", "payments-app")
        outputs = {}
        for nested in client("cloudformation", account).describe_stacks()["Stacks"]:
            if nested.get("ParentId") == app["StackId"]:
                outputs.update({o["OutputKey"]: o["OutputValue"] for o in nested.get("Outputs", [])})
        # SSM imports resolve in the instance's own account; Lambda code comes from the admin bucket.
        own_vpc = client("ssm", account).get_parameter(Name=f"/{env}/network/vpc-id")["Parameter"]["Value"]
        assert outputs["ServiceVpc"] == own_vpc
        assert outputs["CodeBucket"] == f"payctl-artifacts-{ADMIN}-us-east-1"
        assert outputs["SessionTableName"] == f"sessions-{suffix}"
    app_instances = admin.list_stack_instances(StackSetName="payments-app")["Summaries"]
    assert sorted((i["Account"], i["Region"]) for i in app_instances) == [(a, "us-east-1") for a in sorted(ENVS)]


def test_operations_run_in_deploy_order_and_are_followed_to_the_end(emulator: None, workspace_root: Path) -> None:
    events = _apply(workspace_root)

    operations = _operations(events, "payments-foundation")
    assert [action for action, _ in operations] == ["CREATE"] * 6
    assert [targets[0][0] for _, targets in operations] == ["dev", "dev", "staging", "staging", "prod", "prod"]
    finished = [e for e in events if isinstance(e, OperationFinished) and e.stack_set == "payments-foundation"]
    assert [e.status for e in finished] == ["SUCCEEDED"] * 6 and not any(e.failed for e in finished)
    last = {(e.account, e.region): e.status for e in events
            if isinstance(e, InstanceStatus) and e.stack_set == "payments-foundation"}
    assert last == {(account, region): "SUCCEEDED" for account in ENVS for region in REGIONS}
    # The app wave starts only after the foundation wave is done everywhere.
    first_app = next(i for i, e in enumerate(events) if isinstance(e, StackSetStarted) and e.wave == "app")
    assert first_app > max(events.index(e) for e in finished)


def test_second_apply_changes_nothing(emulator: None, workspace_root: Path) -> None:
    _apply(workspace_root)
    before = _instance_stack(PROD, "eu-west-1", "payments-foundation")
    events = _apply(workspace_root)
    assert [e.action for e in events if isinstance(e, StackSetStarted)] == ["unchanged", "unchanged"]
    assert not [e for e in events if isinstance(e, OperationStarted)]
    assert _instance_stack(PROD, "eu-west-1", "payments-foundation")["StackId"] == before["StackId"]


def test_a_new_environment_adds_only_its_instances(emulator: None, workspace_root: Path, tmp_path: Path) -> None:
    held = tmp_path / "prod.yaml"
    (workspace_root / "envs" / "prod.yaml").rename(held)
    _apply(workspace_root)
    dev_stack = _instance_stack(DEV, "us-east-1", "payments-foundation")
    admin = client("cloudformation", ADMIN)
    assert {i["Account"] for i in admin.list_stack_instances(StackSetName="payments-foundation")["Summaries"]} \
        == {DEV, STAGING}

    held.rename(workspace_root / "envs" / "prod.yaml")
    events = _apply(workspace_root)

    assert [(action, [t[0] for t in targets]) for action, targets in _operations(events, "payments-foundation")] \
        == [("CREATE", ["prod"]), ("CREATE", ["prod"])]
    assert [(action, [t[0] for t in targets]) for action, targets in _operations(events, "payments-app")] \
        == [("CREATE", ["prod"])]
    assert _instance_stack(DEV, "us-east-1", "payments-foundation")["StackId"] == dev_stack["StackId"]
    assert _parameters(_instance_stack(PROD, "eu-west-1", "payments-foundation"))["VpcCidr"] == "10.102.0.0/16"


def test_changed_value_updates_only_that_environment(emulator: None, workspace_root: Path) -> None:
    _apply(workspace_root)
    edit(workspace_root / "envs" / "dev.yaml", "logRetentionDays: 30", "logRetentionDays: 60")

    plan = workspace(workspace_root).plan_all_accounts()
    changed = {(env.environment, wave.wave, wave.region): [(p.name, p.before, p.after) for p in wave.stack.parameters]
               for env in plan.environments for wave in env.waves if wave.stack.status != "no-changes"}
    assert changed == {("dev", "foundation", region): [("LogRetentionDays", "30", "60")] for region in REGIONS}

    events = _apply(workspace_root)
    assert [(action, [t[:3] for t in targets]) for action, targets in _operations(events, "payments-foundation")] \
        == [("UPDATE_INSTANCES", [("dev", DEV, region)]) for region in REGIONS]
    assert not _operations(events, "payments-app")
    for account, retention in ((DEV, 60), (STAGING, 90)):
        suffix = ENVS[account][1]
        groups = client("logs", account, "eu-west-1").describe_log_groups(
            logGroupNamePrefix=f"/payments/{suffix}/audit")["logGroups"]
        assert [g.get("retentionInDays") for g in groups] == [retention]


def test_template_change_reaches_dev_first_then_the_others(emulator: None, workspace_root: Path) -> None:
    _apply(workspace_root)
    edit(workspace_root / "stacks" / "storage" / "logs.yaml", "TopicName: !Sub alerts-${EnvironmentSuffix}",
         "TopicName: !Sub alerts-v2-${EnvironmentSuffix}")

    events = _apply(workspace_root)

    operations = [(action, [t[:3] for t in targets]) for action, targets in _operations(events, "payments-foundation")]
    assert operations[0] == ("UPDATE", [("dev", DEV, "us-east-1")])  # UpdateStackSet, first instance only
    assert [targets[0][0] for _, targets in operations[1:]] == ["dev", "staging", "staging", "prod", "prod"]
    assert {action for action, _ in operations[1:]} == {"UPDATE_INSTANCES"}
    for account, (_env, suffix, _retention, _cidrs) in ENVS.items():
        topics = client("sns", account, "eu-west-1").list_topics()["Topics"]
        assert any(t["TopicArn"].endswith(f":alerts-v2-{suffix}") for t in topics)


def test_failed_instances_stop_the_run_and_retry_failed_reruns_only_them(emulator: None,
                                                                          workspace_root: Path) -> None:
    iam = client("iam", PROD)
    for policy in iam.list_role_policies(RoleName="AWSCloudFormationStackSetExecutionRole")["PolicyNames"]:
        iam.delete_role_policy(RoleName="AWSCloudFormationStackSetExecutionRole", PolicyName=policy)
    iam.delete_role(RoleName="AWSCloudFormationStackSetExecutionRole")

    events: list[Any] = []
    with pytest.raises(DeploymentFailed) as failed:
        workspace(workspace_root).apply_all_accounts(on_event=events.append, confirm=approve_all)

    message = failed.value.message
    assert "StackSet payments-foundation: 2 instances failed" in message
    for region in REGIONS:
        assert f"prod {PROD} {region}: FAILED" in message
    assert "AWSCloudFormationStackSetExecutionRole" in message
    assert "--retry-failed" in (failed.value.hint or "")
    assert not [e for e in events if isinstance(e, StackSetStarted) and e.wave == "app"]  # later wave not started
    admin = client("cloudformation", ADMIN)
    statuses = {(i["Account"], i["Region"]): i["StackInstanceStatus"]["DetailedStatus"]
                for i in admin.list_stack_instances(StackSetName="payments-foundation")["Summaries"]}
    assert statuses == {(a, r): "FAILED" if a == PROD else "SUCCEEDED" for a in ENVS for r in REGIONS}

    seed_organization(ADMIN, [DEV, STAGING, PROD])  # the role is back
    events = _apply(workspace_root, retry_failed=True)
    assert [(action, [t[:3] for t in targets]) for action, targets in _operations(events, "payments-foundation")] \
        == [("UPDATE_INSTANCES", [("prod", PROD, region)]) for region in REGIONS]
    assert not _operations(events, "payments-app")
    assert _parameters(_instance_stack(PROD, "us-east-1", "payments-foundation"))["EnvironmentName"] == "prod"

    events = _apply(workspace_root)  # the normal run now goes on with the app wave
    assert [(action, [t[0] for t in targets]) for action, targets in _operations(events, "payments-app")] \
        == [("CREATE", ["dev"]), ("CREATE", ["staging"]), ("CREATE", ["prod"])]


def test_declining_changes_nothing(emulator: None, workspace_root: Path) -> None:
    with pytest.raises(Refused):
        workspace(workspace_root).apply_all_accounts(confirm=lambda _request: False)
    assert [s for s in client("cloudformation", ADMIN).list_stack_sets()["Summaries"] if s["Status"] == "ACTIVE"] == []


def test_plan_shows_every_instance_and_protected_prod_needs_its_name(emulator: None, workspace_root: Path) -> None:
    requests: list[Any] = []

    def record(request: Any) -> bool:
        requests.append(request)
        return False

    with pytest.raises(Refused):
        workspace(workspace_root).apply_all_accounts(confirm=record)
    [request] = requests
    assert request.protected == ("prod",)  # prod (terminationProtection: true) must be typed
    plan = request.plan
    assert [env.environment for env in plan.environments] == ["dev", "staging", "prod"]
    assert {(w.wave, w.region, w.stack.status) for w in plan.environments[2].waves} == {
        ("foundation", "us-east-1", "create"), ("foundation", "eu-west-1", "create"), ("app", "us-east-1", "create")}
