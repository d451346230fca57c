"""Where an environment's waves live: its own stacks (`payctl apply ENV`) or StackSet instances
(`payctl apply --all-accounts`). Plan, like apply, must compare against what really runs there."""

from __future__ import annotations

from collections.abc import Iterable

from payctl.apply.stackset_spec import settings
from payctl.aws.session import AwsSession, Target
from payctl.aws.stacks import describe_stack
from payctl.aws.stacksets import describe_stack_set, list_stack_instances
from payctl.config import Environment
from payctl.templates.render import stack_name


def managed_by_stack_sets(aws: AwsSession, environments: Iterable[Environment], waves: list[str],
                          wanted: Iterable[str]) -> set[str]:
    """The wanted environments that have StackSet instances and none of their own wave stacks."""
    everyone = list(environments)
    config = settings(everyone)
    admin = aws.client("cloudformation", Target(config.admin_account, config.home_region))
    owners: set[tuple[str, str]] = set()  # (account, region) holding an instance of any wave
    for wave in waves:
        name = f"{config.application}-{wave}"
        if describe_stack_set(admin, name, config.call_as) is not None:
            owners.update((i.account, i.region) for i in list_stack_instances(admin, name, config.call_as))
    found = set()
    for env in (e for e in everyone if e.name in set(wanted)):
        if not any(account == env.account_id for account, _region in owners):
            continue
        target = Target(env.account_id, env.regions.primary, env.access.profile, env.access.role_arn)
        cfn = aws.client("cloudformation", target)
        if all(describe_stack(cfn, stack_name(env, wave)) is None for wave in waves):
            found.add(env.name)
    return found
