"""Environment files: merging, validation, and error messages that name file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from payctl.config import find_workspace, load_environments
from payctl.config.merge import STRATEGIES, merge_layers
from payctl.errors import ConfigError, WorkspaceNotFound

BAD = Path(__file__).parent / "bad_envs"
CASES = sorted(BAD.glob("*.yaml"))


def test_repository_environments_load_with_their_differences(repo_copy: Path) -> None:
    envs = load_environments(repo_copy)
    assert envs.names() == ["dev", "staging", "prod"]
    dev, staging, prod = envs["dev"], envs["staging"], envs["prod"]
    assert [e.network.vpc_cidr.primary for e in (dev, staging, prod)] == ["10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16"]
    assert (dev.database.instance_class, staging.database.instance_class, prod.database.instance_class) == (
        "db.t3.medium", "db.r5.large", "db.r5.large")
    assert not dev.database.dr_secondary and staging.database.dr_secondary and prod.database.dr_secondary
    assert [e.account_id for e in (dev, staging, prod)] == ["111111111111", "222222222222", "333333333333"]
    assert prod.regions.primary == "us-east-1" and prod.regions.dr == "eu-west-1"
    assert prod.compute.dr.desired_count == 2 and dev.compute.dr.desired_count == 0


def test_defaults_merge_under_environment(repo_copy: Path) -> None:
    staging = load_environments(repo_copy)["staging"]
    assert staging.compute.cpu == 512  # from _defaults.yaml
    assert staging.database.backup_retention_days == 14  # overridden by staging.yaml


def test_strategy_table_replaces_operation_preferences_whole() -> None:
    assert STRATEGIES["stackSets.operationPreferences"] == "replace"
    merged = merge_layers([
        ("d.yaml", {"stackSets": {"operationPreferences": {"maxConcurrentPercentage": 100}, "callAs": "SELF"}}),
        ("e.yaml", {"stackSets": {"operationPreferences": {"maxConcurrentCount": 2}}}),
    ])
    assert merged.data["stackSets"] == {"operationPreferences": {"maxConcurrentCount": 2}, "callAs": "SELF"}
    assert merged.origins[("stackSets", "callAs")][0] == "d.yaml"
    assert ("stackSets", "operationPreferences", "maxConcurrentPercentage") not in merged.origins


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_bad_environment_file_is_reported_at_file_line_and_field(case: Path, repo_copy: Path) -> None:
    expected = case.read_text().splitlines()[0].removeprefix("# expect: ")
    shutil.copy(case, repo_copy / "envs" / "dev.yaml")
    with pytest.raises(ConfigError) as raised:
        load_environments(repo_copy)
    messages = [str(problem) for problem in raised.value.problems]
    assert any(expected in message for message in messages), messages


def test_bad_case_corpus_is_large_enough() -> None:
    assert len(CASES) >= 15


def test_every_problem_is_reported_not_just_the_first(repo_copy: Path) -> None:
    shutil.copy(BAD / "bad_cidr.yaml", repo_copy / "envs" / "dev.yaml")
    shutil.copy(BAD / "bad_class.yaml", repo_copy / "envs" / "staging.yaml")
    (repo_copy / "envs" / "staging.yaml").write_text(
        (repo_copy / "envs" / "staging.yaml").read_text().replace("name: dev", "name: staging")
        .replace("111111111111", "222222222222").replace("dev-001", "stg-001").replace("10.0.", "10.1.")
        .replace("10.100.", "10.101."))
    with pytest.raises(ConfigError) as raised:
        load_environments(repo_copy)
    files = {problem.file for problem in raised.value.problems}
    assert files == {"envs/dev.yaml", "envs/staging.yaml"}


def test_workspace_is_found_from_a_subfolder(repo_copy: Path) -> None:
    inner = repo_copy / "stacks" / "_shared"
    assert find_workspace(inner) == repo_copy.resolve()


def test_no_workspace_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFound, match="no payctl workspace"):
        find_workspace(tmp_path)
