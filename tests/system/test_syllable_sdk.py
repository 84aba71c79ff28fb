"""The official `syllable-sdk` client against a live server: list (search, order, page, project, time
window), get by id, and the errors it raises, on every database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from syllable_sdk import SyllableSDK, errors, models
from syllable_sdk.types import UNSET

from tests.conftest import Org
from tests.helpers import LiveServer, event, ingest_ok, list_sessions

P = models.SessionProperties
ASC, DESC = models.OrderByDirection.ASC, models.OrderByDirection.DESC


@dataclass(frozen=True)
class Call:
    """One session of the data set, and what the API must say about it."""

    sid: str
    service: str
    channel_type: str
    agent: str
    outbound: bool
    is_test: bool
    start: datetime
    duration: float
    user_terminated: bool | None
    number: int

    def expected(self) -> dict[str, Any]:
        """Every Session key the API sends, except session_id (assigned by the server)."""
        return {
            "timestamp": self.start,
            "conversation_id": f"conv-{self.sid}",
            "channel_manager_service": self.service,
            "channel_manager_type": self.channel_type,
            "channel_manager_sid": self.sid,
            "agent_id": f"agent-{self.agent.lower().replace(' ', '-')}",
            "agent_name": self.agent,
            "agent_type": "ai_agent",
            "agent_timezone": "America/New_York",
            "prompt_id": f"prompt-{self.number % 3}",
            "prompt_name": f"Prompt {self.number % 3}",
            "prompt_version": None,
            "prompt_version_number": self.number,
            "duration": self.duration,
            "session_label_id": None,
            "source": f"+1804222{self.number:04d}",
            "target": "sales-line" if self.outbound else "main-line",
            "is_legacy": False,
            "is_test": self.is_test,
            "is_outbound": self.outbound,
            "user_terminated": self.user_terminated,
            "transfer_voicemail_detected": None,
            "override_timestamp": None,
        }

    def events(self) -> list[dict[str, Any]]:
        expected = self.expected()
        started = {
            key: expected[key]
            for key in (
                "conversation_id",
                "agent_id",
                "agent_type",
                "agent_timezone",
                "prompt_id",
                "prompt_name",
                "prompt_version_number",
                "source",
                "target",
                "is_legacy",
                "is_test",
                "is_outbound",
            )
        }
        started["channel_manager_type"] = self.channel_type
        # The agent is first "Triage"; a later update names the final agent; an update stamped between the
        # two must lose against the later one, whatever order they arrive in.
        started["agent_name"] = "Triage"
        ended = {} if self.user_terminated is None else {"user_terminated": self.user_terminated}

        def at(seconds: float) -> str:
            return (self.start + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

        def one(
            suffix: str, type_: str, seconds: float, data: dict[str, Any] | None = None
        ) -> dict[str, Any]:
            return event(
                f"{self.sid}-{suffix}",
                type_,
                sid=self.sid,
                service=self.service,
                timestamp=at(seconds),
                data=data,
            )

        return [
            one("start", "session.started", 0, started),
            one("t1", "transcript", 1),
            one("upd-late", "session.updated", 4, {"agent_name": self.agent}),
            one("t2", "transcript", 3, {"source": "agent", "text": "how can I help?"}),
            one("end", "session.ended", self.duration, ended),
            one("upd-early", "session.updated", 2, {"agent_name": "Escalations"}),
        ]


def _calls() -> list[Call]:
    table = [
        # sid, service, channel type, agent, outbound, is_test, duration, user_terminated
        ("sdk-01", "hedy", "voice_sip_v1", "Support", False, False, 65.0, True),
        ("sdk-02", "hedy", "voice_twilio_v1", "Sales", True, False, 120.0, False),
        ("sdk-03", "console", "web_chat_v1", "Support Tier 2", False, False, 30.0, None),
        ("sdk-04", "hedy", "voice_sip_v1", "Billing", False, True, 240.0, True),
        ("sdk-05", "hedy", "voice_twilio_v1", "Sales", True, False, 15.0, False),
        ("sdk-06", "console", "web_chat_v1", "Support", False, True, 400.0, None),
        ("sdk-07", "hedy", "voice_sip_v1", "Support Tier 2", True, False, 90.0, True),
        ("sdk-08", "hedy", "voice_sip_v1", "Billing", False, False, 5.0, False),
        ("sdk-09", "console", "web_chat_v1", "Sales", True, False, 180.0, None),
        ("sdk-10", "hedy", "voice_twilio_v1", "Support", False, False, 75.0, True),
        ("sdk-11", "hedy", "voice_sip_v1", "Sales", False, True, 333.0, True),
        ("sdk-12", "console", "web_chat_v1", "Billing", True, False, 42.0, None),
    ]
    return [
        Call(
            sid=sid,
            service=service,
            channel_type=channel_type,
            agent=agent,
            outbound=outbound,
            is_test=is_test,
            start=datetime(2024, 6, number, 8 + number, 15, tzinfo=UTC),
            duration=duration,
            user_terminated=user_terminated,
            number=number,
        )
        for number, (
            sid,
            service,
            channel_type,
            agent,
            outbound,
            is_test,
            duration,
            user_terminated,
        ) in enumerate(table, start=1)
    ]


CALLS = _calls()
BY_SID = {call.sid: call for call in CALLS}
NEWEST_FIRST = [call.sid for call in sorted(CALLS, key=lambda c: c.start, reverse=True)]


@dataclass(frozen=True)
class Dataset:
    org: Org
    ids: dict[str, str]  # channel_manager_sid -> session_id

    def sid_of(self, session_id: str) -> str:
        return {v: k for k, v in self.ids.items()}[session_id]


@pytest.fixture
def dataset(client: httpx.Client, org: Org) -> Dataset:
    """The twelve calls, ingested over HTTP in two batches (one in reverse order)."""
    events = [one for call in CALLS for one in call.events()]
    half = len(events) // 2
    assert ingest_ok(client, org.ingest, events[:half]) == {"inserted": half, "duplicates": 0}
    rest = events[half:][::-1]
    assert ingest_ok(client, org.ingest, rest) == {"inserted": len(rest), "duplicates": 0}
    page = list_sessions(client, org.read, limit=100)
    return Dataset(org=org, ids={item["channel_manager_sid"]: item["session_id"] for item in page["items"]})


@pytest.fixture
def sdk(server: LiveServer, dataset: Dataset) -> Iterator[SyllableSDK]:
    with SyllableSDK(server_url=server.url, api_key_header=dataset.org.read) as client:
        yield client


def _wire(session: models.Session) -> dict[str, Any]:
    """The SDK session's values for every key of Call.expected()."""
    return {name: getattr(session, name) for name in CALLS[0].expected()}


