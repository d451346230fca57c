"""Destroying an environment: waves in reverse order (the regions of a wave side by side), data kept
first, protections lifted only after the user confirmed, and a summary of what was kept.

    plan = plan_destroy(aws, rendered)          # read-only: what would be deleted, backed up, lifted
    result = destroy(aws, plan, on_event=...)   # acts; stops at the first failure with its reason

Per stack, in this order: termination protection off; deletion protection off (Aurora clusters,
global clusters, every replica of a DynamoDB table); an on-demand backup of each table (taken where
the table is owned, i.e. the primary region for a global table) and waited on; readers Aurora Auto
Scaling added removed; versioned buckets emptied; DeleteStack and wait. Aurora keeps a final
snapshot through `DeletionPolicy: Snapshot`: CloudFormation takes it, payctl names it afterwards.

Running it again continues where it stopped: deleted stacks are gone from the plan, a backup
already taken (in the last day) is reused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from payctl.aws import cleanup
from payctl.aws.drift import stack_resources
from payctl.aws.poll import Backoff
from payctl.aws.session import AwsSession, Target
from payctl.aws.stacks import deployed_template
from payctl.errors import DeploymentFailed, PayctlError, Refused
from payctl.operate.inventory import DeployedStack, StackNode, discover, fan_out
from payctl.templates import RenderedSet

BACKUP_PREFIX = "payctl-destroy"
BACKUP_REUSE = timedelta(days=1)
PROD = "prod"


# ---- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableToKeep:
    name: str
    region: str  # where the backup is taken: the owning stack's region (primary, for a global table)
    replica_regions: tuple[str, ...]  # where deletion protection is lifted
    global_table: bool
    protected: bool
    stack: str


@dataclass(frozen=True)
class ClusterToKeep:
    identifier: str
    region: str
    stack: str  # the stack holding the cluster (CloudFormation names the snapshot after it)
    logical_id: str
    snapshot: bool  # DeletionPolicy: Snapshot
    protected: bool

    @property
    def snapshot_prefix(self) -> str:
        return f"{self.stack}-snapshot-{self.logical_id}".lower()


@dataclass(frozen=True)
class KeyToSchedule:
    key_id: str
    region: str
    stack: str
    pending_days: str  # as the template says (a number, or "7-30" when it depends on a condition)


@dataclass(frozen=True)
class DestroyStep:
    """One wave's stack in one region, and what must happen before CloudFormation deletes it."""

    stack: DeployedStack
    status: str
    termination_protection: bool
    buckets: tuple[str, ...] = ()
    tables: tuple[TableToKeep, ...] = ()
    clusters: tuple[ClusterToKeep, ...] = ()
    global_clusters: tuple[str, ...] = ()
    keys: tuple[KeyToSchedule, ...] = ()
    instance_of: str = ""  # the StackSet, when this is an instance stack

    @property
    def label(self) -> str:
        return f"{self.stack.wave} · {self.stack.region} · {self.stack.stack_name}"


@dataclass(frozen=True)
class DestroyPlan:
    scope: str  # the environment, or "all-accounts"
    environments: tuple[str, ...]
    waves: tuple[tuple[str, tuple[DestroyStep, ...]], ...]  # reverse deploy order
    not_deployed: tuple[str, ...] = ()
    stack_sets: tuple[tuple[str, str], ...] = ()  # (wave, StackSet) in reverse order, --all-accounts
    admin: Target | None = None
    call_as: str = "SELF"
    preferences: tuple[tuple[str, Any], ...] = ()  # OperationPreferences for DeleteStackInstances

    @property
    def steps(self) -> list[DestroyStep]:
        return [step for _wave, steps in self.waves for step in steps]

    @property
    def touches_prod(self) -> bool:
        return PROD in self.environments

    @property
    def empty(self) -> bool:
        return not self.steps and not self.stack_sets


def _resources(cfn: Any, node: StackNode) -> list[dict[str, Any]]:
    listed = stack_resources(cfn, node.info.stack_id)
    return [r for r in listed if r.get("ResourceStatus") != "DELETE_COMPLETE"]


def _template_resources(cfn: Any, node: StackNode) -> dict[str, Any]:
    from cfn_flip import load  # reads YAML short-form tags and JSON alike

    document, _format = load(deployed_template(cfn, node.info.stack_id))
    resources = document.get("Resources", {}) if isinstance(document, dict) else {}
    return resources if isinstance(resources, dict) else {}


