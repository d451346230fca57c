"""Benchmark `payctl validate --all` against one in-process cfn-lint pass over the same templates.

Measures, each in a fresh process so every side pays its own imports:
  * baseline: one cfn-lint pass (the cfn-lint API, in process) over the distinct rendered
    templates, with the regions and parameter sets payctl gives it; rendering is not timed
  * cold: `Workspace.validate()` with an empty cache: render, cfn-lint, the platform rules and,
    when installed, the security scanner; goal <= 1.5x the baseline
  * warm: the same call again with nothing changed, answered from the cache; goal <= 0.3 s; also
    reports whether cfn-lint was imported at all (it should not be)
  * warm CLI: `python -m payctl validate --all` wall time with the warm cache (process start and
    imports included)

    python bench/bench_validate.py                    # the repository's workspace
    python bench/bench_validate.py --repeat 3 --json
    python bench/bench_validate.py --no-scan          # without the scanner (checkov)

The workspace and payctl's code are measured from a snapshot copy (so edits made meanwhile in
the checkout do not invalidate the warm cache); --live measures the checkout itself.

Figures are medians; each carries wall and CPU (user + system) seconds, since on a busy machine
wall time grows with the load while CPU time does not.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
GOAL_RATIO = 1.5
GOAL_WARM = 0.3

BASELINE = """
import json, os, sys, time
from payctl.automation import Workspace
from payctl.lint import lint
workspace = Workspace(sys.argv[1], search=False)
sets = workspace.render()
extra = list(workspace.standalone_templates().values())
for rendered in sets:
    for stack in rendered.stacks:
        for template in stack.all_templates():
            template.text  # dumped before timing: only cfn-lint is measured
for template in extra:
    template.text
wall, cpu = time.perf_counter(), time.process_time()
report = lint(sets, None, extra=extra)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "templates": report.templates}))
"""

VALIDATE = """
import json, os, resource, sys, time
wall, cpu = time.perf_counter(), time.process_time()
from payctl.automation import Workspace
report = Workspace(sys.argv[1], search=False).validate(scan=sys.argv[2] == "scan")
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": time.perf_counter() - wall,
                  "cpu": time.process_time() - cpu + children.ru_utime + children.ru_stime,
                  "from_cache": report.from_cache, "scanner": report.scan.status,
                  "cfnlint_imported": "cfnlint" in sys.modules,
                  "findings": len(report.findings + report.policy.findings + report.scan.findings)}))
