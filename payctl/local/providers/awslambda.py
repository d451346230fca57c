"""Lambda permissions and asynchronous invocation settings."""

from __future__ import annotations

import json

from moto.awslambda import models as moto_lambda  # defines moto's Permission model, which ours replaces
from moto.core.common_models import CloudFormationModel

from .base import Properties, Provider


def _lambda(resource: Provider) -> moto_lambda.LambdaBackend:
    return moto_lambda.lambda_backends[resource.account_id][resource.region_name]


def _function_name(name_or_arn: str) -> str:
    # arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] or NAME
    return name_or_arn.split(":function:", 1)[1].split(":")[0] if ":function:" in name_or_arn else name_or_arn


class Permission(Provider, CloudFormationModel):
    """Gap: moto's model has no physical id (`Ref` yields a Python object) and its statement is
    never removed."""

    TYPE = "AWS::Lambda::Permission"
    REPLACE_ON = frozenset(
        {"FunctionName", "Action", "Principal", "SourceAccount", "SourceArn", "PrincipalOrgID",
         "EventSourceToken", "FunctionUrlAuthType"}
    )  # fmt: skip
    ATTRIBUTES = frozenset({"Id"})

    def create(self) -> None:
        self.physical_resource_id = f"{self.stack_name}-{self.logical_id}-{self.random_suffix(12).upper()}"
        statement = {k: v for k, v in self.properties.items() if k != "FunctionName"}
        statement["StatementId"] = self.physical_resource_id
        function = _lambda(self).get_function(_function_name(self.prop("FunctionName")))
        function.policy.add_statement(raw=json.dumps(statement))
        self.attributes = {"Id": self.physical_resource_id}

    def destroy(self) -> None:
        function_name = _function_name(self.prop("FunctionName"))
        if function_name in {f.function_name for f in _lambda(self).list_functions()}:
            function = _lambda(self).get_function(function_name)
            if any(s.get("Sid") == self.physical_resource_id for s in function.policy.statements):
                _lambda(self).remove_permission(function_name, self.physical_resource_id)


class EventInvokeConfig(Provider, CloudFormationModel):
    """Gap: moto's CloudFormation skips AWS::Lambda::EventInvokeConfig."""

    TYPE = "AWS::Lambda::EventInvokeConfig"
    REPLACE_ON = frozenset({"FunctionName", "Qualifier"})

    def _config(self) -> Properties:
        keys = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
        return {k: self.prop(k) for k in keys if self.prop(k) is not None}

    def create(self) -> None:
        function = _function_name(self.prop("FunctionName"))
        _lambda(self).put_function_event_invoke_config(function, self._config())
        self.physical_resource_id = f"{function}|{self.prop('Qualifier', '$LATEST')}"

    def update(self, old: Properties) -> None:
        # moto's update appends a second configuration; replace the one there is.
        function = _function_name(self.prop("FunctionName"))
        _lambda(self).delete_function_event_invoke_config(function)
        _lambda(self).put_function_event_invoke_config(function, self._config())

    def destroy(self) -> None:
        function = _function_name(self.prop("FunctionName"))
        if function in {f.function_name for f in _lambda(self).list_functions()}:
            _lambda(self).delete_function_event_invoke_config(function)
