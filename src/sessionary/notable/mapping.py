"""Which ingest events are notable, and what they say (the table is in the README).

| ingest event | source | source_id | category | type |
|---|---|---|---|---|
| tool_call, tool_error set | tool-call | tool_name | automation | tool-error |
| tool_call, tool_name contains "transfer" | tool-call | tool_name | transfer | transfer |
| tool_call, any other | tool-call | tool_name | automation | tool-call |
| session.ended, transfer_voicemail_detected true | session | - | transfer | voicemail-transfer |
| custom | as sent | as sent | as sent | as sent |
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import JsonValue

from sessionary.eventlog.schemas import (
    CustomData,
    CustomEvent,
    EventIn,
    SessionEndedData,
    SessionEndedEvent,
    ToolCallData,
    ToolCallEvent,
)

# The ingest event types that may be notable (a cheap test before the mapping).
NOTABLE_TYPES = frozenset({"tool_call", "session.ended", "custom"})
Notable = dict[str, Any]  # source, source_id, category, type, user_id, description, attributes
_DESCRIPTION = 200  # characters of a tool error quoted in a description
# tool_request keys that name where a transfer goes, first match wins.
DESTINATION_KEYS = ("destination", "phone_number", "number", "target", "to", "queue")


def notable(event: EventIn) -> Notable | None:
    """The notable event an ingest event makes, or None for the ordinary ones."""
    if isinstance(event, ToolCallEvent):
        return tool_call(event.data)
    if isinstance(event, SessionEndedEvent):
        return session_ended(event.data)
    if isinstance(event, CustomEvent):
        return custom(event.data)
    return None


def tool_call(data: ToolCallData) -> Notable:
    """A tool call: an error, a transfer, or a plain call."""
    attributes: dict[str, Any] = {"tool_call_id": data.tool_call_id}
    if data.duration_ms is not None:
        attributes["duration_ms"] = data.duration_ms
    name = data.tool_name
    found = {"source": "tool-call", "source_id": name, "user_id": None, "attributes": attributes}
    if failed(data.tool_error):
        attributes["tool_error"] = data.tool_error
        return {
            **found,
            "category": "automation",
            "type": "tool-error",
            "description": f"Tool {name} failed: {_quote(data.tool_error)}",
        }
    if "transfer" in name.lower():
        destination = _destination(data.tool_request)
        if destination is not None:
            attributes["destination"] = destination
        where = f"to {destination}" if destination is not None else f"via {name}"
        return {**found, "category": "transfer", "type": "transfer", "description": f"Transfer {where}"}
    took = f" ({data.duration_ms:.0f} ms)" if data.duration_ms is not None else ""
    return {
        **found,
        "category": "automation",
        "type": "tool-call",
        "description": f"Tool {name} called{took}",
    }


def session_ended(data: SessionEndedData) -> Notable | None:
    """A session end is notable when its transfer reached voicemail."""
    if not data.transfer_voicemail_detected:
        return None
    attributes = data.model_dump(mode="json", exclude_unset=True)
    return {
        "source": "session",
        "source_id": None,
        "category": "transfer",
        "type": "voicemail-transfer",
        "user_id": None,
        "description": "Transfer reached voicemail",
        "attributes": attributes,
    }


def custom(data: CustomData) -> Notable:
    """A producer's own notable event, as sent."""
    return {
        "source": data.source,
        "source_id": data.source_id,
        "category": data.category,
        "type": data.type,
        "user_id": data.user_id,
        "description": data.description,
        "attributes": data.attributes,
    }


def failed(tool_error: JsonValue) -> bool:
    """Whether a tool_error value reports an error (null, false and empty values do not)."""
    return tool_error not in (None, False, "", {}, [])


def _quote(error: JsonValue) -> str:
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        text = str(error["message"])
    elif isinstance(error, str):
        text = error
    else:
        text = orjson.dumps(error).decode()
    return text if len(text) <= _DESCRIPTION else text[: _DESCRIPTION - 1] + "…"


def _destination(request: JsonValue) -> str | None:
    if isinstance(request, dict):
        for key in DESTINATION_KEYS:
            value = request.get(key)
            if isinstance(value, str) and value:
                return value[:_DESCRIPTION]
    return None
