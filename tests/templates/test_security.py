"""The security layer (KMS key, permissions boundary, opt-in service-linked roles) and the
bootstrap templates, checked over what payctl renders for every environment and region."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cfn_flip
import pytest
from checks_security import (
    Context,
    as_list,
    boundary_exemptions,
    boundary_verdict,
    check_key_policy_least_privilege,
    check_keys_rotate,
    check_no_retain,
    check_roles_have_boundary,
    check_wildcards_explained,
    identity_policies,
    policy_size,
    principals,
    props,
    resolve,
    resolved_resources,
    resources,
    ssm_parameters,
    statements,
    with_defaults,
)
from ruamel.yaml import YAML

from payctl.automation import Workspace
from payctl.config.parameters import artifact_bucket

ROOT = Path(__file__).resolve().parents[2]
ADMIN_ACCOUNT = "444444444444"
ENVIRONMENTS = ("dev", "staging", "prod")
REGIONS = ("us-east-1", "eu-west-1")
COMBINATIONS = [(env, region) for env in ENVIRONMENTS for region in REGIONS]
MY_FRAGMENTS = ("security", "parameters", "bootstrap")
OUTPUTS = {"KmsKeyArn", "KmsKeyId", "KmsKeyAliasName", "PermissionsBoundaryArn"}

# Actions of the AWS-managed policies platform roles attach (AWS documentation of each policy).
AWS_MANAGED_POLICY_ACTIONS = {
    "AmazonRDSEnhancedMonitoringRole": [
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
        "logs:GetLogEvents",
    ],
}

# CloudFormation type namespace -> IAM service prefix the execution role needs for it.
IAM_PREFIX = {
    "ApplicationAutoScaling": "application-autoscaling",
    "CloudFormation": "cloudformation",
    "CloudTrail": "cloudtrail",
    "CloudWatch": "cloudwatch",
    "Config": "config",
    "DynamoDB": "dynamodb",
    "EC2": "ec2",
    "ECR": "ecr",
    "ECS": "ecs",
    "ElasticLoadBalancingV2": "elasticloadbalancing",
    "Events": "events",
    "IAM": "iam",
    "KMS": "kms",
    "Lambda": "lambda",
    "Logs": "logs",
    "RDS": "rds",
    "S3": "s3",
    "SNS": "sns",
    "SQS": "sqs",
    "SSM": "ssm",
    "Scheduler": "scheduler",
    "SecretsManager": "secretsmanager",
    "ServiceDiscovery": "servicediscovery",
    "XRay": "xray",
}


@dataclass(frozen=True)
class Layer:
    """One nested stack of one environment and region, with what CloudFormation would know."""

    env: str
    region: str
    wave: str
    stack: str
    template: dict[str, Any]
    ctx: Context

    def resolved(self, *types: str) -> dict[str, dict[str, Any]]:
        return resolved_resources(self.template, self.ctx, *types)


@cache
def workspace() -> Workspace:
    return Workspace(ROOT, search=False)


@cache
def rendered() -> tuple[dict[tuple[str, str, str], Layer], dict[tuple[str, str, str], dict[str, Any]]]:
    """Every nested stack by (env, region, stack), and every wave master by (env, region, wave)."""
    layers: dict[tuple[str, str, str], Layer] = {}
    masters: dict[tuple[str, str, str], dict[str, Any]] = {}
    for result in workspace().render():
        account = result.environment.account_id
        for stack in result.stacks:
            masters[(stack.environment, stack.region, stack.wave)] = cfn_flip.load_yaml(stack.master.text)
            for name, nested in stack.templates.nested.items():
                template = cfn_flip.load_yaml(nested.text)
                values = with_defaults(template, stack.parameters.get(nested.name, {}))
                layers[(stack.environment, stack.region, name)] = Layer(
                    stack.environment,
                    stack.region,
                    stack.wave,
                    name,
                    template,
                    Context(values, stack.region, account),
                )
    return layers, masters


def layer(env: str, region: str, stack: str = "Security") -> Layer:
    return rendered()[0][(env, region, stack)]


def all_layers() -> list[Layer]:
    return list(rendered()[0].values())


@cache
def standalone(folder: str) -> dict[str, Any]:
    return dict(cfn_flip.load_yaml(workspace().standalone_templates()[folder].text))


def standalone_ctx(folder: str, region: str, account: str, **values: Any) -> Context:
    return Context(with_defaults(standalone(folder), values), region, account)


def account_of(env: str) -> str:
    return workspace().environments[env].account_id


def key_policy(env: str, region: str) -> list[dict[str, Any]]:
    return statements(layer(env, region).resolved("AWS::KMS::Key")["Key"]["Properties"]["KeyPolicy"])


def boundary(env: str, region: str) -> dict[str, Any]:
    return layer(env, region).resolved()["PermissionsBoundary"]["Properties"]


def statement(document_statements: list[dict[str, Any]], sid: str) -> dict[str, Any]:
    found = [s for s in document_statements if s.get("Sid") == sid]
    assert len(found) == 1, f"expected one statement {sid}, found {len(found)}"
    return found[0]


def my_fragments() -> list[Path]:
    return sorted(path for folder in MY_FRAGMENTS for path in (ROOT / "stacks" / folder).rglob("*.yaml"))


# --- rendering ------------------------------------------------------------------------------
def test_security_runs_in_the_foundation_wave_of_every_environment_and_region() -> None:
    found = sorted((key[0], key[1]) for key, item in rendered()[0].items() if key[2] == "Security")
    assert found == sorted(COMBINATIONS)
    assert {layer(*key).wave for key in COMBINATIONS} == {"foundation"}


def test_the_template_is_identical_everywhere_only_parameters_differ() -> None:
    assert len({str(layer(*key).template) for key in COMBINATIONS}) == 1


def test_my_templates_never_retain() -> None:
    templates = [
        layer(env, region, stack).template
        for env, region in COMBINATIONS
        for stack in ("Security", "Parameters")
    ]
    templates += [standalone(f"bootstrap/{part}") for part in ("admin", "target", "artifacts")]
    assert [problem for template in templates for problem in check_no_retain(template)] == []


# --- KMS key ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_the_key_rotates_yearly_and_stays_in_its_region(env: str, region: str) -> None:
    key = layer(env, region).resolved()["Key"]["Properties"]
    assert check_keys_rotate(layer(env, region).template) == []
    assert (key["RotationPeriodInDays"], key["MultiRegion"]) == (365, False)


@pytest.mark.parametrize(("env", "days"), [("dev", 7), ("staging", 7), ("prod", 30)])
def test_a_deleted_key_stays_recoverable_longer_in_prod(env: str, days: int) -> None:
    for region in REGIONS:
        assert layer(env, region).resolved()["Key"]["Properties"]["PendingWindowInDays"] == days
        assert layer(env, region).template["Resources"]["Key"]["DeletionPolicy"] == "Delete"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_alias_is_the_same_deterministic_name_in_both_regions(env: str) -> None:
    suffix = workspace().environments[env].environment_suffix
    aliases = set()
    for region in REGIONS:
        alias = layer(env, region).resolved("AWS::KMS::Alias")["KeyAlias"]["Properties"]
        assert alias["TargetKeyId"] == "<Key>"
        aliases.add(alias["AliasName"])
    assert aliases == {f"alias/payments-{suffix}"}


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_the_key_policy_grants_no_wildcards_and_data_only_through_services(env: str, region: str) -> None:
    assert check_key_policy_least_privilege(layer(env, region).template) == []
    assert not [
        s for s in key_policy(env, region) if principals(s).get("AWS") == ["*"] or "*" in principals(s)
    ]


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_account_administration_never_reaches_the_data(env: str, region: str) -> None:
    admin = statement(key_policy(env, region), "AccountAdministersKey")
    assert principals(admin) == {"AWS": [f"arn:aws:iam::{account_of(env)}:root"]}
    assert not {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom"} & set(
        admin["Action"]
    )
    assert {"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"} <= set(admin["Action"])


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_the_platform_services_use_the_key_in_this_region_only(env: str, region: str) -> None:
    expected = {
        f"{service}.{region}.amazonaws.com"
        for service in ("sns", "sqs", "s3", "dynamodb", "rds", "secretsmanager", "ssm", "lambda", "events")
    }
    for sid in ("AccountUsesKeyThroughPlatformServices", "AccountLetsPlatformServicesCreateGrants"):
        condition = statement(key_policy(env, region), sid)["Condition"]["StringEquals"]
        assert set(condition["kms:ViaService"]) == expected
        assert condition["kms:CallerAccount"] == account_of(env)
    grants = statement(key_policy(env, region), "AccountLetsPlatformServicesCreateGrants")
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_cloudwatch_logs_may_encrypt_only_this_accounts_log_groups_here(env: str, region: str) -> None:
    logs = statement(key_policy(env, region), "CloudWatchLogsEncryptsThisAccountsLogGroups")
    assert principals(logs) == {"Service": [f"logs.{region}.amazonaws.com"]}
    assert logs["Condition"] == {
        "ArnLike": {
            "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{region}:{account_of(env)}:log-group:*"
        }
    }


def test_encrypted_topics_accept_alarms_and_eventbridge_deliveries() -> None:
    # Without these the topics layer's deliveries fail silently (FailedInvocations, no e-mail).
    document = key_policy("prod", "us-east-1")
    delivering = {
        service
        for s in document
        if s["Effect"] == "Allow" and {"kms:Decrypt", "kms:GenerateDataKey"} <= set(as_list(s["Action"]))
        for service in principals(s).get("Service", [])
    }
    assert {"cloudwatch.amazonaws.com", "events.amazonaws.com", "sns.amazonaws.com"} <= delivering


# --- outputs and exports ----------------------------------------------------------------------
def test_outputs_are_the_names_the_foundation_layers_wire() -> None:
    outputs = layer("prod", "us-east-1").template["Outputs"]
    assert set(outputs) == OUTPUTS
    assert {name: output["Value"] for name, output in outputs.items()} == {
        "KmsKeyArn": {"Fn::GetAtt": ["Key", "Arn"]},
        "KmsKeyId": {"Ref": "Key"},
        "KmsKeyAliasName": {"Ref": "KeyAlias"},
        "PermissionsBoundaryArn": {"Ref": "PermissionsBoundary"},
    }


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_foundation_layers_receive_the_key_and_boundary_from_security(env: str, region: str) -> None:
    master = rendered()[1][(env, region, "foundation")]
    consumers = 0
    for stack, resource in master["Resources"].items():
        passed = props(resource).get("Parameters") or {}
        for name in OUTPUTS & set(passed):
            consumers += 1
            assert passed[name] == {"Fn::GetAtt": ["Security", f"Outputs.{name}"]}, f"{stack}.{name}"
    assert consumers >= 2  # at least the network and parameters layers


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_later_waves_import_the_key_and_boundary_from_the_ssm_exports(env: str, region: str) -> None:
    waves = YAML(typ="safe").load((ROOT / "stacks" / "waves.yaml").read_text(encoding="utf-8"))["waves"]
    imports = {name: item["path"] for wave in waves for name, item in (wave.get("imports") or {}).items()}
    exports = ssm_parameters(layer(env, region).template, layer(env, region).ctx)
    assert exports[f"/{env}/{imports['KmsKeyArn']}"]["Value"] == "<Key.Arn>"
    assert exports[f"/{env}/{imports['PermissionsBoundaryArn']}"]["Value"] == "<PermissionsBoundary>"
    assert {props["Type"] for props in exports.values()} == {"String"}


# --- permissions boundary ---------------------------------------------------------------------
def test_each_region_owns_its_own_boundary_because_iam_is_global() -> None:
    for env in ENVIRONMENTS:
        names = {region: boundary(env, region)["ManagedPolicyName"] for region in REGIONS}
        suffix = workspace().environments[env].environment_suffix
        assert names == {region: f"permissions-boundary-{suffix}-{region}" for region in REGIONS}


@pytest.mark.parametrize(
    "action",
    [
        "iam:CreateUser",
        "iam:CreateAccessKey",
        "iam:CreateLoginProfile",
        "iam:DeleteRolePermissionsBoundary",
        "iam:PutRolePermissionsBoundary",
        "organizations:LeaveOrganization",
        "account:CloseAccount",
        "iam:UpdateAccountPasswordPolicy",
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "config:StopConfigurationRecorder",
        "ec2:DeleteFlowLogs",
        "logs:DeleteLogGroup",
        "kms:ScheduleKeyDeletion",
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:PutKeyPolicy",
        "s3:PutBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
    ],
)
def test_the_boundary_denies_tampering_outright(action: str) -> None:
    assert boundary_verdict(boundary("prod", "us-east-1")["PolicyDocument"], action) == "deny"


@pytest.mark.parametrize(
    "action",
    [
        "iam:CreateRole",
        "iam:AttachRolePolicy",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:PassRole",
        "iam:CreatePolicyVersion",
        "sts:AssumeRole",
        "kms:CreateGrant",
        "lambda:UpdateFunctionCode",
        "dynamodb:DeleteTable",
        "rds:DeleteDBCluster",
        "s3:DeleteBucket",
        "s3:DeleteObjectVersion",
        "secretsmanager:PutSecretValue",
        "ssm:PutParameter",
        "ec2:RunInstances",
    ],
)
def test_no_platform_role_can_escalate_or_destroy(action: str) -> None:
    assert boundary_verdict(boundary("prod", "us-east-1")["PolicyDocument"], action) != "allow"


def test_boundary_policies_themselves_cannot_be_edited_by_a_bounded_role() -> None:
    edits = statement(statements(boundary("prod", "us-east-1")["PolicyDocument"]), "DenyBoundaryPolicyEdits")
    assert edits["Effect"] == "Deny" and "iam:CreatePolicyVersion" in edits["Action"]
    for region in REGIONS:
        arn = f"arn:aws:iam::{account_of('prod')}:policy/{boundary('prod', region)['ManagedPolicyName']}"
        assert fnmatch.fnmatchcase(arn, edits["Resource"])


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_the_boundary_allows_only_the_environments_regions(env: str, region: str) -> None:
    allows = [s for s in statements(boundary(env, region)["PolicyDocument"]) if s["Effect"] == "Allow"]
    global_only = [s for s in allows if not s.get("Condition")]
    assert {a.split(":")[0] for s in global_only for a in as_list(s["Action"])} <= {"iam", "sts"}
    assert not [
        a
        for s in global_only
        for a in as_list(s["Action"])
        if not a.split(":")[1].startswith(("Get", "List"))
    ]
    for s in allows:
        if s.get("Condition"):
            assert s["Condition"] == {"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}
    assert not [a for s in allows for a in as_list(s["Action"]) if a == "*" or a.endswith(":*")]


def test_the_boundary_fits_the_managed_policy_size_quota() -> None:
    assert max(policy_size(boundary(*key)["PolicyDocument"]) for key in COMBINATIONS) < 6144


def test_the_boundary_admits_every_action_the_platforms_roles_are_given() -> None:
    """A role keeps only what its boundary also allows: anything blocked here would fail at runtime."""
    blocked = []
    for item in all_layers():
        ceiling = boundary(item.env, item.region)["PolicyDocument"]
        granted = [
            (where, s)
            for where, document in identity_policies(item.template)
            if where != "PermissionsBoundary"
            for s in statements(document)
        ]
        for role in resources(item.template, "AWS::IAM::Role").values():
            attached = " ".join(str(arn) for arn in as_list(props(role).get("ManagedPolicyArns")))
            granted += [
                (policy, {"Effect": "Allow", "Action": policy_actions})
                for policy, policy_actions in AWS_MANAGED_POLICY_ACTIONS.items()
                if policy in attached
            ]
        blocked += [
            f"{item.env}/{item.region}/{item.stack} {where}: {action}"
            for where, s in granted
            if s.get("Effect") == "Allow"
            for action in as_list(s.get("Action"))
            if boundary_verdict(ceiling, str(action)) != "allow"
        ]
    assert blocked == []


def test_every_role_the_platform_creates_carries_the_environment_boundary() -> None:
    problems = [
        f"{item.env}/{item.region}/{item.stack}: {problem}"
        for item in all_layers()
        for problem in check_roles_have_boundary(item.template, {"Ref": "PermissionsBoundaryArn"})
    ]
    assert problems == []
    assert sum(len(resources(item.template, "AWS::IAM::Role")) for item in all_layers()) > 0


# --- service-linked roles -----------------------------------------------------------------------
@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_service_linked_roles_are_not_declared_unless_asked_for(env: str, region: str) -> None:
    assert layer(env, region).resolved("AWS::IAM::ServiceLinkedRole") == {}


@pytest.mark.parametrize(("region", "expected"), [("us-east-1", 5), ("eu-west-1", 0)])
def test_asked_for_service_linked_roles_exist_once_per_account(region: str, expected: int) -> None:
    item = layer("dev", region)
    ctx = Context({**item.ctx.values, "CreateServiceLinkedRoles": "true"}, region, item.ctx.account)
    services = {
        r["Properties"]["AWSServiceName"]
        for r in resolved_resources(item.template, ctx, "AWS::IAM::ServiceLinkedRole").values()
    }
    assert len(services) == expected
    if expected:
        assert {"ecs.amazonaws.com", "rds.amazonaws.com", "elasticloadbalancing.amazonaws.com"} <= services


# --- "# why:" comments in the fragment sources ------------------------------------------------
def test_every_wildcard_or_star_resource_write_in_my_fragments_is_explained() -> None:
    assert check_wildcards_explained(my_fragments(), ROOT) == []


def test_the_wildcard_check_flags_an_unexplained_statement(tmp_path: Path) -> None:
    fragment = tmp_path / "bad.yaml"
    fragment.write_text(
        "Resources:\n"
        "  Role:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      Policies:\n"
        "        - PolicyName: p\n"
        "          PolicyDocument:\n"
        "            Statement:\n"
        "              # explained: a comment without the marker does not count\n"
        "              - Effect: Allow\n"
        "                Action: s3:*\n"
        "                Resource: !Sub arn:${AWS::Partition}:s3:::b/*\n"
        "              # why: the next statement is explained, this one is not\n"
        "              - Effect: Allow\n"
        "                Action: [sqs:SendMessage]\n"
        '                Resource: "*"\n'
        "              - Effect: Allow\n"
        "                Action: [sqs:SendMessage]\n"
        '                Resource: "*"\n'
        "              - Effect: Deny\n"
        "                Action: organizations:*\n"
        '                Resource: "*"\n',
        encoding="utf-8",
    )
    problems = check_wildcards_explained([fragment], tmp_path)
    assert problems == [
        "bad.yaml:10: wildcard actions ['s3:*'] without # why:",
        "bad.yaml:17: ['sqs:SendMessage'] on Resource \"*\" without # why:",
    ]


def test_the_wildcard_check_accepts_a_why_inside_the_statement(tmp_path: Path) -> None:
    fragment = tmp_path / "good.yaml"
    fragment.write_text(
        "Statement:\n"
        "  - Sid: Find\n"
        "    Effect: Allow\n"
        "    Action: logs:DescribeLogGroups\n"
        "    # why: a list call without resource-level permissions\n"
        '    Resource: "*"\n'
        "  - Sid: Read\n"
        "    Effect: Allow\n"
        "    Action: ec2:Describe*\n"
        '    Resource: "*"\n',
        encoding="utf-8",
    )
    assert check_wildcards_explained([fragment], tmp_path) == [
        "good.yaml:7: wildcard actions ['ec2:Describe*'] without # why:"
    ]


# --- bootstrap ----------------------------------------------------------------------------------
def test_bootstrap_renders_one_template_per_subfolder() -> None:
    found = {folder for folder in workspace().standalone_templates() if folder.startswith("bootstrap")}
    assert found == {"bootstrap/admin", "bootstrap/target", "bootstrap/artifacts"}


def test_only_the_stackset_roles_are_exempt_from_the_boundary_and_they_say_why() -> None:
    templates = {
        f"bootstrap/{part}": standalone(f"bootstrap/{part}") for part in ("admin", "target", "artifacts")
    }
    templates |= {f"{item.env}/{item.region}/{item.stack}": item.template for item in all_layers()}
    exempt = {
        (where, name) for where, template in templates.items() for name in boundary_exemptions(template)
    }
    assert exempt == {("bootstrap/admin", "AdministrationRole"), ("bootstrap/target", "ExecutionRole")}
    assert [p for t in templates.values() for p in check_roles_have_boundary(t)] == []
    names = {props(resources(standalone(w), "AWS::IAM::Role")[n])["RoleName"] for w, n in exempt}
    assert names == {"AWSCloudFormationStackSetAdministrationRole", "AWSCloudFormationStackSetExecutionRole"}


def test_the_administration_role_is_assumable_by_this_accounts_stacksets_only() -> None:
    ctx = standalone_ctx(
        "bootstrap/admin",
        "us-east-1",
        ADMIN_ACCOUNT,
        TargetAccountIds="111111111111,222222222222,333333333333",
    )
    role = resolved_resources(standalone("bootstrap/admin"), ctx)["AdministrationRole"]["Properties"]
    (trust,) = statements(role["AssumeRolePolicyDocument"])
    assert principals(trust) == {"Service": ["cloudformation.amazonaws.com"]}
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ADMIN_ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudformation:*:{ADMIN_ACCOUNT}:stackset/*"},
    }


def test_the_administration_role_reaches_only_execution_roles_of_the_target_accounts() -> None:
    ctx = standalone_ctx(
        "bootstrap/admin",
        "us-east-1",
        ADMIN_ACCOUNT,
        TargetAccountIds="111111111111,222222222222,333333333333",
    )
    role = resolved_resources(standalone("bootstrap/admin"), ctx)["AdministrationRole"]["Properties"]
    granted = [s for p in role["Policies"] for s in statements(p["PolicyDocument"])]
    assert granted == [
        {
            "Sid": "AssumeExecutionRoleInTargetAccounts",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": "arn:aws:iam::*:role/AWSCloudFormationStackSetExecutionRole",
            "Condition": {
                "StringEquals": {"aws:ResourceAccount": ["111111111111", "222222222222", "333333333333"]}
            },
        }
    ]


def execution_role(env: str = "prod") -> dict[str, Any]:
    ctx = standalone_ctx(
        "bootstrap/target",
        "us-east-1",
        account_of(env),
        AdministratorAccountId=ADMIN_ACCOUNT,
        EnvironmentName=env,
    )
    return resolved_resources(standalone("bootstrap/target"), ctx)["ExecutionRole"]["Properties"]


def execution_statements(env: str = "prod") -> list[dict[str, Any]]:
    return [s for p in execution_role(env)["Policies"] for s in statements(p["PolicyDocument"])]


def test_the_execution_role_trusts_only_the_administrator_accounts_stackset_role() -> None:
    (trust,) = statements(execution_role()["AssumeRolePolicyDocument"])
    assert principals(trust) == {"AWS": [f"arn:aws:iam::{ADMIN_ACCOUNT}:root"]}
    admin_role = f"arn:aws:iam::{ADMIN_ACCOUNT}:role/AWSCloudFormationStackSetAdministrationRole"
    assert trust["Condition"] == {"ArnEquals": {"aws:PrincipalArn": admin_role}}


def test_the_execution_role_creates_only_roles_that_carry_a_platform_boundary() -> None:
    role_writes = {
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:AttachRolePolicy",
        "iam:PutRolePermissionsBoundary",
    }
    granting = [
        s
        for s in execution_statements()
        if s["Effect"] == "Allow"
        and role_writes & {a for a in as_list(s["Action"]) for w in role_writes if fnmatch.fnmatch(w, a)}
    ]
    assert [s["Sid"] for s in granting] == ["BoundedRolesOnly"]
    pattern = granting[0]["Condition"]["ArnLike"]["iam:PermissionsBoundary"]
    for region in REGIONS:
        arn = f"arn:aws:iam::{account_of('prod')}:policy/{boundary('prod', region)['ManagedPolicyName']}"
        assert fnmatch.fnmatchcase(arn, pattern)
    assert not fnmatch.fnmatchcase(f"arn:aws:iam::{account_of('prod')}:policy/AdministratorAccess", pattern)


@pytest.mark.parametrize(
    "action",
    [
        "iam:CreateUser",
        "iam:CreateAccessKey",
        "iam:DeleteRolePermissionsBoundary",
        "organizations:LeaveOrganization",
        "account:CloseAccount",
    ],
)
def test_the_execution_role_can_never(action: str) -> None:
    assert boundary_verdict({"Statement": execution_statements()}, action) == "deny"


def test_the_execution_role_cannot_change_the_bootstrap_roles() -> None:
    deny = statement(execution_statements(), "DenyChangesToBootstrapRoles")
    arn = f"arn:aws:iam::{account_of('prod')}:role/AWSCloudFormationStackSetExecutionRole"
    assert deny["Effect"] == "Deny" and any(fnmatch.fnmatchcase(arn, r) for r in deny["Resource"])
    assert any(fnmatch.fnmatch("iam:UpdateAssumeRolePolicy", a) for a in deny["Action"])


def test_the_execution_role_covers_every_resource_type_the_platform_deploys_in_its_regions() -> None:
    regional = statement(execution_statements(), "PlatformServicesInPlatformRegions")
    assert regional["Condition"] == {"StringEquals": {"aws:RequestedRegion": list(REGIONS)}}
    allowed = {a.split(":")[0] for a in regional["Action"]} | {"iam"}
    types = {str(r["Type"]) for item in all_layers() for r in resources(item.template).values()}
    missing = sorted(
        t
        for t in types
        if not t.startswith("AWS::CloudFormation::") and IAM_PREFIX.get(t.split("::")[1], "?") not in allowed
    )
    assert missing == []
    assert {"cloudformation"} <= allowed  # nested stacks


@pytest.mark.parametrize(
    ("account", "region"),
    [(ADMIN_ACCOUNT, r) for r in REGIONS]
    + [(a, r) for a in ("111111111111", "222222222222", "333333333333") for r in REGIONS],
)
def test_the_artifact_bucket_is_where_payctl_uploads(account: str, region: str) -> None:
    ctx = standalone_ctx("bootstrap/artifacts", region, account)
    bucket = resolved_resources(standalone("bootstrap/artifacts"), ctx, "AWS::S3::Bucket")["Bucket"][
        "Properties"
    ]
    assert bucket["BucketName"] == artifact_bucket(account, region)


def artifacts(organization: str = "") -> dict[str, dict[str, Any]]:
    ctx = standalone_ctx("bootstrap/artifacts", "us-east-1", ADMIN_ACCOUNT, OrganizationId=organization)
    return resolved_resources(standalone("bootstrap/artifacts"), ctx)


def test_the_artifact_bucket_is_versioned_encrypted_private_and_expires_old_versions() -> None:
    bucket = artifacts()["Bucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    (encryption,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "<BucketKey.Arn>",
    }
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    rules = bucket["LifecycleConfiguration"]["Rules"]
    assert [
        r["NoncurrentVersionExpiration"]["NoncurrentDays"]
        for r in rules
        if "NoncurrentVersionExpiration" in r
    ] == [90]
    assert [
        r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        for r in rules
        if "AbortIncompleteMultipartUpload" in r
    ] == [7]
    assert check_keys_rotate(standalone("bootstrap/artifacts")) == []
    assert check_key_policy_least_privilege(standalone("bootstrap/artifacts")) == []


def test_the_artifact_bucket_refuses_plain_http() -> None:
    policy = statements(artifacts()["BucketPolicy"]["Properties"]["PolicyDocument"])
    tls = statement(policy, "DenyInsecureTransport")
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", "*", "s3:*")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_a_single_account_setup_shares_nothing() -> None:
    found = artifacts()
    for document in (
        found["BucketPolicy"]["Properties"]["PolicyDocument"],
        found["BucketKey"]["Properties"]["KeyPolicy"],
    ):
        assert [
            s for s in statements(document) if s["Effect"] == "Allow" and "*" in str(s.get("Principal"))
        ] == []


def test_the_organization_may_read_artifacts_and_nothing_more() -> None:
    found = artifacts("o-exampleorg01")
    bucket_read = statement(
        statements(found["BucketPolicy"]["Properties"]["PolicyDocument"]), "OrganizationReadsArtifacts"
    )
    assert set(bucket_read["Action"]) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert bucket_read["Resource"] == "<Bucket.Arn>/*"
    assert bucket_read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg01"}}
    key_read = statement(
        statements(found["BucketKey"]["Properties"]["KeyPolicy"]), "OrganizationReadsThroughS3"
    )
    assert set(key_read["Action"]) == {"kms:Decrypt", "kms:DescribeKey"}
    assert key_read["Condition"] == {
        "StringEquals": {
            "aws:PrincipalOrgID": "o-exampleorg01",
            "kms:ViaService": "s3.us-east-1.amazonaws.com",
        }
    }


def test_resolve_evaluates_the_intrinsics_the_checks_rely_on() -> None:
    template = {
        "Parameters": {"Name": {"Type": "String"}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Name"}, "prod"]},
            "Both": {
                "Fn::And": [
                    {"Condition": "IsProd"},
                    {"Fn::Not": [{"Fn::Equals": [{"Ref": "AWS::Region"}, "x"]}]},
                ]
            },
        },
    }
    ctx = Context({"Name": "prod"}, "eu-west-1", "333333333333")
    value = {"Fn::If": ["Both", {"Fn::Sub": "/${Name}/${AWS::Region}/${Thing.Arn}"}, "no"]}
    assert resolve(value, template, ctx) == "/prod/eu-west-1/<Thing.Arn>"
    assert resolve([{"Ref": "AWS::NoValue"}, {"Fn::Join": ["-", ["a", {"Ref": "Name"}]]}], template, ctx) == [
        "a-prod"
    ]
    assert resolve(value, template, Context({"Name": "dev"}, "eu-west-1", "1")) == "no"
