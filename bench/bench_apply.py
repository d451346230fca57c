"""Benchmark `payctl apply` and the StackSet fan-out against the local emulator (payctl.local: moto
plus payctl's patches, a separate server process on 127.0.0.1, started here in a private state folder).

Measures
  * apply of one environment (tests/apply/fixtures/workspace: three stacks, two regions) against
    `aws cloudformation package` + `aws cloudformation deploy` (AWS CLI v1) of the same rendered
    templates, one stack after the other, into the same emulator: wall time and AWS API calls.
    The emulator finishes every operation at once, so the times are what each tool adds outside AWS
    (its own work plus how soon its waiters look again).
  * apply --all-accounts with 3, 12 and 48 accounts x 2 regions (the same templates: a foundation
    wave in both regions, an app wave in the primary region): wall time, AWS API calls per instance,
    and the calls that dominate.

    python bench/bench_apply.py                     # everything
    python bench/bench_apply.py --accounts 3,12     # a smaller fan-out
    python bench/bench_apply.py --skip-cli --json

Accounts beyond dev, staging and prod get synthetic ids (9 followed by eleven digits), seeded into the
emulator's organization; their environment files are written to a temporary copy of the workspace.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from payctl.apply.common import approve_all  # noqa: E402
from payctl.automation import Workspace  # noqa: E402
from payctl.aws.session import AwsSession, Target  # noqa: E402
from payctl.local import emulator  # noqa: E402

FIXTURE = REPO / "tests" / "apply" / "fixtures" / "workspace"
ADMIN = "444444444444"
NAMED = {"dev": "111111111111", "staging": "222222222222", "prod": "333333333333"}
GOAL_CALLS_PER_INSTANCE = 25  # reading, deploying and following one instance
GOAL_APPLY_RATIO = 1.0  # payctl apply against aws package + deploy, same stacks, same emulator


class CallCounter:
    """AWS API calls made through an AwsSession, by operation (botocore event hooks)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def __call__(self, event_name: str = "", **_kwargs: Any) -> None:
        with self.lock:
            self.calls[event_name.removeprefix("before-call.")] += 1

    def hooks(self) -> list[tuple[str, Any]]:
        return [("before-call.*.*", self)]

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def synthetic_account(index: int) -> str:
    return f"9{index:011d}"


def workspace_copy(target: Path, accounts: int | None) -> Path:
    """The fixture workspace with the repository's envs; with `accounts`, that many generated environments."""
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "envs", target / "envs")
    if accounts is None:
        return target
    template = (REPO / "envs" / "dev.yaml").read_text(encoding="utf-8")
    for name in NAMED:
        (target / "envs" / f"{name}.yaml").unlink()
    for index in range(accounts):
        text = template.replace("name: dev", f"name: env{index:03d}")
        text = text.replace('accountId: "111111111111"', f'accountId: "{synthetic_account(index)}"')
        text = text.replace("environmentSuffix: dev-001", f"environmentSuffix: env-{index:03d}")
        text = re.sub(r"primary: 10\.0\.0\.0/16", f"primary: 10.{index}.0.0/16", text)
        text = re.sub(r"dr: 10\.100\.0\.0/16", f"dr: 10.{100 + index}.0.0/16", text)
        text = text.replace("dev-ops@example.com", f"env{index:03d}-ops@example.com")
        text = text.replace("dev-security@example.com", f"env{index:03d}-security@example.com")
        (target / "envs" / f"env{index:03d}.yaml").write_text(text, encoding="utf-8")
    return target


def bench_environment(endpoint: str, scratch: Path) -> dict[str, Any]:
    root = workspace_copy(scratch / "apply", None)
    emulator.reset()
    counter = CallCounter()
    started = time.monotonic()
    Workspace(root, search=False, aws=AwsSession(endpoint_url=endpoint, event_hooks=counter.hooks())) \
        .environment("dev").apply(confirm=approve_all)
    payctl_seconds = time.monotonic() - started
    return {"payctl": {"seconds": round(payctl_seconds, 2), "calls": counter.total,
                       "stacks": 3, "regionsAtOnce": 2}}


