"""The network layer and the network hub, checked over the templates payctl renders for every
environment and region."""

from __future__ import annotations

import copy
import ipaddress
import itertools
from functools import cache
from pathlib import Path
from typing import Any

import cfn_flip
import pytest
from checks_network import (
    check_conditional,
    check_flow_logs_encrypted,
    check_interface_endpoints,
    check_nacls,
    check_no_default_egress,
    check_no_retain,
    check_open_ingress,
    check_roles,
    check_rule_descriptions,
    check_subnet_cidrs,
    check_subnets_span_azs,
    check_vpc_cidr_from_parameter,
    endpoints,
    ingress_sources,
    nacl_allowed,
    nacl_of_subnets,
    props,
    ref,
    resources,
    ssm_exports,
    subnet_cidr_expr,
    subnets_by_tier,
)
from ruamel.yaml import YAML

from payctl.automation import Workspace

ROOT = Path(__file__).resolve().parents[2]

# The address plan: one /16 per environment and region, none overlapping, so any two VPCs
# can be connected through the Transit Gateway.
EXPECTED_VPC_CIDRS = {
    ("dev", "us-east-1"): "10.0.0.0/16",
    ("staging", "us-east-1"): "10.1.0.0/16",
    ("prod", "us-east-1"): "10.2.0.0/16",
    ("dev", "eu-west-1"): "10.100.0.0/16",
    ("staging", "eu-west-1"): "10.101.0.0/16",
    ("prod", "eu-west-1"): "10.102.0.0/16",
}
COMBINATIONS = sorted(EXPECTED_VPC_CIDRS)

# What the tasks and functions call (see stacks/network/endpoints.yaml).
INTERFACE_SERVICES = {"ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "kms", "sts", "sns",
                      "cloudformation"}
GATEWAY_SERVICES = {"s3", "dynamodb"}


class RenderedNetwork:
    """The Network nested stack of one environment and region, as payctl renders it."""

    def __init__(self, env: str, region: str, template: dict[str, Any], master: dict[str, Any],
                 master_values: dict[str, str]) -> None:
        self.env = env
        self.region = region
        self.template = template
        self.master = master
        self.master_values = master_values

    @property
    def passed(self) -> dict[str, Any]:
        """Parameters the wave's master passes to the Network nested stack."""
        return dict(props(self.master["Resources"]["Network"])["Parameters"])


@cache
def workspace() -> Workspace:
    return Workspace(ROOT, search=False)


@cache
def rendered_networks() -> dict[tuple[str, str], RenderedNetwork]:
    found = {}
    for rendered in workspace().render():
        for stack in rendered.stacks:
            if "Network" not in stack.templates.nested:
                continue
            found[(stack.environment, stack.region)] = RenderedNetwork(
                stack.environment, stack.region,
                cfn_flip.load_yaml(stack.templates.nested["Network"].text),
                cfn_flip.load_yaml(stack.master.text),
                stack.parameters["master"],
            )
    return found


def network(env: str, region: str) -> RenderedNetwork:
    return rendered_networks()[(env, region)]


@cache
def hub() -> dict[str, Any]:
    return dict(cfn_flip.load_yaml(workspace().standalone_templates()["network-hub"].text))


def waves_imports() -> dict[str, dict[str, str]]:
    """Imports of the later waves, by parameter name: {type, path}."""
    waves = YAML(typ="safe").load((ROOT / "stacks" / "waves.yaml").read_text(encoding="utf-8"))["waves"]
    imports: dict[str, dict[str, str]] = {}
    for wave in waves:
        imports.update(wave.get("imports") or {})
    return imports


def tier_nacl(template: dict[str, Any], tier: str) -> str:
    acls = {acl for subnet in subnets_by_tier(template)[tier] for acl in nacl_of_subnets(template)[subnet]}
    assert len(acls) == 1, f"{tier} subnets share one network ACL, found {acls}"
    return acls.pop()


# --- rendering ------------------------------------------------------------------------------
def test_every_environment_and_region_gets_a_network_stack() -> None:
    assert sorted(rendered_networks()) == COMBINATIONS


def test_the_template_is_identical_everywhere_only_parameters_differ() -> None:
    texts = {str(network(*key).template) for key in COMBINATIONS}
    assert len(texts) == 1


# --- addressing -----------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_vpc_cidr_comes_from_the_environment(env: str, region: str) -> None:
    rendered = network(env, region)
    assert check_vpc_cidr_from_parameter(rendered.template) == []
    assert rendered.master_values["VpcCidr"] == EXPECTED_VPC_CIDRS[(env, region)]
    assert rendered.passed["VpcCidr"] == {"Ref": "VpcCidr"}


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_subnets_fit_inside_the_vpc_without_overlap(env: str, region: str) -> None:
    assert check_subnet_cidrs(network(env, region).template, EXPECTED_VPC_CIDRS[(env, region)]) == []


