"""Secrets Manager secrets and their attachment to a database."""

from __future__ import annotations

import json

from moto.core.common_models import CloudFormationModel
from moto.rds.models import rds_backends
from moto.secretsmanager.models import SecretsManagerBackend, secretsmanager_backends

from .base import Properties, Provider


def _secrets(resource: Provider) -> SecretsManagerBackend:
    return secretsmanager_backends[resource.account_id][resource.region_name]


class Secret(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::SecretsManager::Secret."""

    TYPE = "AWS::SecretsManager::Secret"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = frozenset({"Id"})

    def _value(self) -> str | None:
        generate = self.prop("GenerateSecretString")
        if not generate:
            return None if self.prop("SecretString") is None else str(self.prop("SecretString"))
        password = _secrets(self).get_random_password(
            password_length=int(generate.get("PasswordLength", 32)),
            exclude_characters=generate.get("ExcludeCharacters", ""),
            exclude_numbers=bool(generate.get("ExcludeNumbers", False)),
            exclude_punctuation=bool(generate.get("ExcludePunctuation", False)),
            exclude_uppercase=bool(generate.get("ExcludeUppercase", False)),
            exclude_lowercase=bool(generate.get("ExcludeLowercase", False)),
            include_space=bool(generate.get("IncludeSpace", False)),
            require_each_included_type=bool(generate.get("RequireEachIncludedType", True)),
        )
        if generate.get("SecretStringTemplate") and generate.get("GenerateStringKey"):
            document = json.loads(generate["SecretStringTemplate"])
            document[generate["GenerateStringKey"]] = json.loads(password)["RandomPassword"]
            return json.dumps(document)
        return str(json.loads(password)["RandomPassword"])

    def create(self) -> None:
        arn = _secrets(self).create_secret(
            name=self.name,
            secret_string=self._value(),
            secret_binary=None,
            description=self.prop("Description"),
            tags=self.tag_list(),
            kms_key_id=self.prop("KmsKeyId"),
            client_request_token=None,
            replica_regions=self.prop("ReplicaRegions") or [],
            force_overwrite=False,
        )
        self.physical_resource_id = json.loads(arn)["ARN"] if arn.startswith("{") else arn
        self.attributes = {"Id": self.physical_resource_id}

    def update(self, old: Properties) -> None:
        # A changed value (or generation rule) writes a new version; otherwise only metadata.
        value = self._value() if self.changed(old, "SecretString", "GenerateSecretString") else None
        _secrets(self).update_secret(
            self.physical_resource_id,
            secret_string=value,
            kms_key_id=self.prop("KmsKeyId"),
            description=self.prop("Description"),
        )

    def destroy(self) -> None:
        # CloudFormation deletes a secret without a recovery window.
        if _secrets(self).secrets.get(self.physical_resource_id) is not None:
            _secrets(self).delete_secret(self.physical_resource_id, None, force_delete_without_recovery=True)


class SecretTargetAttachment(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::SecretsManager::SecretTargetAttachment."""

    TYPE = "AWS::SecretsManager::SecretTargetAttachment"
    REPLACE_ON = frozenset({"SecretId"})

    def create(self) -> None:
        self.physical_resource_id = self.prop("SecretId")
        self.update({})

    def update(self, old: Properties) -> None:
        """Adds the database's connection details to the secret, as Secrets Manager does."""
        rds = rds_backends[self.account_id][self.region_name]
        target = self.prop("TargetId").split(":")[-1].lower()
        if self.prop("TargetType") == "AWS::RDS::DBCluster":
            cluster = rds.clusters[target]
            details = {"engine": cluster.engine, "host": cluster.endpoint, "port": cluster.port}
            details["dbClusterIdentifier"] = cluster.db_cluster_identifier
        else:
            instance = rds.databases[target]
            details = {"engine": instance.engine, "host": instance.address, "port": instance.port}
            details["dbInstanceIdentifier"] = instance.db_instance_identifier
        secrets = _secrets(self)
        current = json.loads(
            getattr(secrets.describe_secret(self.prop("SecretId")), "secret_string", None) or "{}"
        )
        secrets.put_secret_value(
            self.prop("SecretId"), json.dumps({**current, **details}), "", "", ["AWSCURRENT"]
        )

    def destroy(self) -> None:
        pass  # the secret keeps the connection details, as in Secrets Manager
