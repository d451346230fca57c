"""Conventions of the compute and monitoring layers as small checks over a rendered template in
long form (``Fn::``/``Ref`` dicts, as ``cfn_flip.load_yaml`` returns it).

Each ``check_*`` returns a list of problems (empty when the template complies), so the tests and a
later policy gate can share them. ``Scenario`` evaluates a template under one environment's
parameter values (conditions, ``Ref``, ``Fn::If``, ``Fn::Sub``, ...), which is how the tests ask
"what does prod in eu-west-1 actually get".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Template = Mapping[str, Any]

PSEUDO_PARAMETERS = ("AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName", "AWS::URLSuffix")
# EventBridge content filters that match more than the values written down.
LOOSE_MATCHERS = {
    "prefix",
    "suffix",
    "wildcard",
    "anything-but",
    "exists",
    "equals-ignore-case",
    "numeric",
    "cidr",
}
SECRET_LIKE = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE_KEY|API_KEY", re.IGNORECASE)
CLOUDTRAIL_API_CALL = "AWS API Call via CloudTrail"


# --- template access ------------------------------------------------------------------------
def resources(template: Template, *types: str) -> dict[str, Mapping[str, Any]]:
    """Resources of the given types (all when none are given), by logical id."""
    return {
        name: resource
        for name, resource in (template.get("Resources") or {}).items()
        if not types or resource.get("Type") in types
    }


def props(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return resource.get("Properties") or {}


def ref(value: Any) -> str | None:
    """The name a ``{"Ref": name}`` points at, else None."""
    if isinstance(value, Mapping) and set(value) == {"Ref"}:
        return str(value["Ref"])
    return None


def get_att(value: Any) -> tuple[str, str] | None:
    """(logical id, attribute) of a ``Fn::GetAtt``, else None."""
    if isinstance(value, Mapping) and set(value) == {"Fn::GetAtt"}:
        target = value["Fn::GetAtt"]
        if isinstance(target, str):
            logical, _, attribute = target.partition(".")
            return logical, attribute
        return str(target[0]), str(target[1])
    return None


def referenced_resource(value: Any) -> str | None:
    """The logical id behind ``!Ref X`` or ``!GetAtt X.Attr``."""
    found = get_att(value)
    return found[0] if found else ref(value)


# --- evaluating a template for one environment and region -----------------------------------
class Scenario:
    """A template under concrete parameter values in one account and region.

    Values it cannot know (attributes of resources, references to resources, parameters without
    a value or Default) evaluate to placeholders such as ``{{Cluster}}`` or ``{{Lb.DNSName}}``,
    so strings built from them stay comparable.
    """

    def __init__(
        self, template: Template, parameters: Mapping[str, str], region: str, account: str = "111111111111"
    ) -> None:
        self.template = template
        self.region = region
        self.values: dict[str, Any] = {}
        for name, definition in (template.get("Parameters") or {}).items():
            if name in parameters:
                self.values[name] = parameters[name]
            elif "Default" in definition:
                self.values[name] = str(definition["Default"])
            if name in self.values and str(definition.get("Type", "")).startswith(
                ("List<", "CommaDelimitedList")
            ):
                text = self.values[name]
                self.values[name] = [] if text == "" else text.split(",")
        self.values.update(
            {
                "AWS::Region": region,
                "AWS::AccountId": account,
                "AWS::Partition": "aws",
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::StackName": "{{AWS::StackName}}",
            }
        )
        self._conditions: dict[str, bool] = {}

    # conditions
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            self._conditions[name] = bool(self.resolve(self.template["Conditions"][name]))
        return self._conditions[name]

    def exists(self, logical_id: str) -> bool:
        condition = resources(self.template)[logical_id].get("Condition")
        return condition is None or self.condition(str(condition))

    def present(self, *types: str) -> dict[str, Mapping[str, Any]]:
        """Resources of these types that this scenario creates."""
        return {name: r for name, r in resources(self.template, *types).items() if self.exists(name)}

    def outputs(self) -> dict[str, Any]:
        return {
            name: self.resolve(output["Value"])
            for name, output in (self.template.get("Outputs") or {}).items()
            if "Condition" not in output or self.condition(str(output["Condition"]))
        }

    # values
    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic this scenario can evaluate evaluated; AWS::NoValue
        entries are dropped from lists and maps."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(str(argument))
            if key == "Condition":
                return self.condition(str(argument))
            function = _FUNCTIONS.get(key)
            if function is not None:
                return function(self, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def property(self, logical_id: str, *path: str | int) -> Any:
        """A resource property, evaluated (``property("Service", "DeploymentConfiguration")``)."""
        node: Any = props(resources(self.template)[logical_id])
        for part in path:
            node = self.resolve(node)[part]
        return self.resolve(node)

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.values:
            return self.values[name]
        return "{{" + name + "}}"

    def _if(self, argument: list[Any]) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(str(name)) else when_false)

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        local = {key: self.resolve(item) for key, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if "." in name and name.split(".", 1)[0] not in self.values:
                return "{{" + name + "}}"
            value = self._ref(name)
            return ",".join(value) if isinstance(value, list) else str(value)

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _join(self, argument: list[Any]) -> str:
        separator, items = argument
        values = self.resolve(items)
        return str(separator).join(str(item) for item in values)

    def _get_att(self, argument: Any) -> str:
        found = get_att({"Fn::GetAtt": argument})
        assert found is not None
        return "{{" + ".".join(found) + "}}"

    def _select(self, argument: list[Any]) -> Any:
        index, items = argument
        return self.resolve(items)[int(self.resolve(index))]


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


_NO_VALUE = _NoValue()
_FUNCTIONS: dict[str, Any] = {
    "Fn::If": Scenario._if,
    "Fn::Sub": Scenario._sub,
    "Fn::Join": Scenario._join,
    "Fn::GetAtt": Scenario._get_att,
    "Fn::Select": Scenario._select,
    "Fn::Equals": lambda s, a: str(s.resolve(a[0])) == str(s.resolve(a[1])),
    "Fn::Not": lambda s, a: not s.resolve(a[0]),
    "Fn::And": lambda s, a: all(s.resolve(item) for item in a),
    "Fn::Or": lambda s, a: any(s.resolve(item) for item in a),
}


# --- EventBridge ------------------------------------------------------------------------------
def _pattern_leaves(pattern: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in pattern.items():
        where = f"{path}.{key}" if path else str(key)
        if isinstance(value, Mapping):
            yield from _pattern_leaves(value, where)
        else:
            yield where, value


def _is_intrinsic(value: Any) -> bool:
    return (
        isinstance(value, Mapping) and len(value) == 1 and str(next(iter(value))).startswith(("Fn::", "Ref"))
    )


def pattern_problems(pattern: Mapping[str, Any]) -> list[str]:
    """Why an event pattern matches more than the values it names (empty when it is explicit).

    Explicit means: ``source`` and ``detail-type`` present; every field a non-empty list of plain
    strings without ``*``; no content filter (prefix, suffix, wildcard, anything-but, exists,
    numeric, ...) and no ``$or``; API-call patterns also name ``detail.eventSource`` and
    ``detail.eventName``."""
    problems = [f"no {key}" for key in ("source", "detail-type") if key not in pattern]
    for where, value in _pattern_leaves(pattern):
        if "$or" in where.split("."):
            problems.append(f"{where}: $or")
            continue
        if not isinstance(value, list) or not value:
            problems.append(f"{where}: {value!r} is not a non-empty list of values")
            continue
        for item in value:
            if _is_intrinsic(item):
                item = str(item)  # a value CloudFormation computes (e.g. an ARN from !Sub)
            if isinstance(item, Mapping):
                loose = sorted(set(item) & LOOSE_MATCHERS) or sorted(item)
                problems.append(f"{where}: content filter {loose}")
            elif not isinstance(item, str) or not item:
                problems.append(f"{where}: {item!r} is not a plain string")
            elif "*" in item:
                problems.append(f"{where}: {item!r} contains a wildcard")
    if CLOUDTRAIL_API_CALL in (pattern.get("detail-type") or []):
        detail = pattern.get("detail") or {}
        problems += [
            f"API-call pattern without detail.{key}"
            for key in ("eventSource", "eventName")
            if key not in detail
        ]
    return problems


def check_event_patterns_explicit(template: Template) -> list[str]:
    """Every rule with an EventPattern names exactly what it matches (see pattern_problems)."""
    problems = []
    for name, rule in resources(template, "AWS::Events::Rule").items():
        pattern = props(rule).get("EventPattern")
        if pattern is None:
            continue
        problems += [f"{name}: {problem}" for problem in pattern_problems(pattern)]
    return problems


def rule_targets(template: Template) -> dict[str, list[str]]:
    """Rule logical id -> logical ids (or literal ARNs / parameter refs) of its targets."""
    found = {}
    for name, rule in resources(template, "AWS::Events::Rule").items():
        found[name] = [
            referenced_resource(t["Arn"]) or str(t["Arn"]) for t in props(rule).get("Targets") or []
        ]
    return found


def check_lambda_targets_permitted(template: Template) -> list[str]:
    """A rule may invoke a function only through a permission for events.amazonaws.com whose
    SourceArn is exactly that rule (and whose condition matches the rule's)."""
    functions = resources(template, "AWS::Lambda::Function")
    permissions = [
        (p.get("Condition"), props(p)) for p in resources(template, "AWS::Lambda::Permission").values()
    ]
    problems = []
    for rule_name, targets in rule_targets(template).items():
        rule_condition = resources(template)[rule_name].get("Condition")
        for target in targets:
            if target not in functions:
                continue
            granted = [
                condition
                for condition, p in permissions
                if referenced_resource(p.get("FunctionName")) == target
                and p.get("Principal") == "events.amazonaws.com"
                and referenced_resource(p.get("SourceArn")) == rule_name
            ]
            if not granted:
                problems.append(
                    f"{rule_name} -> {target}: no lambda:InvokeFunction permission scoped to the rule"
                )
            elif rule_condition not in granted:
                problems.append(
                    f"{rule_name} -> {target}: permission condition {granted} differs from "
                    f"the rule's {rule_condition!r}"
                )
    return problems


# --- IAM --------------------------------------------------------------------------------------
def check_roles_bounded(template: Template) -> list[str]:
    """Every role carries a permissions boundary; named roles put the region in the name (IAM
    is global and these templates run in two regions)."""
    problems = []
    for name, role in resources(template, "AWS::IAM::Role").items():
        if not props(role).get("PermissionsBoundary"):
            problems.append(f"{name}: no PermissionsBoundary")
        role_name = props(role).get("RoleName")
        if role_name is not None and "${AWS::Region}" not in str(role_name):
            problems.append(f"{name}: RoleName {role_name} lacks ${{AWS::Region}}")
    for name, policy in resources(template, "AWS::IAM::ManagedPolicy").items():
        policy_name = props(policy).get("ManagedPolicyName")
        if policy_name is not None and "${AWS::Region}" not in str(policy_name):
            problems.append(f"{name}: ManagedPolicyName {policy_name} lacks ${{AWS::Region}}")
    return problems


def check_no_service_linked_roles(template: Template) -> list[str]:
    return [
        f"{name}: declares a service-linked role (AWS creates them on first use)"
        for name in resources(template, "AWS::IAM::ServiceLinkedRole")
    ]


def check_star_resources_explained(text: str) -> list[str]:
    """In rendered YAML (comments survive rendering): every Allow statement on ``Resource: "*"``
    has a ``# why:`` comment in the lines just above the statement."""
    lines = text.splitlines()
    problems = []
    for number, line in enumerate(lines):
        if not re.match(r'\s*Resource:\s*["\']\*["\']\s*(#.*)?$', line):
            continue
        indent = len(line) - len(line.lstrip())
        start = number
        while start > 0 and not (
            lines[start].lstrip().startswith("- ")
            and len(lines[start]) - len(lines[start].lstrip()) == indent - 2
        ):
            start -= 1
        statement = lines[start : number + 1]
        if any("Effect: Deny" in item for item in statement):
            continue
        above = start - 1
        comments = []
        while above >= 0 and lines[above].lstrip().startswith("#"):
            comments.append(lines[above])
            above -= 1
        if not any("why:" in comment for comment in comments):
            problems.append(
                f"line {number + 1}: Resource \"*\" without a '# why:' comment above its statement"
            )
    return problems


# --- logs, queues, topics -----------------------------------------------------------------------
def check_log_groups(template: Template) -> list[str]:
    """Every log group is encrypted with a KMS key and has a retention."""
    problems = []
    for name, group in resources(template, "AWS::Logs::LogGroup").items():
        for key in ("KmsKeyId", "RetentionInDays"):
            if not props(group).get(key):
                problems.append(f"{name}: no {key}")
    return problems


def check_queues_encrypted(template: Template) -> list[str]:
    return [
        f"{name}: no KmsMasterKeyId"
        for name, queue in resources(template, "AWS::SQS::Queue").items()
        if not props(queue).get("KmsMasterKeyId")
    ]


def check_topics_encrypted(template: Template) -> list[str]:
    return [
        f"{name}: no KmsMasterKeyId"
        for name, topic in resources(template, "AWS::SNS::Topic").items()
        if not props(topic).get("KmsMasterKeyId")
    ]


def check_topic_policies_scoped(template: Template) -> list[str]:
    """Service principals may publish only with an aws:SourceAccount condition; nothing else is
    allowed to everyone."""
    problems = []
    for name, policy in resources(template, "AWS::SNS::TopicPolicy").items():
        for statement in props(policy)["PolicyDocument"]["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            principal = statement.get("Principal")
            if principal == "*" or (isinstance(principal, Mapping) and principal.get("AWS") == "*"):
                problems.append(f"{name}: {statement.get('Sid')} allows everyone")
            condition = statement.get("Condition") or {}
            if not any("aws:SourceAccount" in (block or {}) for block in condition.values()):
                problems.append(f"{name}: {statement.get('Sid')} has no aws:SourceAccount condition")
    return problems


def check_no_retain(template: Template) -> list[str]:
    return [
        f"{name}: {policy} is Retain"
        for name, resource in resources(template).items()
        for policy in ("DeletionPolicy", "UpdateReplacePolicy")
        if str(resource.get(policy, "")).startswith("Retain")
    ]


# --- Lambda -------------------------------------------------------------------------------------
def check_lambda_functions(template: Template, runtime: str = "python3.12") -> list[str]:
    """Each function: packaged by payctl, the platform runtime, its own bounded role, an encrypted
    dead-letter queue (or an on-failure destination), reserved concurrency, a KMS-encrypted log
    group with retention, VPC placement and a KMS key for its environment variables."""
    problems = []
    all_resources = resources(template)
    invoke_configs = {
        referenced_resource(props(c).get("FunctionName")): props(c)
        for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
    }
    for name, function in resources(template, "AWS::Lambda::Function").items():
        p = props(function)
        code = (function.get("Metadata") or {}).get("payctl", {}).get("code")
        if not code:
            problems.append(f"{name}: no Metadata.payctl.code")
        if ref((p.get("Code") or {}).get("S3Bucket")) != "ArtifactBucket":
            problems.append(f"{name}: Code is not payctl's package in ArtifactBucket")
        if p.get("Runtime") != runtime:
            problems.append(f"{name}: Runtime {p.get('Runtime')!r}, expected {runtime}")
        if p.get("Handler") != "handler.handler":
            problems.append(f"{name}: Handler {p.get('Handler')!r}, expected handler.handler")
        role = referenced_resource(p.get("Role"))
        if role not in all_resources or not props(all_resources[role]).get("PermissionsBoundary"):
            problems.append(f"{name}: role {role!r} is not a role of this template with a boundary")
        queue = referenced_resource((p.get("DeadLetterConfig") or {}).get("TargetArn"))
        on_failure = ((invoke_configs.get(name) or {}).get("DestinationConfig") or {}).get("OnFailure")
        if queue is None and on_failure is None:
            problems.append(f"{name}: neither a dead-letter queue nor an on-failure destination")
        elif queue is not None and not props(all_resources.get(queue, {})).get("KmsMasterKeyId"):
            problems.append(f"{name}: dead-letter queue {queue} is not KMS-encrypted")
        if p.get("ReservedConcurrentExecutions") is None:
            problems.append(f"{name}: no ReservedConcurrentExecutions")
        log_group = referenced_resource((p.get("LoggingConfig") or {}).get("LogGroup"))
        if log_group not in resources(template, "AWS::Logs::LogGroup"):
            problems.append(f"{name}: LoggingConfig.LogGroup is not a log group of this template")
        if p.get("VpcConfig"):
            # Control-plane functions stay outside the VPC: they need IAM (us-east-1 only) and the
            # other region's DynamoDB, which no endpoint in this VPC can serve.
            problems.append(f"{name}: placed in the VPC; the platform functions must reach regional APIs")
        if not p.get("KmsKeyArn"):
            problems.append(f"{name}: environment variables not encrypted with the environment key")
    return problems


def environment_variables_read(source: str) -> set[str]:
    """Names a handler reads with ``env.get("X")`` / ``os.environ["X"]`` / ``os.getenv("X")``."""
    pattern = r"""(?:env(?:iron)?\.get|os\.getenv|environ\[)\(?\s*["']([A-Z][A-Z0-9_]*)["']"""
    return set(re.findall(pattern, source))


# --- compute ------------------------------------------------------------------------------------
def check_service_deployment(template: Template) -> list[str]:
    """Rolling deployments that never drop below full capacity and roll back on failure."""
    problems = []
    for name, service in resources(template, "AWS::ECS::Service").items():
        config = props(service).get("DeploymentConfiguration") or {}
        breaker = config.get("DeploymentCircuitBreaker") or {}
        if breaker.get("Enable") is not True or breaker.get("Rollback") is not True:
            problems.append(f"{name}: deployment circuit breaker with rollback is not on")
        if config.get("MinimumHealthyPercent") != 100 or config.get("MaximumPercent") != 200:
            problems.append(f"{name}: MinimumHealthyPercent/MaximumPercent are not 100/200")
        network = (props(service).get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}
        if network.get("AssignPublicIp") != "DISABLED":
            problems.append(f"{name}: tasks get public IP addresses")
    return problems


def check_containers_hardened(template: Template) -> list[str]:
    """Read-only root filesystem, a non-root numeric user, no privileged mode, logs through
    awslogs, and secrets only through ``Secrets`` (never a literal environment value)."""
    problems = []
    for name, task in resources(template, "AWS::ECS::TaskDefinition").items():
        for container in props(task).get("ContainerDefinitions") or []:
            where = f"{name}/{container.get('Name')}"
            if container.get("ReadonlyRootFilesystem") is not True:
                problems.append(f"{where}: root filesystem is writable")
            user = container.get("User")
            if user is None or str(user).split(":")[0] in ("0", "root"):
                problems.append(f"{where}: runs as root (User {user!r})")
            if container.get("Privileged"):
                problems.append(f"{where}: privileged")
            if (container.get("LogConfiguration") or {}).get("LogDriver") != "awslogs":
                problems.append(f"{where}: logs do not go to CloudWatch (awslogs)")
            for variable in container.get("Environment") or []:
                if SECRET_LIKE.search(str(variable.get("Name"))) and not str(variable.get("Name")).endswith(
                    "_PARAMETER"
                ):
                    problems.append(
                        f"{where}: {variable.get('Name')} looks like a secret in plain environment"
                    )
    return problems


def alarms(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """Alarms this scenario creates: logical id -> {namespace, metric, dimensions, actions}; metric
    math alarms list their metrics under ``metrics``."""
    found = {}
    for name in scenario.present("AWS::CloudWatch::Alarm"):
        p = scenario.property(name)
        metrics = [m["MetricStat"]["Metric"] for m in p.get("Metrics") or [] if "MetricStat" in m]
        found[name] = {
            "namespace": p.get("Namespace"),
            "metric": p.get("MetricName"),
            "dimensions": {d["Name"]: d["Value"] for d in p.get("Dimensions") or []},
            "metrics": [
                (m["Namespace"], m["MetricName"], {d["Name"]: d["Value"] for d in m.get("Dimensions", [])})
                for m in metrics
            ],
            "actions": p.get("AlarmActions") or [],
        }
    return found


def metric_names(found: Mapping[str, Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(namespace, metric) pairs watched by a set of alarms (metric math included)."""
    names = {(a["namespace"], a["metric"]) for a in found.values() if a["metric"]}
    names |= {(m[0], m[1]) for a in found.values() for m in a["metrics"]}
    return names


def check_alarms_notify(template: Template, topic_parameter: str) -> list[str]:
    """Every alarm notifies the given topic when it fires."""
    problems = []
    for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        actions = [ref(a) for a in props(alarm).get("AlarmActions") or []]
        if topic_parameter not in actions:
            problems.append(f"{name}: AlarmActions {actions} miss {topic_parameter}")
    return problems


def check_alarms_without_unit(template: Template) -> list[str]:
    """No alarm filters on a Unit: one that differs from the unit AWS publishes leaves the alarm
    in INSUFFICIENT_DATA for ever, silently."""
    return [
        f"{name}: Unit {props(alarm)['Unit']!r} set"
        for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items()
        if "Unit" in props(alarm)
    ]


def names_in(values: Iterable[Any]) -> list[str]:
    return sorted(str(v) for v in values)


# --- rendered layers ----------------------------------------------------------------------------
@dataclass
class Layer:
    """One nested stack of one wave, environment and region, as payctl renders it."""

    env: str
    wave: str
    role: str
    region: str
    account: str
    stack: str  # nested stack logical id in the master (Compute, Monitoring, ...)
    stack_name: str  # the top-level stack payctl deploys
    template: dict[str, Any]
    text: str
    values: dict[str, str]  # the nested template's parameter file
    passed: dict[str, Any]  # what the master passes to it
    siblings: dict[str, Layer] = field(default_factory=dict, repr=False)

    def scenario(self, **overrides: str) -> Scenario:
        """This layer under its environment's values; parameters wired from another stack of the
        wave take that stack's evaluated output; `overrides` replace any value."""
        values = dict(self.values)
        for name, passed in self.passed.items():
            source = get_att(passed)
            if source and source[1].startswith("Outputs.") and source[0] in self.siblings:
                output = self.siblings[source[0]].scenario().outputs().get(source[1].removeprefix("Outputs."))
                if output is not None:
                    values[name] = str(output)
        values.update(overrides)
        return Scenario(self.template, values, self.region, self.account)


def render_layers(root: Path) -> dict[tuple[str, str, str, str], Layer]:
    """Every nested stack payctl renders for the workspace, by (env, wave, region, stack)."""
    import cfn_flip

    from payctl.automation import Workspace

    layers: dict[tuple[str, str, str, str], Layer] = {}
    for rendered in Workspace(root, search=False).render():
        for stack in rendered.stacks:
            master = cfn_flip.load_yaml(stack.master.text)
            wave_layers: dict[str, Layer] = {}
            for logical, template in stack.templates.nested.items():
                layer = Layer(
                    env=stack.environment,
                    wave=stack.wave,
                    role=stack.role,
                    region=stack.region,
                    account=rendered.environment.account_id,
                    stack=logical,
                    stack_name=stack.stack_name,
                    template=dict(cfn_flip.load_yaml(template.text)),
                    text=template.text,
                    values=dict(stack.parameters.get(template.name, {})),
                    passed=dict(props(master["Resources"][logical]).get("Parameters") or {}),
                    siblings=wave_layers,
                )
                wave_layers[logical] = layer
                layers[(stack.environment, stack.wave, stack.region, logical)] = layer
    return layers
