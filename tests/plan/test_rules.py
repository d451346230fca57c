"""Pure parts of planning: danger rules, permission and ingress rows, template-read changes, masking,
packaging, freshness and the plan file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plan_support import DEV

from payctl.automation import Workspace
from payctl.errors import PlanFileError
from payctl.package import package_stack, template_key
from payctl.plan import CurrentState, Danger, check_fresh, dumps, loads
from payctl.plan.build import Masker, StackInputs, build_stack, parameter_changes, template_changes
from payctl.plan.danger import assess
from payctl.plan.documents import load_document
from payctl.plan.model import EnvironmentPlan, Fingerprint, Plan, ResourceChange, StackPlan, WavePlan
from payctl.plan.security import security_changes


def role(*statements: dict[str, object], trust: str = "lambda.amazonaws.com") -> dict[str, object]:
    return {"AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": trust},
                                                        "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": list(statements)}}]}


READ = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::docs/*"}


def judged(action: str, resource_type: str, before: dict | None, after: dict | None, *,
           replacement: str | None = None, logical_id: str = "R") -> ResourceChange:
    change = ResourceChange(action, logical_id, resource_type, replacement=replacement)  # type: ignore[arg-type]
    wrap = lambda props: None if props is None else {"Type": resource_type, "Properties": props}  # noqa: E731
    return assess(change, wrap(before), wrap(after))


STATEFUL = ["AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::RDS::GlobalCluster", "AWS::DynamoDB::Table",
            "AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket", "AWS::KMS::Key"]


@pytest.mark.parametrize("resource_type", STATEFUL)
def test_stateful_replacement_and_removal_are_destructive(resource_type: str) -> None:
    assert judged("Modify", resource_type, {}, {}, replacement="True").danger == Danger.DESTRUCTIVE
    assert judged("Modify", resource_type, {}, {}, replacement="Conditional").danger == Danger.DESTRUCTIVE
    assert judged("Remove", resource_type, {}, None).danger == Danger.DESTRUCTIVE
    assert judged("Modify", resource_type, {}, {}, replacement="False").danger == Danger.NONE


def test_stateless_replacement_is_not_destructive() -> None:
    assert judged("Modify", "AWS::SNS::Topic", {}, {}, replacement="True").danger == Danger.NONE
    assert judged("Remove", "AWS::Lambda::Function", {}, None).danger == Danger.NONE


def test_log_groups_holding_audit_or_flow_logs() -> None:
    flow = judged("Remove", "AWS::Logs::LogGroup", {"LogGroupName": "/payments/prod-001/vpc-flow-logs"}, None)
    assert [f.rule for f in flow.findings] == ["PD003"]
    app = judged("Remove", "AWS::Logs::LogGroup", {"LogGroupName": "/payments/prod-001/service"}, None)
    assert app.danger == Danger.NONE
    # Found by reference too: the log group a FlowLog writes to, whatever its name.
    template = load_document("""Resources:
  Logs: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: /x/y}}
  Flow:
    Type: AWS::EC2::FlowLog
    Properties: {LogDestination: !GetAtt Logs.Arn, ResourceId: vpc-1, ResourceType: VPC, TrafficType: ALL}
