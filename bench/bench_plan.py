"""Benchmark `payctl plan` against moto server on 127.0.0.1 (a separate process, so AWS's side does not
share this process's interpreter).

Measures
  * time spent outside AWS calls per environment (render, package, build the Plan, client setup),
    planning with one worker so wall time minus the time inside botocore calls is payctl's own;
    goal <= 0.5 s
  * `plan --all` wall time against planning one environment; goal <= 1.3x

    python bench/bench_plan.py                       # tests/plan/fixtures/workspace + envs/
    python bench/bench_plan.py --workspace .         # the platform's own templates (new environments)
    python bench/bench_plan.py --repeat 5 --json
    python bench/bench_plan.py --latency-ms 100      # add AWS-like round-trip time to every call

moto answers in about a millisecond from one process, so without --latency-ms the --all ratio
measures moto's own throughput (its work for three environments is serialized in its interpreter);
real CloudFormation calls take 50-300 ms and change sets seconds, which --latency-ms stands in for.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from payctl.automation import Workspace  # noqa: E402
from payctl.aws.session import AwsSession  # noqa: E402
from payctl.plan.planner import PlanOptions  # noqa: E402

GOAL_OUTSIDE_AWS = 0.5
GOAL_ALL_RATIO = 1.3


class CallTimer:
    """Time spent inside botocore calls (request, retries, response parsing), summed over threads."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.lock = threading.Lock()
        self.total = 0.0
        self.calls = 0

    def hooks(self) -> list[tuple[str, Any]]:
        return [("before-call.*.*", self.before), ("after-call.*.*", self.after)]

    def before(self, **_: Any) -> None:
        self.local.started = time.perf_counter()

    def after(self, **_: Any) -> None:
        spent = time.perf_counter() - self.local.started
        with self.lock:
            self.total += spent
            self.calls += 1

    def reset(self) -> None:
        with self.lock:
            self.total, self.calls = 0.0, 0


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_moto() -> Server:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return Server(process, url)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("moto server did not start")


def reset(server: Server) -> None:
    request = urllib.request.Request(f"{server.url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def workspace_copy(source: Path | None) -> Path:
    root = Path(tempfile.mkdtemp(prefix="bench-plan-")) / "workspace"
    if source is None:
        shutil.copytree(REPO / "tests/plan/fixtures/workspace", root)
        shutil.copytree(REPO / "envs", root / "envs")
    else:
        for folder in ("envs", "stacks", "lambdas"):
            if (source / folder).is_dir():
                shutil.copytree(source / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def timed(ws: Workspace, timer: CallTimer, names: list[str] | None, workers: int) -> tuple[float, float, int]:
    timer.reset()
    started = time.perf_counter()
    ws.plan(names, options=PlanOptions(workers=workers))
    wall = time.perf_counter() - started
    return wall, timer.total, timer.calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, help="a workspace (default: the plan test fixture)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="added to every AWS call (client side)")
    args = parser.parse_args()

    os.environ.pop("AWS_PROFILE", None)
    server = start_moto()
    try:
        root = workspace_copy(args.workspace.resolve() if args.workspace else None)
        timer = CallTimer()
        hooks = timer.hooks()
        if args.latency_ms:
            delay = args.latency_ms / 1000
            hooks.append(("before-send.*.*", lambda **_: time.sleep(delay)))
        aws = AwsSession(endpoint_url=server.url, event_hooks=hooks)
        ws = Workspace(root, search=False, aws=aws)
        names = ws.environments.names()

        cold_wall, cold_aws, _ = timed(ws, timer, [names[0]], workers=1)  # clients created, models loaded
        outside: dict[str, list[float]] = {name: [] for name in names}
        single, together = [], []
        calls = 0
        for _ in range(args.repeat):
            for name in names:
                wall, in_aws, calls = timed(ws, timer, [name], workers=1)
                outside[name].append(wall - in_aws)
            single.append(timed(ws, timer, [names[0]], workers=4)[0])
            together.append(timed(ws, timer, None, workers=4)[0])
        results = {
            "workspace": str(args.workspace or "tests/plan/fixtures/workspace"),
            "latencyMs": args.latency_ms,
            "environments": names,
            "awsCallsPerEnvironment": calls,
            "coldFirstPlan": {"wall": round(cold_wall, 3), "outsideAws": round(cold_wall - cold_aws, 3)},
            "outsideAwsPerEnvironment": {name: round(statistics.median(v), 3) for name, v in outside.items()},
            "singleWall": round(statistics.median(single), 3),
            "allWall": round(statistics.median(together), 3),
        }
        results["allOverSingle"] = round(results["allWall"] / results["singleWall"], 2)
        worst = max(results["outsideAwsPerEnvironment"].values())
        results["goals"] = {"outsideAws<=0.5s": worst <= GOAL_OUTSIDE_AWS,
                            "all<=1.3xSingle": results["allOverSingle"] <= GOAL_ALL_RATIO}
    finally:
        server.stop()

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"workspace: {results['workspace']}  ({len(names)} environments, "
          f"{results['awsCallsPerEnvironment']} AWS calls per environment, "
          f"{args.latency_ms:.0f} ms added per call)")
    print(f"first plan (cold clients): {cold_wall:.2f}s wall, {cold_wall - cold_aws:.2f}s outside AWS")
    for name, seconds in results["outsideAwsPerEnvironment"].items():
        print(f"outside AWS, {name}: {seconds:.3f}s (goal <= {GOAL_OUTSIDE_AWS}s)")
    print(f"plan one environment: {results['singleWall']:.2f}s; plan --all: {results['allWall']:.2f}s; "
          f"ratio {results['allOverSingle']:.2f} (goal <= {GOAL_ALL_RATIO})")
    verdicts = [f"{goal} {'met' if met else 'MISSED'}" for goal, met in results["goals"].items()]
    print("goals: " + ", ".join(verdicts))


if __name__ == "__main__":
    main()