"""

WARM = """
import json, sys, time
from payctl.automation import Workspace
workspace = Workspace(sys.argv[1], search=False)
wall, cpu = time.perf_counter(), time.process_time()
report = workspace.validate(scan=sys.argv[2] == "scan")
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "from_cache": report.from_cache, "cfnlint_imported": "cfnlint" in sys.modules}))
"""


def _python(code: str, *args: str, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    # cwd is the code's folder: `python -c` puts the current directory first on sys.path.
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _cli(workspace: Path, scan: bool, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    arguments = [sys.executable, "-m", "payctl", "--workspace", str(workspace), "validate", "--all"]
    if not scan:
        arguments.append("--no-scan")
    before = os.times()
    wall = time.perf_counter()
    subprocess.run(arguments, capture_output=True, text=True, env=env, cwd=cwd, timeout=3600, check=False)
    after = os.times()
    return {
        "wall": time.perf_counter() - wall,
        "cpu": (after.children_user - before.children_user) + (after.children_system - before.children_system),
    }


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 3)


def snapshot(workspace: Path, target: Path) -> Path:
    """A copy of payctl's code and the workspace's inputs, frozen for the measurement."""
    ignore = shutil.ignore_patterns("__pycache__", ".payctl")
    shutil.copytree(REPO / "payctl", target / "payctl", ignore=ignore)
    for folder in ("envs", "stacks", "lambdas"):
        if (workspace / folder).is_dir():
            shutil.copytree(workspace / folder, target / "workspace" / folder, ignore=ignore)
    return target / "workspace"


def measure(workspace: Path, repeat: int, scan: bool, code: Path = REPO) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code) + os.pathsep + env.get("PYTHONPATH", "")
    baseline, cold, warm, warm_cli = [], [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="payctl-bench-cache-") as cache:
            run_env = {**env, "PAYCTL_CACHE_DIR": cache}
            baseline.append(_python(BASELINE, str(workspace), env=run_env, cwd=code))
            cold.append(_python(VALIDATE, str(workspace), "scan" if scan else "no-scan", env=run_env, cwd=code))
            warm.append(_python(WARM, str(workspace), "scan" if scan else "no-scan", env=run_env, cwd=code))
            warm_cli.append(_cli(workspace, scan, run_env, code))
    ratio_wall = _median(cold, "wall") / _median(baseline, "wall")
    ratio_cpu = _median(cold, "cpu") / _median(baseline, "cpu")
    return {
        "workspace": str(workspace),
        "runs": repeat,
        "templates": baseline[0]["templates"],
        "scanner": cold[0]["scanner"],
        "baseline_cfn_lint": {"wall": _median(baseline, "wall"), "cpu": _median(baseline, "cpu")},
        "validate_cold": {"wall": _median(cold, "wall"), "cpu": _median(cold, "cpu")},
        "ratio": {
            "wall": round(ratio_wall, 2),
            "cpu": round(ratio_cpu, 2),
            "goal": GOAL_RATIO,
            "met": ratio_wall <= GOAL_RATIO,
        },
        "validate_warm": {
            "wall": _median(warm, "wall"),
            "cpu": _median(warm, "cpu"),
            "goal": GOAL_WARM,
            "met": _median(warm, "wall") <= GOAL_WARM,
            "from_cache": all(run["from_cache"] for run in warm),
            "cfn_lint_imported": any(run["cfnlint_imported"] for run in warm),
        },
        "validate_warm_cli": {"wall": _median(warm_cli, "wall"), "cpu": _median(warm_cli, "cpu")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, default=REPO)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-scan", action="store_true", help="leave the security scanner out")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--live", action="store_true", help="measure the checkout, not a snapshot of it")
    options = parser.parse_args()
    if options.live:
        result = measure(options.workspace.resolve(), options.repeat, scan=not options.no_scan)
    else:
        with tempfile.TemporaryDirectory(prefix="payctl-bench-snapshot-") as folder:
            frozen = snapshot(options.workspace.resolve(), Path(folder))
            result = measure(frozen, options.repeat, scan=not options.no_scan, code=Path(folder))
            result["workspace"] = f"snapshot of {options.workspace.resolve()}"
    if options.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['templates']} distinct templates, scanner: {result['scanner']}, {result['runs']} run(s)")
    base, cold = result["baseline_cfn_lint"], result["validate_cold"]
    print(f"  cfn-lint pass (in process)     {base['wall']:7.2f} s wall  {base['cpu']:7.2f} s CPU")
    print(f"  validate --all, cold cache     {cold['wall']:7.2f} s wall  {cold['cpu']:7.2f} s CPU")
    ratio = result["ratio"]
    print(
        f"  ratio                          {ratio['wall']:7.2f}x wall  {ratio['cpu']:7.2f}x CPU"
        f"  (goal <= {GOAL_RATIO}x: {'met' if ratio['met'] else 'MISSED'})"
    )
    warm = result["validate_warm"]
    print(
        f"  validate --all, nothing changed {warm['wall']:6.3f} s wall  {warm['cpu']:7.3f} s CPU"
        f"  (goal <= {GOAL_WARM} s: {'met' if warm['met'] else 'MISSED'}; cfn-lint imported: "
        f"{warm['cfn_lint_imported']})"
    )
    cli = result["validate_warm_cli"]
    print(f"  payctl validate --all (CLI)    {cli['wall']:7.3f} s wall  {cli['cpu']:7.3f} s CPU (with start-up)")


if __name__ == "__main__":
    main()
