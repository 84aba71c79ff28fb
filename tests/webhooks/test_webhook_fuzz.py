"""Fuzzing the webhook face with correctly signed deliveries (the signature is no shield: a provider's
account holder controls the body): random JSON, valid payloads with random values put anywhere, random
forms. Never a 5xx, and the organization's sessions still read afterwards."""

from __future__ import annotations

import copy
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionary.db import Database
from tests.conftest import make_org
from tests.helpers import LiveServer
from tests.webhooks import retell_payloads, twilio_payloads
from tests.webhooks.helpers import connect, retell_post, twilio_post, vapi_post

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["\x00", "9" * 400, "2025-12-06T10:00:00Z", "call_ended", "tool_call_invocation"])
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _planted(payload: dict[str, Any], where: int, value: Any) -> dict[str, Any]:
    """`payload` with `value` put at one of its paths (chosen by `where`)."""
    planted = copy.deepcopy(payload)
    paths = [p for p in _paths(planted) if p]
    path = paths[where % len(paths)]
    target = planted
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return planted


def _still_reads(hooks: LiveServer, key: str) -> None:
    answer = httpx.get(hooks.url + "/api/v1/sessions/", headers={"Syllable-API-Key": key})
    assert answer.status_code == 200


def test_signed_retell_deliveries_of_any_content_never_give_a_5xx(
    hooks: LiveServer, database: Database
) -> None:
    org = make_org(database)
    hook = connect(database, org.id, "retell", "key_fuzz")
    valid = retell_payloads.analyzed()

    @FUZZ
    @given(st.integers(min_value=0), _json, _json)
    def deliver(where: int, value: Any, anything: Any) -> None:
        for body in (_planted(valid, where, value), {"event": "call_ended", "call": anything}):
            answer = retell_post(hooks.url, hook, body)
            assert answer.status_code < 500, answer.text

    deliver()
    _still_reads(hooks, org.read)


def test_signed_vapi_messages_of_any_content_never_give_a_5xx(hooks: LiveServer, database: Database) -> None:
    org = make_org(database)
    hook = connect(database, org.id, "vapi", "vapi-secret-fuzz")

    @FUZZ
    @given(_json, _json)
    def deliver(message: Any, anything: Any) -> None:
        bodies = [
            {"message": message},
            {"message": {"type": "end-of-call-report", "call": {"id": "c1"}, "artifact": anything}},
            {"message": {"type": "status-update", "status": anything, "call": {"id": "c2"}}},
            anything,
        ]
        for body in bodies:
            answer = vapi_post(hooks.url, hook, body)  # type: ignore[arg-type]
            assert answer.status_code < 500, answer.text

    deliver()
    _still_reads(hooks, org.read)


def test_signed_twilio_callbacks_of_any_content_never_give_a_5xx(
    hooks: LiveServer, database: Database
) -> None:
    org = make_org(database)
    hook = connect(database, org.id, "twilio", "a" * 32)
    valid = twilio_payloads.answered_call()[3]
    form_value = st.text(max_size=60) | st.sampled_from(["\x00", "-1", "99999999999", "Mon, 99 Foo 2020"])

    @FUZZ
    @given(st.sampled_from(sorted(valid)), form_value, st.dictionaries(st.text(max_size=12), form_value))
    def deliver(name: str, value: str, extra: dict[str, str]) -> None:
        for params in ({**valid, name: value}, {**valid, **extra}, extra):
            answer = twilio_post(hooks.url, hook, params)
            assert answer.status_code < 500, answer.text

    deliver()
    _still_reads(hooks, org.read)
