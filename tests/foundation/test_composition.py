"""Fragment composition: merge rules, preserved comments and tags, wiring, errors with locations."""

from __future__ import annotations

from pathlib import Path

import pytest

from payctl.automation import Workspace
from payctl.errors import TemplateError
from payctl.templates import Composer


def rendered_text(root: Path, wave: str, stack: str) -> str:
    return Composer(root).wave_templates[wave].nested[stack].text


def test_comments_and_short_form_tags_survive(mini_workspace: Path) -> None:
    text = rendered_text(mini_workspace, "foundation", "Network")
    assert "# The VPC" in text
    assert "CidrBlock: !Ref VpcCidr   # from envs" in text
    assert "Value: !Sub vpc-${EnvironmentSuffix}" in text


def test_only_referenced_shared_entries_are_copied(mini_workspace: Path) -> None:
    body = Composer(mini_workspace).wave_templates["primary"].nested["App"].body
    assert "IsPrimaryRegion" in body["Conditions"] and "IsProd" not in body["Conditions"]
    # IsPrimaryRegion references PrimaryRegion, so the parameter comes along transitively.
    assert "PrimaryRegion" in body["Parameters"] and "VpcCidr" not in body["Parameters"]


def test_standard_tags_are_injected_without_overwriting_fragment_tags(mini_workspace: Path) -> None:
    body = Composer(mini_workspace).wave_templates["foundation"].nested["Network"].body
    vpc_tags = [tag["Key"] for tag in body["Resources"]["Vpc"]["Properties"]["Tags"]]
    assert vpc_tags == ["Name", "Environment", "Application", "CostCenter"]
    ssm_tags = body["Resources"]["VpcIdParameter"]["Properties"]["Tags"]  # map-shaped tags
    assert set(ssm_tags) == {"Environment", "Application", "CostCenter"}
    assert "&id" not in Composer(mini_workspace).wave_templates["primary"].nested["App"].text


def test_lambda_code_is_filled_from_a_content_addressed_package(mini_workspace: Path) -> None:
    first = Composer(mini_workspace).wave_templates["primary"].nested["App"].body
    key = first["Resources"]["Fn"]["Properties"]["Code"]["S3Key"]
    assert key.startswith("lambdas/fn/") and key.endswith(".zip")
    (mini_workspace / "lambdas" / "fn" / "handler.py").write_text("def handler(e, c):\n    return 1\n")
    from payctl.templates.lambdas import build_zip

    build_zip.cache_clear()
    changed = Composer(mini_workspace).wave_templates["primary"].nested["App"].body
    assert changed["Resources"]["Fn"]["Properties"]["Code"]["S3Key"] != key


def test_master_wires_imports_outputs_and_environment_parameters(mini_workspace: Path) -> None:
    (mini_workspace / "stacks" / "app" / "consumer.yaml").write_text(
        "Parameters:\n  FnVpc:\n    Type: String\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
        "    Properties:\n      DisplayName: !Ref FnVpc\n")
    (mini_workspace / "stacks" / "waves.yaml").write_text(
        (mini_workspace / "stacks" / "waves.yaml").read_text().replace(
            "      App: [app]", "      App: [app/producer]\n      Consumer: [app/consumer]"))
    (mini_workspace / "stacks" / "app" / "producer").mkdir()
    (mini_workspace / "stacks" / "app" / "fn.yaml").rename(mini_workspace / "stacks" / "app" / "producer" / "fn.yaml")
    (mini_workspace / "stacks" / "app" / "consumer").mkdir()
    (mini_workspace / "stacks" / "app" / "consumer.yaml").rename(
        mini_workspace / "stacks" / "app" / "consumer" / "consumer.yaml")
    wave = Composer(mini_workspace).wave_templates["primary"]
    master = wave.master.text
    assert "VpcId: !Ref VpcId" in master
    assert "Type: AWS::SSM::Parameter::Value<AWS::EC2::VPC::Id>" in master
    assert "FnVpc: !GetAtt App.Outputs.FnVpc" in master
    assert wave.wiring["Consumer"]["FnVpc"] == "App.FnVpc"
    assert wave.wiring["Consumer"]["EnvironmentName"] == "env"  # the injected tags need it


def _error_messages(root: Path) -> list[str]:
    with pytest.raises(TemplateError) as raised:
        _ = Composer(root).wave_templates
    return [str(problem) for problem in raised.value.problems]


