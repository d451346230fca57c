"""The parameters layer: the SSM hierarchy /{environment}/{service}/{parameter} and one read
policy per service, checked over what payctl renders for every environment and region."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import cfn_flip
import pytest
from checks_security import (
    Context,
    as_list,
    check_no_retain,
    check_ssm_names,
    check_subtree_read_policy,
    parameter_arn,
    policy_reads,
    resolved_resources,
    ssm_parameters,
    statements,
    with_defaults,
)

from payctl.automation import Workspace

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "prod")
REGIONS = ("us-east-1", "eu-west-1")
COMBINATIONS = [(env, region) for env in ENVIRONMENTS for region in REGIONS]
# Service subtree -> (policy resource, output the compute and monitoring layers wire)
SERVICES = {
    "payment-api": ("PaymentApiParametersPolicy", "PaymentApiParametersPolicyArn"),
    "compliance": ("ComplianceParametersPolicy", "ComplianceParametersPolicyArn"),
}
EXPORTS = "parameters"  # the subtree holding this layer's own exports


@cache
def workspace() -> Workspace:
    return Workspace(ROOT, search=False)


@cache
def rendered() -> dict[tuple[str, str, str], tuple[dict[str, Any], Context, dict[str, Any]]]:
    """(template, context, wave master) of every nested stack, by (env, region, stack)."""
    found = {}
    for result in workspace().render():
        for stack in result.stacks:
            master = cfn_flip.load_yaml(stack.master.text)
            for name, nested in stack.templates.nested.items():
                template = cfn_flip.load_yaml(nested.text)
                values = with_defaults(template, stack.parameters.get(nested.name, {}))
                found[(stack.environment, stack.region, name)] = (
                    template,
                    Context(values, stack.region, result.environment.account_id),
                    master,
                )
    return found


def parameters_layer(env: str, region: str) -> tuple[dict[str, Any], Context]:
    template, ctx, _ = rendered()[(env, region, "Parameters")]
    return template, ctx


def names(env: str, region: str) -> dict[str, dict[str, Any]]:
    return ssm_parameters(*parameters_layer(env, region))


def policy(env: str, region: str, service: str) -> dict[str, Any]:
    template, ctx = parameters_layer(env, region)
    return resolved_resources(template, ctx)[SERVICES[service][0]]["Properties"]


def service_of(name: str) -> str:
    return name.split("/")[2]


# --- rendering ------------------------------------------------------------------------------
def test_parameters_run_in_the_foundation_wave_of_every_environment_and_region() -> None:
    found = sorted((env, region) for env, region, stack in rendered() if stack == "Parameters")
    assert found == sorted(COMBINATIONS)


def test_the_template_is_identical_everywhere_only_parameters_differ() -> None:
    assert len({str(parameters_layer(*key)[0]) for key in COMBINATIONS}) == 1
    assert check_no_retain(parameters_layer("prod", "us-east-1")[0]) == []


# --- the hierarchy --------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_every_name_is_environment_service_parameter_and_never_secure(env: str, region: str) -> None:
    template, ctx = parameters_layer(env, region)
    assert check_ssm_names(template, ctx, env) == []
    assert {service_of(name) for name in names(env, region)} == set(SERVICES) | {EXPORTS}


def test_the_name_check_rejects_what_aws_or_the_convention_would() -> None:
    template = {
        "Resources": {
            name: {"Type": "AWS::SSM::Parameter", "Properties": {"Name": path, "Type": kind, "Value": "x"}}
            for name, path, kind in [
                ("Good", "/prod/payment-api/log-level", "String"),
                ("Flat", "/prod/log-level", "String"),
                ("Deep", "/prod/payment-api/db/host", "String"),
                ("Upper", "/prod/PaymentApi/log-level", "String"),
                ("OtherEnv", "/dev/payment-api/log-level", "String"),
                ("Secret", "/prod/payment-api/api-key", "SecureString"),
            ]
        }
    }
    problems = check_ssm_names(template, Context({}, "us-east-1", "333333333333"), "prod")
    assert problems == [
        "/prod/log-level: not /{environment}/{service}/{parameter}",
        "/prod/payment-api/db/host: not /{environment}/{service}/{parameter}",
        "/prod/PaymentApi/log-level: not /{environment}/{service}/{parameter}",
        "/dev/payment-api/log-level: environment segment is not prod",
        "/prod/payment-api/api-key: Type SecureString (String or StringList only)",
    ]


@pytest.mark.parametrize(("env", "level"), [("dev", "DEBUG"), ("staging", "INFO"), ("prod", "INFO")])
def test_verbose_logs_only_where_no_cardholder_traffic_flows(env: str, level: str) -> None:
    for region in REGIONS:
        found = names(env, region)
        assert found[f"/{env}/payment-api/log-level"]["Value"] == level
        assert found[f"/{env}/compliance/log-level"]["Value"] == level


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_configuration_values_as_the_services_read_them(env: str, region: str) -> None:
    found = names(env, region)
    suffix = workspace().environments[env].environment_suffix
    assert found[f"/{env}/payment-api/feature-flags"]["Type"] == "StringList"
    assert (
        found[f"/{env}/payment-api/feature-flags"]["Value"]
        == "idempotency-keys,strong-customer-authentication"
    )
    assert found[f"/{env}/payment-api/regions"]["Value"] == "us-east-1,eu-west-1"
    assert int(found[f"/{env}/payment-api/request-timeout-ms"]["Value"]) > int(
        found[f"/{env}/payment-api/processor-timeout-ms"]["Value"]
    )
    assert found[f"/{env}/compliance/required-tags"]["Value"] == "Environment,Application,CostCenter"
    assert found[f"/{env}/compliance/kms-key-alias"]["Value"] == f"alias/payments-{suffix}"


@pytest.mark.parametrize(("env", "region"), [(env, "us-east-1") for env in ENVIRONMENTS])
def test_the_session_table_name_is_the_one_the_payment_service_is_allowed_to_use(
    env: str, region: str
) -> None:
    table = names(env, region)[f"/{env}/payment-api/session-table-name"]["Value"]
    compute, ctx, _ = rendered()[(env, region, "Compute")]
    role = resolved_resources(compute, ctx, "AWS::IAM::Role")["TaskRole"]["Properties"]
    tables = {
        str(resource).split(":table/")[1]
        for p in role["Policies"]
        for s in statements(p["PolicyDocument"])
        for resource in as_list(s.get("Resource"))
        if ":table/" in str(resource) and "/index/" not in str(resource)
    }
    assert tables == {table}


# --- read policies --------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_policy_reads_its_own_subtree_only(env: str, region: str, service: str) -> None:
    _, ctx = parameters_layer(env, region)
    document = policy(env, region, service)["PolicyDocument"]
    assert check_subtree_read_policy(document, f"/{env}/{service}", "<KmsKeyArn>", ctx) == []


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_no_service_can_read_another_services_configuration(env: str, region: str) -> None:
    _, ctx = parameters_layer(env, region)
    for service in SERVICES:
        document = policy(env, region, service)["PolicyDocument"]
        for name in names(env, region):
            assert policy_reads(document, parameter_arn(name, ctx)) == (service_of(name) == service), name
        other_env = next(e for e in ENVIRONMENTS if e != env)
        assert not policy_reads(document, parameter_arn(f"/{other_env}/{service}/log-level", ctx))
        assert not policy_reads(document, parameter_arn(f"/{env}/security/kms-key-arn", ctx))
        assert not policy_reads(document, parameter_arn(f"/{env}/{service}-admin/log-level", ctx))


def test_the_subtree_check_rejects_a_policy_that_reads_too_much() -> None:
    ctx = Context({}, "us-east-1", "333333333333")
    document = {
        "Statement": [
            {
                "Sid": "All",
                "Effect": "Allow",
                "Action": "ssm:GetParameter",
                "Resource": parameter_arn("/prod/*", ctx),
            },
            {
                "Sid": "Write",
                "Effect": "Allow",
                "Action": "ssm:PutParameter",
                "Resource": parameter_arn("/prod/x/*", ctx),
            },
            {"Sid": "Key", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "<KmsKeyArn>"},
        ]
    }
    problems = check_subtree_read_policy(document, "/prod/x", "<KmsKeyArn>", ctx)
    assert problems == [
        "All: reads arn:aws:ssm:us-east-1:333333333333:parameter/prod/* outside /prod/x",
        "Write: ssm:PutParameter is not a parameter read",
        "Key: kms:Decrypt not limited to SSM in us-east-1",
        "Key: kms:Decrypt encryption context None is not /prod/x/*",
    ]


def test_policy_names_carry_suffix_and_region_because_iam_is_global() -> None:
    for env in ENVIRONMENTS:
        suffix = workspace().environments[env].environment_suffix
        for service in SERVICES:
            found = {policy(env, region, service)["ManagedPolicyName"] for region in REGIONS}
            assert found == {f"{service}-parameters-read-{suffix}-{region}" for region in REGIONS}


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_the_policies_are_wired_by_output_and_exported_for_later_waves(env: str, region: str) -> None:
    template, _ = parameters_layer(env, region)
    outputs = {name: output["Value"] for name, output in template["Outputs"].items()}
    assert outputs == {output: {"Ref": resource} for resource, output in SERVICES.values()}
    exports = {
        name: item["Value"] for name, item in names(env, region).items() if service_of(name) == EXPORTS
    }
    assert exports == {
        f"/{env}/parameters/{service}-policy-arn": f"<{SERVICES[service][0]}>" for service in SERVICES
    }


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_the_environment_key_comes_from_the_security_stack(env: str, region: str) -> None:
    _, _, master = rendered()[(env, region, "Parameters")]
    passed = master["Resources"]["Parameters"]["Properties"]["Parameters"]
    assert passed["KmsKeyArn"] == {"Fn::GetAtt": ["Security", "Outputs.KmsKeyArn"]}
    assert passed["EnvironmentName"] == {"Ref": "EnvironmentName"}
