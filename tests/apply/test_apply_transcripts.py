"""Apply against Stubber transcripts shaped like AWS's answers: a rollback whose root cause is in a nested
stack, Ctrl-C while CloudFormation works, a busy stack, and a protected environment's termination
protection and stack policies (with one replacement allowed by name)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from apply_support import DEV, PROD
from botocore.stub import Stubber
from transcripts import Events, at, change_set_arn, describe_stacks, expect, resources, stack, stack_arn

from payctl.apply.common import approve_all
from payctl.apply.events import PolicyLifted, ProtectionApplied, ResourceEvent, StepFinished
from payctl.apply.protection import lifted_policy, protective_policy
from payctl.apply.stacks import ApplyOptions, EnvironmentApplier
from payctl.automation import Workspace
from payctl.aws.session import AwsSession, Target
from payctl.errors import DeploymentFailed, Interrupted, StackBusy, StalePlan
from payctl.plan.model import (
    Danger,
    EnvironmentPlan,
    Finding,
    Fingerprint,
    Plan,
    ResourceChange,
    StackPlan,
    WavePlan,
)
from payctl.plan.planner import PlanOptions

US, EU = "us-east-1", "eu-west-1"
UPDATED = at(-86400)


class Stubs:
    """Stubbers on the clients an applier will use, one per (service, region)."""

    def __init__(self, aws: AwsSession, account: str) -> None:
        self.stubbers: dict[tuple[str, str], Stubber] = {}
        for service in ("cloudformation", "sts"):
            for region in (US, EU):
                stubber = Stubber(aws.client(service, Target(account, region)))
                stubber.activate()
                self.stubbers[(service, region)] = stubber
        for region in (US, EU):
            expect(self.sts(region), "get_caller_identity",
                   {"UserId": "AROAEXAMPLE:payctl", "Account": account,
                    "Arn": f"arn:aws:sts::{account}:assumed-role/deploy/payctl"})

    def cfn(self, region: str) -> Stubber:
        return self.stubbers[("cloudformation", region)]

    def sts(self, region: str) -> Stubber:
        return self.stubbers[("sts", region)]

    def done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def root(workspace_root: Path) -> Iterator[Path]:
    yield workspace_root


def _applier(root: Path, env: str, aws: AwsSession, events: list[Any], **options: Any) -> EnvironmentApplier:
    handle = Workspace(root, search=False, aws=aws).environment(env)
    # One worker: the transcript's calls come in a fixed order.
    planner = handle.planner(PlanOptions(keep=True, workers=1), events.append)
    return EnvironmentApplier(planner, ApplyOptions(sleep=lambda _s: None, **options), events.append, approve_all)


def _saved(applier: EnvironmentApplier, steps: dict[tuple[str, str], tuple[StackPlan, str]]) -> Plan:
    """A saved plan for the applier's environment: each (wave, region) step with its deployed stack id."""
    waves = []
    for item in applier.planner.package():
        plan, stack_id = steps[(item.stack.wave, item.stack.region)]
        fingerprint = Fingerprint(item.template_sha256, item.parameters_sha256, plan.change_set_id, stack_id,
                                  UPDATED.isoformat())
        waves.append(WavePlan(item.stack.wave, item.stack.region, replace(plan, stack_id=stack_id), fingerprint))
    env = applier.env
    return Plan((EnvironmentPlan(env.name, env.account_id, tuple(waves)),), created_at="2026-03-02T08:55:00+00:00")


def _update(name: str, change_set: str, children: tuple[StackPlan, ...] = ()) -> StackPlan:
    return StackPlan(name, "update", "change-set", stack_name=name, change_set_id=change_set,
                     change_set_type="UPDATE", kept=True, changes=(ResourceChange("Modify", "Storage", NESTED_TYPE),),
                     children=children)


NESTED_TYPE = "AWS::CloudFormation::Stack"


