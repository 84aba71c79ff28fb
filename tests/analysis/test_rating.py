"""Every auto-rating rule, on SQLite and PostgreSQL: a session that trips it gets an auto-rating label with
the rule's issue category, and the code follows severity (none GOOD, minor OK, severe BAD)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest

from sessionary.analysis.rating import RatingRules
from sessionary.db import Database
from tests.analysis.calls import (
    LOOKUP,
    PHARMACY,
    Call,
    analyze_due,
    auto_labels,
    ingest_call,
    session_label_id,
    summary_of,
)
from tests.conftest import Org

FAILED_LOOKUP = {
    **LOOKUP,
    "tool_result": None,
    "tool_error": {"code": "UPSTREAM_TIMEOUT", "message": "no answer in 5s"},
}
QUESTION_LAST = [*PHARMACY[:4], (15, "agent", "Shall I send it to the Main Street store?")]
STATEMENT_LAST = [*PHARMACY[:4], (15, "agent", "It will be ready tomorrow after 2 PM.")]


def _late(turns: list[tuple[float, str, str]], after: int, seconds: float) -> list[tuple[float, str, str]]:
    """The turns with every turn from index `after` on moved `seconds` later."""
    return [(at + (seconds if n >= after else 0), source, text) for n, (at, source, text) in enumerate(turns)]


SCENARIOS: list[Any] = [
    pytest.param({}, RatingRules(), "GOOD", [], id="good-call"),
    pytest.param({"tools": [(12, FAILED_LOOKUP)]}, RatingRules(), "BAD", ["Tool error"], id="tool_error"),
    pytest.param(
        {"turns": _late(PHARMACY, 3, 20), "end": 41}, RatingRules(), "OK", ["Long silence"], id="silence"
    ),
    pytest.param(
        {"turns": _late(PHARMACY, 3, 5), "end": 26}, RatingRules(), "GOOD", [], id="silence-under-threshold"
    ),
    pytest.param(
        {"turns": QUESTION_LAST, "end": 18},
        RatingRules(),
        "BAD",
        ["User hung up after agent turn"],
        id="hangup",
    ),
    pytest.param(
        {"turns": QUESTION_LAST, "end": 18, "ended": {"user_terminated": False}},
        RatingRules(),
        "GOOD",
        [],
        id="agent-ended-after-question",
    ),
    pytest.param(
        {"turns": QUESTION_LAST, "end": 40}, RatingRules(), "GOOD", [], id="hangup-long-after-the-question"
    ),
    pytest.param(
        {"turns": STATEMENT_LAST, "end": 18}, RatingRules(), "GOOD", [], id="hangup-after-statement"
    ),
    pytest.param(
        {"turns": STATEMENT_LAST, "end": 18},
        RatingRules(hangup_needs_question=False),
        "BAD",
        ["User hung up after agent turn"],
        id="hangup-after-statement-when-any-agent-turn-counts",
    ),
    pytest.param(
        {"ended": {"user_terminated": False, "transfer_voicemail_detected": True}},
        RatingRules(),
        "BAD",
        ["Transfer to voicemail"],
        id="voicemail",
    ),
    pytest.param(
        {
            "turns": [(1, "agent", "Hello, how can I help?"), (6, "agent", "Are you still there?")],
            "tools": [],
        },
        RatingRules(),
        "BAD",
        ["No user turn"],
        id="no_user_turn",
    ),
    pytest.param(
        {
            "turns": [(0.5, "agent", "Hi, how can I help?"), (2, "user", "Wrong number, sorry.")],
            "tools": [],
            "end": 4,
        },
        RatingRules(),
        "OK",
        ["Very short session"],
        id="short_session",
    ),
    pytest.param(
        {"turns": _late(PHARMACY, 3, 20), "end": 41, "tools": [(12, FAILED_LOOKUP)]},
        RatingRules(),
        "BAD",
        ["Tool error", "Long silence"],
        id="minor-and-severe-is-bad",
    ),
    pytest.param(
        {"tools": [(12, FAILED_LOOKUP)]},
        RatingRules(severe=frozenset()),
        "OK",
        ["Tool error"],
        id="severity-is-configurable",
    ),
    pytest.param(
        {"tools": [(12, FAILED_LOOKUP)]},
        RatingRules(disabled=frozenset({"tool_error"})),
        "GOOD",
        [],
        id="a-disabled-rule-is-silent",
    ),
    pytest.param(
        {"turns": _late(PHARMACY, 3, 9), "end": 30},
        RatingRules(silence_seconds=8),
        "OK",
        ["Long silence"],
        id="silence-threshold-is-configurable",
    ),
]


@pytest.mark.parametrize(("shape", "rules", "code", "categories"), SCENARIOS)
def test_rule_sets_code_and_issue_categories(
    database: Database, org: Org, shape: dict[str, Any], rules: RatingRules, code: str, categories: list[str]
) -> None:
    session_id = ingest_call(database, org.id, Call(sid=f"r-{uuid.uuid4().hex[:8]}", **shape))
    assert analyze_due(database, org.id, rules) == 1
    [label] = auto_labels(database, session_id)
    assert (label.code, label.issue_categories) == (code, categories)
    assert label.user_email == "auto-rating@sessionary"
    assert (label.comments is None) == (not categories)
    assert session_label_id(database, session_id) == label.id
    summary = summary_of(database, session_id)
    assert summary is not None
    assert summary.rating == {"GOOD": "Good", "OK": "Ok", "BAD": "Bad"}[code]


def _with_llm(sid: str, *millis: float) -> Call:
    return Call(sid=sid, latency=[(5 + n, "llm", ms) for n, ms in enumerate(millis)] + [(3, "stt", 100)])


def test_latency_well_above_the_organizations_median(database: Database, org: Org) -> None:
    rules = RatingRules(latency_min_sessions=3, latency_factor=2.0)
    for n, ms in enumerate((500, 600, 700)):
        ingest_call(database, org.id, _with_llm(f"norm-{n}", ms, ms))
    assert analyze_due(database, org.id, rules) == 3  # the norm forms: llm median 600 ms over 3 sessions
    slow = ingest_call(database, org.id, _with_llm("slow", 1500, 1100))  # mean 1300 > 2 x 600
    usual = ingest_call(database, org.id, _with_llm("usual", 900, 1100))  # mean 1000 <= 1200
    assert analyze_due(database, org.id, rules) == 2
    [slow_label] = auto_labels(database, slow)
    assert (slow_label.code, slow_label.issue_categories) == ("OK", ["High latency"])
    assert "llm mean 1300 ms" in (slow_label.comments or "")
    assert auto_labels(database, usual)[0].code == "GOOD"


def test_latency_needs_the_minimum_number_of_sessions(database: Database, org: Org) -> None:
    rules = RatingRules(latency_min_sessions=5)
    for n in range(3):
        ingest_call(database, org.id, _with_llm(f"few-{n}", 500))
    analyze_due(database, org.id, rules)
    slow = ingest_call(database, org.id, _with_llm("slow", 5000))
    analyze_due(database, org.id, rules)
    assert auto_labels(database, slow)[0].issue_categories == []  # 3 sessions are no norm yet
    looser = replace(rules, latency_min_sessions=3)
    again = ingest_call(database, org.id, _with_llm("slow-again", 5000))
    analyze_due(database, org.id, looser)
    assert auto_labels(database, again)[0].issue_categories == ["High latency"]
