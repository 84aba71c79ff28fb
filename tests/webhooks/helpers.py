"""Connecting a provider and delivering to a live server as each provider does: signed with the provider's
own library (twilio's RequestValidator, retell-sdk's signer), the body encoded as the provider sends it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from retell.lib.webhook_auth import symmetric as retell_webhooks
from twilio.request_validator import RequestValidator

from sessionary.db import Database, session_scope
from sessionary.integrations import service as integrations
from sessionary.integrations.secrets import SECRET_NAME, Sealer
from sessionary.recordings.tokens import load_secret

# Where the tests' servers say they are reached (what Twilio signs): a proxy's address, not the server's.
PUBLIC_URL = "https://sessions.example.test"


@dataclass(frozen=True)
class Connected:
    integration_id: int
    url: str  # the webhook URL on PUBLIC_URL
    path: str  # its path, posted to the live server
    secret: str


def connect(database: Database, organization_id: int, provider: str, secret: str) -> Connected:
    """The provider connected for the organization, as `sessionary integrations add` does."""
    sealer = Sealer(load_secret(database, None, name=SECRET_NAME))
    with session_scope(database.writer) as db:
        made = integrations.connect(
            db,
            sealer,
            organization_id=organization_id,
            provider=provider,
            secret=secret,
            public_url=PUBLIC_URL,
        )
        integration_id = made.integration.id
    return Connected(integration_id, made.webhook_url, urlsplit(made.webhook_url).path, secret)


def twilio_post(
    base: str, hook: Connected, params: dict[str, str], *, signature: str | None = None
) -> httpx.Response:
    """A Twilio callback: form-encoded, X-Twilio-Signature computed by twilio's RequestValidator over the
    public URL and the parameters."""
    signed = RequestValidator(hook.secret).compute_signature(hook.url, params)
    headers = {"X-Twilio-Signature": signed if signature is None else signature}
    if signature == "":
        headers = {}
    return httpx.post(base + hook.path, data=params, headers=headers, timeout=30)


def retell_body(payload: dict[str, Any]) -> str:
    """The body as Retell sends it (and its docs verify it): compact JSON, non-ASCII as is."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def retell_post(
    base: str,
    hook: Connected,
    payload: dict[str, Any],
    *,
    at_ms: int | None = None,
    key: str | None = None,
    signed: bool = True,
) -> httpx.Response:
    """A Retell webhook: `x-retell-signature` made by retell-sdk's own signer (at `at_ms`, default now)."""
    body = retell_body(payload)
    stamp = int(time.time() * 1000) if at_ms is None else at_ms
    signature = retell_webhooks["sign"](body, key or hook.secret, stamp)
    headers = {"content-type": "application/json"}
    if signed:
        headers["x-retell-signature"] = signature
    return httpx.post(base + hook.path, content=body.encode(), headers=headers, timeout=30)


def vapi_post(
    base: str, hook: Connected, payload: dict[str, Any], *, secret: str | None = None
) -> httpx.Response:
    """A Vapi server message with the server URL secret in X-Vapi-Secret (none when `secret` is '')."""
    headers = {"content-type": "application/json"}
    sent = hook.secret if secret is None else secret
    if sent:
        headers["x-vapi-secret"] = sent
    return httpx.post(base + hook.path, content=json.dumps(payload).encode(), headers=headers, timeout=30)
