"""payctl graph: what the diagrams show must follow the rendered templates of each environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from payctl.automation import Workspace
from payctl.cli import _register, app
from payctl.graph import build_graph, to_dot, to_mermaid

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    return Workspace(REPO, search=False)


def mermaid(workspace: Workspace, env: str, level: str = "resources") -> str:
    return to_mermaid(build_graph([workspace.environment(env).render()]).collapse(level))  # type: ignore[arg-type]


def edges(text: str) -> list[tuple[str, str, str, str]]:
    """(source, arrow, label, target) of every Mermaid edge."""
    return re.findall(r'^\s+(\S+) (-->|==>|-\.->)\|"([^"]*)"\| (\S+)$', text, re.M)


def arrows(text: str, arrow: str) -> list[tuple[str, str, str]]:
    """(source, label, target) of the edges drawn with one kind of arrow."""
    return [(source, label, target) for source, kind, label, target in edges(text) if kind == arrow]


def test_prod_draws_the_three_cross_region_replications(workspace: Workspace) -> None:
    assert set(arrows(mermaid(workspace, "prod"), "-.->")) == {
        ("prod_us_east_1_primary_Database__DatabaseCluster", "Aurora global database payment-global-prod-001",
         "prod_eu_west_1_dr_Database__DatabaseCluster"),
        ("prod_us_east_1_primary_Storage__AppArtifactBucket", "S3 replication, RTC 15 min",
         "prod_eu_west_1_foundation_FoundationStorage__AppArtifactReplicaBucket"),
        ("prod_us_east_1_primary_Storage__SessionTable", "DynamoDB global table",
         "prod_eu_west_1__SessionTable_replica"),
    }


def test_dev_has_no_aurora_secondary_because_its_class_is_burstable(workspace: Workspace) -> None:
    text = mermaid(workspace, "dev")
    assert "Aurora global database" not in text
    assert "GlobalDatabaseCluster" not in text
    assert "dev_eu_west_1_dr_Database__DatabaseCluster" not in text
    assert "dev_us_east_1_primary_Database__DatabaseCluster" in text  # the primary still runs


def test_conditions_are_decided_per_region(workspace: Workspace) -> None:
    text = mermaid(workspace, "prod")
    assert "prod_eu_west_1_foundation_FoundationStorage__AppArtifactReplicaBucket" in text
    assert "prod_us_east_1_foundation_FoundationStorage__AppArtifactReplicaBucket" not in text
    assert "ServiceLinkedRole" not in text  # behind a parameter that defaults to off


def test_ssm_imports_join_each_foundation_layer_to_the_later_wave_of_its_region(workspace: Workspace) -> None:
    ssm = arrows(mermaid(workspace, "staging", "stacks"), "==>")
    primary = next(wave for wave in workspace.composer.waves if wave.name == "primary")
    network = sum(item.path.startswith("network/") for item in primary.imports)
    label = f"SSM network/* \u00d7{network}"
    assert ("staging_us_east_1_foundation_Network", label, "staging_us_east_1_primary") in ssm
    assert ("staging_eu_west_1_foundation_Network", label, "staging_eu_west_1_dr") in ssm
    counted = sum(int(n) for _, text, target in ssm if target == "staging_us_east_1_primary"
                  for n in re.findall(r"\u00d7(\d+)", text))
    assert counted == len(primary.imports)  # every import has its writer in the foundation wave

    # SSM parameters are regional: no import crosses from one region to the other
    def region(node_id: str) -> str:
        return re.sub(r"^staging_([a-z]+_[a-z]+_\d)_.*$", r"\1", node_id)

    assert {region(source) for source, _, _ in ssm} == {"us_east_1", "eu_west_1"}
    assert all(region(source) == region(target) for source, _, target in ssm)


def test_outputs_wire_nested_stacks_of_one_wave(workspace: Workspace) -> None:
    wiring = set(arrows(mermaid(workspace, "prod", "stacks"), "-->"))
    assert ("prod_us_east_1_primary_Database", "DatabaseSecretArn",
            "prod_us_east_1_primary_Compute") in wiring
    assert ("prod_us_east_1_foundation_Security", "KmsKeyArn, PermissionsBoundaryArn",
            "prod_us_east_1_foundation_Network") in wiring


def test_layers_with_many_resources_are_summarised_by_type(workspace: Workspace) -> None:
    text = mermaid(workspace, "prod")
    network = re.search(r'prod_us_east_1_foundation_Network__others\["([^"]*)"\]', text)
    assert network is not None
    lines = network.group(1).split("<br/>")
    assert lines[0].endswith("other resources") and "EC2 NetworkAclEntry" in lines[1]
    assert len(lines) <= 7
    assert 'prod_us_east_1_foundation_Network__Vpc("Vpc<br/>EC2 VPC")' in text


def test_mermaid_is_well_formed(workspace: Workspace) -> None:
    graph = build_graph(workspace.render(), stack_sets=True)
    for level in ("waves", "stacks", "resources"):
        text = to_mermaid(graph.collapse(level))  # type: ignore[arg-type]
        lines = text.splitlines()
        assert lines[0] == "flowchart LR"
        assert sum(line.strip().startswith("subgraph ") for line in lines) == \
            sum(line.strip() == "end" for line in lines)
        declared = set(re.findall(r"^\s+(?:subgraph )?([A-Za-z0-9_]+)[\[(]", text, re.M))
        for source, _, _, target in edges(text):
            assert source in declared and target in declared


def test_all_environments_show_the_stack_set_fan_out(workspace: Workspace) -> None:
    text = to_mermaid(build_graph(workspace.render(), stack_sets=True).collapse("waves"))
    fan_out = [(s, label, t) for s, arrow, label, t in edges(text) if s.startswith("stackset_")]
    assert ("stackset_payments_foundation", "prod eu-west-1", "prod_eu_west_1_foundation") in fan_out
    assert len(fan_out) == 3 * 4  # per account: foundation in two regions, primary, dr
    assert {source for source, _, _ in fan_out} == {
        "stackset_payments_foundation", "stackset_payments_primary", "stackset_payments_dr"}
    assert 'admin_444444444444["StackSet administrator 444444444444"]' in text


def test_dot_edges_to_a_box_name_the_cluster(workspace: Workspace) -> None:
    text = to_dot(build_graph([workspace.environment("prod").render()]).collapse("stacks"))
    assert text.count("{") == text.count("}")
    assert re.search(r'prod_us_east_1_foundation_Network -> \S+ \[label="SSM network/\* \u00d78", .*'
                     r"lhead=cluster_prod_us_east_1_primary\];", text)


def test_cli_writes_the_file_and_refuses_unknown_levels(tmp_path: Path) -> None:
    _register()
    runner = CliRunner()
    target = tmp_path / "prod.dot"
    done = runner.invoke(app, ["--workspace", str(REPO), "graph", "prod", "--format", "dot",
                               "--out", str(target)])
    assert done.exit_code == 0, done.output
    assert target.read_text().startswith("digraph payctl {")
    refused = runner.invoke(app, ["--workspace", str(REPO), "graph", "prod", "--level", "everything"])
    assert refused.exit_code != 0