def _sids(page: models.ListResponseSession, dataset: Dataset) -> list[str]:
    return [dataset.sid_of(str(item.session_id)) for item in page.items]


def test_sdk_list_returns_every_ingested_session_newest_first_with_derived_fields(
    sdk: SyllableSDK, dataset: Dataset
) -> None:
    page = sdk.sessions.list(limit=100)
    assert (page.page, page.page_size, page.total_count, page.total_pages) == (0, 100, 12, 1)
    assert _sids(page, dataset) == NEWEST_FIRST
    for item in page.items:
        call = BY_SID[str(item.channel_manager_sid)]
        assert item.session_id == dataset.ids[call.sid]
        assert _wire(item) == call.expected()
    assert len(set(dataset.ids.values())) == 12


def test_sdk_search_pairs_a_boolean_and_a_case_insensitive_substring_by_index(
    sdk: SyllableSDK, dataset: Dataset
) -> None:
    outbound_sales = sdk.sessions.list(
        search_fields=[P.IS_OUTBOUND, P.AGENT_NAME], search_field_values=["true", "sAlEs"], limit=100
    )
    assert outbound_sales.total_count == 3
    assert _sids(outbound_sales, dataset) == ["sdk-09", "sdk-05", "sdk-02"]

    # "support" matches "Support" and "Support Tier 2"; is_test=false drops sdk-06.
    real_support = sdk.sessions.list(
        search_fields=[P.AGENT_NAME, P.IS_TEST], search_field_values=["support", "false"], limit=100
    )
    assert _sids(real_support, dataset) == ["sdk-10", "sdk-07", "sdk-03", "sdk-01"]
    assert real_support.total_count == 4

    web = sdk.sessions.list(search_fields=[P.CHANNEL_MANAGER_TYPE], search_field_values=["web_chat"])
    assert sorted(_sids(web, dataset)) == ["sdk-03", "sdk-06", "sdk-09", "sdk-12"]

    nothing = sdk.sessions.list(search_fields=[P.AGENT_NAME], search_field_values=["nobody"])
    assert (nothing.items, nothing.total_count, nothing.total_pages) == ([], 0, 0)


