"""Clients per (account, region), with retries configured once and account checks.

Real AWS: the environment's profile (or the default credential chain), optionally assuming the
environment's role. Local emulator: dummy credentials against the emulator endpoint, reaching
account N by assuming `arn:aws:iam::N:role/OrganizationAccountAccessRole` as AWS Organizations does.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.config
import botocore.loaders
import botocore.session

from payctl.errors import AccountMismatch

LOCAL_ACCESS_ROLE = "OrganizationAccountAccessRole"
# One loader for every session payctl makes: each botocore session otherwise parses the service
# models (JSON) again, which dominates the cost of reaching many accounts and regions.
_LOADER = botocore.loaders.create_loader()
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def _session(**kwargs: Any) -> boto3.Session:
    core = botocore.session.Session()
    core.register_component("data_loader", _LOADER)
    return boto3.Session(botocore_session=core, **kwargs)


@dataclass(frozen=True)
class Target:
    """Where a call goes: an account and region, and how to get there."""

    account_id: str
    region: str
    profile: str | None = None
    role_arn: str | None = None


class AwsSession:
    """Creates and caches clients; thread-safe, so planners can fan out."""

    def __init__(self, *, endpoint_url: str | None = None, retry_mode: str = "adaptive",
                 max_attempts: int = 10, event_hooks: list[tuple[str, Any]] | None = None) -> None:
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.local = endpoint_url is not None
        self.config = botocore.config.Config(
            retries={"mode": retry_mode, "max_attempts": max_attempts},  # type: ignore[arg-type]
            connect_timeout=10, read_timeout=60, max_pool_connections=32,
        )
        self.event_hooks = event_hooks or []
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str | None, str | None, str], boto3.Session] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._verified: set[tuple[str, str]] = set()

    # -- clients ------------------------------------------------------------------------------
    def client(self, service: str, target: Target) -> Any:
        key = (service, target.account_id, target.region)
        with self._lock:
            if key not in self._clients:
                session: Any = self._session_for(target)  # clients are typed by service name only
                client = session.client(service, region_name=target.region, config=self.config,
                                        endpoint_url=self.endpoint_url)
                for event, handler in self.event_hooks:
                    client.meta.events.register(event, handler)
                self._clients[key] = client
            return self._clients[key]

    def _session_for(self, target: Target) -> boto3.Session:
        role_arn = target.role_arn
        if self.local:
            role_arn = f"arn:aws:iam::{target.account_id}:role/{LOCAL_ACCESS_ROLE}"
        key = (target.profile if not self.local else None, role_arn, target.region)
        if key not in self._sessions:
            base = _session(**LOCAL_CREDENTIALS) if self.local else _session(profile_name=target.profile)
            self._sessions[key] = self._assume(base, role_arn, target.region) if role_arn else base
        return self._sessions[key]

    def _assume(self, base: boto3.Session, role_arn: str, region: str) -> boto3.Session:
        sts = base.client("sts", region_name=region, config=self.config, endpoint_url=self.endpoint_url)
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="payctl")["Credentials"]
        return _session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    # -- safety -------------------------------------------------------------------------------
    def caller_account(self, target: Target) -> str:
        return str(self.client("sts", target).get_caller_identity()["Account"])

    def verify_account(self, target: Target, environment: str) -> None:
        """Refuse to act when the credentials reach another account than the environment names."""
        key = (target.account_id, target.region)
        if key in self._verified:
            return
        actual = self.caller_account(target)
        if actual != target.account_id:
            raise AccountMismatch(
                f"environment {environment!r} is account {target.account_id}, "
                f"but the credentials reach account {actual}",
                hint=f"use the profile or role for {environment} (envs/{environment}.yaml access)",
            )
        with self._lock:
            self._verified.add(key)
