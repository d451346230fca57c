"""What is deployed for an environment: each wave's top-level stack per region, with its nested stacks.

Drift, status, outputs and destroy all start here. Rendering says which stacks should exist
(wave x region, in deploy order); CloudFormation says which do and what is nested inside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from payctl.aws.session import AwsSession, Target
from payctl.aws.stacks import StackInfo, describe_stack, nested_stacks, stack_set_instance
from payctl.config import Environment
from payctl.templates import RenderedSet

T = TypeVar("T")
R = TypeVar("R")


def environment_target(env: Environment, region: str) -> Target:
    return Target(env.account_id, region, env.access.profile, env.access.role_arn)


@dataclass(frozen=True)
class StackNode:
    """A deployed stack and the stacks nested in it. `path` is () for the top-level stack and the
    chain of logical ids below it for nested ones, e.g. ("Database",)."""

    path: tuple[str, ...]
    info: StackInfo
    children: tuple[StackNode, ...] = ()

    @property
    def label(self) -> str:
        return "/".join(self.path) if self.path else "(master)"

    def walk(self) -> Iterator[StackNode]:
        """This stack, then every stack below it, parents first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class DeployedStack:
    """One wave in one region of one environment, and what CloudFormation holds for it."""

    environment: str
    account_id: str
    wave: str
    role: str
    region: str
    stack_name: str
    target: Target
    root: StackNode | None = None  # None: not deployed (or only an unexecuted CREATE change set)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def deployed(self) -> bool:
        return self.root is not None

    def nodes(self) -> list[StackNode]:
        return list(self.root.walk()) if self.root else []


def stack_tree(cfn: Any, info: StackInfo, path: tuple[str, ...] = ()) -> StackNode:
    """The stack and, recursively, its nested stacks (each described by its id)."""
    children = []
    for logical_id, stack_id in nested_stacks(cfn, info.stack_id).items():
        child = describe_stack(cfn, stack_id)
        if child is not None:
            children.append(stack_tree(cfn, child, (*path, logical_id)))
    return StackNode(path, info, tuple(children))


def discover(aws: AwsSession, rendered: RenderedSet, *, nested: bool = True, parallel: int = 4,
             verify: bool = True) -> list[DeployedStack]:
    """Every rendered stack of the environment, in deploy order, with what is deployed for it."""
    env = rendered.environment
    if verify:
        for region in dict.fromkeys(stack.region for stack in rendered.stacks):
            aws.verify_account(environment_target(env, region), env.name)

    def look(stack: Any, in_stack_sets: bool = False) -> DeployedStack:
        target = environment_target(env, stack.region)
        cfn = aws.client("cloudformation", target)
        info = (stack_set_instance(cfn, f"{env.application}-{stack.wave}") if in_stack_sets
                else describe_stack(cfn, stack.stack_name))
        root = None
        if info is not None and not info.is_review:
            root = stack_tree(cfn, info) if nested else StackNode((), info)
        return DeployedStack(env.name, env.account_id, stack.wave, stack.role, stack.region,
                             stack.stack_name, target, root)

    found = fan_out(look, list(rendered.stacks), parallel)
    if any(stack.deployed for stack in found):
        return found
    # None of the environment's own stacks (`apply ENV`): it may run as StackSet instances
    # (`apply --all-accounts`), which the account holds as `StackSet-<application>-<wave>-<uuid>`.
    return fan_out(lambda stack: look(stack, in_stack_sets=True), list(rendered.stacks), parallel)


def fan_out(work: Callable[[T], R], items: list[T], parallel: int) -> list[R]:
    """`work` over `items` with at most `parallel` at once; results in the order of `items`.
    The first exception is raised once every started call has finished."""
    if parallel <= 1 or len(items) <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(parallel, len(items))) as pool:
        futures = [pool.submit(work, item) for item in items]
    return [future.result() for future in futures]