def test_sdk_order_by_sorts_ascending_and_descending_with_a_stable_tiebreak(
    sdk: SyllableSDK, dataset: Dataset
) -> None:
    by_duration = [c.sid for c in sorted(CALLS, key=lambda c: c.duration)]
    asc = sdk.sessions.list(order_by=P.DURATION, order_by_direction=ASC, limit=100)
    assert _sids(asc, dataset) == by_duration
    assert [item.duration for item in asc.items] == sorted(c.duration for c in CALLS)
    desc = sdk.sessions.list(order_by=P.DURATION, order_by_direction=DESC, limit=100)
    assert _sids(desc, dataset) == by_duration[::-1]

    # Equal agent names are ordered by session id, in the same direction.
    def agent_then_id(sid: str) -> tuple[str, int]:
        return (BY_SID[sid].agent, int(dataset.ids[sid]))

    by_agent = sdk.sessions.list(order_by=P.AGENT_NAME, order_by_direction=ASC, limit=100)
    assert _sids(by_agent, dataset) == sorted(dataset.ids, key=agent_then_id)
    by_agent_desc = sdk.sessions.list(order_by=P.AGENT_NAME, order_by_direction=DESC, limit=100)
    assert _sids(by_agent_desc, dataset) == sorted(dataset.ids, key=agent_then_id, reverse=True)

    oldest_first = sdk.sessions.list(order_by=P.TIMESTAMP, order_by_direction=ASC, limit=100)
    assert _sids(oldest_first, dataset) == NEWEST_FIRST[::-1]


def test_sdk_pages_cover_every_session_once_with_consistent_totals(
    sdk: SyllableSDK, dataset: Dataset
) -> None:
    seen: list[str] = []
    for number, size in enumerate([5, 5, 2]):
        page = sdk.sessions.list(page=number, limit=5, order_by=P.TIMESTAMP, order_by_direction=DESC)
        assert (page.page, page.page_size, page.total_count, page.total_pages) == (number, 5, 12, 3)
        assert len(page.items) == size
        seen += _sids(page, dataset)
    assert seen == NEWEST_FIRST

    beyond = sdk.sessions.list(page=3, limit=5)
    assert (beyond.items, beyond.total_count, beyond.total_pages) == ([], 12, 3)

    filtered = sdk.sessions.list(
        page=1,
        limit=2,
        search_fields=[P.IS_OUTBOUND],
        search_field_values=["true"],
        order_by=P.DURATION,
        order_by_direction=ASC,
    )
    assert (filtered.total_count, filtered.total_pages) == (5, 3)
    outbound_by_duration = [c.sid for c in sorted(CALLS, key=lambda c: c.duration) if c.outbound]
    assert _sids(filtered, dataset) == outbound_by_duration[2:4]


def test_fields_projection_sends_only_the_requested_keys_and_timestamp(
    sdk: SyllableSDK, dataset: Dataset, client: httpx.Client
) -> None:
    raw = list_sessions(client, dataset.org.read, fields=["agent_name", "is_outbound"], limit=100)
    assert set(raw) == {"items", "page", "page_size", "total_pages", "total_count"}
    assert raw["total_count"] == 12
    for item in raw["items"]:
        assert set(item) == {"timestamp", "agent_name", "is_outbound"}
        assert item["timestamp"].endswith("Z")
    assert {(i["agent_name"], i["is_outbound"]) for i in raw["items"]} == {
        (c.agent, c.outbound) for c in CALLS
    }

    raw_ids = list_sessions(client, dataset.org.read, fields=["session_id", "duration"], limit=3)
    assert [set(item) for item in raw_ids["items"]] == [{"timestamp", "session_id", "duration"}] * 3
    assert [item["session_id"] for item in raw_ids["items"]] == [dataset.ids[s] for s in NEWEST_FIRST[:3]]

    page = sdk.sessions.list(
        fields=[P.AGENT_NAME, P.IS_OUTBOUND], order_by=P.TIMESTAMP, order_by_direction=DESC, limit=100
    )
    assert [item.timestamp for item in page.items] == [BY_SID[sid].start for sid in NEWEST_FIRST]
    assert [(item.agent_name, item.is_outbound) for item in page.items] == [
        (BY_SID[sid].agent, BY_SID[sid].outbound) for sid in NEWEST_FIRST
    ]
    for item in page.items:  # UNSET: the key was absent from the response (None would mean null)
        assert item.session_id == UNSET
        assert item.channel_manager_sid == UNSET
        assert item.duration == UNSET


