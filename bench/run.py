"""Run every payctl benchmark and print one table.

    python bench/run.py                   # everything, 5 runs of the quick commands, 3 of the slow ones
    python bench/run.py --quick           # skip the slow ones (validate --no-cache, cfn-lint, plan/apply)
    python bench/run.py --markdown        # the table as Markdown (what docs/performance.md holds)
    python bench/run.py --json            # every measurement as JSON

Each command runs in a fresh process, as a user would start it. A figure is the median of the
runs; each row shows wall time and the CPU time the process used (user + system). On a busy
machine wall time grows with the load while CPU time barely moves, so goals are judged on wall
time and the CPU column tells whether a miss is the machine or payctl. Ratios are computed from
figures taken in the same run of this script.

Comparisons: `payctl --help` against `aws --version` (AWS CLI v1) and `sceptre --help`
(installed from PyPI into a throwaway virtualenv under /tmp when it is not on PATH; reported as
unavailable when that fails); `payctl validate --all` against one `cfn-lint` process over the same
rendered templates. The plan, apply and StackSet fan-out figures come from bench/bench_plan.py,
bench/bench_apply.py and bench/bench_validate.py when they exist (each run with --json).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the interpreter's own scripts, not a version-manager shim
SCEPTRE_VENV = Path(tempfile.gettempdir()) / "payctl-bench-sceptre"
# The other scripts, with their arguments. moto answers in about a millisecond from one process, so
# bench_plan also runs with AWS-like call latency: that is the --all ratio a real account shows.
OTHER_SCRIPTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bench_plan.py", ()),
    ("bench_plan.py", ("--latency-ms", "100")),
    ("bench_apply.py", ()),
    ("bench_validate.py", ()),
)
REGIONS = ("us-east-1", "eu-west-1")  # the regions payctl validate lints for

GOALS = {
    "help": 0.25,           # payctl --help, seconds
    "render": 1.0,          # payctl render --all, seconds
    "validate_ratio": 1.5,  # payctl validate --all --no-cache / one cfn-lint pass
    "validate_cached": 0.3,  # payctl validate --all with a warm cache, seconds
}


@dataclass
class Measure:
    name: str
    command: str
    wall: float | None = None  # median seconds
    cpu: float | None = None   # median user + system seconds of the process and its children
    runs: int = 0
    goal: str = ""
    met: bool | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)


def executable(name: str) -> str | None:
    """The tool next to this interpreter (pyenv shims add ~0.1 s), else the one on PATH."""
    local = BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def run_once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=900, check=False)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, done.returncode


def measure(name: str, argv: list[str], runs: int, *, cwd: Path = REPO, env: dict[str, str] | None = None,
            ok_codes: tuple[int, ...] = (0,), before_each: Callable[[], None] | None = None) -> Measure:
    result = Measure(name, " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv)))
    walls, cpus = [], []
    for _ in range(runs):
        if before_each is not None:
            before_each()
        wall, cpu, code = run_once(argv, cwd, env or os.environ.copy())
        if code not in ok_codes:
            result.note = f"exit {code}"
            return result
        walls.append(wall)
        cpus.append(cpu)
    result.wall, result.cpu, result.runs, result.samples = (
        statistics.median(walls), statistics.median(cpus), runs, [round(w, 3) for w in walls])
    return result


def judge(result: Measure, goal: str, value: float | None, limit: float) -> None:
    result.goal = goal
    result.met = None if value is None else value <= limit


def sceptre() -> tuple[str | None, str]:
    """sceptre on PATH, or installed into a throwaway virtualenv; None with the reason when neither works."""
    found = shutil.which("sceptre")
    if found:
        return found, ""
    target = SCEPTRE_VENV / "bin" / "sceptre"
    if target.is_file():
        return str(target), ""
    try:
        subprocess.run([sys.executable, "-m", "venv", str(SCEPTRE_VENV)], check=True, capture_output=True,
                       timeout=120)
        subprocess.run([str(SCEPTRE_VENV / "bin" / "pip"), "install", "-q", "sceptre"], check=True,
                       capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as error:
        return None, f"sceptre could not be installed from PyPI ({type(error).__name__})"
    return (str(target), "") if target.is_file() else (None, "sceptre installed no executable")


def cold_start(runs: int) -> list[Measure]:
    payctl = executable("payctl")
    assert payctl, "payctl is not installed: pip install -e '.[dev]'"
    rows = [measure("payctl --help", [payctl, "--help"], runs)]
    judge(rows[0], f"<= {GOALS['help']} s", rows[0].wall, GOALS["help"])
    aws = executable("aws")
    rows.append(measure("aws --version (AWS CLI v1)", [aws, "--version"], runs) if aws
                else Measure("aws --version (AWS CLI v1)", "aws --version", note="aws not installed"))
    path, reason = sceptre()
    rows.append(measure("sceptre --help", [path, "--help"], runs) if path
                else Measure("sceptre --help", "sceptre --help", note=reason))
    base = rows[0].wall
    for row in rows[1:]:
        if base and row.wall:
            row.note = (row.note + "; " if row.note else "") + f"payctl takes {base / row.wall:.2f}x its time"
    return rows


def templates(runs: int, slow_runs: int, quick: bool) -> list[Measure]:
    payctl = executable("payctl")
    assert payctl
    env = os.environ.copy()
    rows = []
    with tempfile.TemporaryDirectory(prefix="payctl-bench-") as scratch:
        out = Path(scratch) / "build"
        cache = Path(scratch) / "cache"
        env["PAYCTL_CACHE_DIR"] = str(cache)
        render = measure("payctl render --all", [payctl, "render", "--all", "--out", str(out)], runs, env=env,
                         before_each=lambda: shutil.rmtree(out, ignore_errors=True))
        judge(render, f"<= {GOALS['render']} s", render.wall, GOALS["render"])
        rows.append(render)
        # Two cfn-lint baselines. Every file `payctl render --all` wrote, as a user would lint a build
        # folder; and each distinct template once in both regions, which is what payctl validate lints
        # (the nested templates are the same for every environment): the goal is judged on the latter.
        every = sorted(str(path) for path in out.rglob("*.yaml"))
        distinct: dict[bytes, str] = {}
        for path in every:
            distinct.setdefault(hashlib.sha256(Path(path).read_bytes()).digest(), path)
        files = list(distinct.values())
        # validate's exit code is 1 when a finding is an error: still a complete run to time.
        if not quick:
            cfn_lint = executable("cfn-lint") or "cfn-lint"
            lint_codes = tuple(range(0, 16, 2))  # a bit mask of error (2), warning (4), informational (8)
            cold = measure("payctl validate --all --no-cache", [payctl, "validate", "--all", "--no-cache"],
                           slow_runs, env=env, ok_codes=(0, 1))
            lint = measure(f"cfn-lint, one process, the {len(files)} distinct templates, both regions",
                           [cfn_lint, *files, "--regions", *REGIONS], slow_runs, ok_codes=lint_codes)
            lint_every = measure(f"cfn-lint, one process, all {len(every)} rendered template files",
                                 [cfn_lint, *every], slow_runs, ok_codes=lint_codes)
            ratio = cold.wall / lint.wall if cold.wall and lint.wall else None
            judge(cold, f"<= {GOALS['validate_ratio']}x cfn-lint", ratio, GOALS["validate_ratio"])
            if ratio is not None and cold.cpu and lint.cpu:
                cold.note = f"{ratio:.2f}x the distinct pass (wall), {cold.cpu / lint.cpu:.2f}x (CPU)"
                if lint_every.wall and cold.wall:
                    cold.note += f"; {cold.wall / lint_every.wall:.2f}x the pass over every file (wall)"
            rows += [cold, lint, lint_every]
        else:
            subprocess.run([payctl, "validate", "--all"], env=env, capture_output=True, check=False,
                           timeout=900)  # warm the cache
        cached = measure("payctl validate --all (cached)", [payctl, "validate", "--all"], runs, env=env,
                         ok_codes=(0, 1))
        judge(cached, f"<= {GOALS['validate_cached']} s", cached.wall, GOALS["validate_cached"])
        rows.append(cached)
    return rows


def others(quick: bool) -> list[tuple[str, Any]]:
    """Results of the other benchmark scripts, as they print them with --json."""
    found = []
    for script, arguments in OTHER_SCRIPTS:
        label = " ".join((script, *arguments))
        path = REPO / "bench" / script
        if not path.is_file():
            found.append((label, {"unavailable": "script not present"}))
            continue
        if quick:
            found.append((label, {"skipped": "--quick"}))
            continue
        done = subprocess.run([sys.executable, str(path), "--json", *arguments], cwd=REPO, capture_output=True,
                              text=True, timeout=1800, check=False)
        try:
            found.append((label, json.loads(done.stdout)))
        except json.JSONDecodeError:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
            found.append((label, {"failed": f"exit {done.returncode}: {tail[0][:200]}"}))
    return found


def machine() -> dict[str, Any]:
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            kib = int(info.readline().split()[1])
            memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    return {"cpus": os.cpu_count(), "memory": memory, "python": platform.python_version(),
            "platform": platform.platform(terse=True), "load": [round(x, 2) for x in load]}


def flatten(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(data, dict):
        return [item for key, value in data.items() for item in flatten(value, f"{prefix}{key}.")]
    return [(prefix.rstrip("."), data)]


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def verdict(row: Measure) -> str:
    if not row.goal:
        return ""
    return f"{row.goal}: " + {True: "met", False: "MISSED", None: "not measured"}[row.met]


def table(rows: list[Measure], extra: list[tuple[str, Any]], markdown: bool) -> str:
    header = ("measurement", "wall (median)", "CPU (median)", "runs", "goal", "note")
    lines = [(r.name, seconds(r.wall), seconds(r.cpu), str(r.runs), verdict(r), r.note) for r in rows]
    for script, data in extra:
        for key, value in flatten(data):
            if key in ("workspace", "environments") or isinstance(value, list):
                continue
            goal = ""
            if key.startswith("goals."):
                goal, value = f"{key.removeprefix('goals.')}: {'met' if value else 'MISSED'}", ""
            lines.append((f"{script}: {key}", str(value), "", "", goal, ""))
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip()
                     for line in [header, *lines])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs of the quick commands (median)")
    parser.add_argument("--slow-runs", type=int, default=3, help="runs of validate --no-cache and cfn-lint")
    parser.add_argument("--quick", action="store_true", help="skip the slow benchmarks")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", action="store_true", help="print every measurement as JSON")
    parser.add_argument("--save", type=Path, help="also write every measurement as JSON to this file")
    parser.add_argument("--load", type=Path, help="print the table of a saved run instead of measuring")
    args = parser.parse_args()

    if args.load:
        saved = json.loads(args.load.read_text(encoding="utf-8"))
        host, extra = saved["machine"], list(saved["scripts"].items())
        rows = [Measure(**row) for row in saved["measurements"]]
    else:
        host = machine()
        print(f"machine: {host['cpus']} CPUs, {host['memory']}, Python {host['python']}, {host['platform']}, "
              f"load {host['load']}", file=sys.stderr)
        rows = cold_start(args.runs) + templates(args.runs, args.slow_runs, args.quick)
        extra = others(args.quick)
    document = {"machine": host, "measurements": [asdict(row) for row in rows], "scripts": dict(extra)}
    if args.save:
        args.save.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(document, indent=2) if args.json else table(rows, extra, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
