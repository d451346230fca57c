"""From what AWS said (change set trees, deployed templates and parameters) to StackPlans. Pure.

Where CloudFormation gave no nested change set (a nested stack to be created or removed whole, or
an emulator that does not make them), a nested stack's changes are read from the templates instead
and the block says so (`source: template`).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, get_args

from payctl.aws.changesets import ChangeSetTree
from payctl.plan.danger import assess, audit_log_groups
from payctl.plan.documents import (
    Document,
    compact,
    load_document,
    no_echo_parameters,
    outputs,
    resources,
    ssm_parameters,
)
from payctl.plan.model import (
    MASK,
    NESTED_STACK,
    Action,
    OutputChange,
    ParameterChange,
    PropertyChange,
    Replacement,
    ResourceChange,
    StackPlan,
    StackStatus,
)
from payctl.plan.replacement import requires_recreation

_ACTIONS = frozenset(get_args(Action))


@dataclass(frozen=True)
class Masker:
    """Replaces secret values (NoEcho parameter values payctl passes) wherever text might carry them."""

    secrets: frozenset[str] = frozenset()
    no_echo: frozenset[str] = frozenset()  # parameter names

    def text(self, value: str | None) -> str | None:
        if value is None:
            return None
        for secret in self.secrets:
            if secret:
                value = value.replace(secret, MASK)
        return value

    def with_names(self, names: Iterable[str]) -> Masker:
        return Masker(self.secrets, self.no_echo | frozenset(names))


@dataclass(frozen=True)
class StackInputs:
    """Everything known about one stack level (top-level or nested), as plain data."""

    name: str
    template_after: str | None  # planned template text (None: the stack is being removed)
    template_before: str | None = None  # deployed template (Original stage), None when not deployed
    stack_name: str | None = None
    stack_id: str | None = None
    parameters_after: dict[str, str] | None = None  # None: not known (nested stack without change set)
    parameters_before: dict[str, str] | None = None
    outputs_current: dict[str, str] = field(default_factory=dict)
    nested: dict[str, StackInputs] = field(default_factory=dict)  # by logical id in this stack


def property_change(detail: dict[str, Any], masker: Masker) -> PropertyChange:
    target = detail.get("Target") or {}
    secret = (detail.get("ChangeSource") == "ParameterReference"
              and detail.get("CausingEntity") in masker.no_echo)

    def value(key: str) -> str | None:
        raw = target.get(key)
        if raw is None:
            return None
        return MASK if secret else masker.text(str(raw))

    return PropertyChange(
        attribute=str(target.get("Attribute", "")),
        name=target.get("Name"),
        requires_recreation=target.get("RequiresRecreation"),
        evaluation=detail.get("Evaluation"),
        change_source=detail.get("ChangeSource"),
        causing_entity=detail.get("CausingEntity"),
        path=target.get("Path"),
        change_type=target.get("AttributeChangeType"),
        before=value("BeforeValue"),
        after=value("AfterValue"),
    )


def resource_change(raw: dict[str, Any], masker: Masker) -> ResourceChange:
    """One ResourceChange structure of DescribeChangeSet, as the model's ResourceChange (no findings yet)."""
    action = str(raw.get("Action", "Dynamic"))
    return ResourceChange(
        action=action if action in _ACTIONS else "Dynamic",  # type: ignore[arg-type]
        logical_id=str(raw.get("LogicalResourceId", "")),
        resource_type=str(raw.get("ResourceType", "")),
        physical_id=raw.get("PhysicalResourceId") or None,
        replacement=raw.get("Replacement"),
        scope=tuple(raw.get("Scope", ())),
        details=tuple(property_change(detail, masker) for detail in raw.get("Details", ())),
        policy_action=raw.get("PolicyAction"),
        before_context=masker.text(raw.get("BeforeContext")),
        after_context=masker.text(raw.get("AfterContext")),
    )


def template_changes(before: Document | None, after: Document | None) -> tuple[ResourceChange, ...]:
    """Resource changes read from two templates: Add, Remove, or Modify naming the top-level properties
    that differ. Replacement comes from the resource schema's create-only properties: a changed
    expression is taken as a changed value (CloudFormation may know better, e.g. an equal Ref)."""
    old, new = resources(before), resources(after)
    changes = []
    for logical_id, resource in new.items():
        if logical_id not in old:
            changes.append(ResourceChange("Add", logical_id, str(resource.get("Type", ""))))
        elif old[logical_id] != resource:
            resource_type = str(resource.get("Type", ""))
            details = _differing(resource_type, old[logical_id], resource)
            changes.append(ResourceChange("Modify", logical_id, resource_type,
                                          replacement=_replacement(details),
                                          scope=tuple(dict.fromkeys(d.attribute for d in details)),
                                          details=details))
    changes += [ResourceChange("Remove", logical_id, str(resource.get("Type", "")))
                for logical_id, resource in old.items() if logical_id not in new]
    return tuple(changes)


def _differing(resource_type: str, old: Document, new: Document) -> tuple[PropertyChange, ...]:
    found = []
    for attribute in sorted(set(old) | set(new)):
        if attribute in ("Type", "Properties") or old.get(attribute) == new.get(attribute):
            continue
        found.append(PropertyChange(attribute, None, "Never", "Static", "DirectModification", None))
    old_properties, new_properties = old.get("Properties") or {}, new.get("Properties") or {}
    for name in sorted(set(old_properties) | set(new_properties)):
        if old_properties.get(name) != new_properties.get(name):
            recreation = requires_recreation(resource_type, name)
            found.append(PropertyChange("Properties", name, recreation, "Static", "DirectModification", None))
    return tuple(found)


