"""payctl recover against Stubber transcripts shaped like AWS's answers: a failed rollback continued
while skipping the resource the user names, a failed first creation deleted and created again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apply_support import DEV
from botocore.stub import Stubber
from transcripts import Events, at, describe_stacks, expect, missing_stack, resources, stack, stack_arn

from payctl.apply.common import ConfirmRequest
from payctl.apply.events import RollbackBlocked, StepFinished
from payctl.apply.recover import Recoverer, RecoverOptions
from payctl.automation import Workspace
from payctl.aws.session import AwsSession, Target
from payctl.errors import Refused
from payctl.plan.planner import PlanOptions

US, EU = "us-east-1", "eu-west-1"
NESTED = "AWS::CloudFormation::Stack"
FOUNDATION = stack_arn(DEV, US, "payments-dev-001-foundation")
FOUNDATION_EU = stack_arn(DEV, EU, "payments-dev-001-foundation")
NETWORK = stack_arn(DEV, US, "payments-dev-001-foundation-Network-1A2B3C4D5E6F", "0a1b2c3d-0000-4000-8000-00000000000b")
STORAGE = stack_arn(DEV, US, "payments-dev-001-foundation-Storage-7G8H9I0J1K2L", "0a1b2c3d-0000-4000-8000-00000000000c")
GONE = ("Resource handler returned message: \"The specified log group does not exist. (Service: CloudWatchLogs, "
        "Status Code: 400, Request ID: 3f1d7c52-1111-4222-8333-444455556666)\" (RequestToken: 9a0b, HandlerErrorCode: "
        "NotFound)")


class Stubs:
    def __init__(self, aws: AwsSession) -> None:
        self.cfn: dict[str, Stubber] = {}
        self.all: list[Stubber] = []
        for region in (US, EU):
            sts = Stubber(aws.client("sts", Target(DEV, region)))
            sts.activate()
            expect(sts, "get_caller_identity", {"UserId": "AROAEXAMPLE:payctl", "Account": DEV,
                                                "Arn": f"arn:aws:sts::{DEV}:assumed-role/deploy/payctl"})
            cfn = Stubber(aws.client("cloudformation", Target(DEV, region)))
            cfn.activate()
            self.cfn[region] = cfn
            self.all += [sts, cfn]

    def done(self) -> None:
        for stubber in self.all:
            stubber.assert_no_pending_responses()


def _recoverer(root: Path, aws: AwsSession, events: list[Any], asked: list[ConfirmRequest], *, skip: set[str],
               again: list[int] | None = None) -> Recoverer:
    handle = Workspace(root, search=False, aws=aws).environment("dev")
    return Recoverer(handle.planner(PlanOptions(keep=True), events.append),
                     RecoverOptions(skip=frozenset(skip), sleep=lambda _s: None), events.append,
                     lambda request: asked.append(request) or True,
                     apply_again=(lambda: again.append(1)) if again is not None else None)


def _survey(stubs: Stubs, foundation: dict[str, Any]) -> None:
    us = stubs.cfn[US]
    expect(us, "describe_stacks", describe_stacks(foundation), {"StackName": "payments-dev-001-foundation"})
    if foundation["StackStatus"] == "UPDATE_ROLLBACK_FAILED":
        expect(us, "list_stack_resources", resources(
            ("Network", NETWORK, NESTED, "UPDATE_COMPLETE", ""),
            ("Storage", STORAGE, NESTED, "UPDATE_FAILED",
             f"Embedded stack {STORAGE} was not successfully updated. Currently in UPDATE_ROLLBACK_FAILED.")),
            {"StackName": FOUNDATION})
        expect(us, "describe_stacks", describe_stacks(stack(NETWORK, "UPDATE_COMPLETE", parent=FOUNDATION)),
               {"StackName": NETWORK})
        expect(us, "describe_stacks", describe_stacks(stack(STORAGE, "UPDATE_ROLLBACK_FAILED", parent=FOUNDATION)),
               {"StackName": STORAGE})
        expect(us, "list_stack_resources", resources(
            ("AuditLogGroup", "/payments/dev-001/audit", "AWS::Logs::LogGroup", "UPDATE_FAILED", GONE),
            ("AlertTopic", f"arn:aws:sns:us-east-1:{DEV}:alerts-dev-001", "AWS::SNS::Topic", "UPDATE_COMPLETE", "")),
            {"StackName": STORAGE})
    expect(stubs.cfn[EU], "describe_stacks", describe_stacks(stack(FOUNDATION_EU, "UPDATE_COMPLETE")),
           {"StackName": "payments-dev-001-foundation"})
    expect(us, "describe_stacks", missing_stack("payments-dev-001-app"), {"StackName": "payments-dev-001-app"})


def test_failed_rollback_continues_skipping_the_named_resource(workspace_root: Path) -> None:
    aws = AwsSession()
    stubs = Stubs(aws)
    us = stubs.cfn[US]
    failed = stack(FOUNDATION, "UPDATE_ROLLBACK_FAILED",
                   reason="The following resource(s) failed to update: [Storage].")
    _survey(stubs, failed)
    history = Events(FOUNDATION)
    history.stack_event(-60, "UPDATE_ROLLBACK_FAILED", "The following resource(s) failed to update: [Storage].")
    history.stack_event(1, "UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
    history.add(2, "Storage", NESTED, "UPDATE_IN_PROGRESS", physical_id=STORAGE)
    history.add(20, "Storage", NESTED, "UPDATE_COMPLETE", physical_id=STORAGE)
    history.stack_event(21, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    history.stack_event(25, "UPDATE_ROLLBACK_COMPLETE")
    storage = Events(STORAGE)
    storage.stack_event(2, "UPDATE_ROLLBACK_IN_PROGRESS")
    storage.add(3, "AuditLogGroup", "AWS::Logs::LogGroup", "UPDATE_COMPLETE",
                "Resource skipped during UpdateRollback", "/payments/dev-001/audit")
    storage.stack_event(19, "UPDATE_ROLLBACK_COMPLETE")
    expect(us, "describe_stack_events", history.page(upto=1), {"StackName": FOUNDATION})
    expect(us, "continue_update_rollback", {},
           {"StackName": FOUNDATION, "ResourcesToSkip": ["Storage.AuditLogGroup"]})
    expect(us, "describe_stack_events", history.page(), {"StackName": FOUNDATION})
    expect(us, "describe_stacks", describe_stacks(stack(FOUNDATION, "UPDATE_ROLLBACK_COMPLETE")),
           {"StackName": FOUNDATION})
    expect(us, "describe_stack_events", history.page(), {"StackName": FOUNDATION})
    expect(us, "describe_stack_events", storage.page(), {"StackName": STORAGE})
    events: list[Any] = []
    asked: list[ConfirmRequest] = []

    done = _recoverer(workspace_root, aws, events, asked, skip={"AuditLogGroup"}).recover()

    assert [(r.region, r.stack_name, r.before, r.after, r.action) for r in done] == [
        (US, "payments-dev-001-foundation", "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE", "continue-rollback"),
        (EU, "payments-dev-001-foundation", "UPDATE_COMPLETE", "", "none"),
        (US, "payments-dev-001-app", "", "", "none")]
    [blocked] = [e for e in events if isinstance(e, RollbackBlocked)]
    assert blocked.blockers == (("Storage.AuditLogGroup", "AWS::Logs::LogGroup", GONE),)
    assert "skipping Storage.AuditLogGroup" in asked[0].question
    assert [e.status for e in events if isinstance(e, StepFinished)] == ["UPDATE_ROLLBACK_COMPLETE"]
    stubs.done()


def test_unknown_skip_name_is_refused_before_anything_changes(workspace_root: Path) -> None:
    aws = AwsSession()
    stubs = Stubs(aws)
    _survey(stubs, stack(FOUNDATION, "UPDATE_ROLLBACK_FAILED"))
    with pytest.raises(Refused) as refused:
        _recoverer(workspace_root, aws, [], [], skip={"AuditLogGrup"}).recover()
    assert "--skip AuditLogGrup" in refused.value.message
    stubs.done()  # no ContinueUpdateRollback


def test_failed_first_creation_is_deleted_and_created_again(workspace_root: Path) -> None:
    aws = AwsSession()
    stubs = Stubs(aws)
    us = stubs.cfn[US]
    _survey(stubs, stack(FOUNDATION, "ROLLBACK_COMPLETE",
                         reason="The following resource(s) failed to create: [Network]. Rollback requested by user."))
    history = Events(FOUNDATION)
    history.stack_event(-60, "ROLLBACK_COMPLETE")
    history.stack_event(1, "DELETE_IN_PROGRESS", "User Initiated")
    history.stack_event(9, "DELETE_COMPLETE")
    expect(us, "describe_stack_events", history.page(upto=1), {"StackName": FOUNDATION})
    expect(us, "delete_stack", {}, {"StackName": FOUNDATION})
    expect(us, "describe_stack_events", history.page(), {"StackName": FOUNDATION})
    expect(us, "describe_stacks", describe_stacks(stack(FOUNDATION, "DELETE_COMPLETE", updated=at(9))),
           {"StackName": FOUNDATION})
    expect(us, "describe_stack_events", history.page(), {"StackName": FOUNDATION})
    asked: list[ConfirmRequest] = []
    again: list[int] = []

    done = _recoverer(workspace_root, aws, [], asked, skip=set(), again=again).recover()

    assert done[0].action == "delete" and done[0].after == "DELETE_COMPLETE"
    assert "failed to create: [Network]" in asked[0].question and "create it again" in asked[0].question
    assert again == [1]  # then apply plans, shows and asks as usual
    stubs.done()
