"""One organization's worth of everything a session can make, ingested through the faces as users do.

`populate(..., doomed=True)` adds the doomed sessions too: call A (in conversation conv-1 with call B, with
a label, a recording, a summary, a fetch job, an OTLP trace, notable events, latency), web visit V1 of
customer X (who keeps visit V2) and the only visit of customer Y (a contact by her email). Without them,
the same organization minus the doomed sessions: after their deletion, the first must look like it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from sessionary.db import Database, session_scope
from sessionary.journey.models import JourneySession
from sessionary.otel import store as otel_store
from sessionary.recordings import fetchjobs
from tests.conftest import Org
from tests.console.data import call, session_ids
from tests.helpers import event, ingest_ok
from tests.journey.builders import bearer, make_deployment, minutes, web, web_ok
from tests.recordings.helpers import audio, upload_ok

DOOMED_WORD = "quixotically"  # said only in call A
KEPT_WORD = "marmalade"  # said only in call B
METRICS_RANGE = {"start_datetime": "2024-06-19T00:00:00Z", "end_datetime": "2024-06-20T00:00:00Z"}


@dataclass
class Made:
    """Ids of what `populate` made (the doomed ones empty when not made)."""

    deployment: str
    kept: dict[str, str] = field(default_factory=dict)  # name -> session id (native) or UUID (web)
    doomed: dict[str, str] = field(default_factory=dict)
    doomed_ids: list[int] = field(default_factory=list)  # `session` ids of every doomed session
    doomed_web_events: list[str] = field(default_factory=list)
    doomed_cookie: str = ""
    contact: str = ""


def _call(sid: str, word: str, start: str) -> list[dict[str, Any]]:
    events = call(sid, start=start, end=start.replace("10:00:00", "10:02:00"), conversation="conv-1")
    said = {"source": "user", "text": f"it was {word} done"}
    return [*events, event(f"{sid}-w", sid=sid, timestamp=start.replace("10:00:00", "10:00:10"), data=said)]


def populate(client: httpx.Client, database: Database, org: Org, *, at: datetime, doomed: bool) -> Made:
    """Ingest the organization's data (see the module's docstring); `at` is "now" for the web visits."""
    made = Made(deployment=make_deployment(database, org.id))
    calls = [("call-b", KEPT_WORD, "2024-06-19T10:00:00Z")]
    if doomed:
        calls.append(("call-a", DOOMED_WORD, "2024-06-19T10:00:00Z"))
    ingest_ok(client, org.ingest, [e for sid, word, start in calls for e in _call(sid, word, start)])
    ids = session_ids(client, org.read)
    names = [("b", "call-b")] + ([("a", "call-a")] if doomed else [])
    for name, sid in names:
        target = made.doomed if name == "a" else made.kept
        target[name] = ids[sid]
        _extras(client, database, org, ids[sid], sid)
    x = "cookie-x-" + org.name
    if doomed:
        v1 = [web_ok(client, made.deployment, web(x, at - minutes(m))) for m in (55, 54)]
        made.doomed["v1"] = v1[0]["session"]["id"]
        made.doomed_cookie = "cookie-y-" + org.name
        trait = {"email": {"dataType": "string", "value": f"ann@{org.name}.example"}}
        y = web_ok(client, made.deployment, web(made.doomed_cookie, at - minutes(45), traits=trait))
        made.doomed["y"] = y["session"]["id"]
        journey = client.get(f"/api/v2/journey/sessions/{made.doomed['y']}", headers=bearer(org.read)).json()
        made.contact = journey["externalContact"]["id"]
    made.kept["v2"] = web_ok(client, made.deployment, web(x, at - minutes(10)))["session"]["id"]
    made.doomed_ids = [int(made.doomed["a"])] if doomed else []
    for name in ("v1", "y") if doomed else ():
        row_id, first, last = _window(database, made.doomed[name])
        made.doomed_ids.append(row_id)
        made.doomed_web_events += sorted({first, last})
    return made


def _extras(client: httpx.Client, database: Database, org: Org, session_id: str, sid: str) -> None:
    """A label, a recording, a summary, a recording fetch job and an OTLP trace for the session."""
    label = {"session_id": int(session_id), "type": "human-rating", "code": "BAD", "user_email": "q@x.io",
             "issue_categories": ["tool_error"]}  # fmt: skip
    response = client.post("/api/v1/session_labels/", json=label, headers=org.headers("read"))
    assert response.status_code == 200, response.text
    upload_ok(client, org.ingest, audio(4000, seed=len(sid)), sid=sid, service="hedy")
    summary = client.get(f"/api/v1/sessions/full-summary/{session_id}", headers=org.headers("read"))
    assert summary.status_code == 200, summary.text
    with session_scope(database.writer) as db:
        fetchjobs.enqueue(
            db,
            organization_id=org.id,
            channel_manager_service="hedy",
            channel_manager_sid=sid,
            provider="twilio",
            source_key="recording",
            url="https://api.twilio.com/2010-04-01/Recordings/RE1.wav",
        )
        trace = f"trace-{sid}-{org.name}"
        otel_store.lock_traces(db, organization_id=org.id, trace_ids=[trace], now=datetime.now().astimezone())
        otel_store.set_keys(db, organization_id=org.id, keys={trace: ("hedy", sid)})


def _window(database: Database, uuid: str) -> tuple[int, str, str]:
    """A journey session's row id and the ids of its first and last events."""
    columns = (JourneySession.session_id, JourneySession.first_event_id, JourneySession.last_event_id)
    with session_scope(database.reader) as db:
        row = db.execute(select(*columns).where(JourneySession.uuid == uuid)).one()
        return int(row[0]), str(row[1]), str(row[2])