def test_sdk_start_datetime_is_inclusive_and_end_datetime_exclusive(
    sdk: SyllableSDK, dataset: Dataset
) -> None:
    oldest_first = sorted(CALLS, key=lambda c: c.start)
    start, end = oldest_first[3].start, oldest_first[8].start
    window = sdk.sessions.list(
        start_datetime=start.isoformat().replace("+00:00", "Z"),
        end_datetime=end.isoformat().replace("+00:00", "Z"),
        order_by=P.TIMESTAMP,
        order_by_direction=ASC,
    )
    assert _sids(window, dataset) == [c.sid for c in oldest_first[3:8]]
    assert window.total_count == 5

    # The same instant written with an offset, and a naive datetime (read as UTC), bound the same way.
    shifted = sdk.sessions.list(
        start_datetime=start.astimezone(timezone(timedelta(hours=2))).isoformat(),
        end_datetime=end.replace(tzinfo=None).isoformat(),
    )
    assert sorted(_sids(shifted, dataset)) == sorted(c.sid for c in oldest_first[3:8])

    only_start = sdk.sessions.list(start_datetime=oldest_first[-1].start.isoformat())
    assert _sids(only_start, dataset) == [oldest_first[-1].sid]
    only_end = sdk.sessions.list(end_datetime=oldest_first[1].start.isoformat())
    assert _sids(only_end, dataset) == [oldest_first[0].sid]


def test_sdk_malformed_datetime_raises_the_bad_request_error_400(sdk: SyllableSDK) -> None:
    with pytest.raises(errors.SessionsListBadRequestError) as caught:
        sdk.sessions.list(start_datetime="yesterday-ish")
    assert caught.value.status_code == 400
    assert "start_datetime" in caught.value.body


def test_sdk_get_by_id_returns_the_full_session(sdk: SyllableSDK, dataset: Dataset) -> None:
    for sid in ("sdk-01", "sdk-04", "sdk-09"):
        session = sdk.sessions.get_by_id(session_id=dataset.ids[sid])
        assert session.session_id == dataset.ids[sid]
        assert _wire(session) == BY_SID[sid].expected()
    # The latest session.updated wins, whatever order the updates arrived in.
    assert sdk.sessions.get_by_id(session_id=dataset.ids["sdk-04"]).agent_name == "Billing"


def test_sdk_with_a_wrong_key_raises_api_error_401(server: LiveServer, dataset: Dataset) -> None:
    with SyllableSDK(server_url=server.url, api_key_header="sk_not-a-real-key") as wrong:
        with pytest.raises(errors.APIError) as listed:
            wrong.sessions.list()
        with pytest.raises(errors.APIError) as got:
            wrong.sessions.get_by_id(session_id=dataset.ids["sdk-01"])
    for caught in (listed, got):
        assert caught.value.status_code == 401
        assert caught.value.body == '{"detail":"Invalid API key"}'


def test_sdk_with_an_ingest_only_key_raises_api_error_403(server: LiveServer, dataset: Dataset) -> None:
    with SyllableSDK(server_url=server.url, api_key_header=dataset.org.ingest) as ingest_only:
        with pytest.raises(errors.APIError) as caught:
            ingest_only.sessions.list()
    assert caught.value.status_code == 403


def test_sdk_unknown_or_foreign_session_id_raises_api_error_404(
    sdk: SyllableSDK, dataset: Dataset, server: LiveServer, other_org: Org
) -> None:
    for unknown in ("999999999", "0", "not-a-number", "-1", "99999999999999999999999"):
        with pytest.raises(errors.APIError) as caught:
            sdk.sessions.get_by_id(session_id=unknown)
        assert caught.value.status_code == 404, unknown
    # Another organization's key does not see these sessions, by id or in its list.
    with SyllableSDK(server_url=server.url, api_key_header=other_org.read) as other:
        with pytest.raises(errors.APIError) as caught:
            other.sessions.get_by_id(session_id=dataset.ids["sdk-01"])
        assert caught.value.status_code == 404
        assert other.sessions.list().total_count == 0
