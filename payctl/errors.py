"""The one exception hierarchy. Each error carries its exit code; only the CLI maps them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One finding tied to a place in a source file: what a user must fix, and where."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PayctlError(Exception):
    """Base of every error payctl expects; anything else reaching the CLI is a bug."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ProblemsError(PayctlError):
    """An error made of one or more located problems, all reported at once."""

    def __init__(self, problems: list[Problem], *, hint: str | None = None) -> None:
        self.problems = sorted(set(problems))
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{len(self.problems)} {noun} found", hint=hint)


class WorkspaceNotFound(PayctlError):
    """No folder holding envs/ and stacks/ (or payctl.yaml) at or above the start."""


class ConfigError(ProblemsError):
    """Environment files that do not load or do not validate."""


class TemplateError(ProblemsError):
    """Fragments that cannot be merged into templates."""


class LintFailed(PayctlError):
    """Rendered templates with cfn-lint errors or policy violations (already reported)."""


class AwsError(PayctlError):
    """AWS refused or failed a call; the message carries AWS's own words."""


class AccountMismatch(PayctlError):
    """The credentials reach another account than the environment names."""


class ChangeSetFailed(AwsError):
    """CloudFormation could not create a change set; the message names the nested one that caused it."""


class WaitTimedOut(AwsError):
    """An AWS operation did not reach a final state before payctl's deadline; AWS keeps going."""


class ArtifactBucketMissing(PayctlError):
    """The account and region have no artifact bucket for packaged templates and code."""


class PlanFileError(PayctlError):
    """A saved plan file that cannot be read: not JSON, another schema version, or malformed."""


class StackBusy(PayctlError):
    """A stack is in progress; CloudFormation allows one operation at a time."""


class StalePlan(PayctlError):
    """The deployed stacks, templates or parameters changed since the plan was saved."""


class Refused(PayctlError):
    """payctl will not do this without an explicit flag (destructive change in prod, ...)."""


class DeploymentFailed(PayctlError):
    """A stack or StackSet operation ended in failure; the root cause is in the message."""


class Interrupted(PayctlError):
    """The user pressed Ctrl-C; CloudFormation keeps going."""

    exit_code = 130
