"""Diagrams of what an environment deploys, drawn from the rendered templates (no AWS).

One graph is built at resource depth: account > region > wave stack > nested stack > resources,
with edges for the master's `!GetAtt Stack.Outputs.Name` wiring, the SSM imports between waves
and the cross-region replication (S3 replication, DynamoDB global table replica, Aurora global
database secondary). A coarser view (`stacks`, `waves`) collapses nodes into their ancestors and
merges the edges that then join the same two boxes. Mermaid and Graphviz DOT are written from it.

Conditions are decided per environment and region, as CloudFormation would, where the values are
known to the renderer (environment parameters, defaults, the region and account); a condition that
needs a value only AWS knows (an SSM import, another stack's output) counts as true.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from payctl.templates.intrinsics import tag_of
from payctl.templates.render import RenderedSet, RenderedStack

Level = Literal["waves", "stacks", "resources"]
GraphFormat = Literal["mermaid", "dot"]
LEVELS: tuple[Level, ...] = ("waves", "stacks", "resources")
FORMATS: tuple[GraphFormat, ...] = ("mermaid", "dot")

# Resources drawn one by one: what holds data or serves traffic, and what replication connects.
# Everything else in a layer is summarised by type with counts.
SHOWN_TYPES = {
    "AWS::EC2::VPC": "box",
    "AWS::KMS::Key": "box",
    "AWS::S3::Bucket": "store",
    "AWS::DynamoDB::GlobalTable": "store",
    "AWS::DynamoDB::Table": "store",
    "AWS::RDS::GlobalCluster": "store",
    "AWS::RDS::DBCluster": "store",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "box",
    "AWS::ECS::Service": "box",
}
SUMMARY_LINES = 5  # types listed in a layer's summary box before "... more types"
UNKNOWN = None  # a value only AWS knows at deploy time
TIMES = "\u00d7"

EdgeKind = Literal["output", "ssm", "replication", "stackset"]


@dataclass
class Node:
    id: str
    label: str
    kind: str  # account, region, wave, stack, resource, store, summary, replica, stackset
    children: list[Node] = field(default_factory=list)
    size: int = 0  # resources below this node (shown when the node is collapsed)

    def walk(self) -> Iterator[tuple[Node, tuple[Node, ...]]]:
        """Every node below and including this one, with its ancestors."""
        stack: list[tuple[Node, tuple[Node, ...]]] = [(self, ())]
        while stack:
            node, ancestors = stack.pop(0)
            yield node, ancestors
            stack[0:0] = [(child, (*ancestors, node)) for child in node.children]


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    items: tuple[str, ...]  # output names, SSM paths or replication descriptions

    @property
    def label(self) -> str:
        if self.kind == "ssm":
            groups: dict[str, int] = {}
            for path in self.items:
                head = path.split("/", 1)[0]
                groups[head] = groups.get(head, 0) + 1
            return "SSM " + ", ".join(f"{head}/* {TIMES}{count}" for head, count in groups.items())
        if self.kind == "output" and len(self.items) > 3:
            return f"{', '.join(self.items[:2])} +{len(self.items) - 2} outputs"
        return ", ".join(self.items)


@dataclass
class Graph:
    roots: list[Node]
    edges: list[Edge]

    def collapse(self, level: Level) -> Graph:
        """The graph with everything below `level` folded into its ancestor at that depth."""
        depth = {"waves": 3, "stacks": 4, "resources": 99}[level]
        owner: dict[str, str] = {}

        def prune(node: Node, at: int) -> Node:
            copy = Node(node.id, node.label, node.kind, size=node.size)
            owner[node.id] = node.id
            if at + 1 >= depth:
                for below, _ in node.walk():
                    owner[below.id] = node.id
            else:
                copy.children = [prune(child, at + 1) for child in node.children]
            return copy

        roots = [prune(root, 0) for root in self.roots]
        merged: dict[tuple[str, str, str], list[str]] = {}
        for edge in self.edges:
            source, target = owner[edge.source], owner[edge.target]
            if source == target:
                continue
            items = merged.setdefault((source, target, edge.kind), [])
            items.extend(item for item in edge.items if item not in items)
        edges = [Edge(s, t, k, tuple(items)) for (s, t, k), items in merged.items()]  # type: ignore[arg-type]
        return Graph(roots, edges)


# --- building ------------------------------------------------------------------------------------
def build_graph(rendered: Iterable[RenderedSet], *, stack_sets: bool = False) -> Graph:
    """The resource-depth graph of one or more environments; with `stack_sets`, the StackSet
    administrator account and its StackSets fanning out to the environments' stacks."""
    roots: list[Node] = []
    edges: list[Edge] = []
    admin: dict[str, Node] = {}
    for environment in rendered:
        _account(environment, roots, edges, stack_sets)
        if stack_sets:
            _stack_sets(environment, admin, edges)
    return Graph([*admin.values(), *roots], edges).collapse("resources")  # merges repeated edges