def bench_aws_cli(endpoint: str, scratch: Path, payctl_seconds: float) -> dict[str, Any]:
    """The same three stacks with `aws cloudformation package` and `deploy`, one after the other."""
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if aws is None:
        return {"unavailable": "aws CLI not found"}
    root = workspace_copy(scratch / "cli", None)
    emulator.reset()
    session = AwsSession(endpoint_url=endpoint)
    workspace = Workspace(root, search=False, aws=session)
    rendered = workspace.environment("dev").render()
    build = scratch / "build"
    rendered.write(build)
    credentials = session._session_for(Target(NAMED["dev"], "us-east-1")).get_credentials()
    # AWS_ENDPOINT_URL reaches every client the CLI makes (package's S3 uploads included).
    env = {**os.environ, "AWS_ACCESS_KEY_ID": credentials.access_key, "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
           "AWS_SESSION_TOKEN": credentials.token or "", "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_ENDPOINT_URL": endpoint}
    calls = 0
    started = time.monotonic()
    for stack in rendered.stacks:  # foundation us-east-1, foundation eu-west-1, app us-east-1
        bucket = f"payctl-artifacts-{NAMED['dev']}-{stack.region}"
        s3 = session.client("s3", Target(NAMED["dev"], stack.region))
        try:
            s3.head_bucket(Bucket=bucket)
        except Exception:  # the bucket the bootstrap would have made
            where = {} if stack.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": stack.region}}
            s3.create_bucket(Bucket=bucket, **where)
        folder = build / stack.folder
        packaged = folder / "packaged.yaml"
        common = ["--region", stack.region, "--debug"]
        package = subprocess.run([aws, "cloudformation", "package", "--template-file", str(folder / "master.yaml"),
                                  "--s3-bucket", bucket, "--output-template-file", str(packaged), *common],
                                 capture_output=True, text=True, env=env, check=False)
        overrides = [f"{key}={value}" for key, value in stack.parameters["master"].items()]
        deploy = subprocess.run([aws, "cloudformation", "deploy", "--template-file", str(packaged),
                                 "--stack-name", stack.stack_name, "--s3-bucket", bucket,
                                 "--capabilities", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND",
                                 "--parameter-overrides", *overrides, *common],
                                capture_output=True, text=True, env=env, check=False)
        for done in (package, deploy):
            calls += done.stderr.count("Making request for OperationModel")
            if done.returncode != 0:
                tail = done.stderr.strip().splitlines()[-1:] or [""]
                return {"failed": f"{' '.join(done.args[1:3])} exit {done.returncode}: {tail[0][:200]}"}
    seconds = time.monotonic() - started
    return {"awsCli": {"seconds": round(seconds, 2), "calls": calls, "stacks": 3, "regionsAtOnce": 1},
            "payctlOverAwsCli": round(payctl_seconds / seconds, 3),
            "goals": {f"payctl<={GOAL_APPLY_RATIO}xAwsCli": payctl_seconds / seconds <= GOAL_APPLY_RATIO}}


def bench_fan_out(endpoint: str, scratch: Path, accounts: int) -> dict[str, Any]:
    root = workspace_copy(scratch / f"fan-out-{accounts}", accounts)
    emulator.reset()
    counter = CallCounter()
    workspace = Workspace(root, search=False, aws=AwsSession(endpoint_url=endpoint, event_hooks=counter.hooks()))
    started = time.monotonic()
    result = workspace.apply_all_accounts(confirm=approve_all)
    seconds = time.monotonic() - started
    instances = accounts * 3  # foundation in two regions, app in one
    operations = sum(len(wave.operations) for wave in result.waves)
    per_instance = counter.total / instances
    first = {"seconds": round(seconds, 2), "secondsPerInstance": round(seconds / instances, 3),
             "calls": counter.total, "callsPerInstance": round(per_instance, 1), "operations": operations,
             "topCalls": dict(counter.calls.most_common(6))}
    # Again with nothing to change: what reading every instance (plan and apply) costs.
    counter.calls.clear()
    started = time.monotonic()
    workspace.apply_all_accounts(confirm=approve_all)
    again_seconds = time.monotonic() - started
    again = {"seconds": round(again_seconds, 2), "calls": counter.total,
             "callsPerInstance": round(counter.total / instances, 1), "topCalls": dict(counter.calls.most_common(6))}
    worst = max(per_instance, counter.total / instances)
    return {"accounts": accounts, "instances": instances, "create": first, "unchanged": again,
            "goals": {f"callsPerInstance<={GOAL_CALLS_PER_INSTANCE}": worst <= GOAL_CALLS_PER_INSTANCE}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", default="3,12,48", help="fan-out sizes, comma-separated")
    parser.add_argument("--skip-cli", action="store_true", help="do not run the aws CLI comparison")
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    args = parser.parse_args()
    sizes = [int(size) for size in args.accounts.split(",") if size]
    scratch = Path(tempfile.mkdtemp(prefix="payctl-bench-apply-"))
    os.environ["PAYCTL_STATE_DIR"] = str(scratch / "state")
    seeded = list(NAMED.values()) + [synthetic_account(i) for i in range(max(sizes, default=0))]
    started = time.monotonic()
    info = emulator.start(seeded, ADMIN)
    results: dict[str, Any] = {"emulatorStartSeconds": round(time.monotonic() - started, 2)}
    try:
        results["environment"] = bench_environment(info.endpoint, scratch)
        if not args.skip_cli:
            results["environment"].update(bench_aws_cli(info.endpoint, scratch,
                                                        results["environment"]["payctl"]["seconds"]))
        results["fanOut"] = {str(size): bench_fan_out(info.endpoint, scratch, size) for size in sizes}
    finally:
        emulator.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    environment = results["environment"]
    print(f"apply dev (3 stacks): payctl {environment['payctl']['seconds']}s, "
          f"{environment['payctl']['calls']} calls", end="")
    if "awsCli" in environment:
        print(f"; aws package+deploy {environment['awsCli']['seconds']}s, {environment['awsCli']['calls']} calls "
              f"(payctl/aws = {environment['payctlOverAwsCli']})")
    else:
        print(f"; aws CLI: {environment.get('failed') or environment.get('unavailable') or 'skipped'}")
    for size, row in results["fanOut"].items():
        create, again = row["create"], row["unchanged"]
        print(f"apply --all-accounts, {size} accounts x 2 regions ({row['instances']} instances): create "
              f"{create['seconds']}s, {create['callsPerInstance']} calls per instance, {create['operations']} "
              f"operations; unchanged {again['seconds']}s, {again['callsPerInstance']} calls per instance")
        print(f"  top calls (create): {create['topCalls']}")
        print(f"  top calls (unchanged): {again['topCalls']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