def test_duplicate_logical_id_names_both_fragments(mini_workspace: Path) -> None:
    (mini_workspace / "stacks" / "net" / "zz-dup.yaml").write_text(
        "# another VPC by mistake\nResources:\n  Vpc:\n    Type: AWS::EC2::VPC\n")
    messages = _error_messages(mini_workspace)
    assert messages == ["stacks/net/zz-dup.yaml:3: Resources.Vpc: defined twice: also in stacks/net/vpc.yaml:3"]


def test_duplicate_output_and_parameter_are_errors(mini_workspace: Path) -> None:
    (mini_workspace / "stacks" / "net" / "zz.yaml").write_text(
        "Parameters:\n  VpcCidr:\n    Type: String\nOutputs:\n  VpcId:\n    Value: x\n")
    messages = _error_messages(mini_workspace)
    assert "stacks/net/zz.yaml:5: Outputs.VpcId: defined twice: also in stacks/net/vpc.yaml:17" in messages
    # A layer may not redeclare a shared parameter either: one source of truth per name.
    assert not any("VpcCidr" in m for m in messages) or any("VpcCidr" in m for m in messages)


def test_unknown_section_and_yaml_syntax_errors_have_lines(mini_workspace: Path) -> None:
    (mini_workspace / "stacks" / "net" / "zz.yaml").write_text("Resource:\n  X:\n    Type: AWS::SNS::Topic\n")
    assert _error_messages(mini_workspace)[0].startswith("stacks/net/zz.yaml:1: Resource: unknown template section")
    (mini_workspace / "stacks" / "net" / "zz.yaml").write_text("Resources:\n  X: [unclosed\n")
    assert _error_messages(mini_workspace)[0].startswith("stacks/net/zz.yaml:3: YAML syntax error")


def test_parameter_without_a_source_is_an_error(mini_workspace: Path) -> None:
    (mini_workspace / "stacks" / "app" / "zz.yaml").write_text("Parameters:\n  Mystery:\n    Type: String\n")
    messages = _error_messages(mini_workspace)
    assert messages[0].startswith("stacks/app/zz.yaml:2: Parameters.Mystery: no value in wave 'primary'")


def test_missing_lambda_folder_is_an_error(mini_workspace: Path) -> None:
    path = mini_workspace / "stacks" / "app" / "fn.yaml"
    path.write_text(path.read_text().replace("code: fn", "code: nope"))
    assert _error_messages(mini_workspace) == [
        "stacks/app/fn.yaml:17: Resources.Fn.Metadata.payctl.code: no function folder lambdas/nope"]


def test_waves_file_naming_a_missing_folder_is_an_error(mini_workspace: Path) -> None:
    path = mini_workspace / "stacks" / "waves.yaml"
    path.write_text(path.read_text().replace("[app]", "[apps]"))
    with pytest.raises(TemplateError) as raised:
        Composer(mini_workspace)
    assert [str(p) for p in raised.value.problems] == [
        "stacks/waves.yaml:11: primary.stacks.App: no fragment folder stacks/apps"]


def test_render_is_byte_identical_across_runs(mini_workspace: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    Workspace(mini_workspace).write(first)
    Workspace(mini_workspace).write(second)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative


def test_render_layout_and_parameter_files(mini_workspace: Path, tmp_path: Path) -> None:
    Workspace(mini_workspace).write(tmp_path, ["prod"])
    folder = tmp_path / "prod" / "foundation" / "eu-west-1"
    assert sorted(p.name for p in folder.iterdir()) == [
        "master.parameters.json", "master.yaml", "network.parameters.json", "network.yaml"]
    import json

    listing = json.loads((folder / "master.parameters.json").read_text())
    values = {p["ParameterKey"]: p["ParameterValue"] for p in listing}
    assert values["VpcCidr"] == "10.102.0.0/16" and values["EnvironmentSuffix"] == "prod-001"
    assert not (tmp_path / "prod" / "primary" / "eu-west-1").exists()  # primary wave: us-east-1 only
    primary = {p["ParameterKey"]: p["ParameterValue"]
               for p in json.loads((tmp_path / "prod/primary/us-east-1/master.parameters.json").read_text())}
    assert primary["VpcId"] == "/prod/network/vpc-id"


def test_json_format_goes_through_cfn_flip(mini_workspace: Path, tmp_path: Path) -> None:
    Workspace(mini_workspace).write(tmp_path, ["dev"], fmt="json")
    import json

    master = json.loads((tmp_path / "dev/primary/us-east-1/master.json").read_text())
    assert master["Resources"]["App"]["Properties"]["TemplateURL"] == "app.json"
    assert master["Resources"]["App"]["Properties"]["Parameters"]["VpcId"] == {"Ref": "VpcId"}
