"""Read-side stack helpers: describe a stack, its deployed template, outputs and nested stacks.

Each takes a CloudFormation client (from AwsSession.client("cloudformation", target)), so tests can
pass a Stubber-wrapped client. Nothing here changes a stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from payctl.aws.errors import aws_errors, is_stack_missing, translate

# A stack in one of these cannot be changed now; CloudFormation allows one operation at a time.
IN_PROGRESS_SUFFIX = "_IN_PROGRESS"
# REVIEW_IN_PROGRESS: created by a CREATE change set that was never executed; it holds no resources.
REVIEW_IN_PROGRESS = "REVIEW_IN_PROGRESS"
# A stack whose creation failed and rolled back can only be deleted, never updated.
DEAD_STATUSES = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"})
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class StackInfo:
    """What DescribeStacks says about one stack."""

    stack_id: str
    name: str
    status: str
    status_reason: str = ""
    parameters: dict[str, str] = field(default_factory=dict)  # NoEcho values come back as "****"
    outputs: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    last_changed: str = ""  # ISO time of the last update (or creation): apply compares it to a saved plan
    parent_id: str | None = None

    @property
    def is_review(self) -> bool:
        """Only a CREATE change set was ever made: the stack has no resources yet."""
        return self.status == REVIEW_IN_PROGRESS

    @property
    def is_busy(self) -> bool:
        return self.status.endswith(IN_PROGRESS_SUFFIX) and not self.is_review

    @property
    def exists(self) -> bool:
        """Deployed with resources: an update, not a create, is what changes it."""
        return not self.is_review


def _stack_info(raw: dict[str, Any]) -> StackInfo:
    changed = raw.get("LastUpdatedTime") or raw.get("CreationTime")
    return StackInfo(
        stack_id=str(raw["StackId"]),
        name=str(raw["StackName"]),
        status=str(raw["StackStatus"]),
        status_reason=str(raw.get("StackStatusReason", "")),
        parameters={p["ParameterKey"]: str(p.get("ParameterValue", "")) for p in raw.get("Parameters", [])},
        outputs={o["OutputKey"]: str(o.get("OutputValue", "")) for o in raw.get("Outputs", [])},
        tags={t["Key"]: t["Value"] for t in raw.get("Tags", [])},
        last_changed=changed.isoformat() if isinstance(changed, datetime) else str(changed or ""),
        parent_id=raw.get("ParentId"),
    )


def describe_stack(cfn: Any, name_or_id: str) -> StackInfo | None:
    """The stack, or None when it does not exist (deleted stacks are looked up by id only)."""
    try:
        stacks = cfn.describe_stacks(StackName=name_or_id)["Stacks"]
    except ClientError as error:
        if is_stack_missing(error):
            return None
        raise translate(error, f"describing stack {name_or_id}") from error
    if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
        return None
    return _stack_info(stacks[0])


def stack_set_instance(cfn: Any, stack_set: str) -> StackInfo | None:
    """The stack a StackSet instance runs in this account and region (AWS names it
    `StackSet-<stack set>-<uuid>`), found without access to the StackSet's admin account."""
    prefix = f"StackSet-{stack_set}-"
    with aws_errors("listing stacks"):
        for page in cfn.get_paginator("describe_stacks").paginate():
            for raw in page["Stacks"]:
                if raw["StackName"].startswith(prefix) and not raw.get("ParentId") \
                        and raw["StackStatus"] != "DELETE_COMPLETE":
                    return _stack_info(raw)
    return None


def deployed_template(cfn: Any, name_or_id: str) -> str:
    """The template as it was submitted (TemplateStage Original), as text.

    boto3 parses a JSON TemplateBody into a dict; it is turned back into JSON text so the result is
    always text a diff can read."""
    with aws_errors(f"reading the deployed template of {name_or_id}"):
        body = cfn.get_template(StackName=name_or_id, TemplateStage="Original")["TemplateBody"]
    return body if isinstance(body, str) else json.dumps(body, indent=2) + "\n"


def stack_outputs(cfn: Any, name_or_id: str) -> dict[str, str]:
    info = describe_stack(cfn, name_or_id)
    return dict(info.outputs) if info else {}


def nested_stacks(cfn: Any, name_or_id: str) -> dict[str, str]:
    """Logical id -> stack id of each nested stack resource of a stack (all pages)."""
    found: dict[str, str] = {}
    with aws_errors(f"listing the resources of {name_or_id}"):
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name_or_id):
            for resource in page["StackResourceSummaries"]:
                if resource["ResourceType"] == NESTED_STACK_TYPE and resource.get("PhysicalResourceId"):
                    found[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    return found
