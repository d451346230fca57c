"""Change sets through nested stacks, with botocore Stubber transcripts shaped like AWS's responses:
the paths moto does not produce (nested change sets, replacement details, nested failures)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from plan_transcripts import (
    COMPUTE,
    COMPUTE_AFTER,
    COMPUTE_BEFORE,
    COMPUTE_CS,
    DATABASE,
    DATABASE_AFTER,
    DATABASE_BEFORE,
    DATABASE_CS,
    DATABASE_STACK,
    MASTER_AFTER,
    MASTER_BEFORE,
    REPORTING_BEFORE,
    ROOT_ID,
    ROOT_PAGE_1,
    ROOT_PAGE_2,
    ROOT_STACK_ID,
    SECRET,
    STACK,
    STORAGE,
    STORAGE_CS,
    STORAGE_TEMPLATE,
    _head,
)
from rich.console import Console

from payctl.aws.changesets import ChangeSetRequest, ChangeSetTree, compute_change_set
from payctl.aws.poll import Backoff
from payctl.errors import ChangeSetFailed, WaitTimedOut
from payctl.plan import Danger, dumps, loads
from payctl.plan.build import Masker, StackInputs, build_stack
from payctl.plan.model import EnvironmentPlan, Fingerprint, IamChange, IngressChange, Plan, WavePlan
from payctl.ui.plan import change_lines, render_plan, summary_line

FAST = Backoff(first=0.001, factor=1.0, ceiling=0.001, deadline=5)
NAME = ROOT_ID.split("/")[1]
PARAMETERS = {"EnvironmentName": "prod", "WebhookSecret": SECRET, "ServiceDesiredCount": "4"}
TAGS = {"Environment": "prod", "Application": "payments", "CostCenter": "CC-PAYMENTS"}


@pytest.fixture
def cfn() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cloudformation", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def request(kind: str = "UPDATE") -> ChangeSetRequest:
    return ChangeSetRequest(STACK, kind, PARAMETERS, TAGS, template_body=MASTER_AFTER)  # type: ignore[arg-type]


def expect_create(stubber: Stubber, kind: str = "UPDATE") -> None:
    stubber.add_response("create_change_set", {"Id": ROOT_ID, "StackId": ROOT_STACK_ID}, {
        "StackName": STACK, "ChangeSetName": NAME, "ChangeSetType": kind,
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Tags": [{"Key": k, "Value": v} for k, v in TAGS.items()],
        "IncludeNestedStacks": True, "TemplateBody": MASTER_AFTER,
    })


def expect_describe(stubber: Stubber, change_set: str, response: dict[str, Any],
                    token: str | None = None) -> None:
    params: dict[str, Any] = {"ChangeSetName": change_set, "IncludePropertyValues": True}
    if token:
        params["NextToken"] = token
    stubber.add_response("describe_change_set", response, params)


def nested_tree(client: Any, stubber: Stubber) -> ChangeSetTree:
    expect_create(stubber)
    expect_describe(stubber, ROOT_ID, {**_head(ROOT_ID, STACK, ROOT_STACK_ID, status="CREATE_IN_PROGRESS")})
    expect_describe(stubber, ROOT_ID, ROOT_PAGE_1)
    expect_describe(stubber, ROOT_ID, ROOT_PAGE_2, token="page-2")
    expect_describe(stubber, DATABASE_CS, DATABASE)
    expect_describe(stubber, COMPUTE_CS, COMPUTE)
    expect_describe(stubber, STORAGE_CS, STORAGE)
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": ROOT_ID})
    outcome = compute_change_set(client, request(), name=NAME, backoff=FAST)
    assert outcome.tree is not None and not outcome.kept
    return outcome.tree


def scenario_plan(tree: ChangeSetTree) -> Plan:
    inputs = StackInputs(
        STACK, MASTER_AFTER, template_before=MASTER_BEFORE, stack_name=STACK, stack_id=ROOT_STACK_ID,
        parameters_after=PARAMETERS, parameters_before={"EnvironmentName": "prod", "WebhookSecret": "****",
                                                        "ServiceDesiredCount": "3"},
        nested={
            "Database": StackInputs("Database", DATABASE_AFTER, template_before=DATABASE_BEFORE,
                                    stack_name=DATABASE_STACK),
            "Compute": StackInputs("Compute", COMPUTE_AFTER, template_before=COMPUTE_BEFORE,
                                   parameters_before={"ServiceDesiredCount": "3", "WebhookSecret": "****"}),
            "Storage": StackInputs("Storage", STORAGE_TEMPLATE, template_before=STORAGE_TEMPLATE),
            "Reporting": StackInputs("Reporting", None, template_before=REPORTING_BEFORE),
        })
    stack = build_stack(inputs, tree, masker=Masker(frozenset({SECRET}), frozenset({"WebhookSecret"})),
                        change_set_type="UPDATE")
    printed = Fingerprint("a" * 64, "b" * 64, ROOT_ID, ROOT_STACK_ID, "2026-01-01T00:00:00+00:00")
    wave = WavePlan("primary", "us-east-1", stack, printed)
    return Plan((EnvironmentPlan("prod", "333333333333", (wave,)),), created_at="2026-01-15T10:00:00+00:00")


def test_every_page_and_nested_change_set_is_read(cfn: tuple[Any, Stubber]) -> None:
    tree = nested_tree(*cfn)
    assert [c["LogicalResourceId"] for c in tree.changes] == ["Database", "Compute", "Storage", "Reporting"]
    assert set(tree.nested) == {"Database", "Compute", "Storage"}
    assert tree.nested["Storage"].no_changes and not tree.nested["Storage"].failed
    assert [c["LogicalResourceId"] for c in tree.nested["Database"].changes] == \
        ["AuroraCluster", "WriterInstance", "ReportingIngress"]


def test_nested_plan_model_and_danger(cfn: tuple[Any, Stubber]) -> None:
    plan = scenario_plan(nested_tree(*cfn))
    root = plan.environments[0].waves[0].stack
    children = {child.name: child for child in root.children}
    assert set(children) == {"Database", "Compute", "Storage", "Reporting"}
    assert children["Storage"].status == "no-changes"
    assert children["Reporting"].status == "delete" and children["Reporting"].source == "template"

    database = {c.logical_id: c for c in children["Database"].changes}
    cluster = database["AuroraCluster"]
    assert (cluster.action, cluster.replacement) == ("Modify", "True")
    assert cluster.policy_action == "ReplaceAndSnapshot"
    assert cluster.forcing_properties == ("DBClusterIdentifier",)
    detail = cluster.details[0]
    assert (detail.attribute, detail.name, detail.requires_recreation) == \
        ("Properties", "DBClusterIdentifier", "Always")
    assert (detail.evaluation, detail.change_source) == ("Static", "DirectModification")
    assert (detail.before, detail.after) == ("payment-db-cluster-prod-001", "payment-db-prod-001")
    assert [f.rule for f in cluster.findings] == ["PD001"] and cluster.danger == Danger.DESTRUCTIVE
    writer = database["WriterInstance"]
    assert writer.details[0].causing_entity == "AuroraCluster" and writer.danger == Danger.DESTRUCTIVE
    assert "may be replaced" in writer.findings[0].message
    ingress = database["ReportingIngress"]
    assert ingress.security == (IngressChange("ingress", "+", "ReportingIngress",
                                              "!Ref DatabaseSecurityGroupId", "tcp", "5432", "10.50.0.0/16",
                                              "reporting VPC"),)
    assert ingress.danger == Danger.SECURITY

    compute = {c.logical_id: c for c in children["Compute"].changes}
    role = compute["TaskRole"]
    assert role.security == (IamChange("iam", "+", "TaskRole", "Allow", "role TaskRole", "s3:*", "*"),)
    assert role.danger == Danger.SECURITY and "(wildcard)" in role.findings[0].message
    assert compute["Service"].details[0].causing_entity == "ServiceDesiredCount"
    assert compute["Service"].danger == Danger.NONE

    reporting = {c.logical_id: c for c in children["Reporting"].changes}
    assert reporting["ReportTable"].action == "Remove"
    assert reporting["ReportTable"].findings[0].rule == "PD002"
    assert reporting["AuditLogGroup"].findings[0].rule == "PD003"

    assert [(p.name, p.before, p.after) for p in root.parameters] == [("ServiceDesiredCount", "3", "4")]
    summary = plan.summary()
    # Counted: the nested stacks' resources, not the nested stack resources shown as blocks.
    assert (summary.add, summary.change, summary.replace, summary.remove) == (1, 2, 3, 2)
    assert (summary.destructive, summary.security) == (4, 2)


def test_no_echo_values_never_reach_the_plan(cfn: tuple[Any, Stubber]) -> None:
    plan = scenario_plan(nested_tree(*cfn))
    text = dumps(plan)
    console = Console(record=True, width=200)
    render_plan(plan, console)
    shown = console.export_text()
    for output in (text, shown):
        assert SECRET not in output
        assert "old-webhook-value" not in output  # the value before: also a NoEcho parameter's
    task = next(c for child in plan.environments[0].waves[0].stack.children for c in child.changes
                if c.logical_id == "TaskDefinition")
    assert (task.details[0].before, task.details[0].after) == ("****", "****")
    assert task.after_context is not None and "****" in task.after_context


def test_rendered_text_reads_like_a_diff(cfn: tuple[Any, Stubber]) -> None:
    plan = scenario_plan(nested_tree(*cfn))
    console = Console(record=True, width=220)
    render_plan(plan, console, diff=False)
    text = console.export_text()
    lines = [line.strip() for line in text.splitlines()]
    assert ("[~] AWS::RDS::DBCluster AuroraCluster replace (DBClusterIdentifier)"
            "  payment-db-cluster-prod-001") in lines
    assert ("[~] AWS::RDS::DBInstance WriterInstance may replace (DBClusterIdentifier)"
            "  payment-db-writer-prod-001") in lines
    assert "[+] AWS::EC2::SecurityGroupIngress ReportingIngress" in lines
    assert "[-] AWS::DynamoDB::Table ReportTable" in lines
    assert any(line.startswith(f"┗ nested stack Database ({DATABASE_STACK})") for line in lines)
    assert "~ DesiredCount: 3 → 4  (ParameterReference, via ServiceDesiredCount)" in lines
    assert "[~] parameter ServiceDesiredCount: 3 → 4" in lines
    assert "Security changes" in lines and "IAM permission changes" in lines
    assert any("TaskRole" in line and "s3:*" in line for line in lines)
    assert any("ReportingIngress" in line and "5432" in line and "10.50.0.0/16" in line for line in lines)
    expected = "Plan: 1 to add, 2 to change, 3 to replace (4 destructive), 2 to remove"
    assert summary_line(plan.summary()) == expected
    assert lines[-2] == expected


def test_replace_is_bold_red(cfn: tuple[Any, Stubber]) -> None:
    plan = scenario_plan(nested_tree(*cfn))
    cluster = next(c for child in plan.environments[0].waves[0].stack.children for c in child.changes
                   if c.logical_id == "AuroraCluster")
    line = change_lines(cluster, "", nested=False)[0]
    styled = {line.plain[span.start:span.end].strip(): str(span.style) for span in line.spans}
    assert styled["replace"] == "bold red"


def test_json_is_versioned_and_round_trips(cfn: tuple[Any, Stubber]) -> None:
    plan = scenario_plan(nested_tree(*cfn))
    text = dumps(plan)
    document = json.loads(text)
    assert next(iter(document)) == "schemaVersion" and document["schemaVersion"] == 1
    assert document["summary"]["destructive"] == 4 and document["summary"]["hasChanges"] is True
    database = next(c for c in document["environments"][0]["waves"][0]["stack"]["children"]
                    if c["name"] == "Database")
    cluster = database["changes"][0]
    assert cluster["danger"] == "destructive" and cluster["replacement"] == "True"
    assert cluster["details"][0]["requiresRecreation"] == "Always"
    assert cluster["findings"][0] == {"rule": "PD001", "danger": "destructive",
                                      "message": cluster["findings"][0]["message"]}
    assert loads(text) == plan


def test_failed_nested_change_set_names_its_cause(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    expect_create(stubber)
    reason = (f"Nested change set {DATABASE_CS} was not successfully created: Currently in FAILED.")
    expect_describe(stubber, ROOT_ID, _head(ROOT_ID, STACK, ROOT_STACK_ID, status="FAILED", reason=reason))
    nested_reason = "Template format error: Unresolved resource dependencies [DbSubnetGroup] in the Resources"
    nested_stack = "arn:aws:cloudformation:us-east-1:333333333333:stack/" + DATABASE_STACK + "/x"
    expect_describe(stubber, DATABASE_CS, {**_head(DATABASE_CS, DATABASE_STACK, nested_stack, status="FAILED",
                                                   reason=nested_reason, parent=ROOT_ID), "Changes": []})
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": ROOT_ID})
    with pytest.raises(ChangeSetFailed) as raised:
        compute_change_set(client, request(), name=NAME, backoff=FAST)
    message = raised.value.message
    assert reason in message
    assert f"nested stack {DATABASE_STACK}: {nested_reason}" in message


def test_failed_create_removes_the_empty_stack(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    expect_create(stubber, "CREATE")
    missing = "Parameters: [ssm:/prod/network/vpc-id] cannot be found."
    expect_describe(stubber, ROOT_ID, _head(ROOT_ID, STACK, ROOT_STACK_ID, status="FAILED", reason=missing))
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": ROOT_ID})
    stubber.add_response("delete_stack", {}, {"StackName": ROOT_STACK_ID})
    with pytest.raises(ChangeSetFailed, match=r"ssm:/prod/network/vpc-id\] cannot be found"):
        compute_change_set(client, request("CREATE"), name=NAME, backoff=FAST)


def test_no_updates_at_creation_is_a_result(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    stubber.add_client_error("create_change_set", "ValidationError", "No updates are to be performed.",
                             http_status_code=400)
    outcome = compute_change_set(client, request(), name=NAME, backoff=FAST)
    assert outcome.no_changes and outcome.change_set_id is None


def test_change_set_without_changes_is_deleted_even_when_kept(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    expect_create(stubber)
    expect_describe(stubber, ROOT_ID, {**_head(ROOT_ID, STACK, ROOT_STACK_ID, status="FAILED",
                                               reason=STORAGE["StatusReason"])})
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": ROOT_ID})
    outcome = compute_change_set(client, request(), name=NAME, backoff=FAST, keep=True)
    assert outcome.no_changes and not outcome.kept


def test_slow_change_set_times_out_and_is_cleaned_up(cfn: tuple[Any, Stubber]) -> None:
    client, stubber = cfn
    expect_create(stubber)
    expect_describe(stubber, ROOT_ID, {**_head(ROOT_ID, STACK, ROOT_STACK_ID, status="CREATE_PENDING")})
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": ROOT_ID})
    with pytest.raises(WaitTimedOut, match="still not finished"):  # the deadline passes after the first look
        compute_change_set(client, request(), name=NAME, backoff=Backoff(deadline=1e-9))
