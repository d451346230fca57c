"""Where the platform's StackSets are: one per wave, named `<application>-<wave>`, administered
from `stackSets.adminAccount` in the primary region, with an instance per environment account and
region of the wave. Drift, status and destroy with `--all-accounts` start here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from payctl.aws.session import Target
from payctl.config import Environment, Environments
from payctl.errors import ConfigError, Problem

# Drift detection changes nothing: check every instance, all regions at once, whatever fails.
DRIFT_PREFERENCES: dict[str, Any] = {
    "RegionConcurrencyType": "PARALLEL",
    "FailureTolerancePercentage": 100,
    "MaxConcurrentPercentage": 100,
}


@dataclass(frozen=True)
class StackSetScope:
    names: tuple[tuple[str, str], ...]  # (wave, StackSet name) in deploy order
    admin: Target
    call_as: str
    preferences: dict[str, Any]  # the environments' OperationPreferences, in AWS's spelling
    by_account: dict[str, Environment]

    def environment(self, account_id: str) -> Environment | None:
        return self.by_account.get(account_id)


def operation_preferences(env: Environment) -> dict[str, Any]:
    chosen = env.stack_sets.operation_preferences
    preferences: dict[str, Any] = {"RegionConcurrencyType": chosen.region_concurrency_type,
                                   "ConcurrencyMode": chosen.concurrency_mode}
    for key, value in (("MaxConcurrentPercentage", chosen.max_concurrent_percentage),
                       ("MaxConcurrentCount", chosen.max_concurrent_count),
                       ("FailureToleranceCount", chosen.failure_tolerance_count),
                       ("FailureTolerancePercentage", chosen.failure_tolerance_percentage)):
        if value is not None:
            preferences[key] = value
    return preferences


def stack_set_scope(environments: Environments, waves: list[str]) -> StackSetScope:
    envs = list(environments)
    if not envs:
        raise ConfigError([Problem("envs/", 0, "", "no environments")])
    first = envs[0]
    admins = {env.stack_sets.admin_account for env in envs}
    if len(admins) > 1:
        named = ", ".join(sorted(admins))
        raise ConfigError([Problem("envs/", 0, "stackSets.adminAccount",
                                   f"environments name different admin accounts: {named}")])
    names = tuple((wave, f"{first.application}-{wave}") for wave in waves)
    # The admin account has no access block of its own: the default credentials reach it.
    admin = Target(first.stack_sets.admin_account, first.regions.primary)
    return StackSetScope(names, admin, first.stack_sets.call_as, operation_preferences(first),
                         {env.account_id: env for env in envs})
