"""Plans: what CloudFormation would do to each environment, with danger levels, as data.

    plan = Workspace(".").environment("prod").plan()
    text = dumps(plan)                    # versioned JSON (docs/plan.md)
    differences = check_fresh(loads(text), workspace.current_state(["prod"]))

Importing this package does not import boto3; the planner (payctl.plan.planner) does.
"""

from payctl.plan.fresh import CurrentState, Difference, check_fresh
from payctl.plan.model import SCHEMA_VERSION, Danger, EnvironmentPlan, Plan, StackPlan, Summary, WavePlan
from payctl.plan.serialize import dumps, loads

__all__ = [
    "SCHEMA_VERSION",
    "CurrentState",
    "Danger",
    "Difference",
    "EnvironmentPlan",
    "Plan",
    "StackPlan",
    "Summary",
    "WavePlan",
    "check_fresh",
    "dumps",
    "loads",
]