def _account(environment: RenderedSet, roots: list[Node], edges: list[Edge], instances: bool) -> Node:
    env = environment.environment
    account = Node(_id(env.name), f"{env.name} account {env.account_id}", "account")
    roots.append(account)
    regions: dict[str, Node] = {}
    evaluated: list[_Evaluated] = []
    for stack in environment.stacks:
        if stack.region not in regions:
            role = "primary" if stack.role == "primary" else "DR"
            regions[stack.region] = Node(_id(env.name, stack.region), f"{stack.region} ({role})", "region")
            account.children.append(regions[stack.region])
        wave_number = _wave_order(environment).index(stack.wave) + 1
        # Deployed per environment, the wave is the stack payctl names; through StackSets, an instance.
        name = f"StackSet {env.application}-{stack.wave} instance" if instances else stack.stack_name
        wave = Node(_id(env.name, stack.region, stack.wave), f"wave {wave_number} {stack.wave}: {name}",
                    "wave")
        regions[stack.region].children.append(wave)
        for logical_id, template in stack.templates.nested.items():
            nested = Node(_id(env.name, stack.region, stack.wave, logical_id),
                          f"{logical_id} ({template.name}.yaml)", "stack")
            wave.children.append(nested)
            result = _Evaluated(stack, logical_id, nested, _evaluate(stack, logical_id, env.account_id))
            evaluated.append(result)
            _resources(result)
            wave.size += nested.size
            for source in stack.templates.wiring[logical_id].values():
                if "." in source:
                    producer, output = source.split(".", 1)
                    edges.append(Edge(_id(env.name, stack.region, stack.wave, producer), nested.id, "output",
                                      (output,)))
    _ssm_edges(environment, evaluated, edges)
    _replication_edges(env.name, evaluated, regions, edges)
    for region in regions.values():
        region.size = sum(child.size for child in region.children)
    account.size = sum(region.size for region in regions.values())
    return account


def _wave_order(environment: RenderedSet) -> list[str]:
    order: list[str] = []
    for stack in environment.stacks:
        if stack.wave not in order:
            order.append(stack.wave)
    return order


@dataclass
class _Evaluated:
    stack: RenderedStack
    logical_id: str
    node: Node
    context: _Context


def _resources(result: _Evaluated) -> None:
    counts: dict[str, int] = {}
    total = 0
    for logical_id, resource in result.context.present_resources():
        total += 1
        kind = str(resource.get("Type", ""))
        shape = SHOWN_TYPES.get(kind)
        if shape is not None:
            result.node.children.append(Node(f"{result.node.id}__{_id(logical_id)}",
                                             f"{logical_id}<br/>{_short(kind)}",
                                             "store" if shape == "store" else "resource"))
        else:
            counts[kind] = counts.get(kind, 0) + 1
    result.node.size = total
    if counts:
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        lines = [f"{count} {TIMES} {_short(kind)}" for kind, count in ranked[:SUMMARY_LINES]]
        if len(ranked) > SUMMARY_LINES:
            rest = sum(count for _, count in ranked[SUMMARY_LINES:])
            lines.append(f"{rest} more of {len(ranked) - SUMMARY_LINES} other types")
        shown = total - sum(counts.values())
        heading = f"{sum(counts.values())} {'other ' if shown else ''}resources"
        result.node.children.append(Node(f"{result.node.id}__others", "<br/>".join([heading, *lines]),
                                         "summary"))


def _ssm_edges(environment: RenderedSet, evaluated: list[_Evaluated], edges: list[Edge]) -> None:
    """Earlier-wave SSM parameters read by a later wave's master in the same region."""
    env = environment.environment
    writers: dict[tuple[str, str], str] = {}  # (region, path below /<env>/) -> nested stack node id
    for result in evaluated:
        for _, resource in result.context.present_resources("AWS::SSM::Parameter"):
            name = result.context.text((resource.get("Properties") or {}).get("Name"))
            prefix = f"/{env.name}/"
            if name and name.startswith(prefix):
                writers[(result.stack.region, name[len(prefix):])] = result.node.id
    for stack in environment.stacks:
        consumer = _id(env.name, stack.region, stack.wave)
        for item in stack.templates.wave.imports:
            writer = writers.get((stack.region, item.path))
            if writer is not None:
                edges.append(Edge(writer, consumer, "ssm", (item.path,)))


