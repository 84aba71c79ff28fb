"""Enrichment end to end on each database: a server with a .mmdb and a trusted proxy fills geolocation,
ipOrganization and ipAddress from X-Forwarded-For; the default server (no database set) has none."""

from __future__ import annotations

import httpx

from sessionary.db import Database
from tests.conftest import Org
from tests.journey import mmdb
from tests.journey.builders import UA_IPHONE, cookie, get_session, make_deployment, now, web, web_ok


def test_geolocation_organization_and_client_ip_behind_a_trusted_proxy(
    geo_client: httpx.Client, database: Database, org: Org
) -> None:
    deployment = make_deployment(database, org.id)
    headers = {"X-Forwarded-For": f"192.0.2.1, {mmdb.PARIS}", "User-Agent": UA_IPHONE}
    body = web(
        cookie(),
        now(),
        url="https://shop.example/?utm_source=fb&utm_medium=paid_social&utm_campaign=c1",
        referrerUrl="https://m.facebook.com/",
    )
    answer = web_ok(geo_client, deployment, body, headers=headers)
    assert answer["geolocation"]["locality"] == "Paris"
    assert answer["ipOrganization"] == "Example Telecom"
    assert answer["device"]["category"] == "mobile"
    assert answer["mktCampaign"] == {"source": "fb", "medium": "paid_social", "name": "c1"}
    assert answer["referrer"]["medium"] == "paid"
    session = get_session(geo_client, org.read, answer["session"]["id"])
    assert (session["ipAddress"], session["geolocation"]["country"]) == (mmdb.PARIS, "FR")
    assert session["browser"]["family"] == "Mobile Safari"


def test_an_ip_address_in_the_body_wins_and_a_miss_is_no_geolocation(
    geo_client: httpx.Client, database: Database, org: Org
) -> None:
    deployment = make_deployment(database, org.id)
    answer = web_ok(geo_client, deployment, web(cookie(), now(), ipAddress=mmdb.NO_CITY))
    assert answer["geolocation"] == {"country": "US", "countryName": "United States", "source": "ip"}
    missed = web_ok(geo_client, deployment, web(cookie(), now(), ipAddress="192.0.2.200"))
    assert "geolocation" not in missed
    assert "ipOrganization" not in missed


def test_without_a_database_setting_there_is_no_geolocation_and_no_error(
    client: httpx.Client, database: Database, org: Org
) -> None:
    deployment = make_deployment(database, org.id)
    answer = web_ok(client, deployment, web(cookie(), now()), headers={"X-Forwarded-For": mmdb.PARIS})
    assert "geolocation" not in answer
    session = get_session(client, org.read, answer["session"]["id"])
    assert session["ipAddress"] == "127.0.0.1"  # no trusted proxy configured: the header is ignored