def _unchanged(name: str) -> StackPlan:
    return StackPlan(name, "no-changes", "change-set", stack_name=name)


# -- a rollback whose cause is in a nested stack --------------------------------------------------------
DEV_FOUNDATION = stack_arn(DEV, US, "payments-dev-001-foundation")
DEV_FOUNDATION_EU = stack_arn(DEV, EU, "payments-dev-001-foundation")
DEV_APP = stack_arn(DEV, US, "payments-dev-001-app")
NETWORK = stack_arn(DEV, US, "payments-dev-001-foundation-Network-1A2B3C4D5E6F", "0a1b2c3d-0000-4000-8000-00000000000b")
STORAGE = stack_arn(DEV, US, "payments-dev-001-foundation-Storage-7G8H9I0J1K2L", "0a1b2c3d-0000-4000-8000-00000000000c")
FOUNDATION_CS = change_set_arn(DEV, US, "payctl-plan-20260302085500-a1b2c3")
APP_CS = change_set_arn(DEV, US, "payctl-plan-20260302085500-d4e5f6")
RETENTION_ERROR = ("Resource handler returned message: \"1 validation error detected: Value '31' at "
                   "'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set\" "
                   "(RequestToken: 7c0e3f1a-1111-4222-8333-444455556666, HandlerErrorCode: InvalidRequest)")


