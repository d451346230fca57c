"""The README's newcomer path runs as written: every fenced block marked `<!-- runnable -->` is run,
line by line, in a copy of the repository against a local emulator of its own, and the output
excerpt marked `<!-- output -->` must appear in what the commands before it printed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^<!-- (runnable|output) -->\n```[a-z]*\n(.*?)^```$", re.M | re.S)
SKIPPED = ("pip ", "python3 -m pip", "python -m pip", "python3 -m pytest", "python -m pytest", "pytest")
COMMAND_TIMEOUT = 300  # the main job takes about 30 s on an idle 2-CPU machine


def marked_blocks() -> list[tuple[str, list[str]]]:
    return [(kind, [line for line in body.splitlines() if line.strip()])
            for kind, body in BLOCK.findall(README)]


def commands(lines: list[str]) -> list[str]:
    found = []
    for line in lines:
        command = line.split(" #", 1)[0].strip()
        if command and not command.startswith("#") and not command.startswith(SKIPPED):
            found.append(command)
    return found


def excerpt_pattern(line: str) -> re.Pattern[str]:
    """An output line, with `*` standing for what changes from run to run (ports, durations)."""
    return re.compile(".*".join(re.escape(part) for part in line.split("*")))


def test_readme_marks_the_main_job_and_its_output() -> None:
    blocks = marked_blocks()
    assert blocks[0] == ("runnable", ["payctl --local apply --all-accounts --yes"])
    assert blocks[1][0] == "output"
    assert [kind for kind, _ in blocks].count("runnable") >= 2
    assert "payctl local stop" in blocks[-1][1], "the last runnable block stops the emulator it started"


def test_install_and_test_commands_are_not_marked_runnable() -> None:
    for kind, lines in marked_blocks():
        if kind == "runnable":
            assert commands(lines) == lines


@pytest.mark.emulator
def test_readme_commands_run_against_the_local_emulator(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    for folder in ("envs", "stacks", "lambdas"):
        shutil.copytree(REPO / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__", "build"))
    env = {**os.environ,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PAYCTL_STATE_DIR": str(tmp_path / "state"),  # an emulator of this test's own
           "PAYCTL_CACHE_DIR": str(tmp_path / "cache"),
           "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("PAYCTL_LOCAL", None)
    printed = ""
    try:
        for kind, lines in marked_blocks():
            if kind == "output":
                missing = [line for line in lines if not excerpt_pattern(line).search(printed)]
                assert not missing, f"README output excerpt not printed: {missing}"
                continue
            for command in commands(lines):
                done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True,
                                      text=True, timeout=COMMAND_TIMEOUT, check=False)
                printed += done.stdout + done.stderr
                assert done.returncode == 0, f"`{command}` exited {done.returncode}:\n{done.stderr[-3000:]}"
        assert (work / "prod.mmd").read_text(encoding="utf-8").startswith("flowchart LR")
    finally:
        subprocess.run(["payctl", "local", "stop"], cwd=work, env=env, capture_output=True, timeout=60,
                       check=False)
