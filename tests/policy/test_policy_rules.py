"""Every rule against a passing and a failing fixture (tests/policy/fixtures/<rule>/): the
passing one yields no finding of that rule, the failing one exactly the expected findings, at the
expected fixture lines."""

from __future__ import annotations

import pytest

from payctl.policy.rules import RULES
from tests.policy.conftest import FIXTURES, check_fixture

RULE_IDS = ["PAY000", *(rule.id for rule in RULES)]
PASSING = sorted(path.relative_to(FIXTURES).as_posix() for path in FIXTURES.glob("PAY*/pass*.yaml"))
FAILING = sorted(path.relative_to(FIXTURES).as_posix() for path in FIXTURES.glob("PAY*/fail*.yaml"))


def test_every_rule_has_both_fixtures() -> None:
    missing = [f"{rule}/{kind}.yaml" for rule in RULE_IDS for kind in ("pass", "fail")
               if not (FIXTURES / rule / f"{kind}.yaml").is_file()]
    assert missing == []


@pytest.mark.parametrize("fixture", PASSING)
def test_passing_fixture(fixture: str) -> None:
    rule = fixture.split("/")[0]
    findings, _ = check_fixture(FIXTURES / fixture)
    assert [f"{f.resource}: {f.message}" for f in findings if f.rule == rule and f.suppressed is None] == []


@pytest.mark.parametrize("fixture", FAILING)
def test_failing_fixture(fixture: str) -> None:
    rule = fixture.split("/")[0]
    findings, settings = check_fixture(FIXTURES / fixture)
    found = [f for f in findings if f.rule == rule and f.suppressed is None]
    expected = settings["expect"]
    assert sorted({f.resource for f in found}) == sorted({e["resource"] for e in expected})
    for expectation in expected:
        matching = [f for f in found if f.resource == expectation["resource"]
                    and expectation["message"] in f.message]
        assert matching, f"{expectation} not in {[f.message for f in found]}"
        finding = matching[0]
        assert finding.file == f"tests/policy/fixtures/{fixture}"
        assert finding.severity == expectation.get("severity", "error")
        if "line" in expectation:
            assert finding.line == expectation["line"], finding
    assert len(found) == len(expected), [f.message for f in found]


def test_suppression_with_a_reason_is_reported_with_it() -> None:
    findings, _ = check_fixture(FIXTURES / "PAY000" / "pass.yaml")
    retained = [f for f in findings if f.rule == "PAY003"]
    assert len(retained) == 1
    assert retained[0].suppressed == "Audit evidence must outlive the stack for seven years (legal hold)."
    assert not retained[0].blocking


def test_invalid_suppression_does_not_suppress() -> None:
    findings, _ = check_fixture(FIXTURES / "PAY000" / "fail.yaml")
    retained = [f for f in findings if f.rule == "PAY003"]
    assert [(f.resource, f.suppressed, f.blocking) for f in retained] == [("NoReason", None, True)]