def _failing_update() -> tuple[Events, Events, Events]:
    root, network, storage = Events(DEV_FOUNDATION), Events(NETWORK), Events(STORAGE)
    root.stack_event(-86400, "UPDATE_COMPLETE")  # the last event before this operation: the baseline
    root.stack_event(1, "UPDATE_IN_PROGRESS", "User Initiated")
    root.add(2, "Network", NESTED_TYPE, "UPDATE_IN_PROGRESS", physical_id=NETWORK)
    root.add(2, "Storage", NESTED_TYPE, "UPDATE_IN_PROGRESS", physical_id=STORAGE)
    # Same second: CloudFormation's cancellation of the sibling is listed before the real failure.
    root.add(5, "Network", NESTED_TYPE, "UPDATE_FAILED", "Resource update cancelled", NETWORK)
    root.add(5, "Storage", NESTED_TYPE, "UPDATE_FAILED",
             f"Embedded stack {STORAGE} was not successfully updated. Currently in UPDATE_ROLLBACK_IN_PROGRESS "
             "with reason: The following resource(s) failed to update: [AuditLogGroup].", STORAGE)
    root.stack_event(6, "UPDATE_ROLLBACK_IN_PROGRESS",
                     "The following resource(s) failed to update: [Network, Storage].")
    root.add(7, "Network", NESTED_TYPE, "UPDATE_IN_PROGRESS", physical_id=NETWORK)
    root.add(7, "Storage", NESTED_TYPE, "UPDATE_IN_PROGRESS", physical_id=STORAGE)
    root.add(9, "Network", NESTED_TYPE, "UPDATE_COMPLETE", physical_id=NETWORK)
    root.add(9, "Storage", NESTED_TYPE, "UPDATE_COMPLETE", physical_id=STORAGE)
    root.stack_event(10, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    root.stack_event(11, "UPDATE_ROLLBACK_COMPLETE")

    network.stack_event(-86400, "UPDATE_COMPLETE")
    network.stack_event(2, "UPDATE_IN_PROGRESS")
    network.add(3, "Vpc", "AWS::EC2::VPC", "UPDATE_IN_PROGRESS", physical_id="vpc-0a1b2c3d4e5f60718")
    network.add(4, "Vpc", "AWS::EC2::VPC", "UPDATE_FAILED", "Resource update cancelled", "vpc-0a1b2c3d4e5f60718")
    network.stack_event(8, "UPDATE_ROLLBACK_COMPLETE")

    storage.stack_event(-86400, "UPDATE_COMPLETE")
    storage.stack_event(2, "UPDATE_IN_PROGRESS")
    storage.add(3, "AlertTopic", "AWS::SNS::Topic", "UPDATE_IN_PROGRESS")
    storage.add(3, "AuditLogGroup", "AWS::Logs::LogGroup", "UPDATE_IN_PROGRESS")
    storage.add(4, "AuditLogGroup", "AWS::Logs::LogGroup", "UPDATE_FAILED", RETENTION_ERROR,
                "/payments/dev-001/audit")
    storage.add(4, "AlertTopic", "AWS::SNS::Topic", "UPDATE_FAILED", "Resource update cancelled")
    storage.stack_event(8, "UPDATE_ROLLBACK_COMPLETE")
    return root, network, storage


def _busy_checks_and_current_state(stubs: Stubs) -> None:
    """What applying a saved plan reads first: every stack (busy?), then the current state (fresh?)."""
    for _ in range(2):
        expect(stubs.cfn(US), "describe_stacks", describe_stacks(stack(DEV_FOUNDATION, "UPDATE_COMPLETE",
                                                                       updated=UPDATED)),
               {"StackName": "payments-dev-001-foundation"})
        expect(stubs.cfn(EU), "describe_stacks", describe_stacks(stack(DEV_FOUNDATION_EU, "UPDATE_COMPLETE",
                                                                       updated=UPDATED)),
               {"StackName": "payments-dev-001-foundation"})
        expect(stubs.cfn(US), "describe_stacks", describe_stacks(stack(DEV_APP, "UPDATE_COMPLETE", updated=UPDATED)),
               {"StackName": "payments-dev-001-app"})


def _dev_plan(applier: EnvironmentApplier) -> Plan:
    return _saved(applier, {
        ("foundation", US): (_update("payments-dev-001-foundation", FOUNDATION_CS), DEV_FOUNDATION),
        ("foundation", EU): (_unchanged("payments-dev-001-foundation"), DEV_FOUNDATION_EU),
        ("app", US): (_update("payments-dev-001-app", APP_CS), DEV_APP),
    })


def _start_foundation(stubs: Stubs, root: Events) -> None:
    cfn = stubs.cfn(US)
    expect(cfn, "describe_stacks", describe_stacks(stack(DEV_FOUNDATION, "UPDATE_COMPLETE", updated=UPDATED)),
           {"StackName": "payments-dev-001-foundation"})
    expect(cfn, "describe_stack_events", root.page(upto=1), {"StackName": DEV_FOUNDATION})
    expect(cfn, "execute_change_set", {}, {"ChangeSetName": FOUNDATION_CS})
    # First poll: two pages of new events (the second reaches the baseline), then each nested stack.
    expect(cfn, "describe_stack_events", root.page(upto=4, size=2, token="page-2"), {"StackName": DEV_FOUNDATION})
    expect(cfn, "describe_stack_events", {"StackEvents": root.page(upto=4)["StackEvents"][2:]},
           {"StackName": DEV_FOUNDATION, "NextToken": "page-2"})


def test_rollback_reports_the_nested_root_cause_and_stops_later_waves(root: Path) -> None:
    aws = AwsSession()
    events: list[Any] = []
    applier = _applier(root, "dev", aws, events)
    stubs = Stubs(aws, DEV)
    root_events, network, storage = _failing_update()
    _busy_checks_and_current_state(stubs)
    _start_foundation(stubs, root_events)
    cfn = stubs.cfn(US)
    expect(cfn, "describe_stack_events", network.page(upto=2), {"StackName": NETWORK})
    expect(cfn, "describe_stack_events", storage.page(upto=4), {"StackName": STORAGE})
    expect(cfn, "describe_stacks", describe_stacks(stack(DEV_FOUNDATION, "UPDATE_IN_PROGRESS")),
           {"StackName": DEV_FOUNDATION})
    # Second poll: the rest of the root's events; the stack has rolled back.
    expect(cfn, "describe_stack_events", root_events.page(), {"StackName": DEV_FOUNDATION})
    expect(cfn, "describe_stacks", describe_stacks(stack(DEV_FOUNDATION, "UPDATE_ROLLBACK_COMPLETE")),
           {"StackName": DEV_FOUNDATION})
    expect(cfn, "describe_stack_events", root_events.page(), {"StackName": DEV_FOUNDATION})
    expect(cfn, "describe_stack_events", network.page(), {"StackName": NETWORK})
    expect(cfn, "describe_stack_events", storage.page(), {"StackName": STORAGE})
    # The app wave never starts: its kept change set is deleted.
    expect(cfn, "delete_change_set", {}, {"ChangeSetName": APP_CS})

    with pytest.raises(DeploymentFailed) as failed:
        applier.apply(_dev_plan(applier))

    message = failed.value.message
    assert "wave foundation of dev failed; later waves were not started" in message
    assert ("root cause: Storage/AuditLogGroup (AWS::Logs::LogGroup) UPDATE_FAILED: Resource handler returned "
            "message: \"1 validation error detected: Value '31'") in message
    assert "UPDATE_ROLLBACK_COMPLETE" in message and "rolled back: the stack is as it was before" in message
    finished = [e for e in events if isinstance(e, StepFinished) and e.wave == "foundation" and e.region == US]
    assert finished[0].status == "UPDATE_ROLLBACK_COMPLETE" and not finished[0].succeeded
    assert finished[0].root_cause.startswith("Storage/AuditLogGroup")
    streamed = [(e.stack_name, e.logical_id, e.status) for e in events if isinstance(e, ResourceEvent)]
    assert ("payments-dev-001-foundation-Storage-7G8H9I0J1K2L", "AuditLogGroup", "UPDATE_FAILED") in streamed
    assert streamed.count(("payments-dev-001-foundation", "payments-dev-001-foundation",
                           "UPDATE_ROLLBACK_COMPLETE")) == 1  # each event once, in spite of re-reads
    assert not any(e.stack_name.endswith("foundation") and e.status == "UPDATE_COMPLETE" and e.timestamp < at(0)
                   for e in events if isinstance(e, ResourceEvent))  # the history before the operation is not shown
    stubs.done()


def test_ctrl_c_detaches_and_tells_how_to_watch(root: Path) -> None:
    aws = AwsSession()
    events: list[Any] = []
    handle = Workspace(root, search=False, aws=aws).environment("dev")
    planner = handle.planner(PlanOptions(keep=True, workers=1), events.append)

    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt  # what Ctrl-C does to the poller's sleep

    applier = EnvironmentApplier(planner, ApplyOptions(sleep=interrupted), events.append, approve_all)
    stubs = Stubs(aws, DEV)
    root_events, network, storage = _failing_update()
    _busy_checks_and_current_state(stubs)
    _start_foundation(stubs, root_events)
    cfn = stubs.cfn(US)
    expect(cfn, "describe_stack_events", network.page(upto=2), {"StackName": NETWORK})
    expect(cfn, "describe_stack_events", storage.page(upto=4), {"StackName": STORAGE})
    expect(cfn, "describe_stacks", describe_stacks(stack(DEV_FOUNDATION, "UPDATE_IN_PROGRESS")),
           {"StackName": DEV_FOUNDATION})
    expect(cfn, "delete_change_set", {}, {"ChangeSetName": APP_CS})  # the wave that will not start

    with pytest.raises(Interrupted) as stopped:
        applier.apply(_dev_plan(applier))

    assert stopped.value.exit_code == 130
    assert "CloudFormation keeps going with foundation/us-east-1 payments-dev-001-foundation" in stopped.value.message
    assert stopped.value.hint == "resume watching: payctl status dev --watch"
    stubs.done()  # and nothing else: no cancel, no further change


def test_a_stack_in_progress_is_refused_with_its_status(root: Path) -> None:
    aws = AwsSession()
    applier = _applier(root, "dev", aws, [])
    stubs = Stubs(aws, DEV)
    expect(stubs.cfn(US), "describe_stacks", describe_stacks(stack(DEV_FOUNDATION, "UPDATE_ROLLBACK_IN_PROGRESS")),
           {"StackName": "payments-dev-001-foundation"})

    with pytest.raises(StackBusy) as busy:
        applier.apply(_dev_plan(applier))

    assert "payments-dev-001-foundation in us-east-1 is UPDATE_ROLLBACK_IN_PROGRESS" in busy.value.message
    assert "payctl status dev --watch" in (busy.value.hint or "")
    stubs.stubbers[("cloudformation", US)].assert_no_pending_responses()


# -- prod: termination protection and stack policies -----------------------------------------------------
PROD_FOUNDATION = stack_arn(PROD, US, "payments-prod-001-foundation")
PROD_FOUNDATION_EU = stack_arn(PROD, EU, "payments-prod-001-foundation")
PROD_APP = stack_arn(PROD, US, "payments-prod-001-app")
PROD_NETWORK = {region: stack_arn(PROD, region, "payments-prod-001-foundation-Network-PNET",
                                  "0a1b2c3d-0000-4000-8000-0000000000a1") for region in (US, EU)}
PROD_STORAGE = {region: stack_arn(PROD, region, "payments-prod-001-foundation-Storage-PSTO",
                                  "0a1b2c3d-0000-4000-8000-0000000000a2") for region in (US, EU)}
PROD_APP_NESTED = stack_arn(PROD, US, "payments-prod-001-app-App-PAPP", "0a1b2c3d-0000-4000-8000-0000000000a3")
PROD_APP_CS = change_set_arn(PROD, US, "payctl-plan-20260302085500-f00baa")


def _policy(stubber: Stubber, stack_id: str, policy: dict[str, Any]) -> None:
    expect(stubber, "set_stack_policy", {}, {"StackName": stack_id,
                                             "StackPolicyBody": json.dumps(policy, sort_keys=True)})


def _tree(stubber: Stubber, root_id: str, nested: dict[str, str]) -> None:
    expect(stubber, "list_stack_resources", resources(*[(logical, physical, NESTED_TYPE, "UPDATE_COMPLETE", "")
                                                        for logical, physical in nested.items()]),
           {"StackName": root_id})
    for physical in nested.values():
        expect(stubber, "list_stack_resources", resources(), {"StackName": physical})


def test_protected_environment_gets_termination_protection_and_policies(root: Path) -> None:
    aws = AwsSession()
    events: list[Any] = []
    applier = _applier(root, "prod", aws, events, allow_replace=frozenset({"SessionTable"}))
    stubs = Stubs(aws, PROD)
    us, eu = stubs.cfn(US), stubs.cfn(EU)
    for _ in range(2):  # busy checks, then current state
        expect(us, "describe_stacks", describe_stacks(stack(PROD_FOUNDATION, "UPDATE_COMPLETE", updated=UPDATED,
                                                            protection=True)),
               {"StackName": "payments-prod-001-foundation"})
        expect(eu, "describe_stacks", describe_stacks(stack(PROD_FOUNDATION_EU, "UPDATE_COMPLETE", updated=UPDATED)),
               {"StackName": "payments-prod-001-foundation"})
        expect(us, "describe_stacks", describe_stacks(stack(PROD_APP, "UPDATE_COMPLETE", updated=UPDATED,
                                                            protection=True)),
               {"StackName": "payments-prod-001-app"})
    # Foundation: nothing to change, but protection is made sure of in both regions.
    for stubber, region, root_id, protected in ((us, US, PROD_FOUNDATION, True), (eu, EU, PROD_FOUNDATION_EU, False)):
        expect(stubber, "describe_stacks", describe_stacks(stack(root_id, "UPDATE_COMPLETE", protection=protected)),
               {"StackName": root_id})
        if not protected:
            expect(stubber, "update_termination_protection", {"StackId": root_id},
                   {"StackName": root_id, "EnableTerminationProtection": True})
        _tree(stubber, root_id, {"Network": PROD_NETWORK[region], "Storage": PROD_STORAGE[region]})
        for stack_id in (root_id, PROD_NETWORK[region], PROD_STORAGE[region]):
            _policy(stubber, stack_id, protective_policy())
    # App: the named replacement is allowed on the App stack for this update only.
    expect(us, "describe_stacks", describe_stacks(stack(PROD_APP, "UPDATE_COMPLETE", updated=UPDATED, protection=True)),
           {"StackName": "payments-prod-001-app"})
    _tree(us, PROD_APP, {"App": PROD_APP_NESTED})
    _policy(us, PROD_APP_NESTED, lifted_policy(("SessionTable",)))
    app_events = Events(PROD_APP)
    app_events.stack_event(-86400, "UPDATE_COMPLETE")
    app_events.stack_event(1, "UPDATE_IN_PROGRESS", "User Initiated")
    app_events.add(2, "App", NESTED_TYPE, "UPDATE_IN_PROGRESS", physical_id=PROD_APP_NESTED)
    app_events.add(40, "App", NESTED_TYPE, "UPDATE_COMPLETE", physical_id=PROD_APP_NESTED)
    app_events.stack_event(41, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    app_events.stack_event(45, "UPDATE_COMPLETE")
    nested_events = Events(PROD_APP_NESTED)
    nested_events.stack_event(2, "UPDATE_IN_PROGRESS")
    nested_events.add(3, "SessionTable", "AWS::DynamoDB::Table", "UPDATE_IN_PROGRESS",
                      "Requested update requires the creation of a new physical resource; hence creating one.")
    nested_events.add(30, "SessionTable", "AWS::DynamoDB::Table", "UPDATE_COMPLETE", physical_id="sessions-v2-prod-001")
    nested_events.stack_event(39, "UPDATE_COMPLETE")
    expect(us, "describe_stack_events", app_events.page(upto=1), {"StackName": PROD_APP})
    expect(us, "execute_change_set", {}, {"ChangeSetName": PROD_APP_CS})
    expect(us, "describe_stack_events", app_events.page(), {"StackName": PROD_APP})
    expect(us, "describe_stacks", describe_stacks(stack(PROD_APP, "UPDATE_COMPLETE", protection=True)),
           {"StackName": PROD_APP})
    expect(us, "describe_stack_events", app_events.page(), {"StackName": PROD_APP})
    expect(us, "describe_stack_events", nested_events.page(), {"StackName": PROD_APP_NESTED})
    _policy(us, PROD_APP_NESTED, protective_policy())  # restored as soon as the update ends
    _tree(us, PROD_APP, {"App": PROD_APP_NESTED})
    expect(us, "describe_stacks", describe_stacks(stack(PROD_APP, "UPDATE_COMPLETE", protection=True)),
           {"StackName": PROD_APP})
    _policy(us, PROD_APP, protective_policy())
    _policy(us, PROD_APP_NESTED, protective_policy())
    expect(us, "describe_stacks", describe_stacks(stack(PROD_APP, "UPDATE_COMPLETE")), {"StackName": PROD_APP})
    expect(us, "describe_stacks", describe_stacks(stack(PROD_APP_NESTED, "UPDATE_COMPLETE", parent=PROD_APP,
                                                        outputs={"SessionTableName": "sessions-v2-prod-001"})),
           {"StackName": PROD_APP_NESTED})

    replacement = ResourceChange("Modify", "SessionTable", "AWS::DynamoDB::Table", replacement="True",
                                 findings=(Finding("PD001", Danger.DESTRUCTIVE,
                                                   "AWS::DynamoDB::Table SessionTable will be replaced (TableName)"),))
    app_plan = StackPlan("payments-prod-001-app", "update", "change-set", stack_name="payments-prod-001-app",
                         change_set_id=PROD_APP_CS, change_set_type="UPDATE", kept=True,
                         changes=(ResourceChange("Modify", "App", NESTED_TYPE),),
                         children=(StackPlan("App", "update", "change-set", changes=(replacement,)),))
    plan = _saved(applier, {
        ("foundation", US): (_unchanged("payments-prod-001-foundation"), PROD_FOUNDATION),
        ("foundation", EU): (_unchanged("payments-prod-001-foundation"), PROD_FOUNDATION_EU),
        ("app", US): (app_plan, PROD_APP),
    })

    result = applier.apply(plan)

    assert [step.status for step in result.steps] == ["no-changes", "no-changes", "UPDATE_COMPLETE"]
    assert ("app", US, "App", "SessionTableName", "sessions-v2-prod-001") in {
        (s.wave, s.region, *row) for s in result.steps for row in s.outputs}
    protection = {(e.region, e.stack_name): (e.termination_protection, e.policies)
                  for e in events if isinstance(e, ProtectionApplied)}
    assert protection == {(US, "payments-prod-001-foundation"): ("already enabled", 3),
                          (EU, "payments-prod-001-foundation"): ("enabled", 3),
                          (US, "payments-prod-001-app"): ("already enabled", 2)}
    assert [(e.path, e.resources, e.restored) for e in events if isinstance(e, PolicyLifted)] == [
        ("App", ("SessionTable",), False), ("App", (), True)]
    stubs.done()


def test_stack_policies_deny_replacing_and_deleting_data_stores() -> None:
    deny = protective_policy()["Statement"][1]
    assert deny["Effect"] == "Deny" and deny["Action"] == ["Update:Replace", "Update:Delete"]
    assert "AWS::RDS::DBCluster" in deny["Condition"]["StringEquals"]["ResourceType"]
    lifted = lifted_policy(("SessionTable",))["Statement"][1]
    # A Deny overrides any Allow: the named resource is taken out of the Deny instead.
    assert lifted["NotResource"] == ["LogicalResourceId/SessionTable"] and "Resource" not in lifted


def test_saved_plan_is_stale_when_a_stack_was_updated_since(root: Path) -> None:
    aws = AwsSession()
    applier = _applier(root, "dev", aws, [])
    stubs = Stubs(aws, DEV)
    us, eu = stubs.cfn(US), stubs.cfn(EU)
    for stubber, stack_id, name in ((us, DEV_FOUNDATION, "payments-dev-001-foundation"),
                                    (eu, DEV_FOUNDATION_EU, "payments-dev-001-foundation"),
                                    (us, DEV_APP, "payments-dev-001-app")):
        expect(stubber, "describe_stacks", describe_stacks(stack(stack_id, "UPDATE_COMPLETE", updated=UPDATED)),
               {"StackName": name})
    # Someone applied the eu-west-1 foundation after the plan was saved.
    expect(us, "describe_stacks", describe_stacks(stack(DEV_FOUNDATION, "UPDATE_COMPLETE", updated=UPDATED)),
           {"StackName": "payments-dev-001-foundation"})
    expect(eu, "describe_stacks", describe_stacks(stack(DEV_FOUNDATION_EU, "UPDATE_COMPLETE", updated=at(-60))),
           {"StackName": "payments-dev-001-foundation"})
    expect(us, "describe_stacks", describe_stacks(stack(DEV_APP, "UPDATE_COMPLETE", updated=UPDATED)),
           {"StackName": "payments-dev-001-app"})

    with pytest.raises(StalePlan) as stale:
        applier.apply(_dev_plan(applier))

    assert "dev/foundation/eu-west-1: deployed stack's last change changed since the plan" in stale.value.message
    assert "foundation/us-east-1" not in stale.value.message
    stubs.done()  # read only: no change set executed, none deleted (the saved plan can be made again)