def _replication_edges(env_name: str, evaluated: list[_Evaluated], regions: dict[str, Node],
                       edges: list[Edge]) -> None:
    buckets: dict[str, str] = {}
    global_clusters: dict[str, str] = {}  # identifier -> node id of its primary member (or itself)
    secondaries: list[tuple[str, str]] = []  # (global cluster identifier, node id)
    for result in evaluated:
        context = result.context
        for logical_id, resource in context.present_resources():
            kind = str(resource.get("Type", ""))
            properties = resource.get("Properties") or {}
            node_id = f"{result.node.id}__{_id(logical_id)}"
            if kind == "AWS::S3::Bucket":
                name = context.text(properties.get("BucketName"))
                if name:
                    buckets[name] = node_id
            elif kind == "AWS::RDS::GlobalCluster":
                identifier = context.text(properties.get("GlobalClusterIdentifier"))
                if identifier:
                    global_clusters.setdefault(identifier, node_id)
            elif kind == "AWS::RDS::DBCluster":
                member = context.resolve(properties.get("GlobalClusterIdentifier"))
                target = tag_of(member) == "Ref" and context.resources.get(str(member.value))
                if target:  # the primary: it names the global cluster of its own template
                    identifier = context.text((target.get("Properties") or {}).get("GlobalClusterIdentifier"))
                    if identifier:
                        global_clusters[identifier] = node_id
                elif (identifier := context.text(member)) is not None:
                    secondaries.append((identifier, node_id))
    for identifier, node_id in secondaries:
        if identifier in global_clusters:
            edges.append(Edge(global_clusters[identifier], node_id, "replication",
                              (f"Aurora global database {identifier}",)))
    for result in evaluated:
        context = result.context
        for logical_id, resource in context.present_resources():
            kind = str(resource.get("Type", ""))
            properties = resource.get("Properties") or {}
            node_id = f"{result.node.id}__{_id(logical_id)}"
            if kind == "AWS::S3::Bucket":
                replication = context.resolve(properties.get("ReplicationConfiguration")) or {}
                for rule in context.resolve(replication.get("Rules")) or []:
                    destination = context.resolve(context.resolve(rule).get("Destination")) or {}
                    arn = context.text(destination.get("Bucket")) or ""
                    target = buckets.get(arn.rsplit(":", 1)[-1])
                    if target:
                        rtc = (context.resolve(destination.get("ReplicationTime")) or {}).get("Status")
                        label = "S3 replication, RTC 15 min" if rtc == "Enabled" else "S3 replication"
                        edges.append(Edge(node_id, target, "replication", (label,)))
            elif kind == "AWS::DynamoDB::GlobalTable":
                for replica in context.resolve(properties.get("Replicas")) or []:
                    region = context.text(context.resolve(replica).get("Region"))
                    if region is None or region == result.stack.region or region not in regions:
                        continue
                    replica_id = f"{_id(env_name, region)}__{_id(logical_id)}_replica"
                    regions[region].children.append(Node(
                        replica_id, f"{logical_id} replica<br/>owned by {result.stack.region}", "replica"))
                    edges.append(Edge(node_id, replica_id, "replication", ("DynamoDB global table",)))


def _stack_sets(environment: RenderedSet, admin: dict[str, Node], edges: list[Edge]) -> None:
    """One StackSet per wave, named `<application>-<wave>` (payctl.operate.stacksets), with an
    instance in every account and region the wave targets."""
    env = environment.environment
    admin_account = env.stack_sets.admin_account
    key = f"admin-{admin_account}"
    if key not in admin:
        admin[key] = Node(_id("admin", admin_account), f"StackSet administrator {admin_account}", "account")
    holder = admin[key]
    for stack in environment.stacks:
        name = f"{env.application}-{stack.wave}"
        set_id = _id("stackset", name)
        if not any(child.id == set_id for child in holder.children):
            holder.children.append(Node(set_id, f"StackSet {name}", "stackset"))
        edges.append(Edge(set_id, _id(env.name, stack.region, stack.wave), "stackset",
                          (f"{env.name} {stack.region}",)))


