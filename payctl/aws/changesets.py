"""Change sets through nested stacks: create, wait, read every page of every nested change set, clean up.

    outcome = compute_change_set(cfn, request)       # plan: creates, reads, deletes
    outcome = compute_change_set(cfn, request, keep=True)   # apply executes outcome.change_set_id later

Results stay in AWS's own shapes (the ResourceChange dicts of DescribeChangeSet); payctl.plan reads
them into the Plan model. "No changes" is a result (`ChangeSetOutcome.no_changes`), never an error.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import ClientError

from payctl.aws.errors import aws_errors, error_message, is_no_changes, translate
from payctl.aws.poll import DEFAULT, Backoff, poll
from payctl.aws.stacks import NESTED_STACK_TYPE
from payctl.errors import AwsError, ChangeSetFailed

ChangeSetType = Literal["CREATE", "UPDATE"]

CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND")
# CloudFormation's TemplateBody limit; larger templates must be passed by URL.
TEMPLATE_BODY_LIMIT = 51_200
_FINAL = frozenset({"CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED"})
_CHANGE_SET_ARN = re.compile(r"arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:changeSet/[^\s,;]+")


@dataclass(frozen=True)
class ChangeSetRequest:
    """What to propose for one (top-level) stack. Exactly one of template_body/template_url is set."""

    stack_name: str
    change_set_type: ChangeSetType
    parameters: dict[str, str]
    tags: dict[str, str]
    template_body: str | None = None
    template_url: str | None = None
    description: str = ""
    include_nested_stacks: bool = True


@dataclass(frozen=True)
class ChangeSetTree:
    """One change set as DescribeChangeSet returns it (all pages), with its nested change sets."""

    change_set_id: str
    change_set_name: str
    stack_id: str
    stack_name: str
    status: str
    status_reason: str
    execution_status: str
    changes: tuple[dict[str, Any], ...]  # each is a ResourceChange structure
    parameters: dict[str, str]  # as CloudFormation shows them: NoEcho values are "****"
    nested: dict[str, ChangeSetTree] = field(default_factory=dict)  # nested stack logical id -> tree

    @property
    def no_changes(self) -> bool:
        return self.status == "FAILED" and is_no_changes(self.status_reason)

    @property
    def failed(self) -> bool:
        return self.status != "CREATE_COMPLETE" and not self.no_changes


@dataclass(frozen=True)
class ChangeSetOutcome:
    change_set_type: ChangeSetType
    change_set_id: str | None  # None when CloudFormation refused it for having no changes
    stack_id: str | None
    tree: ChangeSetTree | None
    kept: bool

    @property
    def no_changes(self) -> bool:
        return self.tree is None or self.tree.no_changes


def new_change_set_name(prefix: str = "payctl-plan") -> str:
    """Unique and valid (letter first, letters, digits and dashes, at most 128 characters)."""
    return f"{prefix}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"


def create_change_set(cfn: Any, request: ChangeSetRequest, name: str) -> tuple[str, str] | None:
    """(change set id, stack id); None when CloudFormation says at once that nothing changed."""
    arguments: dict[str, Any] = {
        "StackName": request.stack_name,
        "ChangeSetName": name,
        "ChangeSetType": request.change_set_type,
        "Parameters": [{"ParameterKey": key, "ParameterValue": value}
                       for key, value in request.parameters.items()],
        "Capabilities": list(CAPABILITIES),
        "Tags": [{"Key": key, "Value": value} for key, value in request.tags.items()],
        "IncludeNestedStacks": request.include_nested_stacks,
    }
    if request.description:
        arguments["Description"] = request.description[:1024]
    if request.template_url:
        arguments["TemplateURL"] = request.template_url
    else:
        arguments["TemplateBody"] = request.template_body
    try:
        created = cfn.create_change_set(**arguments)
    except ClientError as error:
        if is_no_changes(error_message(error)):
            return None
        raise translate(error, f"creating a change set for {request.stack_name}") from error
    return str(created["Id"]), str(created["StackId"])


def wait_for_change_set(cfn: Any, change_set_id: str, *, backoff: Backoff = DEFAULT) -> dict[str, Any]:
    """Poll until the change set is created or failed; returns the first DescribeChangeSet page."""

    def check() -> dict[str, Any] | None:
        with aws_errors(f"describing change set {change_set_id}"):
            page: dict[str, Any] = cfn.describe_change_set(ChangeSetName=change_set_id,
                                                           IncludePropertyValues=True)
        return page if page["Status"] in _FINAL else None

    return poll(check, what=f"change set {change_set_id}", backoff=backoff)


def describe_tree(cfn: Any, change_set_id: str, first_page: dict[str, Any] | None = None) -> ChangeSetTree:
    """Every page of a change set, and recursively each nested stack's change set."""
    pages = [first_page] if first_page else []
    token = first_page.get("NextToken") if first_page else None
    with aws_errors(f"describing change set {change_set_id}"):
        while not pages or token:
            arguments: dict[str, Any] = {"ChangeSetName": change_set_id, "IncludePropertyValues": True}
            if token:
                arguments["NextToken"] = token
            page = cfn.describe_change_set(**arguments)
            pages.append(page)
            token = page.get("NextToken")
    head = pages[0]
    changes = tuple(change["ResourceChange"] for page in pages for change in page.get("Changes", [])
                    if change.get("Type", "Resource") == "Resource" and "ResourceChange" in change)
    nested = {
        str(change["LogicalResourceId"]): describe_tree(cfn, str(change["ChangeSetId"]))
        for change in changes
        if change.get("ResourceType") == NESTED_STACK_TYPE and change.get("ChangeSetId")
    }
    return ChangeSetTree(
        change_set_id=str(head.get("ChangeSetId", change_set_id)),
        change_set_name=str(head.get("ChangeSetName", "")),
        stack_id=str(head.get("StackId", "")),
        stack_name=str(head.get("StackName", "")),
        status=str(head.get("Status", "")),
        status_reason=str(head.get("StatusReason", "")),
        execution_status=str(head.get("ExecutionStatus", "")),
        changes=changes,
        parameters={p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in head.get("Parameters", [])},
        nested=nested,
    )


