"""The command line as a user meets it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

BAD = Path(__file__).parent / "bad_envs"


def payctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "payctl", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_version_and_help(mini_workspace: Path) -> None:
    assert payctl("--version", cwd=mini_workspace).stdout.startswith("payctl ")
    helped = payctl("--help", cwd=mini_workspace)
    assert helped.returncode == 0
    for command in ("render", "validate"):
        assert command in helped.stdout


def test_bad_environment_exits_non_zero_with_located_message(mini_workspace: Path) -> None:
    shutil.copy(BAD / "bad_cidr.yaml", mini_workspace / "envs" / "dev.yaml")
    result = payctl("render", "--all", "--out", "out", cwd=mini_workspace)
    assert result.returncode == 1
    assert "envs/dev.yaml:7: network.vpcCidr.primary: '10.0.0.0/33' is not a valid network CIDR" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (mini_workspace / "out").exists()


def test_debug_shows_the_traceback(mini_workspace: Path) -> None:
    shutil.copy(BAD / "bad_cidr.yaml", mini_workspace / "envs" / "dev.yaml")
    result = payctl("--debug", "render", "--all", cwd=mini_workspace)
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_unknown_environment_names_the_known_ones(mini_workspace: Path) -> None:
    result = payctl("render", "qa", cwd=mini_workspace)
    assert result.returncode == 1
    assert "envs/qa.yaml: no such environment (known: dev, staging, prod)" in result.stderr


def test_outside_a_workspace(tmp_path: Path) -> None:
    result = payctl("render", "--all", cwd=tmp_path)
    assert result.returncode == 1 and "no payctl workspace" in result.stderr


def test_validate_reports_lint_errors_at_the_fragment_line(mini_workspace: Path) -> None:
    path = mini_workspace / "stacks" / "net" / "vpc.yaml"
    path.write_text(path.read_text().replace("      Type: String\n", "      Type: Strng\n"))
    result = payctl("validate", "--all", cwd=mini_workspace)
    assert result.returncode == 1
    assert "stacks/net/vpc.yaml:14: Resources.VpcIdParameter.Properties.Type: E3030" in result.stdout
    assert "1 errors" in result.stderr or "errors" in result.stderr


def test_validate_passes_and_second_run_is_cached(mini_workspace: Path) -> None:
    # The mini workspace exercises composition, not the platform's security posture: no scanner.
    first = payctl("validate", "--all", "--no-scan", cwd=mini_workspace)
    assert first.returncode == 0, first.stdout + first.stderr
    second = payctl("validate", "--all", "--no-scan", cwd=mini_workspace)
    assert second.returncode == 0 and "from cache" in second.stderr


def test_usage_errors_exit_2_with_the_usage_line(mini_workspace: Path) -> None:
    missing = payctl("render", cwd=mini_workspace)
    assert missing.returncode == 2 and "name an environment or pass --all" in missing.stderr
    unknown = payctl("render", "--bogus", cwd=mini_workspace)
    assert unknown.returncode == 2 and "No such option: --bogus" in unknown.stderr
    assert "Traceback" not in missing.stderr + unknown.stderr
