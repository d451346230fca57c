"""StackSets deployed, updated and reported as AWS does (logic in `payctl.local.stacksets`).

moto gaps: `ParameterOverrides` replace the StackSet's parameters instead of being merged over
them; `update_stack_set`/`update_stack_instances` never reach the deployed stacks; instance stacks
are named `StackSet:<name>` (the colon breaks ALB and bucket names derived from the stack name);
every operation is SUCCEEDED at once, with hard-coded results; `RetainStacks`, `OperationId` and
`OperationPreferences` are ignored; service-managed instances are hidden stacks.
moto's StackSet model builds `StackInstances` by global name and its backend builds `StackSet` by
global name, so binding payctl's classes there (and the API methods on the response class) is enough.
"""

from __future__ import annotations

from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses

from ._guard import require_attr, require_params, require_source

NAME = "stacksets"


def check() -> None:
    stack_set = require_attr(cfn_models, "StackSet", NAME)
    if stack_set.__module__ != cfn_models.__name__:  # already replaced: check moto's own class
        stack_set = stack_set.__mro__[1]
    require_attr(cfn_models, "StackInstances", NAME)
    require_source(stack_set.__init__, "StackInstances(", NAME)
    require_source(cfn_models.CloudFormationBackend.create_stack_set, "StackSet(", NAME)
    require_params(cfn_models.Stack.update, ["template", "role_arn", "parameters", "tags"], NAME)
    require_params(
        cfn_models.CloudFormationBackend._resolve_update_parameters, ["instance", "incoming_params"], NAME
    )
    for attr in ("operations", "permission_model", "execution_role_name", "administration_role_arn"):
        require_source(stack_set.__init__, f"self.{attr}", NAME)
    require_attr(cfn_responses.CloudFormationResponse, "_get_stack_from_s3_url", NAME)


def apply() -> None:
    from .. import stacksets

    cfn_models.StackSet = stacksets.PayctlStackSet  # type: ignore[misc]
    cfn_models.StackInstances = stacksets.PayctlStackInstances  # type: ignore[misc,assignment]
    for name, handler in stacksets.RESPONSES.items():
        setattr(cfn_responses.CloudFormationResponse, name, handler)