# --- conditions and values, per nested stack ----------------------------------------------------
class _Context:
    """A nested template with the parameter values the renderer knows, for one region."""

    def __init__(self, body: Mapping[str, Any], values: dict[str, str | None]) -> None:
        self.body = body
        self.values = values
        self.resources: Mapping[str, Any] = body.get("Resources") or {}
        self._conditions: dict[str, bool | None] = {}

    def present_resources(self, kind: str | None = None) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if kind is not None and resource.get("Type") != kind:
                continue
            condition = resource.get("Condition")
            if condition is None or self.condition(str(condition)) is not False:
                yield str(logical_id), resource

    def condition(self, name: str) -> bool | None:
        if name not in self._conditions:
            self._conditions[name] = UNKNOWN  # a cycle is a template error; stop rather than recurse
            self._conditions[name] = self.truth((self.body.get("Conditions") or {}).get(name))
        return self._conditions[name]

    def truth(self, node: Any) -> bool | None:
        function, argument = _call(node)
        if function == "Condition":
            return self.condition(str(argument))
        if function == "Equals" and isinstance(argument, list) and len(argument) == 2:
            left, right = self.text(argument[0]), self.text(argument[1])
            return UNKNOWN if left is None or right is None else left == right
        if function == "Not" and isinstance(argument, list) and argument:
            inner = self.truth(argument[0])
            return None if inner is None else not inner
        if function in ("And", "Or") and isinstance(argument, list):
            results = [self.truth(item) for item in argument]
            neutral = function == "And"  # True cannot decide an And, False cannot decide an Or
            if (not neutral) in results:
                return not neutral
            return None if None in results else neutral
        return UNKNOWN

    def resolve(self, node: Any) -> Any:
        """`Fn::If` replaced by its branch (the first one when the condition is unknown)."""
        function, argument = _call(node)
        if function == "If" and isinstance(argument, list) and len(argument) == 3:
            chosen = self.condition(str(argument[0]))
            return self.resolve(argument[1] if chosen is not False else argument[2])
        return node

    def text(self, node: Any) -> str | None:
        """The string value of a node, or None when it depends on what only AWS knows."""
        node = self.resolve(node)
        if isinstance(node, bool):
            return "true" if node else "false"
        if isinstance(node, str | int | float) and _call(node)[0] is None:
            return str(node)
        function, argument = _call(node)
        if function == "Ref":
            return self.values.get(str(argument))
        if function == "Sub":
            template, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
            known = dict(self.values)
            known.update({str(name): self.text(value) for name, value in (variables or {}).items()})
            parts = re.split(r"\$\{([^}!]+)\}", str(template))
            for index in range(1, len(parts), 2):
                value = known.get(parts[index])
                if value is None:
                    return None
                parts[index] = value
            return "".join(parts)
        if function == "Join" and isinstance(argument, list) and len(argument) == 2 \
                and isinstance(argument[1], list):
            items = [self.text(item) for item in argument[1]]
            return None if None in items else str(argument[0]).join(items)  # type: ignore[arg-type]
        return UNKNOWN


def _call(node: Any) -> tuple[str | None, Any]:
    """(function name without Fn::, argument) of an intrinsic in short or long form."""
    tag = tag_of(node)
    if tag is not None:
        return tag, getattr(node, "value", node) if not isinstance(node, dict | list) else node
    if isinstance(node, dict) and len(node) == 1:
        key = next(iter(node))
        if isinstance(key, str) and (key in ("Ref", "Condition") or key.startswith("Fn::")):
            return key.removeprefix("Fn::"), node[key]
    return None, node


def _evaluate(stack: RenderedStack, logical_id: str, account_id: str) -> _Context:
    template = stack.templates.nested[logical_id]
    body = template.body
    values: dict[str, str | None] = {}
    for name, definition in (body.get("Parameters") or {}).items():
        default = (definition or {}).get("Default")
        values[str(name)] = None if default is None else str(default)
    values.update({name: str(value) for name, value in stack.parameters.get(template.name, {}).items()})
    for name, source in stack.templates.wiring[logical_id].items():
        if source != "env":
            values[name] = UNKNOWN
    values.update({"AWS::Region": stack.region, "AWS::AccountId": account_id, "AWS::Partition": "aws",
                   "AWS::URLSuffix": "amazonaws.com"})
    return _Context(body, values)


