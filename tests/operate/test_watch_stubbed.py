"""`status --watch`: the status is fetched until nothing is in progress, and the new events of
stacks in progress (DescribeStackEvents, newest first, as AWS answers) are handed over oldest first,
each once; events from before the watch started are not replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from drift_transcripts import stack_arn
from operate_support import DEV, PRIMARY, Transcript

from payctl.aws.session import Target
from payctl.operate.status import StackEventFeed, StackRow, StatusReport, follow

STACK = "payments-dev-001-primary"
STACK_ID = stack_arn(STACK, "77777777-0000-4000-8000-000000000007")
START = datetime(2026, 4, 2, 8, 0, 0, tzinfo=UTC)


def row(status: str) -> StackRow:
    return StackRow("dev", "primary", PRIMARY, (), STACK, STACK_ID, status)


def event(number: int, logical: str, status: str, reason: str = "") -> dict[str, Any]:
    return {
        "StackId": STACK_ID,
        "EventId": f"event-{number}",
        "StackName": STACK,
        "LogicalResourceId": logical,
        "PhysicalResourceId": STACK_ID if logical == STACK else f"{logical}-physical",
        "ResourceType": "AWS::CloudFormation::Stack",
        "Timestamp": START + timedelta(seconds=number),
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
    }


def test_watch_follows_new_events_until_the_stack_is_done() -> None:
    t = Transcript()
    cfn = t("cloudformation", DEV, PRIMARY)
    old = event(1, STACK, "UPDATE_IN_PROGRESS", "User Initiated")
    cfn.add_response("describe_stack_events", {"StackEvents": [old]}, {"StackName": STACK_ID})
    second = [event(3, "Compute", "UPDATE_COMPLETE"), event(2, "Compute", "UPDATE_IN_PROGRESS"), old]
    cfn.add_response("describe_stack_events", {"StackEvents": second}, {"StackName": STACK_ID})
    reports = iter(
        [
            StatusReport("dev", (row("UPDATE_IN_PROGRESS"),)),
            StatusReport("dev", (row("UPDATE_IN_PROGRESS"),)),
            StatusReport("dev", (row("UPDATE_COMPLETE"),)),
        ]
    )
    feed = StackEventFeed(t.session(), lambda _row: Target(DEV, PRIMARY))
    shown: list[str] = []
    events: list[str] = []
    sleeps: list[float] = []

    def fetch() -> StatusReport:
        report = next(reports)
        events.extend(f"{e.logical_id} {e.status}" for _row, e in feed.read(report))
        return report

    final = follow(fetch, lambda r: shown.append(r.stacks[0].status), interval=3.0, sleep=sleeps.append)

    t.done()
    assert final.stacks[0].status == "UPDATE_COMPLETE" and not final.in_progress
    assert shown == ["UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]
    assert events == ["Compute UPDATE_IN_PROGRESS", "Compute UPDATE_COMPLETE"]  # the old one is not replayed
    assert sleeps == [3.0, 3.0]


def test_a_failed_end_is_reported() -> None:
    report = StatusReport("dev", (row("UPDATE_ROLLBACK_COMPLETE"),))
    assert follow(lambda: report, lambda _r: None, sleep=lambda _s: None).failed
