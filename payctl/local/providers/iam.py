"""IAM roles, customer managed policies and service-linked roles (IAM is global: one backend
per partition)."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.iam import models as moto_iam  # defines moto's Role and ManagedPolicy models, replaced below
from moto.iam.exceptions import DeleteConflictException, EntityAlreadyExists

from .base import Properties, Provider, as_tag_list


def _iam(resource: Provider) -> moto_iam.IAMBackend:
    return moto_iam.iam_backends[resource.account_id][resource.partition]


def _document(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _attachable(iam: moto_iam.IAMBackend, policy_arn: str) -> None:
    """AWS managed policies exist in every account; moto loads them only on request
    (MOTO_IAM_LOAD_MANAGED_POLICIES), so stand in an empty one for an ARN of account `aws`."""
    if policy_arn in iam.managed_policies or ":iam::aws:policy/" not in policy_arn:
        return
    path, _, name = policy_arn.split(":policy", 1)[1].rpartition("/")
    data = {
        "DefaultVersionId": "v1",
        "Path": f"{path}/",
        "Document": {"Version": "2012-10-17", "Statement": []},
        "CreateDate": "2015-02-06T18:40:00+00:00",
        "UpdateDate": "2015-02-06T18:40:00+00:00",
    }
    policy = moto_iam.AWSManagedPolicy.from_data(name, iam.account_id, iam.region_name, data)
    iam.managed_policies[policy.arn] = policy


class Role(Provider, CloudFormationModel):
    """Gap: moto's model ignores ManagedPolicyArns, updates only the description, and its
    delete fails once managed policies are attached."""

    TYPE = "AWS::IAM::Role"
    NAME_PROPERTY = "RoleName"
    REPLACE_ON = frozenset({"Path"})
    ATTRIBUTES = frozenset({"Arn", "RoleId"})

    def create(self) -> None:
        role = _iam(self).create_role(
            role_name=self.name,
            assume_role_policy_document=_document(self.prop("AssumeRolePolicyDocument")),
            path=self.prop("Path", "/"),
            permissions_boundary=self.prop("PermissionsBoundary"),
            description=self.prop("Description", ""),
            tags=self.tag_list(),
            max_session_duration=str(self.prop("MaxSessionDuration", 3600)),
        )
        self.physical_resource_id = role.name
        self.attributes = {"Arn": role.arn, "RoleId": role.id}
        self._sync_policies({})

    def _sync_policies(self, old: Properties) -> None:
        iam, name = _iam(self), self.physical_resource_id
        inline = {p["PolicyName"]: p["PolicyDocument"] for p in self.prop("Policies") or []}
        for policy_name in {p["PolicyName"] for p in old.get("Policies") or []} - inline.keys():
            iam.delete_role_policy(name, policy_name)
        for policy_name, document in inline.items():
            iam.put_role_policy(name, policy_name, _document(document))
        before, after = set(old.get("ManagedPolicyArns") or []), set(self.prop("ManagedPolicyArns") or [])
        for arn in before - after:
            iam.detach_role_policy(arn, name)
        for arn in sorted(after - before):
            _attachable(iam, arn)
            iam.attach_role_policy(arn, name)

    def update(self, old: Properties) -> None:
        iam, name = _iam(self), self.physical_resource_id
        iam.update_assume_role_policy(name, _document(self.prop("AssumeRolePolicyDocument")))
        iam.update_role(name, self.prop("Description", ""), str(self.prop("MaxSessionDuration", 3600)))
        if self.prop("PermissionsBoundary"):
            iam.put_role_permissions_boundary(name, self.prop("PermissionsBoundary"))
        else:
            iam.delete_role_permissions_boundary(name)
        iam.untag_role(name, [t["Key"] for t in as_tag_list(old.get("Tags"))])
        if self.tag_list():
            iam.tag_role(name, self.tag_list())
        self._sync_policies(old)

    def destroy(self) -> None:
        iam = _iam(self)
        role = next((r for r in iam.get_roles() if r.name == self.physical_resource_id), None)
        if role is None:
            return
        # CloudFormation removes what the template attached; anything attached by hand makes the
        # deletion fail, as in IAM.
        for arn in self.prop("ManagedPolicyArns") or []:
            if arn in role.managed_policies:
                iam.detach_role_policy(arn, role.name)
        for policy in self.prop("Policies") or []:
            if policy["PolicyName"] in role.policies:
                iam.delete_role_policy(role.name, policy["PolicyName"])
        iam.delete_role(role.name)


class ManagedPolicy(Provider, CloudFormationModel):
    """Gap: moto's model cannot be updated (the resource is lost from the stack on update),
    is never deleted and has no PolicyArn attribute."""

    TYPE = "AWS::IAM::ManagedPolicy"
    NAME_PROPERTY = "ManagedPolicyName"
    REPLACE_ON = frozenset({"Description", "Path"})
    ATTRIBUTES = frozenset({"PolicyArn", "PolicyId", "DefaultVersionId"})

    def create(self) -> None:
        policy = _iam(self).create_policy(
            description=self.prop("Description", ""),
            path=self.prop("Path", "/"),
            policy_document=_document(self.prop("PolicyDocument")),
            policy_name=self.name,
            tags=[],
        )
        self.physical_resource_id = policy.arn
        self._sync_attachments({})
        self._set_attributes()

    def _set_attributes(self) -> None:
        policy = _iam(self).get_policy(self.physical_resource_id)
        self.attributes = {
            "PolicyArn": policy.arn,
            "PolicyId": policy.id,
            "DefaultVersionId": policy.default_version_id,
        }

    def _sync_attachments(self, old: Properties) -> None:
        iam, arn = _iam(self), self.physical_resource_id
        for key, attach, detach in (
            ("Roles", iam.attach_role_policy, iam.detach_role_policy),
            ("Users", iam.attach_user_policy, iam.detach_user_policy),
            ("Groups", iam.attach_group_policy, iam.detach_group_policy),
        ):
            before, after = set(old.get(key) or []), set(self.prop(key) or [])
            for name in before - after:
                detach(arn, name)
            for name in sorted(after - before):
                attach(arn, name)

    def update(self, old: Properties) -> None:
        iam, arn = _iam(self), self.physical_resource_id
        if self.changed(old, "PolicyDocument"):
            # Like CloudFormation: a new default version; the oldest goes when five exist.
            policy = iam.get_policy(arn)
            if len(policy.versions) >= 5:
                oldest = next(v for v in policy.versions if not v.is_default)
                iam.delete_policy_version(arn, oldest.version_id)
            iam.create_policy_version(arn, _document(self.prop("PolicyDocument")), set_as_default=True)
        self._sync_attachments(old)
        self._set_attributes()

    def destroy(self) -> None:
        iam, arn = _iam(self), self.physical_resource_id
        if arn not in iam.managed_policies:
            return
        self.properties, attached = {}, self.properties
        self._sync_attachments(attached)
        if iam.get_policy(arn).attachment_count > 0:  # as IAM's DeletePolicy refuses
            raise DeleteConflictException("Cannot delete a policy attached to entities.")
        for version in list(iam.get_policy(arn).versions):
            if not version.is_default:
                iam.delete_policy_version(arn, version.version_id)
        iam.delete_policy(arn)


# The names IAM gives these roles; moto derives others that do not match (AWSServiceRoleForecs).
SERVICE_LINKED_ROLE_NAMES = {
    "ecs.amazonaws.com": "AWSServiceRoleForECS",
    "rds.amazonaws.com": "AWSServiceRoleForRDS",
    "elasticloadbalancing.amazonaws.com": "AWSServiceRoleForElasticLoadBalancing",
    "ecs.application-autoscaling.amazonaws.com": "AWSServiceRoleForApplicationAutoScaling_ECSService",
    "rds.application-autoscaling.amazonaws.com": "AWSServiceRoleForApplicationAutoScaling_RDSCluster",
    "dynamodb.application-autoscaling.amazonaws.com": "AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
}


class ServiceLinkedRole(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::IAM::ServiceLinkedRole."""

    TYPE = "AWS::IAM::ServiceLinkedRole"
    REPLACE_ON = frozenset({"AWSServiceName", "CustomSuffix"})
    ATTRIBUTES = frozenset({"RoleName"})

    def create(self) -> None:
        service, suffix = self.prop("AWSServiceName"), self.prop("CustomSuffix", "")
        name = SERVICE_LINKED_ROLE_NAMES.get(service, "") + (f"_{suffix}" if suffix else "")
        if any(r.name == name for r in _iam(self).get_roles()):
            # Why templates declare these only behind an opt-in parameter.
            raise EntityAlreadyExists(
                f"Service role name {name} has been taken in this account, please try a different suffix."
            )
        role = _iam(self).create_service_linked_role(service, self.prop("Description", ""), suffix)
        if service in SERVICE_LINKED_ROLE_NAMES:
            role.name = name
        self.physical_resource_id = role.name
        self.attributes = {"RoleName": role.name}

    def update(self, old: Properties) -> None:
        _iam(self).update_role_description(self.physical_resource_id, self.prop("Description", ""))

    def destroy(self) -> None:
        iam = _iam(self)
        if any(r.name == self.physical_resource_id for r in iam.get_roles()):
            iam.delete_service_linked_role(self.physical_resource_id)