# --- writing -------------------------------------------------------------------------------------
MERMAID_CLASSES = {
    "account": "fill:#f5f5f5,stroke:#555,stroke-width:2px",
    "region": "fill:#eef4fb,stroke:#5b7fa6",
    "wave": "fill:#fdf8ec,stroke:#b08d3c",
    "stack": "fill:#ffffff,stroke:#888",
    "resource": "fill:#ffffff,stroke:#333",
    "store": "fill:#e8f5e9,stroke:#2e7d32",
    "summary": "fill:#fafafa,stroke:#bbb,color:#444",
    "replica": "fill:#fff3e0,stroke:#ef6c00,stroke-dasharray:4 3",
    "stackset": "fill:#ede7f6,stroke:#5e35b1",
}
ARROWS = {"output": "-->", "ssm": "==>", "replication": "-.->", "stackset": "-->"}


def to_mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    used: dict[str, list[str]] = {}

    def emit(node: Node, indent: str) -> None:
        used.setdefault(node.kind, []).append(node.id)
        label = _mermaid_text(_label(node))
        if node.children:
            lines.append(f'{indent}subgraph {node.id}["{label}"]')
            for child in node.children:
                emit(child, indent + "  ")
            lines.append(f"{indent}end")
        elif node.kind in ("store", "replica"):
            lines.append(f'{indent}{node.id}[("{label}")]')
        elif node.kind == "summary":
            lines.append(f'{indent}{node.id}["{label}"]')
        else:
            lines.append(f'{indent}{node.id}("{label}")')

    for root in graph.roots:
        emit(root, "  ")
    for edge in graph.edges:
        lines.append(f'  {edge.source} {ARROWS[edge.kind]}|"{_mermaid_text(edge.label)}"| {edge.target}')
    for kind, ids in used.items():
        lines.append(f"  classDef {kind} {MERMAID_CLASSES[kind]}")
        lines.append(f"  class {','.join(ids)} {kind}")
    return "\n".join(lines) + "\n"


DOT_STYLES = {
    "output": 'color="#555555"',
    "ssm": 'color="#b08d3c", penwidth=2',
    "replication": 'color="#ef6c00", style=dashed',
    "stackset": 'color="#5e35b1"',
}


def to_dot(graph: Graph) -> str:
    lines = ["digraph payctl {", "  rankdir=LR;", "  compound=true;",
             '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    anchors: dict[str, str] = {}  # cluster id -> a node inside it, for edges drawn to the cluster

    def emit(node: Node, indent: str) -> str | None:
        label = _dot_text(_label(node))
        if node.children:
            lines.append(f"{indent}subgraph cluster_{node.id} {{")
            lines.append(f'{indent}  label="{label}";')
            first = None
            for child in node.children:
                anchor = emit(child, indent + "  ")
                first = first or anchor
            lines.append(f"{indent}}}")
            if first is not None:
                anchors[node.id] = first
            return first
        shape = {"store": "cylinder", "replica": "cylinder", "summary": "note"}.get(node.kind, "box")
        style = ', style="dashed"' if node.kind == "replica" else ""
        lines.append(f'{indent}{node.id} [label="{label}", shape={shape}{style}];')
        return node.id

    for root in graph.roots:
        emit(root, "  ")
    for edge in graph.edges:
        source, target = anchors.get(edge.source, edge.source), anchors.get(edge.target, edge.target)
        extra = []
        if edge.source in anchors:
            extra.append(f"ltail=cluster_{edge.source}")
        if edge.target in anchors:
            extra.append(f"lhead=cluster_{edge.target}")
        attributes = ", ".join([f'label="{_dot_text(edge.label)}"', DOT_STYLES[edge.kind], *extra])
        lines.append(f"  {source} -> {target} [{attributes}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_graph(graph: Graph, fmt: GraphFormat) -> str:
    return to_mermaid(graph) if fmt == "mermaid" else to_dot(graph)


def _label(node: Node) -> str:
    if node.kind in ("stack", "wave") and not node.children:
        return f"{node.label}<br/>{node.size} resources"
    return node.label


def _mermaid_text(text: str) -> str:
    return text.replace("&", "#amp;").replace('"', "#quot;")


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("<br/>", "\\n")


def _short(kind: str) -> str:
    """AWS::EC2::NetworkAclEntry -> EC2 NetworkAclEntry."""
    return kind.removeprefix("AWS::").replace("::", " ")


def _id(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Za-z0-9]+", "_", part).strip("_") for part in parts)
