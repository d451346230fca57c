"""CloudFormation drift APIs served by the emulator (logic in `payctl.local.drift`).

moto gap: no drift APIs at all (DetectStackDrift, DescribeStackDriftDetectionStatus,
DescribeStackResourceDrifts, DetectStackResourceDrift, DetectStackSetDrift raise
NotImplementedError), and stacks and resources carry no `DriftInformation`.
moto dispatches an API action to the response-class method of the same snake_case name, and its
serializer reads `drift_information` attributes, so binding methods and properties is enough.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.core.responses import ActionResult

from ._guard import require_attr, require_source

NAME = "drift_api"


def check() -> None:
    require_attr(cfn_responses, "StackResourceDTO", NAME)
    require_source(cfn_responses.CloudFormationResponse.list_stack_resources, "StackResourceSummaries", NAME)
    require_source(cfn_responses.StackResourceDTO.__init__, "self.logical_resource_id", NAME)
    require_source(cfn_models.Stack.__init__, "self.resource_map", NAME)
    from moto.cloudformation import parsing

    require_source(parsing.ResourceMap.__init__, "self._parsed_resources", NAME)
    require_source(parsing.ResourceMap.__init__, "self._resource_json_map", NAME)


def _list_stack_resources(response: Any) -> Any:
    from .. import drift

    stack = response.cloudformation_backend.get_stack(response._get_param("StackName"))
    summaries = []
    for resource in stack.stack_resources:
        logical_id = getattr(resource, "logical_resource_id", "")
        summaries.append(
            {
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": getattr(resource, "physical_resource_id", ""),
                "ResourceType": getattr(resource, "cf_resource_type", ""),
                "LastUpdatedTimestamp": stack.creation_time,
                "ResourceStatus": "CREATE_COMPLETE"
                if stack.status.startswith("CREATE")
                else "UPDATE_COMPLETE",
                "DriftInformation": drift.resource_drift_information(stack, logical_id),
            }
        )
    return ActionResult({"StackResourceSummaries": summaries})


def apply() -> None:
    from .. import drift

    def stack_drift_information(self: Any) -> dict[str, Any]:
        return drift.stack_drift_information(self)

    cfn_models.Stack.drift_information = property(stack_drift_information)  # type: ignore[attr-defined]

    dto = cfn_responses.StackResourceDTO
    original_init = getattr(dto.__init__, "__payctl_original__", dto.__init__)

    def dto_init(self: Any, stack: Any, resource: Any) -> None:
        original_init(self, stack, resource)
        self.drift_information = drift.resource_drift_information(stack, self.logical_resource_id or "")

    dto_init.__payctl_original__ = original_init  # type: ignore[attr-defined]
    dto.__init__ = dto_init  # type: ignore[method-assign]

    for name, handler in drift.RESPONSES.items():
        setattr(cfn_responses.CloudFormationResponse, name, handler)
    cfn_responses.CloudFormationResponse.list_stack_resources = _list_stack_resources  # type: ignore[assignment,method-assign]
