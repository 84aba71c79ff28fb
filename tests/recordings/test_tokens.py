"""Recording tokens (no server): signed, bound, expiring; the shared secret made once per database."""

from __future__ import annotations

import threading

import pytest
from pydantic import SecretStr

from sessionary.db import Database
from sessionary.errors import Forbidden
from sessionary.recordings.tokens import Grant, TokenSigner, load_secret


def test_a_token_carries_its_organization_and_recording() -> None:
    signer = TokenSigner("s", ttl=60)
    token = signer.issue(organization_id=7, recording_id=42)
    assert signer.verify(token) == Grant(organization_id=7, recording_id=42)


def test_a_token_expires_after_the_ttl() -> None:
    now = [1_000_000.0]
    signer = TokenSigner("s", ttl=60, clock=lambda: now[0])
    token = signer.issue(organization_id=1, recording_id=1)
    now[0] += 59
    assert signer.verify(token).recording_id == 1
    now[0] += 1
    with pytest.raises(Forbidden, match="expired at 1970-01-12T13:47:40Z"):
        signer.verify(token)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = TokenSigner("one", ttl=60).issue(organization_id=1, recording_id=1)
    with pytest.raises(Forbidden, match="Invalid recording token"):
        TokenSigner("two", ttl=60).verify(token)


@pytest.mark.parametrize(
    "payload", [[1, 2], [1, 2, 3, 4], ["1", 2, 9999999999], [True, 2, 9999999999], {"a": 1}]
)
def test_a_well_signed_token_of_another_shape_is_refused(payload: object) -> None:
    signer = TokenSigner("s", ttl=60)
    token = signer._serializer.dumps(payload)
    with pytest.raises(Forbidden, match="Invalid recording token"):
        signer.verify(str(token))


def test_the_database_secret_is_made_once_and_shared(database: Database) -> None:
    found: list[str] = []
    threads = [threading.Thread(target=lambda: found.append(load_secret(database, None))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 1
    assert len(found[0]) >= 32
    assert load_secret(database, None) == found[0]


def test_a_configured_secret_wins_over_the_database_one(database: Database) -> None:
    assert load_secret(database, SecretStr("mine")) == "mine"
    assert load_secret(database, SecretStr("")) == load_secret(database, None)