def plan_step(aws: AwsSession, stack: DeployedStack, instance_of: str = "") -> DestroyStep:
    """Read what the stack (and its nested stacks) hold that destroy must take care of."""
    assert stack.root is not None
    cfn = aws.client("cloudformation", stack.target)
    buckets: list[str] = []
    tables: list[TableToKeep] = []
    clusters: list[ClusterToKeep] = []
    global_clusters: list[str] = []
    keys: list[KeyToSchedule] = []
    for node in stack.nodes():
        resources = _resources(cfn, node)
        types = {r["ResourceType"] for r in resources}
        template = (_template_resources(cfn, node)
                    if types & {"AWS::RDS::DBCluster", "AWS::KMS::Key"} else {})
        for resource in resources:
            kind, physical = resource["ResourceType"], str(resource.get("PhysicalResourceId") or "")
            logical = str(resource["LogicalResourceId"])
            if not physical:
                continue
            if kind == "AWS::S3::Bucket":
                buckets.append(physical)
            elif kind in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
                is_global = kind == "AWS::DynamoDB::GlobalTable"
                tables.append(_table(aws, stack, physical, is_global, node.info.name))
            elif kind == "AWS::RDS::DBCluster":
                policy = (template.get(logical) or {}).get("DeletionPolicy")
                description = cleanup.describe_cluster(aws.client("rds", stack.target), physical) or {}
                protected = bool(description.get("DeletionProtection"))
                clusters.append(ClusterToKeep(physical, stack.region, node.info.name, logical,
                                              policy == "Snapshot", protected))
            elif kind == "AWS::RDS::GlobalCluster":
                global_clusters.append(physical)
            elif kind == "AWS::KMS::Key":
                properties = (template.get(logical) or {}).get("Properties") or {}
                window = properties.get("PendingWindowInDays", 30)
                keys.append(KeyToSchedule(physical, stack.region, node.info.name,
                                          str(window) if isinstance(window, int) else "7-30"))
    return DestroyStep(stack, stack.root.info.status, _termination_protected(cfn, stack), tuple(buckets),
                       tuple(tables), tuple(clusters), tuple(global_clusters), tuple(keys), instance_of)


def _termination_protected(cfn: Any, stack: DeployedStack) -> bool:
    assert stack.root is not None
    described = cfn.describe_stacks(StackName=stack.root.info.stack_id)["Stacks"]
    return bool(described and described[0].get("EnableTerminationProtection"))


def _table(aws: AwsSession, stack: DeployedStack, name: str, global_table: bool, owner: str) -> TableToKeep:
    description = cleanup.describe_table(aws.client("dynamodb", stack.target), name) or {}
    regions = tuple(cleanup.replica_regions(description)) or (stack.region,)
    return TableToKeep(name, stack.region, regions if global_table else (stack.region,), global_table,
                       bool(description.get("DeletionProtectionEnabled")), owner)


def plan_destroy(aws: AwsSession, rendered: RenderedSet, *, parallel: int = 4) -> DestroyPlan:
    """Read-only: the environment's deployed stacks in reverse wave order, with what each holds."""
    deployed = discover(aws, rendered, parallel=parallel)
    present = [stack for stack in deployed if stack.deployed]
    steps = fan_out(lambda stack: plan_step(aws, stack), present, parallel)
    waves: dict[str, list[DestroyStep]] = {}
    for step in reversed(steps):
        waves.setdefault(step.stack.wave, []).append(step)
    missing = tuple(f"{s.wave} · {s.region} · {s.stack_name}" for s in deployed if not s.deployed)
    env = rendered.environment.name
    return DestroyPlan(env, (env,), tuple((wave, tuple(items)) for wave, items in waves.items()), missing)


# ---- events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DestroyEvent:
    """Progress of a destroy: `kind` says what happened, `subject` to what, `region` where."""

    kind: str  # step-started, protection-lifted, backup-taken, backup-reused, readers-removed,
    #            bucket-emptied, stack-deleting, retrying, stack-deleted, instances-deleted, stack-set-deleted
    subject: str
    region: str = ""
    detail: str = ""


OnDestroyEvent = Callable[[DestroyEvent], None]


def ignore(_event: DestroyEvent) -> None:
    """The default callback: no progress."""


