"""Twilio Programmable Voice callbacks (form-encoded) to native events. Parameters as Twilio documents
them (https://www.twilio.com/docs/voice/api/call-resource#statuscallback and the recording status callback):

- call status callbacks (`CallSid`, `CallStatus`, `From`, `To`, `Direction`, `Timestamp`,
  `CallDuration`, `ParentCallSid`, ...): each status is one event (`twilio:{CallSid}:status:{status}`), so
  callbacks in any order, or twice, fold into the same session. queued/initiated/ringing/in-progress start
  it; completed, busy, failed, no-answer and canceled end it, with the outcome in a `provider.report` event.
  A completed call also starts at `Timestamp - CallDuration` (when it was answered), for the status
  callbacks that only report the end. A child call (a `<Dial>` leg) is in the conversation of its parent:
  conversation_id is `ParentCallSid`, or the call's own sid for a parent.
- recording status callbacks (`RecordingSid`, `RecordingUrl`, `RecordingStatus`, ...): a completed recording
  is fetched (`RecordingUrl` + `.mp3`, with HTTP basic auth AccountSid:auth token).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from sessionary.webhooks.mapping.common import Builder, Mapped, RecordingRef, Refused, report

_STARTING = ("queued", "initiated", "ringing", "in-progress")
_ENDING = ("completed", "busy", "failed", "no-answer", "canceled")
_MAX_DURATION = 86_400 * 7


def map_callback(params: Mapping[str, str], *, received_at: datetime) -> Mapped | None:
    """The native events of one Twilio callback; None for a callback that stores nothing."""
    builder = Builder("twilio", "twilio", params.get("CallSid"), "CallSid")
    if params.get("RecordingSid") is not None:
        return _recording(builder, params)
    status = params.get("CallStatus")
    if status not in (*_STARTING, *_ENDING):
        raise Refused("CallStatus", f"must be one of {', '.join((*_STARTING, *_ENDING))}")
    at = _timestamp(params.get("Timestamp")) or received_at
    fields = _fields(params, builder.mapped.sid)
    if status in _STARTING:
        builder.add(f"status:{status}", "session.started", at, fields, "CallStatus")
        return builder.mapped
    duration = _duration(params.get("CallDuration"))
    answered = at - timedelta(seconds=duration or 0)
    builder.add("answered" if duration else "placed", "session.started", answered, fields, "CallDuration")
    ended = {} if duration is None else {"duration": float(duration)}
    builder.add(f"status:{status}", "session.ended", at, ended, "CallStatus")
    outcome = {
        "call_status": status,
        "call_duration": duration,
        "answered_by": params.get("AnsweredBy"),
        "sip_response_code": params.get("SipResponseCode"),
    }
    report(builder, at, outcome, description=f"Twilio call {status}", field="CallStatus")
    return builder.mapped


def _fields(params: Mapping[str, str], sid: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"channel_manager_type": "voice_twilio_v1"}
    fields["conversation_id"] = params.get("ParentCallSid") or sid
    direction = params.get("Direction")
    if direction:
        fields["is_outbound"] = direction.startswith("outbound")
    if params.get("From"):
        fields["source"] = params["From"]
    if params.get("To"):
        fields["target"] = params["To"]
    return fields


def _timestamp(value: str | None) -> datetime | None:
    """Twilio's `Timestamp` (RFC 2822, e.g. `Mon, 16 Aug 2010 03:45:01 +0000`)."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise Refused("Timestamp", "must be an RFC 2822 date (as Twilio sends it)") from None
    if parsed.tzinfo is None or not 1970 <= parsed.year <= 9999:
        raise Refused("Timestamp", "must be an RFC 2822 date with its time zone")
    return parsed


def _duration(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or int(value) > _MAX_DURATION:
        raise Refused("CallDuration", f"must be a whole number of seconds, at most {_MAX_DURATION}")
    return int(value)


def _recording(builder: Builder, params: Mapping[str, str]) -> Mapped | None:
    if params.get("RecordingStatus", "completed") != "completed":
        return None  # in-progress, absent or failed: nothing to fetch
    url, sid = params.get("RecordingUrl"), params["RecordingSid"]
    if not url:
        raise Refused("RecordingUrl", "is required for a completed recording")
    if not sid or len(sid) > 64 or not sid.isalnum():
        raise Refused("RecordingSid", "must be Twilio's recording sid (letters and digits)")
    account = params.get("AccountSid")
    media = url if url.endswith((".mp3", ".wav")) else url + ".mp3"
    kind = "audio/wav" if media.endswith(".wav") else "audio/mpeg"
    builder.mapped.recordings.append(
        RecordingRef(sid, media, f"{sid}{media[-4:]}", kind, account, "RecordingUrl")
    )
    return builder.mapped
