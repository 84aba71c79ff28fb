"""When sessions are analyzed: once when they end, again after late events (at most about once a minute),
never twice at once, retried after a failure, and on demand from the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from sessionary.analysis import service, store
from sessionary.analysis.facts import SessionFacts
from sessionary.analysis.models import SessionAnalysis
from sessionary.analysis.summarizers import ExtractiveSummarizer, SummaryResult
from sessionary.cli import app
from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.labels import service as labels
from sessionary.labels.schemas import SessionLabelCreate
from tests.analysis.calls import (
    Call,
    analysis_of,
    analyze_due,
    auto_labels,
    ingest_call,
    ingest_events,
    session_label_id,
    summary_of,
)
from tests.conftest import Org

FAILED = {"tool_call_id": "late", "tool_name": "submit_refill", "tool_error": "pharmacy system offline"}


def _late_tool_error(call: Call) -> list[dict[str, object]]:
    return [call._event("late-tool", "tool_call", 16, FAILED)]


def _in(minutes: float) -> dict[str, object]:
    return {"now": utcnow() + timedelta(minutes=minutes)}


def test_a_session_is_analyzed_once_when_it_ends(database: Database, org: Org) -> None:
    call = Call(sid="open", end=None)
    session_id = ingest_call(database, org.id, call)
    assert analyze_due(database, org.id) == 0
    assert analysis_of(database, session_id) is None
    ingest_events(database, org.id, Call(sid="open").events())  # now with its end (the rest are duplicates)
    assert analyze_due(database, org.id) == 1
    assert analyze_due(database, org.id) == 0
    row = analysis_of(database, session_id)
    assert row is not None
    assert row.due_at is None
    assert row.analyzed_at is not None
    assert len(auto_labels(database, session_id)) == 1
    ingest_events(database, org.id, Call(sid="open").events())  # all duplicates: nothing new to analyze
    assert analyze_due(database, org.id, **_in(5)) == 0


def test_late_events_re_analyze_a_minute_later_and_a_changed_result_makes_a_new_label(
    database: Database, org: Org
) -> None:
    call = Call(sid="late")
    session_id = ingest_call(database, org.id, call)
    analyze_due(database, org.id)
    [good] = auto_labels(database, session_id)
    ingest_events(database, org.id, _late_tool_error(call))
    assert analyze_due(database, org.id) == 0  # not before a minute has passed
    assert analyze_due(database, org.id, **_in(2)) == 1
    first, second = auto_labels(database, session_id)
    assert (first.id, first.code) == (good.id, "GOOD")
    assert (second.code, second.issue_categories) == ("BAD", ["Tool error"])
    assert session_label_id(database, session_id) == second.id
    summary = summary_of(database, session_id)
    assert summary is not None
    assert summary.rating == "Bad"
    assert "submit_refill failed (pharmacy system offline)" in (summary.summary or "")


def test_an_unchanged_result_makes_no_new_label(database: Database, org: Org) -> None:
    call = Call(sid="same")
    session_id = ingest_call(database, org.id, call)
    analyze_due(database, org.id)
    ingest_events(
        database, org.id, [call._event("late-turn", "transcript", 20, {"source": "user", "text": "Bye"})]
    )
    assert analyze_due(database, org.id, **_in(2)) == 1
    assert [label.code for label in auto_labels(database, session_id)] == ["GOOD"]


def test_a_human_label_stays_the_sessions_label(database: Database, org: Org) -> None:
    call = Call(sid="human")
    session_id = ingest_call(database, org.id, call)
    analyze_due(database, org.id)
    with session_scope(database.writer) as db:
        body = SessionLabelCreate(session_id=session_id, type="human-rating", code="OK", user_email="qa@x.io")
        human = labels.create_label(db, organization_id=org.id, body=body).id
    ingest_events(database, org.id, _late_tool_error(call))
    analyze_due(database, org.id, **_in(2))
    assert [label.code for label in auto_labels(database, session_id)] == ["GOOD", "BAD"]
    assert session_label_id(database, session_id) == human


class MarkingSummarizer:
    """Summarizes, and meanwhile a late event of the session arrives (as from a concurrent ingest)."""

    name = "extractive"

    def __init__(self, database: Database, org: Org, call: Call) -> None:
        self.database, self.org, self.call = database, org, call

    def summarize(self, facts: SessionFacts) -> SummaryResult:
        ingest_events(self.database, self.org.id, _late_tool_error(self.call))
        return ExtractiveSummarizer().summarize(facts)


def test_events_arriving_during_an_analysis_leave_the_session_due(database: Database, org: Org) -> None:
    call = Call(sid="racing")
    session_id = ingest_call(database, org.id, call)
    analyzer = service.Analyzer(summarizer=MarkingSummarizer(database, org, call))
    assert service.process_due(database, analyzer=analyzer, organization_id=org.id) == 1
    row = analysis_of(database, session_id)
    assert row is not None
    assert row.due_at is not None  # the mark made meanwhile survived the analysis that did not see its event
    assert analyze_due(database, org.id, **_in(2)) == 1
    assert [label.code for label in auto_labels(database, session_id)] == ["GOOD", "BAD"]
    assert analysis_of(database, session_id).due_at is None  # type: ignore[union-attr]


def test_claims_never_overlap(database: Database, org: Org) -> None:
    ids = {ingest_call(database, org.id, Call(sid=f"claim-{n}")) for n in range(4)}
    now = utcnow()
    first_db = database.writer()
    try:
        first = store.claim(first_db, now=now, ripe_before=now, limit=2, organization_id=org.id)
        if database.dialect == "sqlite":  # one writer at a time: the second claim comes after the first
            first_db.commit()
        with session_scope(database.writer) as db:  # on PostgreSQL, while the first still holds its rows
            second = store.claim(db, now=now, ripe_before=now, limit=10, organization_id=org.id)
        first_db.commit()
    finally:
        first_db.close()
    assert len(first) == 2
    assert {sid for _o, sid in first} | {sid for _o, sid in second} == ids
    assert not {sid for _o, sid in first} & {sid for _o, sid in second}
    assert analyze_due(database, org.id) == 0  # all four are leased now
    assert analyze_due(database, org.id, **_in(6)) == 4  # a lease expires: another worker takes over


class Failing:
    name = "extractive"

    def summarize(self, facts: SessionFacts) -> SummaryResult:
        raise RuntimeError("boom")


def test_a_failed_analysis_is_retried_after_its_lease_then_given_up(database: Database, org: Org) -> None:
    session_id = ingest_call(database, org.id, Call(sid="failing"))
    failing = service.Analyzer(summarizer=Failing())
    for attempt in range(store.MAX_ATTEMPTS):
        minutes = attempt * 6
        assert service.process_due(database, analyzer=failing, organization_id=org.id, **_in(minutes)) == 0
        row = analysis_of(database, session_id)
        assert row is not None
        assert row.attempts == attempt + 1
    assert auto_labels(database, session_id) == []
    assert analyze_due(database, org.id, **_in(store.MAX_ATTEMPTS * 6)) == 0  # given up
    assert analysis_of(database, session_id).due_at is None  # type: ignore[union-attr]


def test_a_retry_succeeds_after_a_failure(database: Database, org: Org) -> None:
    session_id = ingest_call(database, org.id, Call(sid="flaky"))
    service.process_due(database, analyzer=service.Analyzer(summarizer=Failing()), organization_id=org.id)
    assert analyze_due(database, org.id, **_in(6)) == 1
    assert len(auto_labels(database, session_id)) == 1
    assert analysis_of(database, session_id).attempts == 0  # type: ignore[union-attr]


def test_mark_due_is_one_statement_for_a_batch(database: Database, org: Org) -> None:
    ids = [ingest_call(database, org.id, Call(sid=f"batch-{n}", end=None)) for n in range(3)]
    statements: list[str] = []
    with session_scope(database.writer) as db:
        from sqlalchemy import event

        def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            statements.append(statement)

        connection = db.connection()
        event.listen(connection, "before_cursor_execute", count)
        store.mark_due(db, organization_id=org.id, session_ids=ids)
        event.remove(connection, "before_cursor_execute", count)
    assert len(statements) == 1
    with session_scope(database.reader) as db:
        marked = db.scalars(
            select(SessionAnalysis.session_id).where(SessionAnalysis.session_id.in_(ids))
        ).all()
    assert sorted(marked) == sorted(ids)


runner = CliRunner()


def test_cli_analyze_the_due_sessions_then_all_again(database: Database, org: Org, database_url: str) -> None:
    env = {"SESSIONARY_DATABASE_URL": database_url}
    session_id = ingest_call(database, org.id, Call(sid="cli"))
    due = runner.invoke(app, ["analyze", "--org", org.name], env=env)
    assert due.exit_code == 0, due.output
    assert "analyzed 1 sessions" in due.output
    again = runner.invoke(app, ["analyze", "--org", org.name, "--all"], env=env)
    assert again.exit_code == 0, again.output
    assert "analyzed 1 sessions (1 marked)" in again.output
    assert len(auto_labels(database, session_id)) == 1  # same result, no new label
    unknown = runner.invoke(app, ["analyze", "--org", "no-such-org"], env=env)
    assert unknown.exit_code == 1
    assert "no-such-org" in unknown.output


@pytest.mark.parametrize("sessions", [2])
def test_process_due_of_one_organization_leaves_the_others(
    database: Database, org: Org, other_org: Org, sessions: int
) -> None:
    mine = [ingest_call(database, org.id, Call(sid=f"mine-{n}")) for n in range(sessions)]
    theirs = ingest_call(database, other_org.id, Call(sid="theirs"))
    assert analyze_due(database, org.id) == sessions
    assert all(auto_labels(database, sid) for sid in mine)
    assert auto_labels(database, theirs) == []


def test_process_due_reports_each_claimed_batch_for_the_worker_to_pace_itself(
    database: Database, org: Org
) -> None:
    for n in range(3):
        ingest_call(database, org.id, Call(sid=f"paced-{n}"))
    batches: list[float] = []
    analyzer = service.Analyzer(batch=2)
    assert (
        service.process_due(database, analyzer=analyzer, organization_id=org.id, after_batch=batches.append)
        == 3
    )
    assert len(batches) == 2  # 2 sessions, then 1
    assert all(seconds >= 0 for seconds in batches)
