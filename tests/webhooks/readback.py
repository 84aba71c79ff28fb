"""What the official syllable-sdk reads back of a webhook's session."""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson
from syllable_sdk import SyllableSDK, models

from tests.conftest import Org


def _json_or_text(value: str | None) -> Any:
    try:
        return orjson.loads(value or "null")
    except orjson.JSONDecodeError:
        return value


def read_session(url: str, org: Org, sid: str) -> dict[str, Any]:
    """The session whose channel_manager_sid is `sid`, as the official client sees it."""
    with SyllableSDK(server_url=url, api_key_header=org.read) as sdk:
        items = sdk.sessions.list(limit=100).items or []
        session = next(s for s in items if s.channel_manager_sid == sid)
        session_id = str(session.session_id)
        transcript = sdk.sessions.transcript.get_by_id(session_id=session_id)
        latency = sdk.sessions.latency.get_by_id(session_id=session_id)
        labels = sdk.session_labels.list(
            search_fields=[models.SessionLabelProperties.SESSION_ID], search_field_values=[session_id]
        )
        events = [e for e in sdk.events.list(limit=100).items or [] if e.session_id == session_id]
        return {
            "session_id": session_id,
            "service": session.channel_manager_service,
            "type": session.channel_manager_type,
            "conversation": session.conversation_id,
            "agent": session.agent_name,
            "source": session.source,
            "target": session.target,
            "is_outbound": session.is_outbound,
            "duration": session.duration,
            "timestamp": session.timestamp,
            "user_terminated": session.user_terminated,
            "turns": [(t.source, t.text) for t in transcript.transcription],
            "tools": [
                (a.tool_name, _json_or_text(a.tool_request), _json_or_text(a.tool_result))
                for a in transcript.actions
            ],
            "latency": sorted(
                (getattr(e.category, "value", e.category), e.label) for e in latency.timeline or []
            ),
            "labels": sorted((getattr(x.type, "value", x.type), x.code, x.user_email) for x in labels.items),
            "events": sorted(
                (str(e.type), e.description or "") for e in events if str(e.type).startswith("provider.")
            ),
            "report": _report(url, org, session_id),
        }


def _report(url: str, org: Org, session_id: str) -> dict[str, Any]:
    """The session's provider reports' attributes merged in time order, read over plain HTTP: the
    official client's `Event.attributes` model declares no fields, so it keeps none of them."""
    answer = httpx.get(f"{url}/api/v1/events/", params={"limit": 100}, headers=org.headers("read"))
    answer.raise_for_status()
    merged: dict[str, Any] = {}
    items = sorted(answer.json()["items"], key=lambda item: item["timestamp"])
    for item in items:
        if item.get("session_id") == session_id and item.get("type") == "provider.report":
            merged.update(item.get("attributes") or {})
    return merged


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    """Poll `check()` until it returns something truthy (background work such as a fetch); its last value."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value and time.monotonic() < deadline:
        time.sleep(0.05)
        value = check()
    return value
