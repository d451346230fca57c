"""CloudFormation resource providers that make moto's CloudFormation deploy payctl's templates.

moto's CloudFormation skips or half-applies many resource types (see README.md next to this
file). Each provider here creates the real resource through moto's own service backend, so
ordinary AWS API calls (describe_db_clusters, get_bucket_versioning, ...) show it.

moto finds resource types through `moto.cloudformation.parsing.get_model_list()`
(`CloudFormationModel.__subclasses__()`); it and the two maps derived from it are lru_cached,
so `register_all()` imports the providers and clears those caches. These are moto internals:
tests/local/providers has a canary that fails when a moto upgrade changes them.
"""

from __future__ import annotations

import importlib

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel

from .base import Provider

# Modules defining providers. Each imports the moto module whose model it replaces first,
# because the class defined last for a type wins in moto's type map.
PROVIDER_MODULES = (
    "payctl.local.providers.autoscaling",
    "payctl.local.providers.awslambda",
    "payctl.local.providers.dynamodb",
    "payctl.local.providers.ec2",
    "payctl.local.providers.ecs",
    "payctl.local.providers.elbv2",
    "payctl.local.providers.iam",
    "payctl.local.providers.kms",
    "payctl.local.providers.logs",
    "payctl.local.providers.messaging",
    "payctl.local.providers.monitoring",
    "payctl.local.providers.ram",
    "payctl.local.providers.rds",
    "payctl.local.providers.s3",
    "payctl.local.providers.scheduler",
    "payctl.local.providers.secretsmanager",
    "payctl.local.providers.servicediscovery",
    "payctl.local.providers.ssm",
    "payctl.local.providers.vpc",
)


def provider_classes() -> list[type[Provider]]:
    classes: list[type[Provider]] = []
    for module_name in PROVIDER_MODULES:
        module = importlib.import_module(module_name)
        classes.extend(
            obj
            for obj in vars(module).values()
            # only direct subclasses of CloudFormationModel are visible to moto
            if isinstance(obj, type) and issubclass(obj, Provider) and CloudFormationModel in obj.__bases__
        )
    return classes


def register_all() -> list[str]:
    """Make moto's CloudFormation use the providers; returns the resource types they handle.

    Safe to call more than once."""
    classes = provider_classes()
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    model_map = parsing.get_model_map()
    not_active = [cls.TYPE for cls in classes if model_map.get(cls.TYPE) is not cls]  # type: ignore[comparison-overlap]
    if not_active:
        raise RuntimeError(f"moto's CloudFormation does not use payctl's providers for {not_active}")
    return sorted(cls.TYPE for cls in classes)
