"""IAM: deletion policies, permissions boundaries, and wildcards only with a written reason."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from payctl.policy.effective import EffectiveTemplate, text
from payctl.policy.model import Context, Rule, Violation, as_list, props, statements

RETAIN = ("Retain", "RetainExceptOnCreate")
READ_VERBS = ("Describe", "Get", "List", "BatchGet", "Lookup", "Search", "Detect", "View", "Query", "Scan")
BOUNDARY_PARAMETER = "security/permissions-boundary-arn"
# Where policy documents live: resource type -> property paths of documents.
IDENTITY_DOCUMENTS = {
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::RolePolicy": ("PolicyDocument",),
    "AWS::IAM::UserPolicy": ("PolicyDocument",),
    "AWS::IAM::GroupPolicy": ("PolicyDocument",),
}
RESOURCE_DOCUMENTS = {
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy",),
    "AWS::Events::EventBusPolicy": ("Statement",),
}
INLINE_POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")


class NoRetain(Rule):
    id = "PAY003"
    title = "No Retain deletion or update-replace policy"
    description = (
        "DeletionPolicy and UpdateReplacePolicy are never Retain or RetainExceptOnCreate: "
        "a retained resource outlives its stack, escapes drift detection and blocks a "
        "re-deployment with the same name. Aurora keeps a final Snapshot instead; payctl "
        "destroy backs up the other data stores first."
    )
    hint = "Use Snapshot on Aurora clusters and Delete elsewhere."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        for logical_id, resource in template.resources.items():
            for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
                if text(resource.get(policy, "")) in RETAIN:
                    yield Violation(logical_id, (policy,), f"{policy} is {resource[policy]}")


class PermissionsBoundary(Rule):
    id = "PAY004"
    title = "Every IAM role has the environment's permissions boundary"
    description = (
        "Every AWS::IAM::Role carries PermissionsBoundary set to the environment's boundary "
        "policy: the one the security layer writes to /{environment}/security/"
        "permissions-boundary-arn in that region."
    )
    hint = "Add PermissionsBoundary: !Ref PermissionsBoundaryArn (imported from the security layer)."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        parameter = f"/{context.environment.name}/{BOUNDARY_PARAMETER}"
        accepted = {f"{{{{resolve:ssm:{parameter}}}}}"}
        writer = context.ssm_writers.get((template.region, parameter))
        if writer is not None:
            accepted.add(text(writer[2]))
        for logical_id, role in template.of_type("AWS::IAM::Role").items():
            boundary = props(role).get("PermissionsBoundary")
            if boundary is None:
                yield Violation(logical_id, ("Properties",), "no PermissionsBoundary")
            elif text(boundary) not in accepted:
                yield Violation(
                    logical_id,
                    ("Properties", "PermissionsBoundary"),
                    f"PermissionsBoundary is {text(boundary)!r}, not the environment's boundary "
                    f"({parameter})",
                )


def policy_statements(
    template: EffectiveTemplate,
) -> Iterator[tuple[str, tuple[str | int, ...], dict[str, Any], bool]]:
    """(resource, path, statement, is identity policy) of every policy statement in a template."""
    for logical_id, resource in template.resources.items():
        kind = str(resource.get("Type"))
        properties = props(resource)
        documents: list[tuple[tuple[str | int, ...], Any, bool]] = []
        if kind in INLINE_POLICY_TYPES:
            for index, policy in enumerate(as_list(properties.get("Policies"))):
                if isinstance(policy, dict):
                    documents.append(
                        (("Policies", index, "PolicyDocument"), policy.get("PolicyDocument"), True)
                    )
        for key in IDENTITY_DOCUMENTS.get(kind, ()):
            documents.append(((key,), properties.get(key), True))
        for key in RESOURCE_DOCUMENTS.get(kind, ()):
            documents.append(((key,), properties.get(key), False))
        for path, document, identity in documents:
            for index, statement in statements(document):
                yield logical_id, ("Properties", *path, "Statement", index), statement, identity


def _actions(statement: dict[str, Any]) -> list[str]:
    return [text(action) for action in as_list(statement.get("Action"))]


def is_wildcard_action(action: str) -> bool:
    """`*`, `service:*` or any other pattern that names more actions than it spells out."""
    return "*" in action


def is_read_only(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return "*" not in verb and verb.startswith(READ_VERBS)


class WildcardActions(Rule):
    id = "PAY005"
    title = "Wildcard actions only with a written justification"
    description = (
        'An Allow statement with Action "*", "service:*" or another wildcard carries a '
        "`# why:` comment in the fragment (in the comment block right above the statement, "
        "or inside it). Deny statements only narrow and are exempt."
    )
    hint = "Name the actions, or write `# why: <reason>` above the statement."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        for logical_id, path, statement, _ in policy_statements(template):
            if text(statement.get("Effect")) != "Allow":
                continue
            wildcards = [action for action in _actions(statement) if is_wildcard_action(action)]
            if wildcards and not context.justified(template, logical_id, statement):
                sid = statement.get("Sid")
                yield Violation(
                    logical_id,
                    (*path, "Action"),
                    f"{'statement ' + text(sid) + ': ' if sid else ''}wildcard actions "
                    f"{', '.join(wildcards)} without a `# why:` comment",
                )


class StarResourceWrites(Rule):
    id = "PAY006"
    title = 'Writes on Resource "*" only with a written justification'
    description = (
        "An identity-policy Allow statement granting a write action (anything but "
        'Describe/Get/List/...) on Resource "*" carries a `# why:` comment in the fragment. '
        'Resource policies (key, bucket, topic policies) are exempt: there "*" means the '
        "resource itself."
    )
    hint = "Name the resources the actions apply to, or write `# why: <reason>` above the statement."

    def check(self, template: EffectiveTemplate, context: Context) -> Iterable[Violation]:
        for logical_id, path, statement, identity in policy_statements(template):
            if not identity or text(statement.get("Effect")) != "Allow":
                continue
            if "*" not in [text(item) for item in as_list(statement.get("Resource"))]:
                continue
            writes = [action for action in _actions(statement) if not is_read_only(action)]
            if writes and not context.justified(template, logical_id, statement):
                sid = statement.get("Sid")
                yield Violation(
                    logical_id,
                    (*path, "Resource"),
                    f"{'statement ' + text(sid) + ': ' if sid else ''}write actions "
                    f'{", ".join(writes)} on Resource "*" without a `# why:` comment',
                )
