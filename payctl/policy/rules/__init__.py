"""The platform's rules, in id order. Each is a small class: see payctl.policy.model.Rule."""

from __future__ import annotations

from payctl.policy.model import Rule
from payctl.policy.rules.database import AuroraMatchesEnvironment
from payctl.policy.rules.encryption import EncryptionAtRest
from payctl.policy.rules.events import ExplicitEventPatterns
from payctl.policy.rules.iam import NoRetain, PermissionsBoundary, StarResourceWrites, WildcardActions
from payctl.policy.rules.naming import ResourceNames, SsmParameterNames
from payctl.policy.rules.network import DatabaseReachability, NetworkCidrs, OpenIngress
from payctl.policy.rules.storage import (
    BucketLifecycle,
    BucketVersioning,
    PointInTimeRecovery,
    PublicAccessBlocked,
    ReplicationTimeControl,
    TlsOnlyBuckets,
)
from payctl.policy.rules.tags import StandardTags

RULES: tuple[Rule, ...] = (
    ResourceNames(),
    StandardTags(),
    NoRetain(),
    PermissionsBoundary(),
    WildcardActions(),
    StarResourceWrites(),
    EncryptionAtRest(),
    TlsOnlyBuckets(),
    PublicAccessBlocked(),
    PointInTimeRecovery(),
    BucketVersioning(),
    BucketLifecycle(),
    ReplicationTimeControl(),
    ExplicitEventPatterns(),
    SsmParameterNames(),
    OpenIngress(),
    DatabaseReachability(),
    AuroraMatchesEnvironment(),
    NetworkCidrs(),
)
RULES_BY_ID = {rule.id: rule for rule in RULES}

__all__ = ["RULES", "RULES_BY_ID"]
