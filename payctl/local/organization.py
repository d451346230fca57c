"""Seeds moto with payctl's organization: accounts with fixed ids and the roles payctl assumes.

moto's Organizations backend gives new accounts random ids; payctl needs dev/staging/prod to be the
example ids, so account creation is run with the id generator pinned to the wanted id.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from typing import Any

ACCESS_ROLE = "OrganizationAccountAccessRole"
STACKSET_ADMIN_ROLE = "AWSCloudFormationStackSetAdministrationRole"
STACKSET_EXECUTION_ROLE = "AWSCloudFormationStackSetExecutionRole"
# moto does not load AWS managed policies by default (slow); an inline policy grants the same.
ADMINISTRATOR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
PARTITION = "aws"
HOME_REGION = "us-east-1"

_lock = threading.Lock()


def _trust(principal: dict[str, str]) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
    )


def _ensure_role(
    account_id: str, name: str, trust: str, description: str, inline: dict[str, Any] | None = None
) -> None:
    from moto.iam.models import iam_backends

    iam = iam_backends[account_id]["global"]
    if any(role.name == name for role in iam.roles.values()):
        role = next(role for role in iam.roles.values() if role.name == name)
    else:
        role = iam.create_role(
            role_name=name,
            assume_role_policy_document=trust,
            path="/",
            permissions_boundary=None,
            description=description,
            tags=[],
            max_session_duration="3600",
        )
    policy = inline or ADMINISTRATOR_POLICY
    if f"{name}Policy" not in role.policies:
        iam.put_role_policy(name, f"{name}Policy", json.dumps(policy))


def _create_account_with_id(org_backend: Any, account_id: str, name: str) -> None:
    from moto.organizations import utils

    original = utils.make_random_account_id
    with _lock:
        utils.make_random_account_id = lambda: account_id
        try:
            org_backend.create_account(AccountName=name, Email=f"aws+{name}@example.com")
        finally:
            utils.make_random_account_id = original


def seed_organization(
    admin_account: str, accounts: Iterable[str], names: dict[str, str] | None = None
) -> None:
    """Organization with `admin_account` as management account and `accounts` as members (idempotent).

    Every account gets `OrganizationAccountAccessRole` (trusting the management account) and
    `AWSCloudFormationStackSetExecutionRole` (trusting the admin account); the admin account gets
    `AWSCloudFormationStackSetAdministrationRole` (trusted by CloudFormation), as payctl's bootstrap
    creates them in AWS.
    """
    from moto.organizations.models import organizations_backends

    names = names or {}
    org_backend = organizations_backends[admin_account][PARTITION]
    if org_backend.org is None:
        org_backend.create_organization(region=HOME_REGION, FeatureSet="ALL")
    existing = {account.id for account in org_backend.accounts}
    members = [a for a in dict.fromkeys(accounts) if a != admin_account]
    for account_id in members:
        if account_id not in existing:
            _create_account_with_id(org_backend, account_id, names.get(account_id, f"payctl-{account_id}"))

    admin_trust = _trust({"AWS": f"arn:aws:iam::{admin_account}:root"})
    for account_id in [admin_account, *members]:
        _ensure_role(account_id, ACCESS_ROLE, admin_trust, "Access from the management account")
        _ensure_role(account_id, STACKSET_EXECUTION_ROLE, admin_trust, "CloudFormation StackSet execution")
    _ensure_role(
        admin_account,
        STACKSET_ADMIN_ROLE,
        _trust({"Service": "cloudformation.amazonaws.com"}),
        "CloudFormation StackSet administration",
        inline={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": f"arn:aws:iam::*:role/{STACKSET_EXECUTION_ROLE}",
                }
            ],
        },
    )


def role_arn(account_id: str, role: str = ACCESS_ROLE) -> str:
    return f"arn:aws:iam::{account_id}:role/{role}"