def _replacement(details: tuple[PropertyChange, ...]) -> Replacement:
    recreation = {detail.requires_recreation for detail in details}
    return "True" if "Always" in recreation else "Conditional" if "Conditionally" in recreation else "False"


def text_diff(before: str | None, after: str | None, name: str) -> str:
    if before is None or after is None or before == after:
        return ""
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 fromfile=f"deployed/{name}", tofile=f"planned/{name}", n=3)
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def parameter_changes(before: dict[str, str] | None, after: dict[str, str] | None, masker: Masker,
                      ssm_typed: frozenset[str] = frozenset()) -> tuple[ParameterChange, ...]:
    if before is None or after is None:
        return ()
    changes = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if name in ssm_typed and old is not None and not old.startswith("/"):
            # CloudFormation reports an SSM-typed parameter by its path (and the value as ResolvedValue);
            # an emulator reporting the resolved value gives nothing comparable.
            continue
        no_echo = name in masker.no_echo or MASK in (old, new)
        if old == new or (no_echo and MASK in (old, new) and old is not None and new is not None):
            # A NoEcho value comes back as "****": equal or not, nothing can be said, so nothing is shown.
            continue
        changes.append(ParameterChange.masked(name, old, new, no_echo))
    return tuple(changes)


def output_changes(before: Document | None, after: Document | None,
                   current: dict[str, str], masker: Masker) -> tuple[OutputChange, ...]:
    if before is None or after is None:
        return ()
    old, new = outputs(before), outputs(after)
    changes = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) == new.get(name):
            continue
        action = "Add" if name not in old else "Remove" if name not in new else "Modify"
        changes.append(OutputChange(
            name, action, masker.text(current.get(name)),  # type: ignore[arg-type]
            _definition(old.get(name)), _definition(new.get(name))))
    return tuple(changes)


def _definition(output: Any) -> str | None:
    if output is None:
        return None
    if isinstance(output, dict):
        shown = {key: output[key] for key in ("Value", "Export", "Condition") if key in output}
        if list(shown) == ["Value"]:
            return compact(shown["Value"])
        return json.dumps(shown, sort_keys=True, separators=(",", ":"))
    return compact(output)


def build_stack(inputs: StackInputs, tree: ChangeSetTree | None, *, masker: Masker,
                change_set_type: str | None = None) -> StackPlan:
    """A StackPlan for one level: from its change set when there is one, else from its templates."""
    before_doc, after_doc = load_document(inputs.template_before), load_document(inputs.template_after)
    masker = masker.with_names(no_echo_parameters(after_doc) | no_echo_parameters(before_doc))
    audit_groups = audit_log_groups(before_doc, after_doc)
    old, new = resources(before_doc), resources(after_doc)
    if tree is not None:
        raw_changes = [resource_change(raw, masker) for raw in tree.changes]
        source = "change-set"
    else:
        raw_changes = list(template_changes(before_doc, after_doc))
        source = "template"
    changes = tuple(assess(change, old.get(change.logical_id), new.get(change.logical_id), audit_groups)
                    for change in raw_changes)
    children = []
    for change in changes:
        if change.resource_type != NESTED_STACK:
            continue
        child_inputs = inputs.nested.get(change.logical_id) or StackInputs(change.logical_id, None)
        child_tree = tree.nested.get(change.logical_id) if tree is not None else None
        if child_tree is None:
            # Without a nested change set, the templates tell: the planned one for an Add, the deployed
            # one for a Remove, both for a Modify. Lacking them, the change itself is all there is.
            before, after = child_inputs.template_before, child_inputs.template_after
            if change.action == "Add" and after is not None:
                child_inputs = StackInputs(change.logical_id, after)
            elif change.action == "Remove" and before is not None:
                child_inputs = StackInputs(change.logical_id, None, template_before=before,
                                           stack_name=child_inputs.stack_name, stack_id=child_inputs.stack_id)
            elif change.action not in ("Add", "Remove") and before is not None and after is not None:
                pass
            else:
                continue
        child_type = {"Add": "CREATE", "Remove": "DELETE"}.get(change.action, "UPDATE")
        children.append(build_stack(child_inputs, child_tree, masker=masker, change_set_type=child_type))
    status = _status(inputs, tree, change_set_type)
    parameters_after = inputs.parameters_after
    if tree is not None and tree.parameters and parameters_after is None:
        parameters_after = tree.parameters
    plan = StackPlan(
        name=inputs.name,
        status=status,
        source=source,  # type: ignore[arg-type]
        stack_name=inputs.stack_name or (tree.stack_name if tree is not None else None),
        stack_id=inputs.stack_id or (tree.stack_id if tree is not None else None) or None,
        change_set_id=tree.change_set_id if tree is not None else None,
        note="changes read from the templates: CloudFormation returned no nested change set"
        if source == "template" and status == "update" else "",
        changes=changes,
        parameters=parameter_changes(inputs.parameters_before, parameters_after, masker,
                                     ssm_parameters(after_doc)) if status == "update" else (),
        outputs=output_changes(before_doc, after_doc, inputs.outputs_current, masker)
        if status == "update" else (),
        template_diff=text_diff(inputs.template_before, inputs.template_after, f"{inputs.name}.yaml"),
        children=tuple(children),
    )
    if status == "update" and not plan.has_changes and not plan.template_diff:
        return replace(plan, status="no-changes", note="")
    return plan


def _status(inputs: StackInputs, tree: ChangeSetTree | None, change_set_type: str | None) -> StackStatus:
    if change_set_type == "CREATE":
        return "create"
    if change_set_type == "DELETE":
        return "delete"
    if tree is not None and tree.no_changes:
        return "no-changes"
    if change_set_type == "UPDATE":
        return "update"
    if inputs.template_before is None:
        return "create"
    return "delete" if inputs.template_after is None else "update"
