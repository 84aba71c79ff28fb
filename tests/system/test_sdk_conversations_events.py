"""The official `syllable-sdk` client on the conversations and events lists: search, order, page, project,
time window, and the values it deserializes, on every database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from syllable_sdk import SyllableSDK, errors, models
from syllable_sdk.types import UNSET

from tests.conftest import Org
from tests.helpers import LiveServer, event, ingest_ok, list_sessions

C, E = models.ConversationProperties, models.EventProperties
ASC, DESC = models.OrderByDirection.ASC, models.OrderByDirection.DESC


def _started(sid: str, at: str, conversation: str, **fields: Any) -> dict[str, Any]:
    return event(
        f"{sid}-s", "session.started", sid=sid, timestamp=at, data={"conversation_id": conversation, **fields}
    )


EVENTS = [
    _started("v1", "2024-06-10T09:00:00Z", "conv-a", agent_name="Support", agent_id="7", prompt_id="3",
             prompt_name="Support v2", prompt_version="2", llm_provider="openai", llm_model="gpt-4.1",
             llm_version="2025-04-14", llm_temperature=0.2, llm_seed=7, is_legacy=False),
    _started("v2", "2024-06-10T09:30:00Z", "conv-a", llm_model="gpt-4.1-mini"),
    _started("v3", "2024-06-12T15:00:00Z", "conv-b", agent_name="Sales", agent_type="ai_agent",
             is_legacy=True),
    event("v1-t", "tool_call", sid="v1", timestamp="2024-06-10T09:01:00Z",
          data={"tool_call_id": "c1", "tool_name": "transfer_to_agent", "tool_request": {"queue": "tier-2"}}),
    event("v3-x", "custom", sid="v3", timestamp="2024-06-12T15:02:00Z",
          data={"type": "phone-transfer", "source": "tool-call", "source_id": "41", "category": "automation",
                "user_id": "+18042221111", "description": "Transfer to phone number +18042221111",
                "attributes": {"number": "+18042221111", "warm": True}}),
]  # fmt: skip


@pytest.fixture
def sdk(client: httpx.Client, server: LiveServer, org: Org) -> Iterator[SyllableSDK]:
    ingest_ok(client, org.ingest, EVENTS)
    with SyllableSDK(server_url=server.url, api_key_header=org.read) as official:
        yield official


def test_sdk_lists_conversations_with_their_derived_fields(sdk: SyllableSDK) -> None:
    page = sdk.conversations.list()
    assert (page.page, page.page_size, page.total_pages, page.total_count) == (0, 25, 1, 2)
    conv_b, conv_a = page.items
    assert conv_a.conversation_id == "conv-a"
    assert conv_a.timestamp == datetime(2024, 6, 10, 9, 0, tzinfo=UTC)
    assert (conv_a.agent_name, conv_a.agent_id, conv_a.prompt_id, conv_a.prompt_name) == (
        "Support",
        "7",
        "3",
        "Support v2",
    )
    assert conv_a.prompt_version == "2"
    assert (conv_a.llm_provider, conv_a.llm_model, conv_a.llm_version) == (
        "openai",
        "gpt-4.1-mini",
        "2025-04-14",
    )
    assert (conv_a.llm_temperature, conv_a.llm_seed, conv_a.is_legacy) == (0.2, 7, False)
    assert (conv_b.conversation_id, conv_b.agent_type, conv_b.is_legacy, conv_b.llm_model) == (
        "conv-b",
        "ai_agent",
        True,
        None,
    )


def test_sdk_conversation_list_searches_orders_pages_and_projects(sdk: SyllableSDK) -> None:
    found = sdk.conversations.list(
        search_fields=[C.LLM_MODEL, C.IS_LEGACY], search_field_values=["mini", "false"]
    )
    assert [c.conversation_id for c in found.items] == ["conv-a"]
    ordered = sdk.conversations.list(order_by=C.TIMESTAMP, order_by_direction=ASC, limit=1, page=1)
    assert [c.conversation_id for c in ordered.items] == ["conv-b"]
    assert ordered.total_pages == 2
    window = sdk.conversations.list(
        start_datetime="2024-06-11T00:00:00Z", end_datetime="2024-06-13T00:00:00Z"
    )
    assert [c.conversation_id for c in window.items] == ["conv-b"]
    projected = sdk.conversations.list(fields=[C.AGENT_NAME]).items[1]
    assert (projected.conversation_id, projected.agent_name) == ("conv-a", "Support")
    assert projected.llm_model == UNSET


def test_sdk_lists_events_with_their_values(sdk: SyllableSDK, client: httpx.Client, org: Org) -> None:
    ids = {s["channel_manager_sid"]: s["session_id"] for s in list_sessions(client, org.read)["items"]}
    page = sdk.events.list()
    assert page.total_count == 2
    phone, transfer = page.items
    assert phone.timestamp == datetime(2024, 6, 12, 15, 2, tzinfo=UTC)
    assert (phone.session_id, phone.conversation_id) == (ids["v3"], "conv-b")
    assert (phone.source, phone.source_id, phone.category, phone.type) == (
        "tool-call",
        "41",
        "automation",
        "phone-transfer",
    )
    assert (phone.user_id, phone.description) == ("+18042221111", "Transfer to phone number +18042221111")
    # The client's Attributes model declares no keys and drops them (extra="ignore"): it can only tell that
    # an object came; the values themselves are checked over plain HTTP in tests/events.
    assert isinstance(phone.attributes, models.Attributes)
    assert (transfer.session_id, transfer.conversation_id) == (ids["v1"], "conv-a")
    assert (transfer.source, transfer.source_id, transfer.category, transfer.type) == (
        "tool-call",
        "transfer_to_agent",
        "transfer",
        "transfer",
    )
    assert transfer.description == "Transfer to tier-2"


def test_sdk_event_list_searches_orders_pages_and_projects(sdk: SyllableSDK) -> None:
    found = sdk.events.list(search_fields=[E.ATTRIBUTES], search_field_values=["tier-2"])
    assert [e.source_id for e in found.items] == ["transfer_to_agent"]
    by_conversation = sdk.events.list(search_fields=[E.CONVERSATION_ID], search_field_values=["conv-b"])
    assert [e.type for e in by_conversation.items] == ["phone-transfer"]
    ordered = sdk.events.list(order_by=E.TYPE, order_by_direction=DESC, limit=1)
    assert [e.type for e in ordered.items] == ["transfer"]
    assert ordered.total_pages == 2
    window = sdk.events.list(start_datetime="2024-06-10T00:00:00Z", end_datetime="2024-06-11T00:00:00Z")
    assert [e.type for e in window.items] == ["transfer"]
    projected = sdk.events.list(fields=[E.USER_ID]).items[0]
    assert projected.user_id == "+18042221111"
    assert projected.type == UNSET


def test_sdk_raises_on_bad_list_parameters(sdk: SyllableSDK) -> None:
    with pytest.raises(errors.APIError) as bad_date:
        sdk.events.list(start_datetime="not a date")
    assert bad_date.value.status_code == 400
    with pytest.raises(errors.APIError) as bad_bool:
        sdk.conversations.list(search_fields=[C.IS_LEGACY], search_field_values=["maybe"])
    assert bad_bool.value.status_code == 400
