"""Twilio callbacks with the parameters Twilio documents for voice status callbacks
(https://www.twilio.com/docs/voice/api/call-resource#statuscallback) and recording status callbacks
(https://www.twilio.com/docs/voice/api/recording#recordingstatuscallback), shaped as in its examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

ACCOUNT = "AC" + "3f" * 16
CALL = "CA" + "1b" * 16
CHILD = "CA" + "2c" * 16
START = datetime(2025, 12, 6, 9, 15, 0, tzinfo=UTC)


def status(
    state: str,
    *,
    seconds: int,
    sequence: int,
    call: str = CALL,
    direction: str = "inbound",
    duration: int | None = None,
    parent: str | None = None,
) -> dict[str, str]:
    """A status callback `seconds` after the call began (Timestamp in RFC 2822, as Twilio sends it)."""
    params = {
        "AccountSid": ACCOUNT,
        "ApiVersion": "2010-04-01",
        "CallSid": call,
        "CallStatus": state,
        "CallbackSource": "call-progress-events",
        "Called": "+14155550199",
        "Caller": "+14155550100",
        "Direction": direction,
        "From": "+14155550100",
        "To": "+14155550199",
        "SequenceNumber": str(sequence),
        "Timestamp": format_datetime(START + timedelta(seconds=seconds)),
    }
    if duration is not None:
        params["CallDuration"] = str(duration)
        params["Duration"] = str((duration + 59) // 60)
    if parent is not None:
        params["ParentCallSid"] = parent
    return params


def recording(url: str, *, call: str = CALL, sid: str = "RE" + "4d" * 16) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT,
        "CallSid": call,
        "RecordingSid": sid,
        "RecordingUrl": url,
        "RecordingStatus": "completed",
        "RecordingDuration": "42",
        "RecordingChannels": "1",
        "RecordingSource": "DialVerb",
        "RecordingStartTime": format_datetime(START + timedelta(seconds=9)),
        "RecordingTrack": "both",
    }


def answered_call() -> list[dict[str, str]]:
    """initiated → ringing → in-progress → completed, an answered 42-second inbound call."""
    return [
        status("initiated", seconds=0, sequence=0),
        status("ringing", seconds=2, sequence=1),
        status("in-progress", seconds=9, sequence=2),
        status("completed", seconds=51, sequence=3, duration=42),
    ]
