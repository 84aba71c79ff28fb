"""Every /api/v2 response conforms to the official Genesys client's models (tests/journey/genesys_models):
no undeclared key, every required key, each value of its declared type and enum set, all the way down.
The traffic (tests/journey/conformance_data.py) is one realistic organization per database; each test
checks the responses of one operation."""

from __future__ import annotations

import httpx
import pytest

from sessionary.db import Database
from tests.journey.conformance_data import Responses, record_everything
from tests.journey.genesys_models.checker import catalog, root_model, violations


@pytest.fixture(scope="module")
def responses(geo_client: httpx.Client, database: Database) -> Responses:
    return record_everything(geo_client, database)


def _conforms(seen: Responses, operation: str) -> None:
    bodies = seen.by_operation[operation]
    assert bodies
    found = [line for body in bodies for line in violations(root_model(operation), body)]
    assert found == [], "\n".join(sorted(set(found)))


def test_the_checker_names_undeclared_missing_mistyped_and_out_of_set_values() -> None:
    body = {
        "id": "s1",
        "type": "web",
        "eventCount": "3",
        "authenticated": False,
        "createdDate": "2024-05-01T10:00:00.000Z",
        "lastEvent": {"id": "e1", "eventName": "page_viewed", "createdDate": "2024-05-01T10:00:00+00:00"},
        "device": {
            "category": "phone",
            "type": "iPhone",
            "isMobile": True,
            "osFamily": "iOS",
            "osVersion": "17",
        },
        "searchTerms": [1],
        "sessionCount": 2,
        "browser": {"family": "Chrome", "version": "124"},
    }
    found = violations("Session", body)
    assert "$.sessionCount: not declared in Session" in found
    assert "$.eventCount: integer expected, got '3'" in found
    assert "$.lastEvent.createdDate: datetime expected, got '2024-05-01T10:00:00+00:00'" in found
    assert "$.device.category: one of ['desktop', 'mobile', 'tablet', 'other'] expected, got 'phone'" in found
    assert "$.searchTerms[0]: string expected, got 1" in found
    assert "$.browser.featuresFlash: required by Browser, missing" in found
    assert len(found) == 9  # the four browser features
    assert any(
        line.startswith("$.lastEvent: null") for line in violations("Session", {**body, "lastEvent": None})
    )


def test_every_api_v2_operation_served_has_its_model_in_the_catalog(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    served = {
        op["operationId"]
        for path, ops in spec["paths"].items()
        if path.startswith("/api/v2/")
        for op in ops.values()
    }
    assert served == set(catalog()["roots"]) - {"error"}


def test_web_event_responses_conform_to_web_event_response(responses: Responses) -> None:
    _conforms(responses, "postJourneyDeploymentWebevents")


def test_app_event_responses_conform_to_app_event_response(responses: Responses) -> None:
    _conforms(responses, "postJourneyDeploymentAppevents")


def test_web_app_and_native_sessions_conform_to_session(responses: Responses) -> None:
    _conforms(responses, "getJourneySession")
    types = sorted({s["type"] for s in responses.by_operation["getJourneySession"]})
    assert types == ["app", "conversation", "web"]


def test_every_event_type_of_the_listing_conforms_to_event_listing(responses: Responses) -> None:
    _conforms(responses, "getJourneySessionEvents")
    listed = {
        e["eventType"] for page in responses.by_operation["getJourneySessionEvents"] for e in page["entities"]
    }
    assert listed == {
        "com.genesys.journey.WebEvent",
        "com.genesys.journey.AppEvent",
        "com.genesys.journey.SegmentAssignmentEvent",
        "com.genesys.journey.OutcomeAchievedEvent",
    }


def test_is_mobile_follows_the_category_an_event_gives_when_it_leaves_is_mobile_out(
    responses: Responses,
) -> None:
    devices = [body["device"] for body in responses.by_operation["postJourneyDeploymentAppevents"]]
    assert [d["category"] for d in devices] == ["mobile", "mobile", "mobile"]
    assert [d["isMobile"] for d in devices] == [True, True, True]


def test_outcome_scores_conform_to_outcome_scores_result(responses: Responses) -> None:
    _conforms(responses, "getJourneySessionOutcomescores")


def test_a_contacts_web_app_and_native_sessions_conform_to_session_listing(responses: Responses) -> None:
    _conforms(responses, "getExternalcontactsContactJourneySessions")
    pages = responses.by_operation["getExternalcontactsContactJourneySessions"]
    assert {s["type"] for page in pages for s in page["entities"]} == {"web", "app", "conversation"}


def test_every_error_conforms_to_error_body(responses: Responses) -> None:
    _conforms(responses, "error")
    assert {e["status"] for e in responses.by_operation["error"]} == {400, 401, 403, 404, 405, 413}
