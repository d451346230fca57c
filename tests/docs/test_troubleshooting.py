"""docs/troubleshooting.md quotes payctl's own messages: each quoted phrase must still be what the
code says, so the page cannot drift from the tool."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGE = (REPO / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
SOURCE = "\n".join(path.read_text(encoding="utf-8") for path in sorted((REPO / "payctl").rglob("*.py")))

# Phrases the page quotes from payctl, as they appear in the code (f-string fields left out).
PAYCTL_PHRASES = [
    "the rollback failed: resources may be in an inconsistent state",
    "continues the rollback (skipping resources you confirm)",
    "these resources block the rollback",
    "failed; later waves were not started",
    "later environments and waves were not started",
    "fix the cause above, then re-run only those: payctl apply --all-accounts --retry-failed",
    "drSecondary: a global database does not accept burstable class",
    "use db.r5.large or newer, or set drSecondary: false",
    "but the credentials reach account",
    "No changes: every stack matches its templates and parameters.",
    "The submitted information didn't contain changes",
    "No updates are to be performed",
    "change set failed for",
    "caused by",
    "fix the template or parameters named above, then plan again",
    "creating a change set for",
    "another operation is running",
    "wait for the running operation to finish, then plan again",
    "payctl status {env} --watch",
    "the plan is stale:",
    "plan again: payctl plan",
    "does not exist in",
    "run `payctl bootstrap` for this environment first (with --local, payctl creates it)",
    "CloudFormation can only delete it",
    "Delete it and create it again?",
    "termination protection of",
    "an Object Lock retention or a bucket policy may forbid the deletion",
    "deletions failed, e.g.",
]


@pytest.mark.parametrize("phrase", PAYCTL_PHRASES)
def test_quoted_message_is_what_payctl_says(phrase: str) -> None:
    assert phrase in SOURCE, f"payctl no longer says {phrase!r}: update docs/troubleshooting.md"
    shown = phrase.replace("{env}", "prod").replace("`", "")
    assert shown in PAGE.replace("`", "").replace("\n", " "), f"the page no longer quotes {phrase!r}"


def test_every_listed_failure_has_its_section() -> None:
    listed = re.findall(r"^\| (\d+) \|.*\]\(#([^)]+)\) \|$", PAGE, re.M)
    headings = {re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-")
                for h in re.findall(r"^## (.+)$", PAGE, re.M)}
    assert len(listed) >= 15
    assert [int(number) for number, _ in listed] == list(range(1, len(listed) + 1))
    missing = [anchor for _, anchor in listed if anchor not in headings]
    assert not missing


def test_every_section_gives_cause_and_fix() -> None:
    sections = re.split(r"^## ", PAGE, flags=re.M)[1:]
    for section in sections:
        title = section.splitlines()[0]
        assert "**Fix:**" in section or "**If you expected changes:**" in section, title
        assert "**You see" in section, title
