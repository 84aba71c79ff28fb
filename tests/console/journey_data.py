"""A known customer for console journey tests, built through the journey ingest API and /api/v1/events:
two web visits (one with a campaign and a referrer) linked by traits to one contact, and that contact's
call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import httpx

from sessionary.db import Database
from tests.console.data import call, ingest_calls, session_ids
from tests.journey.builders import UA_IPHONE, cookie, iso, make_deployment, minutes, now, web, web_ok

PHONE = "+14155550123"
LANDING = "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=Spring+Sale"


@dataclass(frozen=True)
class Customer:
    visit: str  # session id (/api/v1) of the visit with the campaign: three pages
    other_visit: str  # the same person's other visit (another cookie, same email)
    call: str  # the session id of the contact's call
    stranger_call: str  # a call from another number


def _trait(value: str) -> dict[str, str]:
    return {"dataType": "string", "value": value}


def build_customer(
    client: httpx.Client, database: Database, organization_id: int, *, ingest_key: str, read_key: str
) -> Customer:
    deployment = make_deployment(database, organization_id)
    start: datetime = now() - minutes(50)  # events older than an hour go through the importer
    visitor = cookie()
    pages = [
        (LANDING, "Spring sale"),
        ("https://shop.example/shoes", "Shoes"),
        ("https://shop.example/checkout", "Checkout"),
    ]
    visit_uuid = ""
    for i, (url, title) in enumerate(pages):
        extra = {"referrerUrl": "https://mail.google.com/"} if i == 0 else {}
        body = web(visitor, start + minutes(i), url=url, title=title, userAgentString=UA_IPHONE, **extra)
        if i == 2:
            body["traits"] = {"email": _trait("ann@example.com"), "cellPhone": _trait(PHONE)}
        visit_uuid = web_ok(client, deployment, body)["session"]["id"]
    later = web(cookie(), start + minutes(30), url="https://shop.example/help", title="Help",
                traits={"email": _trait("ANN@example.com")})  # fmt: skip
    other_uuid = web_ok(client, deployment, later)["session"]["id"]
    call_at = iso(start + minutes(40))
    ann = call("ann-call", start=call_at, end=iso(start + minutes(42)), turns=False)
    ann[0]["data"]["source"] = PHONE
    bob = call("bob-call", start=call_at, end=iso(start + minutes(41)), turns=False)
    ingest_calls(client, ingest_key, [ann, bob])
    ids = session_ids(client, read_key)
    return Customer(
        visit=ids[visit_uuid],
        other_visit=ids[other_uuid],
        call=ids["ann-call"],
        stranger_call=ids["bob-call"],
    )