""")
    from payctl.plan.danger import audit_log_groups

    groups = audit_log_groups(template)
    assert groups == frozenset({"Logs"})
    replaced = ResourceChange("Modify", "Logs", "AWS::Logs::LogGroup", replacement="True")
    change = assess(replaced, None, None, groups)
    assert change.danger == Danger.DESTRUCTIVE


def test_iam_broadening_is_security_sensitive_narrowing_is_not() -> None:
    write = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::docs/*"}
    wider = judged("Modify", "AWS::IAM::Role", role(READ), role(READ, write))
    assert wider.danger == Danger.SECURITY
    assert [(r.sign, r.action) for r in wider.security] == [("+", "s3:PutObject")]
    narrower = judged("Modify", "AWS::IAM::Role", role(READ, write), role(READ))
    assert narrower.danger == Danger.NONE and [r.sign for r in narrower.security] == ["-"]


def test_new_principal_and_lifted_deny_broaden() -> None:
    trusted = judged("Modify", "AWS::IAM::Role", role(READ), role(READ, trust="ec2.amazonaws.com"))
    assert ("+", "Service:ec2.amazonaws.com", "sts:AssumeRole") in [(r.sign, r.principal, r.action)
                                                                    for r in trusted.security]
    assert trusted.danger == Danger.SECURITY
    deny = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    lifted = judged("Modify", "AWS::IAM::ManagedPolicy", {"PolicyDocument": {"Statement": [READ, deny]}},
                    {"PolicyDocument": {"Statement": [READ]}})
    assert lifted.danger == Danger.SECURITY


def test_resource_policies_count_too() -> None:
    def policy(principal: object) -> dict[str, object]:
        statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}
        return {"Bucket": "docs", "PolicyDocument": {"Statement": [statement]}}

    before, after = policy({"AWS": "arn:aws:iam::111111111111:root"}), policy("*")
    change = judged("Modify", "AWS::S3::BucketPolicy", before, after)
    assert change.danger == Danger.SECURITY and "(wildcard)" in change.findings[0].message


def test_ingress_changes_are_security_sensitive() -> None:
    group = lambda cidr: {"GroupDescription": "g", "SecurityGroupIngress": [  # noqa: E731
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": cidr}]}
    opened = judged("Modify", "AWS::EC2::SecurityGroup", group("10.0.0.0/16"), group("0.0.0.0/0"))
    assert opened.danger == Danger.SECURITY and "open to the internet" in opened.findings[0].message
    assert sorted((r.sign, r.ports, r.source) for r in opened.security) == \
        [("+", "443", "0.0.0.0/0"), ("-", "443", "10.0.0.0/16")]
    tagged = {**group("10.0.0.0/16"), "Tags": []}
    same = judged("Modify", "AWS::EC2::SecurityGroup", tagged, group("10.0.0.0/16"))
    assert same.danger == Danger.NONE
    all_ports = security_changes("I", "AWS::EC2::SecurityGroupIngress", None,
                                 {"GroupId": "sg-1", "IpProtocol": "-1", "CidrIp": "10.1.0.0/16"})
    assert [(r.protocol, r.ports) for r in all_ports] == [("all", "all")]


def test_unknown_deployed_definition_is_treated_as_broadening() -> None:
    change = assess(ResourceChange("Modify", "R", "AWS::IAM::Role"), None, {"Type": "AWS::IAM::Role"})
    assert change.danger == Danger.SECURITY and "could not be read" in change.findings[0].message


def test_template_changes_know_create_only_properties() -> None:
    before = load_document("Resources:\n  B: {Type: AWS::S3::Bucket, Properties: {BucketName: a}}\n"
                           "  T: {Type: AWS::SNS::Topic, Properties: {DisplayName: x}}\n")
    after = load_document("Resources:\n  B: {Type: AWS::S3::Bucket, Properties: {BucketName: b}}\n"
                          "  T: {Type: AWS::SNS::Topic, Properties: {DisplayName: y}}\n"
                          "  Q: {Type: AWS::SQS::Queue}\n")
    changes = {c.logical_id: c for c in template_changes(before, after)}
    assert changes["B"].replacement == "True" and changes["B"].forcing_properties == ("BucketName",)
    assert changes["T"].replacement == "False" and changes["T"].details[0].name == "DisplayName"
    assert changes["Q"].action == "Add"
    removed = template_changes(after, before)
    assert [(c.action, c.logical_id) for c in removed if c.action == "Remove"] == [("Remove", "Q")]


def test_no_echo_parameters_are_masked_or_left_out() -> None:
    masker = Masker(frozenset({"hunter2-secret"}), frozenset({"Password"}))
    deployed, planned = {"Password": "****", "Size": "1"}, {"Password": "hunter2-secret", "Size": "2"}
    changes = parameter_changes(deployed, planned, masker)
    assert [(c.name, c.before, c.after) for c in changes] == [("Size", "1", "2")]
    added = parameter_changes({}, {"Password": "hunter2-secret"}, masker)
    assert [(c.name, c.before, c.after, c.no_echo) for c in added] == [("Password", None, "****", True)]
    assert masker.text("value hunter2-secret inside") == "value **** inside"


def test_ssm_parameters_compare_by_path() -> None:
    changes = parameter_changes({"VpcId": "vpc-0abc"}, {"VpcId": "/dev/network/vpc-id"}, Masker(),
                                frozenset({"VpcId"}))
    assert changes == ()
    path = "/dev/network/vpc-id"
    changes = parameter_changes({"VpcId": path}, {"VpcId": path + "-2"}, Masker(), frozenset({"VpcId"}))
    assert [c.after for c in changes] == ["/dev/network/vpc-id-2"]


def test_template_only_create_lists_every_resource() -> None:
    master = "Resources:\n  Net: {Type: AWS::CloudFormation::Stack, Properties: {TemplateURL: x}}\n"
    nested = "Resources:\n  Vpc: {Type: AWS::EC2::VPC}\n  Bucket: {Type: AWS::S3::Bucket}\n"
    plan = build_stack(StackInputs("s", master, nested={"Net": StackInputs("Net", nested)}), None,
                       masker=Masker(), change_set_type="CREATE")
    assert plan.status == "create" and plan.children[0].status == "create"
    assert [c.logical_id for c in plan.children[0].changes] == ["Vpc", "Bucket"]


def test_packaging_is_content_addressed(workspace_root: Path) -> None:
    rendered = Workspace(workspace_root, search=False).environment("dev").render()
    app = next(stack for stack in rendered.stacks if stack.wave == "app")
    packaged = package_stack(app, workspace_root, DEV)
    nested_text = app.templates.nested["App"].text
    url = packaged.nested_urls["App"]
    bucket = f"https://payctl-artifacts-{DEV}-us-east-1.s3.us-east-1.amazonaws.com"
    assert url == f"{bucket}/{template_key(nested_text)}"
    assert f"TemplateURL: {url}" in packaged.master_text
    assert "TemplateURL: app.yaml" not in packaged.master_text
    assert "TemplateURL: app.yaml" in app.master.text  # the rendered template is left as it was
    keys = sorted(artifact.key for artifact in packaged.artifacts)
    assert keys[0].startswith("lambdas/fn/") and keys[0] in nested_text
    assert keys[1] == template_key(nested_text)
    again = package_stack(Workspace(workspace_root, search=False).environment("dev").render().stacks[-1],
                          workspace_root, DEV)
    assert again.template_sha256 == packaged.template_sha256
    assert again.parameters_sha256 == packaged.parameters_sha256


def test_master_urls_are_rewritten_like_a_structured_edit(workspace_root: Path) -> None:
    """The fast text rewrite of TemplateURL must give exactly what editing the template would."""
    import copy

    from payctl.yamlio import dump

    for stack in Workspace(workspace_root, search=False).environment("prod").render().stacks:
        packaged = package_stack(stack, workspace_root, "333333333333")
        body = copy.deepcopy(stack.master.body)
        for logical_id, url in packaged.nested_urls.items():
            body["Resources"][logical_id]["Properties"]["TemplateURL"] = url
        assert packaged.master_text == dump(body)


def _plan(sha: str = "a" * 64, deployed: str | None = "stack-1") -> Plan:
    stack = StackPlan("s", "update", "change-set")
    wave = WavePlan("foundation", "us-east-1", stack, Fingerprint(sha, "b" * 64, "cs-1", deployed, "t1"))
    return Plan((EnvironmentPlan("dev", DEV, (wave,)),))


def test_check_fresh_names_every_difference() -> None:
    key = ("dev", "foundation", "us-east-1")
    assert check_fresh(_plan(), {key: CurrentState("a" * 64, "b" * 64, "stack-1", "t1")}) == []
    moved = check_fresh(_plan(), {key: CurrentState("c" * 64, "b" * 64, "stack-1", "t2")})
    assert [d.what for d in moved] == ["template", "deployed stack's last change"]
    assert "dev/foundation/us-east-1: template changed since the plan" in str(moved[0])
    gone = check_fresh(_plan(), {("dev", "app", "us-east-1"): CurrentState("a", "b", None, None)})
    assert {d.what for d in gone} == {"stack"}


def test_plan_file_errors_are_clear() -> None:
    with pytest.raises(PlanFileError, match="not a plan file"):
        loads("{nope")
    with pytest.raises(PlanFileError, match="schema version 2 is not supported"):
        loads(json.dumps({"schemaVersion": 2}))
    document = json.loads(dumps(_plan()))
    document["environments"][0]["waves"][0]["stack"]["status"] = "exploded"
    with pytest.raises(PlanFileError, match=r"stack\.status: 'exploded' is not one of"):
        loads(json.dumps(document))
    assert loads(dumps(_plan())) == _plan()
