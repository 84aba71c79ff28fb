"""One producer session: each method builds one event, queues it, and returns its id at once (no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Literal

from sessionary_client._events import build, utc_iso

Emit = Callable[[dict[str, Any]], bool]
Speaker = Literal["user", "agent"]
LatencyCategory = Literal["stt", "tts", "llm", "tool", "http"]
Unit = Literal["minutes", "seconds", "milliseconds", "microseconds", "nanoseconds"]


class Session:
    """Events of the session `service`/`sid`; made by `SessionaryClient.session()`, which sends its start.

    Every method takes `timestamp` (a timezone-aware datetime, default now) and `event_id` (default a new
    uuid4, kept for every retry) and returns the event's id. Used as a context manager, it sends
    `session.ended` on exit unless `end()` was called.
    """

    def __init__(self, emit: Emit, service: str, sid: str) -> None:
        self._emit = emit
        self.service = service
        self.sid = sid
        self.ended_by: str | None = None  # the id of the session.ended event, once sent

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.ended_by is None:
            self.end()

    def event(
        self,
        type_: str,
        data: dict[str, Any],
        *,
        timestamp: datetime | None = None,
        event_id: str | None = None,
    ) -> str:
        """Queue an event of any type with this session's ids; `data` keys valued None are left out."""
        event = build(
            type_, service=self.service, sid=self.sid, data=data, timestamp=timestamp, event_id=event_id
        )
        self._emit(event)
        return str(event["event_id"])

    def start(self, *, timestamp: datetime | None = None, event_id: str | None = None, **fields: Any) -> str:
        """`session.started` with the Session fields given (agent_name, channel_manager_type, ...)."""
        return self.event("session.started", fields, timestamp=timestamp, event_id=event_id)

    def update(self, *, timestamp: datetime | None = None, event_id: str | None = None, **fields: Any) -> str:
        """`session.updated`: Session fields learned later (the latest timestamp wins per field)."""
        return self.event("session.updated", fields, timestamp=timestamp, event_id=event_id)

    def transcript(
        self,
        source: Speaker,
        text: str,
        *,
        lang: str | None = None,
        timestamp: datetime | None = None,
        event_id: str | None = None,
    ) -> str:
        """One turn of the dialog, said by the `user` or the `agent`."""
        data = {"source": source, "text": text, "lang": lang}
        return self.event("transcript", data, timestamp=timestamp, event_id=event_id)

    def tool_call(
        self,
        tool_call_id: str,
        tool_name: str,
        *,
        request: Any = None,
        result: Any = None,
        error: Any = None,
        duration_ms: float | None = None,
        timestamp: datetime | None = None,
        event_id: str | None = None,
    ) -> str:
        """A tool the agent called: its arguments, result or error (any JSON) and how long it took."""
        data = {
            "tool_call_id": tool_call_id,
            "tool_name": tool_name,
            "tool_request": request,
            "tool_result": result,
            "tool_error": error,
            "duration_ms": duration_ms,
        }
        return self.event("tool_call", data, timestamp=timestamp, event_id=event_id)

    def latency(
        self,
        category: LatencyCategory,
        label: str,
        value: float,
        *,
        unit: Unit = "milliseconds",
        metadata: Sequence[str] | None = None,
        measurement_start: datetime | None = None,
        timestamp: datetime | None = None,
        event_id: str | None = None,
    ) -> str:
        """A measured delay (`llm_first_token`, `stt_processing`, ...) of `value` `unit`s."""
        data = {
            "category": category,
            "label": label,
            "value": value,
            "unit": unit,
            "metadata": None if metadata is None else list(metadata),
            "measurement_start": None if measurement_start is None else utc_iso(measurement_start),
        }
        return self.event("latency", data, timestamp=timestamp, event_id=event_id)

    def custom(
        self,
        type_: str,
        *,
        description: str | None = None,
        source: str | None = None,
        source_id: str | None = None,
        category: str | None = None,
        user_id: str | None = None,
        attributes: dict[str, Any] | None = None,
        timestamp: datetime | None = None,
        event_id: str | None = None,
    ) -> str:
        """A notable occurrence of the producer's own (`type_`: "transfer", "escalation", ...)."""
        data = {
            "type": type_,
            "description": description,
            "source": source,
            "source_id": source_id,
            "category": category,
            "user_id": user_id,
            "attributes": attributes,
        }
        return self.event("custom", data, timestamp=timestamp, event_id=event_id)

    def end(
        self,
        *,
        user_terminated: bool | None = None,
        transfer_voicemail_detected: bool | None = None,
        duration: float | None = None,
        timestamp: datetime | None = None,
        event_id: str | None = None,
    ) -> str:
        """`session.ended` (once: a second call returns the first one's id); `duration` in seconds."""
        if self.ended_by is None:
            data = {
                "user_terminated": user_terminated,
                "transfer_voicemail_detected": transfer_voicemail_detected,
                "duration": duration,
            }
            self.ended_by = self.event("session.ended", data, timestamp=timestamp, event_id=event_id)
        return self.ended_by
