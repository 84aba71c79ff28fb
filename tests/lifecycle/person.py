"""A person with every kind of session (a call, a chat, web visits of two customers merged into one contact,
an app visit, a recording), and another person beside them: the erasure tests' data."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import Org
from tests.helpers import event, ingest_ok, list_sessions
from tests.journey.builders import app_body, bearer, get_session, minutes, now, post_app, web, web_ok
from tests.recordings.helpers import audio, upload_ok


@dataclass
class Person:
    """Who was made, and how to name them."""

    digits: str  # the national number: "804" + 7 random digits
    email: str
    cookies: list[str]
    contact: str = ""
    visits: list[str] = field(default_factory=list)  # /api/v2 session ids
    session_ids: list[str] = field(default_factory=list)  # /api/v1 session ids, every kind
    recordings: list[str] = field(default_factory=list)  # stream URLs

    @property
    def e164(self) -> str:
        return f"+1{self.digits}"

    @property
    def dashed(self) -> str:
        d = self.digits
        return f"+1 ({d[:3]}) {d[3:6]}-{d[6:]}"

    def needles(self) -> list[str]:
        """What must be found in no table after the erasure."""
        return [self.digits, self.email.lower(), *self.cookies, self.contact, *self.visits]


def new_person(name: str) -> Person:
    digits = f"804{random.randrange(2_000_000, 9_999_999)}"
    tag = uuid.uuid4().hex[:8]
    return Person(
        digits=digits, email=f"{name}.{tag}@example.com", cookies=[str(uuid.uuid4()) for _ in range(2)]
    )


def _trait(value: str) -> dict[str, str]:
    return {"dataType": "string", "value": value}


def _ids(client: httpx.Client, org: Org) -> set[str]:
    return {s["session_id"] for s in list_sessions(client, org.read, limit=100)["items"]}


def populate(client: httpx.Client, org: Org, deployment_id: str, who: Person, *, full: bool = True) -> Person:
    """Give `who` a call (source in a national format), a chat (their email, mixed case), web visits of two
    customers (one named by email, one by phone, then both: merged into one contact) and an app visit."""
    before = _ids(client, org)
    at = (now() - minutes(20)).isoformat()
    sid, chat = f"call-{uuid.uuid4().hex[:8]}", f"chat-{uuid.uuid4().hex[:8]}"
    national = f"({who.digits[:3]}) {who.digits[3:6]}-{who.digits[6:]}"
    call = {"channel_manager_type": "voice_sip_v1", "source": national, "target": "+18005550100"}
    texting = {"channel_manager_type": "web_chat", "source": who.email.upper(), "target": "support"}
    said: dict[str, Any] = {"source": "user", "text": f"write to me at {who.email}"}
    ingest_ok(client, org.ingest, [
        event(f"{sid}-s", "session.started", sid=sid, timestamp=at, data=call),
        event(f"{sid}-t", "transcript", sid=sid, timestamp=at),
        event(f"{chat}-s", "session.started", sid=chat, timestamp=at, data=texting),
        event(f"{chat}-t", "transcript", sid=chat, timestamp=at, data=said),
    ])  # fmt: skip
    if full:
        upload_ok(client, org.ingest, audio(2000), sid=sid)
    first, second = who.cookies
    by_email = web(first, now() - minutes(15), traits={"email": _trait(who.email)})
    who.visits.append(web_ok(client, deployment_id, by_email)["session"]["id"])
    by_phone = web(second, now() - minutes(14), traits={"cellPhone": _trait(who.dashed)})
    who.visits.append(web_ok(client, deployment_id, by_phone)["session"]["id"])
    both = web(second, now() - minutes(13), name="form_submitted",
               traits={"phone": _trait(who.e164), "workEmail": _trait(who.email)})  # fmt: skip
    web_ok(client, deployment_id, both)
    app = post_app(client, deployment_id, app_body(first, now() - minutes(12)))
    assert app.status_code == 201, app.text
    who.visits.append(app.json()["session"]["id"])
    who.contact = get_session(client, org.read, who.visits[0])["externalContact"]["id"]
    who.session_ids = sorted(_ids(client, org) - before)
    return who


def recording_urls_of(client: httpx.Client, org: Org, session_ids: list[str]) -> list[str]:
    """The stream URLs of these sessions' recordings."""
    urls: list[str] = []
    for session_id in session_ids:
        response = client.post(f"/api/v1/sessions/recording/{session_id}", headers=org.headers("read"))
        if response.status_code == 200:
            urls.extend(response.json()["recordings"])
    return urls


def visible(client: httpx.Client, org: Org, who: Person) -> list[str]:
    """Every API answer that still shows something of `who` (empty: nothing reachable)."""
    shown: list[str] = []
    read = org.headers("read")
    for session_id in who.session_ids:
        if client.get(f"/api/v1/sessions/{session_id}", headers=read).status_code != 404:
            shown.append(f"session {session_id}")
    for visit in who.visits:
        if client.get(f"/api/v2/journey/sessions/{visit}", headers=bearer(org.read)).status_code != 404:
            shown.append(f"visit {visit}")
        if (
            client.get(f"/api/v2/journey/sessions/{visit}/events", headers=bearer(org.read)).status_code
            != 404
        ):
            shown.append(f"visit events {visit}")
    contact = client.get(
        f"/api/v2/externalcontacts/contacts/{who.contact}/journey/sessions", headers=bearer(org.read)
    )
    if contact.status_code != 404:
        shown.append(f"contact {contact.status_code}")
    for url in who.recordings:
        if client.get(url).status_code != 404:
            shown.append(f"recording {url}")
    texts = [
        client.get("/api/v1/sessions/", params={"limit": 100}, headers=read).text,
        client.get("/api/v1/sessions/search", params={"q": "write to me"}, headers=read).text,
        client.get("/api/v1/conversations/", params={"limit": 100}, headers=read).text,
        client.get("/api/v1/events/", params={"limit": 100}, headers=read).text,
    ]
    for text in texts:
        shown.extend(
            f"listed {needle}" for needle in [*who.session_ids, *who.needles()] if f'"{needle}"' in text
        )
        shown.extend(f"named {needle}" for needle in who.needles() if needle in text.lower())
    return shown
