"""POST /webhooks/{token}: a voice platform's delivery (Twilio, Vapi, Retell), to the integration the
token names.

In order: the integration (404 for an unknown or removed token, counted as a failed authentication per
client address, like a wrong API key: 429 past the limit), the whole body (body_limit.py: at most
SESSIONARY_WEBHOOK_MAX_BYTES, read in bounded time), the provider's proof (verify.py: 401 without, 403 wrong,
nothing read before it), the gate (a bounded queue: 503 + Retry-After past it, which providers retry), the
mapping (mapping/: 400 naming the provider's field for what cannot be stored), then one write transaction.
"""

import logging
from typing import Annotated, Any
from urllib.parse import parse_qsl

import orjson
from fastapi import APIRouter, Depends, Request

from sessionary.api.syllable import error_responses
from sessionary.config import Settings
from sessionary.db import session_scope
from sessionary.db_types import utcnow
from sessionary.errors import Forbidden, InvalidRequest, NotFound, Unavailable
from sessionary.gate import Gate
from sessionary.integrations import service as integrations
from sessionary.integrations.secrets import SealerSource, SecretUnreadable
from sessionary.tenancy.deps import failures_limited
from sessionary.webhooks import service, verify
from sessionary.webhooks.mapping import retell, twilio, vapi
from sessionary.webhooks.mapping.common import Mapped, Refused

PREFIX = "/webhooks/"
MAX_FORM_FIELDS = 1000
log = logging.getLogger(__name__)


def _integration(request: Request, token: str) -> service.Integration:
    with failures_limited(request, key=token, counted=(NotFound,)):
        with session_scope(request.app.state.db.reader) as db:
            row = integrations.find_active(db, token=token)
            if row is None:
                raise NotFound("No integration has this webhook URL (was it removed?)")
            return service.Integration(row.id, row.organization_id, row.provider, row.sealed_secret)


async def _whole_body(request: Request) -> bytes:
    return await request.body()


Found = Annotated[service.Integration, Depends(_integration, scope="function")]
Body = Annotated[bytes, Depends(_whole_body)]


def _secret(request: Request, integration: service.Integration) -> str:
    """The integration's provider secret, opened under this process's server secret (read again once when
    that fails: a `sessionary secret rotate` less than 10 s ago)."""
    sealers: SealerSource = request.app.state.sealers
    try:
        try:
            return sealers.current().open(integration.sealed_secret)
        except SecretUnreadable:
            return sealers.fresh().open(integration.sealed_secret)
    except SecretUnreadable:
        log.error(
            "integration %d: its secret cannot be opened (SESSIONARY_SECRET_KEY changed?); remove it and "
            "add it again",
            integration.id,
        )
        raise Unavailable("This integration's secret cannot be read on this server", retry_after=60) from None


def _verified(request: Request, integration: service.Integration, body: bytes) -> Mapped | None:
    """The delivery's proof checked (verify.py), then its body mapped to native events."""
    secret = _secret(request, integration)
    headers, received_at = request.headers, utcnow()
    with failures_limited(request, key="signature", counted=(Forbidden,)):
        if integration.provider == "twilio":
            form = _form(request, body)
            tail = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            urls = [request.app.state.settings.public_url + tail, str(request.url)]
            verify.twilio(headers, urls=urls, form=form, auth_token=secret)
            return twilio.map_callback({k: v[-1] for k, v in form.items()}, received_at=received_at)
        text = _utf8(body)
        if integration.provider == "retell":
            verify.retell(headers, body=text, api_key=secret)
            return retell.map_event(_json(text), received_at=received_at)
        verify.vapi(headers, secret=secret)
    return vapi.map_message(_json(text))


def _form(request: Request, body: bytes) -> verify.Form:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise InvalidRequest("Content-Type: Twilio callbacks are application/x-www-form-urlencoded")
    form = verify.Form()
    try:
        pairs = parse_qsl(_utf8(body), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        raise InvalidRequest(f"body: at most {MAX_FORM_FIELDS} form fields") from None
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(f"body: not UTF-8 (byte {exc.start})") from None


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"body: not JSON ({exc})") from None


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["webhooks"])
    gate = Gate(settings.webhook_concurrency, max_waiting=settings.webhook_max_waiting)
    gated = Depends(gate.hold, scope="function")

    @router.post(
        PREFIX + "{token}",
        operation_id="webhook_deliver",
        responses=error_responses(400, 404, 408, 413, 503),
    )
    def deliver(
        request: Request, integration: Found, body: Body, _gate: Annotated[None, gated]
    ) -> dict[str, Any]:
        """A delivery from the voice platform of the integration this URL names (README "Connect a voice
        platform"): verified, mapped and stored; the same delivery again changes nothing."""
        try:
            mapped = _verified(request, integration, body)
        except Refused as exc:
            raise InvalidRequest(f"{exc.field_name}: {exc.reason}") from None
        if mapped is None:
            return service.Stored(0, 0, 0).answer()
        service.check_size(mapped, max_events=settings.ingest_max_events)
        with session_scope(request.app.state.db.writer) as db:
            stored = service.store(db, integration=integration, mapped=mapped)
        log.info(
            "webhook %s integration %d: %d stored, %d duplicates, %d recordings",
            integration.provider,
            integration.id,
            stored.inserted,
            stored.duplicates,
            stored.recordings,
        )
        return stored.answer()

    return router