def test_vpcs_of_all_environments_and_regions_do_not_overlap() -> None:
    networks = [ipaddress.IPv4Network(network(*key).master_values["VpcCidr"]) for key in COMBINATIONS]
    assert not [(a, b) for a, b in itertools.combinations(networks, 2) if a.overlaps(b)]


def test_each_tier_spans_three_availability_zones_of_the_region() -> None:
    template = network("prod", "us-east-1").template
    assert set(subnets_by_tier(template)) == {"public", "app", "data"}
    assert check_subnets_span_azs(template, ["public", "app", "data"]) == []


def test_no_subnet_assigns_public_addresses() -> None:
    subnets = resources(network("prod", "us-east-1").template, "AWS::EC2::Subnet")
    assert {name: props(s).get("MapPublicIpOnLaunch") for name, s in subnets.items()} == \
        dict.fromkeys(subnets, False)


# --- routing --------------------------------------------------------------------------------
def routes_of_tier(template: dict[str, Any], tier: str) -> list[dict[str, Any]]:
    associations = resources(template, "AWS::EC2::SubnetRouteTableAssociation").values()
    tables = {ref(props(a)["RouteTableId"]) for a in associations
              if ref(props(a)["SubnetId"]) in subnets_by_tier(template)[tier]}
    assert len(tables) == 1, f"{tier} subnets share one route table, found {tables}"
    return [dict(props(route)) for route in resources(template, "AWS::EC2::Route").values()
            if ref(props(route)["RouteTableId"]) in tables]


def test_only_the_public_tier_routes_to_the_internet() -> None:
    template = network("prod", "us-east-1").template
    assert not resources(template, "AWS::EC2::NatGateway", "AWS::EC2::EgressOnlyInternetGateway")
    public = routes_of_tier(template, "public")
    assert [(r["DestinationCidrBlock"], ref(r.get("GatewayId"))) for r in public] == \
        [("0.0.0.0/0", "InternetGateway")]
    assert not any("GatewayId" in r or "NatGatewayId" in r for r in routes_of_tier(template, "app"))
    assert routes_of_tier(template, "data") == []


def test_gateway_endpoints_serve_the_app_tier_only() -> None:
    template = network("prod", "us-east-1").template
    gateways = endpoints(template, "Gateway")
    assert set(gateways) == GATEWAY_SERVICES
    for name in gateways.values():
        assert props(resources(template)[name])["RouteTableIds"] == [{"Ref": "AppRouteTable"}]


# --- security groups ------------------------------------------------------------------------
def test_only_the_alb_is_open_to_the_internet_and_only_on_443() -> None:
    template = network("prod", "us-east-1").template
    assert check_open_ingress(template, allowed={("AlbSecurityGroup", 443)}) == []
    assert ingress_sources(template, "AlbSecurityGroup") == {(443, "0.0.0.0/0")}


def test_each_tier_admits_only_its_callers() -> None:
    template = network("prod", "us-east-1").template
    container_port = (("Ref", "ContainerPort"),)
    assert ingress_sources(template, "ServiceSecurityGroup") == {(container_port, "AlbSecurityGroup")}
    # The platform functions run outside the VPC: only the service reaches the database.
    assert ingress_sources(template, "DatabaseSecurityGroup") == {(5432, "ServiceSecurityGroup")}
    assert ingress_sources(template, "EndpointSecurityGroup") == {
        (443, "ServiceSecurityGroup"), (443, "LambdaSecurityGroup")}
    assert ingress_sources(template, "LambdaSecurityGroup") == set()


def test_security_group_rules_are_described_and_egress_is_explicit() -> None:
    template = network("prod", "us-east-1").template
    assert check_rule_descriptions(template) == []
    assert check_no_default_egress(template) == []


# --- network ACLs ---------------------------------------------------------------------------
def test_every_subnet_has_its_tiers_network_acl() -> None:
    template = network("prod", "us-east-1").template
    assert check_nacls(template) == []
    assert len({tier_nacl(template, tier) for tier in ("public", "app", "data")}) == 3


def test_data_tier_acl_admits_postgres_and_returns_from_app_subnets_only() -> None:
    template = network("prod", "us-east-1").template
    acl = tier_nacl(template, "data")
    app = [subnet_cidr_expr(s) for s in subnets_by_tier(template)["app"]]
    assert nacl_allowed(template, acl, egress=False) == \
        {(5432, 5432, c) for c in app} | {(1024, 65535, c) for c in app}
    assert nacl_allowed(template, acl, egress=True) == {(1024, 65535, c) for c in app}