# ---- the result ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    table: str
    region: str
    name: str
    arn: str
    reused: bool = False


@dataclass(frozen=True)
class Snapshot:
    cluster: str
    region: str
    name: str  # the snapshot's identifier, or the prefix when it was not found (yet)
    found: bool


@dataclass(frozen=True)
class ScheduledKey:
    key_id: str
    arn: str
    region: str
    deletion_date: str  # when KMS deletes it, if known
    pending_days: str


@dataclass(frozen=True)
class DestroyResult:
    plan: DestroyPlan
    deleted: tuple[str, ...] = ()
    backups: tuple[Backup, ...] = ()
    snapshots: tuple[Snapshot, ...] = ()
    keys: tuple[ScheduledKey, ...] = ()
    failure: str = ""  # why it stopped; empty when everything was deleted
    lifted: tuple[str, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        return not self.failure


# ---- doing it ------------------------------------------------------------------------------------


def require_consent(plan: DestroyPlan, *, confirmed: bool, allow_data_loss: bool) -> None:
    """The API's own check: nothing is lifted or deleted without confirmation, and prod needs more."""
    if not confirmed:
        raise Refused("destroy was not confirmed", hint="confirm interactively, or pass --yes outside prod")
    if plan.touches_prod and not allow_data_loss:
        raise Refused("destroying prod deletes its data stores",
                      hint="pass --i-understand-data-loss and type the environment name when asked")


@dataclass(frozen=True)
class Pace:
    """How long to wait between checks of a stack deletion and of a backup (tests go faster)."""

    stack_delete: Backoff = cleanup.STACK_DELETE_BACKOFF
    backup: Backoff = cleanup.BACKUP_BACKOFF


def _utc_now() -> datetime:
    return datetime.now(UTC)


def destroy(aws: AwsSession, plan: DestroyPlan, *, confirmed: bool, allow_data_loss: bool = False,
            on_event: OnDestroyEvent = ignore, now: Callable[[], datetime] = _utc_now,
            pace: Pace | None = None) -> DestroyResult:
    """Delete the plan's stacks wave by wave (regions of a wave side by side); stop at the first
    failure. Returns what was deleted and kept; `failure` says why it stopped, if it did."""
    require_consent(plan, confirmed=confirmed, allow_data_loss=allow_data_loss)
    run = _Run(aws, on_event, now, now(), pace or Pace())
    result = DestroyResult(plan)
    for wave, steps in plan.waves:
        outcomes = fan_out(lambda step: _run_step(run, step), list(steps), len(steps))
        for outcome in outcomes:
            result = _merge(result, outcome)
        if result.failure:
            return result
        if plan.stack_sets and plan.admin is not None:
            result = _delete_instances(run, plan, wave, steps, result)
            if result.failure:
                return result
    if plan.stack_sets and plan.admin is not None:
        result = _delete_stack_sets(aws, plan, result, on_event)
    return result


def _merge(result: DestroyResult, outcome: DestroyResult) -> DestroyResult:
    return replace(result, deleted=result.deleted + outcome.deleted, backups=result.backups + outcome.backups,
                   snapshots=result.snapshots + outcome.snapshots, keys=result.keys + outcome.keys,
                   lifted=result.lifted + outcome.lifted,
                   failure="\n".join(f for f in (result.failure, outcome.failure) if f))


@dataclass(frozen=True)
class _Run:
    aws: AwsSession
    on_event: OnDestroyEvent
    now: Callable[[], datetime]
    started: datetime
    pace: Pace


def _run_step(run: _Run, step: DestroyStep) -> DestroyResult:
    aws, on_event = run.aws, run.on_event
    stack = step.stack
    outcome = DestroyResult(DestroyPlan(stack.environment, (stack.environment,), ()))
    if stack.root is None:  # a StackSet instance without a stack: DeleteStackInstances removes it
        return outcome
    on_event(DestroyEvent("step-started", step.label, stack.region))
    try:
        lifted = _lift_protections(aws, step, on_event)
        backups = tuple(_backup(run, stack.target, table) for table in step.tables)
        outcome = replace(outcome, lifted=lifted, backups=backups)
        for cluster in step.clusters:
            readers = cleanup.remove_autoscaled_readers(aws.client("rds", stack.target), cluster.identifier)
            if readers:
                on_event(DestroyEvent("readers-removed", cluster.identifier, stack.region,
                                      ", ".join(readers)))
        keys = _keys_before(aws, step)
        if step.instance_of:
            # The StackSet deletes instance stacks (DeleteStackInstances); buckets are emptied here.
            _empty(aws, stack.target, step.buckets, on_event)
            return replace(outcome, keys=keys)
        _delete(run, step)
        outcome = replace(outcome, deleted=(step.label,))
        on_event(DestroyEvent("stack-deleted", step.label, stack.region))
        return replace(outcome, snapshots=_snapshots(aws, step), keys=_keys_after(aws, stack.target, keys))
    except PayctlError as error:
        hint = f" ({error.hint})" if error.hint else ""
        return replace(outcome, failure=f"{step.label}: {error.message}{hint}")


def _lift_protections(aws: AwsSession, step: DestroyStep, on_event: OnDestroyEvent) -> tuple[str, ...]:
    stack, lifted = step.stack, []
    assert stack.root is not None
    cfn = aws.client("cloudformation", stack.target)
    # The local emulator neither implements UpdateTerminationProtection nor enforces the protection.
    if not aws.local and cleanup.lift_termination_protection(cfn, stack.root.info.stack_id):
        lifted.append(f"termination protection of {stack.stack_name} ({stack.region})")
    for cluster in step.clusters:
        if cleanup.lift_cluster_protection(aws.client("rds", stack.target), cluster.identifier):
            lifted.append(f"deletion protection of DB cluster {cluster.identifier} ({stack.region})")
    for global_cluster in step.global_clusters:
        if cleanup.lift_global_cluster_protection(aws.client("rds", stack.target), global_cluster):
            lifted.append(f"deletion protection of global cluster {global_cluster}")
    for table in step.tables:
        for region in table.replica_regions:
            ddb = aws.client("dynamodb", Target(stack.target.account_id, region, stack.target.profile,
                                                stack.target.role_arn))
            if cleanup.lift_table_protection(ddb, table.name):
                lifted.append(f"deletion protection of table {table.name} ({region})")
    for item in lifted:
        on_event(DestroyEvent("protection-lifted", item, stack.region))
    return tuple(lifted)


def backup_name(table: str, when: datetime) -> str:
    # Backup names: 3-255 characters of [a-zA-Z0-9_.-].
    return f"{table}-{BACKUP_PREFIX}-{when.strftime('%Y%m%d%H%M%S')}"[:255]


def _backup(run: _Run, target: Target, table: TableToKeep) -> Backup:
    ddb, on_event = run.aws.client("dynamodb", target), run.on_event
    if cleanup.describe_table(ddb, table.name) is None:
        raise DeploymentFailed(f"table {table.name} is gone from {table.region}, but its stack still exists")
    prefix = f"{table.name}-{BACKUP_PREFIX}-"
    earlier = cleanup.recent_backup(ddb, table.name, prefix, run.started - BACKUP_REUSE)
    if earlier is not None:
        backup = Backup(table.name, table.region, str(earlier["BackupName"]), str(earlier["BackupArn"]), True)
        on_event(DestroyEvent("backup-reused", table.name, table.region, backup.name))
        return backup
    details = cleanup.create_backup(ddb, table.name, backup_name(table.name, run.now()))
    cleanup.wait_for_backup(ddb, str(details["BackupArn"]), backoff=run.pace.backup)
    backup = Backup(table.name, table.region, str(details["BackupName"]), str(details["BackupArn"]))
    on_event(DestroyEvent("backup-taken", table.name, table.region, backup.name))
    return backup


def _empty(aws: AwsSession, target: Target, buckets: tuple[str, ...], on_event: OnDestroyEvent) -> None:
    for bucket in buckets:  # first, so that emptying one bucket logs nothing into another
        cleanup.stop_access_logging(aws.client("s3", target), bucket)
    for bucket in buckets:
        s3 = aws.client("s3", target)
        try:
            emptied = cleanup.empty_bucket(s3, bucket)
        except cleanup.DeletionDenied:
            if not aws.local:
                raise
            # The emulator serves plain HTTP, which the platform's TLS-only bucket statements
            # (aws:SecureTransport false: Deny) refuse; AWS is reached over HTTPS and never needs this.
            cleanup.delete_bucket_policy(s3, bucket)
            on_event(DestroyEvent("protection-lifted", f"bucket policy of {bucket} (local emulator: plain HTTP)",
                                  target.region))
            emptied = cleanup.empty_bucket(s3, bucket)
        if not emptied.missing:
            on_event(DestroyEvent("bucket-emptied", bucket, target.region,
                                  f"{emptied.versions} versions, {emptied.delete_markers} delete markers"))


def _delete(run: _Run, step: DestroyStep) -> None:
    """Empty the buckets, DeleteStack, wait. Objects written between emptying and deletion (access
    logs, trail files arrive late) make S3 refuse with BucketNotEmpty: empty again, delete once more."""
    aws, on_event, stack = run.aws, run.on_event, step.stack
    assert stack.root is not None
    cfn = aws.client("cloudformation", stack.target)
    stack_id = stack.root.info.stack_id
    for attempt in (1, 2):
        _empty(aws, stack.target, step.buckets, on_event)
        since = run.now() - timedelta(seconds=5)
        on_event(DestroyEvent("stack-deleting", step.label, stack.region))
        cleanup.delete_stack(cfn, stack_id)
        status, reason = cleanup.wait_for_delete(cfn, stack_id, backoff=run.pace.stack_delete)
        if status == "DELETE_COMPLETE":
            return
        failures = cleanup.delete_failures(cfn, stack_id, since)
        if attempt == 1 and failures and all(f.bucket_not_empty for f in failures):
            on_event(DestroyEvent("retrying", step.label, stack.region, "buckets received objects again"))
            continue
        causes = "; ".join(str(f) for f in failures) or reason or "no reason given"
        raise DeploymentFailed(f"DELETE_FAILED: {causes}",
                               hint="fix the cause, then run `payctl destroy` again: it continues from here")


def _snapshots(aws: AwsSession, step: DestroyStep) -> tuple[Snapshot, ...]:
    found = []
    for cluster in step.clusters:
        if not cluster.snapshot:
            continue
        rds = aws.client("rds", step.stack.target)
        snapshot = cleanup.final_snapshot(rds, cluster.identifier, cluster.snapshot_prefix)
        name = str(snapshot["DBClusterSnapshotIdentifier"]) if snapshot else f"{cluster.snapshot_prefix}-…"
        found.append(Snapshot(cluster.identifier, cluster.region, name, snapshot is not None))
    return tuple(found)


def _keys_before(aws: AwsSession, step: DestroyStep) -> tuple[ScheduledKey, ...]:
    """The keys' ARNs, read while their aliases and stacks still exist."""
    keys = []
    for key in step.keys:
        kms = aws.client("kms", step.stack.target)
        metadata = cleanup.describe_key(kms, key.key_id) or {}
        keys.append(ScheduledKey(key.key_id, str(metadata.get("Arn", key.key_id)), key.region, "",
                                 key.pending_days))
    return tuple(keys)


def _keys_after(aws: AwsSession, target: Target, keys: tuple[ScheduledKey, ...]) -> tuple[ScheduledKey, ...]:
    """The keys' deletion dates, now that the stack deletion scheduled them."""
    found = []
    for key in keys:
        kms = aws.client("kms", target)
        when = (cleanup.describe_key(kms, key.arn) or {}).get("DeletionDate")
        found.append(replace(key, deletion_date=when.isoformat() if isinstance(when, datetime) else ""))
    return tuple(found)


# ---- StackSets (--all-accounts) ------------------------------------------------------------------


def _delete_instances(run: _Run, plan: DestroyPlan, wave: str, steps: tuple[DestroyStep, ...],
                      result: DestroyResult) -> DestroyResult:
    from payctl.aws.drift import operation_results, wait_for_stack_set_operation

    assert plan.admin is not None
    aws, on_event = run.aws, run.on_event
    cfn = aws.client("cloudformation", plan.admin)
    name = next((n for w, n in plan.stack_sets if w == wave), "")
    accounts = sorted({step.stack.account_id for step in steps})
    regions = sorted({step.stack.region for step in steps})
    if not name or not steps:
        return result
    try:
        operation_id = cleanup.delete_stack_instances(cfn, name, accounts, regions, plan.call_as,
                                                      dict(plan.preferences))
        operation = wait_for_stack_set_operation(cfn, name, operation_id, plan.call_as,
                                                 backoff=run.pace.stack_delete)
        if operation.get("Status") != "SUCCEEDED":
            reasons = [f"{r.get('Account')}/{r.get('Region')}: {r.get('StatusReason')}"
                       for r in operation_results(cfn, name, operation_id, plan.call_as)
                       if r.get("Status") != "SUCCEEDED"]
            raise DeploymentFailed(f"deleting the instances of StackSet {name}: {operation.get('Status')}: "
                                   + ("; ".join(reasons) or str(operation.get("StatusReason", ""))))
    except PayctlError as error:
        return replace(result, failure=error.message)
    labels = tuple(step.label for step in steps)
    on_event(DestroyEvent("instances-deleted", name, plan.admin.region, f"{len(steps)} instances"))
    # The instance stacks are gone: their keys now carry a deletion date.
    targets = {(step.stack.account_id, step.stack.region): step.stack.target for step in steps}
    keys = tuple(_dated(aws, key, targets) for key in result.keys)
    return replace(result, deleted=result.deleted + labels, keys=keys)


def _dated(aws: AwsSession, key: ScheduledKey, targets: dict[tuple[str, str], Target]) -> ScheduledKey:
    account = key.arn.split(":")[4] if key.arn.startswith("arn:") else ""
    target = targets.get((account, key.region))
    if key.deletion_date or target is None:
        return key
    return _keys_after(aws, target, (key,))[0]


def _delete_stack_sets(aws: AwsSession, plan: DestroyPlan, result: DestroyResult,
                       on_event: OnDestroyEvent) -> DestroyResult:
    from payctl.aws.drift import stack_instances

    assert plan.admin is not None
    cfn = aws.client("cloudformation", plan.admin)
    for _wave, name in plan.stack_sets:
        try:
            if stack_instances(cfn, name, plan.call_as):
                continue  # other environments' instances remain: the StackSet stays
            cleanup.delete_stack_set(cfn, name, plan.call_as)
        except PayctlError as error:
            return replace(result, failure=error.message)
        on_event(DestroyEvent("stack-set-deleted", name, plan.admin.region))
        result = replace(result, deleted=(*result.deleted, f"StackSet {name}"))
    return result


def _instance_step(aws: AwsSession, stack_set: str, stack: DeployedStack) -> DestroyStep:
    if stack.deployed:
        return plan_step(aws, stack, instance_of=stack_set)
    return DestroyStep(stack, "NO_STACK", False, instance_of=stack_set)


def plan_destroy_stack_sets(aws: AwsSession, scope: Any, environment: str | None = None, *,
                            parallel: int = 4) -> DestroyPlan:
    """Read-only: every StackSet's instances (only `environment`'s, when given) in reverse wave order."""
    from payctl.aws.drift import describe_stack_set, stack_instances
    from payctl.aws.stacks import describe_stack
    from payctl.operate.inventory import environment_target, stack_tree

    aws.verify_account(scope.admin, "StackSet administration")
    cfn = aws.client("cloudformation", scope.admin)
    waves: list[tuple[str, tuple[DestroyStep, ...]]] = []
    present: list[tuple[str, str]] = []
    envs: set[str] = set()
    for wave, name in reversed(scope.names):
        if describe_stack_set(cfn, name, scope.call_as) is None:
            continue
        present.append((wave, name))
        stacks: list[DeployedStack] = []
        for summary in stack_instances(cfn, name, scope.call_as):
            env = scope.environment(str(summary.get("Account")))
            if env is None:
                raise Refused(f"StackSet {name} has an instance in account {summary.get('Account')}, "
                              "which is no environment in envs/", hint="remove that instance by hand first")
            if environment and env.name != environment:
                continue
            region = str(summary.get("Region"))
            target = environment_target(env, region)
            aws.verify_account(target, env.name)
            envs.add(env.name)
            info = describe_stack(aws.client("cloudformation", target), str(summary.get("StackId") or "")) \
                if summary.get("StackId") else None
            role = "primary" if region == env.regions.primary else "dr"
            root = stack_tree(aws.client("cloudformation", target), info) if info else None
            stacks.append(DeployedStack(env.name, env.account_id, wave, role, region,
                                        info.name if info else f"{name} instance", target, root))
        steps = fan_out(partial(_instance_step, aws, name), stacks, parallel)
        waves.append((wave, tuple(steps)))
    return DestroyPlan("all-accounts" if environment is None else environment,
                       tuple(sorted(envs)), tuple(waves), (), tuple(present), scope.admin, scope.call_as,
                       tuple(scope.preferences.items()))
