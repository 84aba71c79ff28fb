"""A session is a function of its set of events: any order and any split into batches gives the same row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from sessionary.eventlog.schemas import EventIn
from sessionary.ingest.projection import STATE_COLUMNS, apply_events

_EVENT = TypeAdapter(EventIn)
T0 = datetime(2024, 6, 19, 10, tzinfo=UTC)
STATE = (
    "timestamp",
    "agent_name",
    "agent_id",
    "is_outbound",
    "user_terminated",
    "duration",
    "started_at",
    "ended_at",
    "first_event_at",
    "last_event_at",
    "event_count",
    "session_type",
    "channel_manager_type",
)


def _event(i: int, kind: str, seconds: int, data: dict[str, Any]) -> Any:
    ts = (T0 + timedelta(seconds=seconds)).isoformat()
    raw = {"event_id": f"e{i}", "type": kind, "timestamp": ts, "channel_manager_service": "s"}
    return _EVENT.validate_python({**raw, "channel_manager_sid": "x", "data": data})


field_updates = st.fixed_dictionaries(
    {},
    optional={
        "agent_name": st.sampled_from(["A", "B", "C"]),
        "agent_id": st.sampled_from(["1", "2"]),
        "is_outbound": st.booleans(),
        "channel_manager_type": st.sampled_from(["voice_sip_v1", "web_chat_v1"]),
    },
)
one_event = st.one_of(
    st.tuples(st.just("session.started"), st.integers(0, 60), field_updates),
    st.tuples(st.just("session.updated"), st.integers(0, 600), field_updates),
    st.tuples(st.just("transcript"), st.integers(0, 600), st.just({"source": "user", "text": "hi"})),
    st.tuples(
        st.just("session.ended"),
        st.integers(300, 900),
        st.fixed_dictionaries(
            {}, optional={"user_terminated": st.booleans(), "duration": st.integers(0, 99)}
        ),
    ),
)


def _fresh(first: Any) -> dict[str, Any]:
    """The placeholder row the ingest service creates for a new session (every other column NULL)."""
    ts = first.timestamp
    state: dict[str, Any] = dict.fromkeys(STATE_COLUMNS)
    state.update(timestamp=ts, first_event_at=ts, last_event_at=ts, event_count=0, field_versions={})
    return state


def _fold(events: list[Any], cuts: list[int]) -> dict[str, Any]:
    state = _fresh(events[0])
    bounds = sorted({0, len(events), *(c % (len(events) + 1) for c in cuts)})
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        changes = apply_events(state, events[lo:hi])
        assert all(state[name] == value for name, value in changes.items())
    return {name: state[name] for name in STATE}


@settings(max_examples=300, deadline=None)
@given(
    specs=st.lists(one_event, min_size=1, max_size=12),
    order=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(0, 20), max_size=4),
)
def test_any_order_and_batching_gives_the_same_session(specs: list[Any], order: Any, cuts: list[int]) -> None:
    events = [_event(i, kind, secs, data) for i, (kind, secs, data) in enumerate(specs)]
    shuffled = list(events)
    order.shuffle(shuffled)
    assert _fold(shuffled, cuts) == _fold(events, [])


def test_same_timestamp_tie_is_broken_by_event_id() -> None:
    a = _event(1, "session.updated", 5, {"agent_name": "from e1"})
    b = _event(2, "session.updated", 5, {"agent_name": "from e2"})
    assert _fold([a, b], [])["agent_name"] == _fold([b, a], [])["agent_name"] == "from e2"


def test_timestamp_is_the_start_event_even_when_it_arrives_last() -> None:
    transcript = _event(1, "transcript", 1, {"source": "user", "text": "hi"})
    started = _event(2, "session.started", 3, {})
    state = _fold([transcript, started], [1])
    assert state["timestamp"] == T0 + timedelta(seconds=3)
    assert state["first_event_at"] == T0 + timedelta(seconds=1)


def test_duration_is_computed_from_start_to_end_unless_reported() -> None:
    started = _event(1, "session.started", 0, {})
    ended = _event(2, "session.ended", 90, {})
    assert _fold([ended, started], [1])["duration"] == 90.0
    reported = _event(3, "session.ended", 95, {"duration": 42})
    assert _fold([started, ended, reported], [])["duration"] == 42.0