def test_public_tier_acl_admits_only_https_from_the_internet() -> None:
    template = network("prod", "us-east-1").template
    inbound = nacl_allowed(template, tier_nacl(template, "public"), egress=False)
    assert {entry for entry in inbound if entry[2] == "0.0.0.0/0"} == {(443, 443, "0.0.0.0/0")}


def test_app_tier_acl_admits_the_service_port_from_the_public_subnets() -> None:
    template = network("prod", "us-east-1").template
    inbound = nacl_allowed(template, tier_nacl(template, "app"), egress=False)
    port = (("Ref", "ContainerPort"),)
    for subnet in subnets_by_tier(template)["public"]:
        assert (port, port, subnet_cidr_expr(subnet)) in inbound


# --- endpoints ------------------------------------------------------------------------------
def test_interface_endpoints_with_private_dns_in_the_app_subnets() -> None:
    template = network("prod", "us-east-1").template
    assert set(endpoints(template, "Interface")) == INTERFACE_SERVICES
    app_subnets = subnets_by_tier(template)["app"]
    assert check_interface_endpoints(template, app_subnets, "EndpointSecurityGroup") == []


def test_endpoint_policies_admit_this_account_only() -> None:
    template = network("prod", "us-east-1").template
    this_account = {"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}}
    for name, endpoint in resources(template, "AWS::EC2::VPCEndpoint").items():
        first = props(endpoint)["PolicyDocument"]["Statement"][0]
        assert first["Condition"] == this_account, name


# --- flow logs and IAM ----------------------------------------------------------------------
def test_flow_logs_are_encrypted_with_the_security_layers_key() -> None:
    rendered = network("prod", "us-east-1")
    assert check_flow_logs_encrypted(rendered.template) == []
    assert props(resources(rendered.template)["FlowLogGroup"])["KmsKeyId"] == {"Ref": "KmsKeyArn"}
    # Wired by name to the Security stack of the same wave, not a copy of an ARN.
    assert rendered.passed["KmsKeyArn"] == {"Fn::GetAtt": ["Security", "Outputs.KmsKeyArn"]}


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_flow_log_retention_follows_the_environment(env: str, region: str) -> None:
    rendered = network(env, region)
    group = props(resources(rendered.template)["FlowLogGroup"])
    assert group["RetentionInDays"] == {"Ref": "FlowLogRetentionDays"}
    assert int(rendered.master_values["FlowLogRetentionDays"]) >= 365  # PCI DSS 10.5.1: a year


def test_roles_carry_the_boundary_and_a_regional_name() -> None:
    rendered = network("prod", "us-east-1")
    assert check_roles(rendered.template) == []
    assert rendered.passed["PermissionsBoundaryArn"] == \
        {"Fn::GetAtt": ["Security", "Outputs.PermissionsBoundaryArn"]}


def test_nothing_is_retained_on_delete() -> None:
    assert check_no_retain(network("prod", "us-east-1").template) == []


# --- Transit Gateway ------------------------------------------------------------------------
TGW_TYPES = ("AWS::EC2::TransitGatewayAttachment", "AWS::EC2::TransitGatewayVpcAttachment")


def test_transit_gateway_resources_exist_only_with_a_gateway_id() -> None:
    template = network("prod", "us-east-1").template
    assert check_conditional(template, TGW_TYPES, "HasTransitGateway") == []
    tgw_routes = {name: route for name, route in resources(template, "AWS::EC2::Route").items()
                  if "TransitGatewayId" in props(route)}
    assert tgw_routes, "a route sends TransitGatewayRouteCidr to the gateway"
    assert {r.get("Condition") for r in tgw_routes.values()} == {"HasTransitGateway"}
    assert template["Conditions"]["HasTransitGateway"] == \
        {"Fn::Not": [{"Fn::Equals": [{"Ref": "TransitGatewayId"}, ""]}]}
    assert template["Outputs"]["TransitGatewayAttachmentId"]["Condition"] == "HasTransitGateway"


@pytest.mark.parametrize(("env", "region"), COMBINATIONS)
def test_no_environment_attaches_to_a_gateway_by_default(env: str, region: str) -> None:
    assert network(env, region).master_values["TransitGatewayId"] == ""


# --- values for later waves -----------------------------------------------------------------
def test_ssm_exports_match_what_later_waves_import() -> None:
    template = network("prod", "us-east-1").template
    exported = ssm_exports(template)
    network_imports = {name: item for name, item in waves_imports().items()
                       if item["path"].startswith("network/")}
    assert network_imports, "waves.yaml imports network values"
    for name, item in network_imports.items():
        expected_type = "StringList" if item["type"].startswith("List<") else "String"
        assert exported.get(item["path"]) == expected_type, name
        # Stacks of the same wave get the same value as an output of the same name.
        assert name in template["Outputs"], name
    assert exported["network/public-subnet-ids"] == "StringList"
    assert "PublicSubnetIds" in template["Outputs"]


def test_subnet_list_exports_are_in_zone_order() -> None:
    template = network("prod", "us-east-1").template
    for tier, output in (("public", "PublicSubnetIds"), ("app", "AppSubnetIds"), ("data", "DataSubnetIds")):
        joined = template["Outputs"][output]["Value"]["Fn::Join"]
        assert joined[0] == ","
        names = [ref(item) for item in joined[1]]
        assert sorted(names) == sorted(subnets_by_tier(template)[tier])
        zones = [props(resources(template)[n])["AvailabilityZone"]["Fn::Select"][0] for n in names]
        assert zones == [0, 1, 2]


# --- the checks catch what they are meant to catch -------------------------------------------
def test_checks_report_violations() -> None:
    broken = copy.deepcopy(dict(network("prod", "us-east-1").template))
    res = broken["Resources"]
    res["ServiceSecurityGroup"]["Properties"]["SecurityGroupIngress"] = [
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}]
    res["AlbSecurityGroup"]["Properties"]["SecurityGroupIngress"].append(
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0", "Description": "http"})
    del res["FlowLogGroup"]["Properties"]["KmsKeyId"]
    del res["FlowLogRole"]["Properties"]["PermissionsBoundary"]
    res["LogsEndpoint"]["Properties"]["PrivateDnsEnabled"] = False
    res["DataSubnet3"]["Properties"]["AvailabilityZone"] = "us-east-1c"
    del res["TransitGatewayAttachment"]["Condition"]
    del res["AppSubnet2NetworkAclAssociation"]

    assert len(check_open_ingress(broken, allowed={("AlbSecurityGroup", 443)})) == 2
    assert len(check_rule_descriptions(broken)) == 1
    assert check_flow_logs_encrypted(broken) == ["FlowLogGroup: no KmsKeyId"]
    assert check_roles(broken) == ["FlowLogRole: no PermissionsBoundary"]
    app_subnets = subnets_by_tier(broken)["app"]
    assert len(check_interface_endpoints(broken, app_subnets, "EndpointSecurityGroup")) == 1
    assert check_subnets_span_azs(broken, ["app"]) == []
    assert len(check_subnets_span_azs(broken, ["data"])) == 2
    assert len(check_conditional(broken, TGW_TYPES, "HasTransitGateway")) == 1
    assert check_nacls(broken) == ["AppSubnet2: associated with 0 network ACLs, expected 1"]


def test_subnet_plan_needs_a_16() -> None:
    template = network("prod", "us-east-1").template
    assert check_subnet_cidrs(template, "10.0.0.0/16") == []
    assert check_subnet_cidrs(template, "10.0.0.0/18") != []


# --- network hub ----------------------------------------------------------------------------
def test_hub_shares_an_auto_accepting_gateway_with_the_organization() -> None:
    template = hub()
    gateway = props(resources(template, "AWS::EC2::TransitGateway")["TransitGateway"])
    assert gateway["AutoAcceptSharedAttachments"] == "enable"
    assert gateway["DnsSupport"] == "enable"
    share = props(resources(template, "AWS::RAM::ResourceShare")["TransitGatewayShare"])
    assert share["Principals"] == [{"Ref": "OrganizationArn"}]
    assert share["AllowExternalPrincipals"] is False
    assert share["ResourceArns"] == [{"Fn::GetAtt": ["TransitGateway", "TransitGatewayArn"]}]
    assert template["Outputs"]["TransitGatewayId"]["Value"] == {"Ref": "TransitGateway"}


def test_hub_keeps_environments_apart() -> None:
    # Propagation would let every attached VPC (dev included) learn routes to prod.
    gateway = props(resources(hub(), "AWS::EC2::TransitGateway")["TransitGateway"])
    assert gateway["DefaultRouteTablePropagation"] == "disable"


def test_hub_is_tagged_without_environment_parameters() -> None:
    template = hub()
    for name, resource in resources(template).items():
        keys = {tag["Key"] for tag in props(resource)["Tags"]}
        assert {"Environment", "Application", "CostCenter", "Name"} <= keys, name
    # Deployable alone: every parameter but the organization has a default.
    assert [p for p, d in template["Parameters"].items() if "Default" not in d] == ["OrganizationArn"]