def failure_message(cfn: Any, tree: ChangeSetTree) -> str:
    """CloudFormation's reason, followed by the nested change set that caused it and that one's reason.

    A parent only says "Nested change set <arn> was not successfully created: Currently in FAILED";
    the real reason is on the nested change set, possibly several levels down."""
    message = f"{tree.stack_name}: {tree.status_reason or tree.status}"
    cause = _nested_cause(cfn, tree, seen={tree.change_set_id})
    return f"{message}\n  caused by {cause}" if cause else message


def _nested_cause(cfn: Any, tree: ChangeSetTree, seen: set[str]) -> str | None:
    candidates: list[tuple[str, ChangeSetTree | str]] = list(tree.nested.items())
    candidates += [("", arn) for arn in _CHANGE_SET_ARN.findall(tree.status_reason)]
    for logical_id, candidate in candidates:
        if isinstance(candidate, str):
            if candidate in seen:
                continue
            try:
                candidate = describe_tree(cfn, candidate)
            except AwsError:  # the cause cannot be read; the parent's reason still stands
                continue
        seen.add(candidate.change_set_id)
        if not candidate.failed:
            continue
        where = f"nested stack {logical_id} ({candidate.stack_name})" if logical_id \
            else f"nested stack {candidate.stack_name}"
        deeper = _nested_cause(cfn, candidate, seen)
        own = f"{where}: {candidate.status_reason or candidate.status}"
        return f"{own}\n  caused by {deeper}" if deeper else own
    return None


def delete_change_set(cfn: Any, change_set_id: str) -> None:
    """Delete a root change set (CloudFormation deletes its nested change sets with it)."""
    with aws_errors(f"deleting change set {change_set_id}"):
        cfn.delete_change_set(ChangeSetName=change_set_id)


def delete_review_stack(cfn: Any, stack_id: str) -> None:
    """Delete the empty REVIEW_IN_PROGRESS stack a CREATE change set made (by id: never another stack)."""
    with aws_errors(f"deleting the empty stack {stack_id}"):
        cfn.delete_stack(StackName=stack_id)


def compute_change_set(cfn: Any, request: ChangeSetRequest, *, keep: bool = False, name: str | None = None,
                       backoff: Backoff = DEFAULT, review_stack_is_ours: bool = True) -> ChangeSetOutcome:
    """Create a change set, wait for it, read it whole, and unless `keep`, delete it again.

    A CREATE change set makes an empty REVIEW_IN_PROGRESS stack; it is deleted with the change set
    when `review_stack_is_ours` (the stack did not exist before). A change set without changes is
    always deleted: CloudFormation counts them against a quota. A failed one raises ChangeSetFailed
    after cleanup, naming the nested change set that caused it.
    """
    created = create_change_set(cfn, request, name or new_change_set_name())
    if created is None:
        return ChangeSetOutcome(request.change_set_type, None, None, None, kept=False)
    change_set_id, stack_id = created
    tree: ChangeSetTree | None = None
    failure: str | None = None
    try:
        first = wait_for_change_set(cfn, change_set_id, backoff=backoff)
        tree = describe_tree(cfn, change_set_id, first)
        if tree.failed:
            failure = failure_message(cfn, tree)
    finally:
        keeping = keep and tree is not None and not tree.no_changes
        if not keeping:
            _cleanup(cfn, change_set_id, stack_id if request.change_set_type == "CREATE"
                     and review_stack_is_ours else None)
    if failure:
        raise ChangeSetFailed(f"change set failed for {failure}",
                              hint="fix the template or parameters named above, then plan again")
    return ChangeSetOutcome(request.change_set_type, change_set_id, stack_id, tree, kept=keeping)


def _cleanup(cfn: Any, change_set_id: str, review_stack_id: str | None) -> None:
    try:
        delete_change_set(cfn, change_set_id)
    finally:
        if review_stack_id:
            delete_review_stack(cfn, review_stack_id)
