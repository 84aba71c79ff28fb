"""What the Settings page shows, and its forms read into the API's own bodies and bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session as DBSession
from starlette.datastructures import FormData

from sessionary.errors import InvalidRequest
from sessionary.integrations import service as integrations
from sessionary.integrations.secrets import SealerSource
from sessionary.keys import service as keys
from sessionary.keys.schemas import KeyCreate, KeyRead
from sessionary.lifecycle import policy as retention

RETENTION_FIELDS = ("retention_days", "content_retention_days")
_FIELD_NAMES = {"scopes": "Scopes", "expires_at": "Expires"}


@dataclass(frozen=True)
class IntegrationLine:
    provider: str
    name: str | None
    created_at: Any
    status: str  # active, or unreadable (its secret does not open under the server secret)


@dataclass(frozen=True)
class SettingsView:
    keys: list[KeyRead]
    policy: retention.Policy
    integrations: list[IntegrationLine]
    max_days: int = retention.MAX_DAYS


def view(db: DBSession, *, organization_id: int, sealers: SealerSource) -> SettingsView:
    """The organization's keys (not revoked), retention periods and integrations (not removed)."""
    sealer = sealers.current()
    lines = [
        IntegrationLine(
            row.provider,
            row.name,
            row.created_at,
            "active" if integrations.readable(sealer, row) else "unreadable",
        )
        for row in integrations.list_integrations(db, organization_id=organization_id)
    ]
    return SettingsView(
        keys=[keys.to_read(row) for row in keys.keys_of(db, organization_id=organization_id)],
        policy=retention.policy_of(db, organization_id=organization_id),
        integrations=lines,
    )


def key_body(form: FormData) -> KeyCreate:
    """The create form as the API's body (ValidationError naming the field otherwise)."""
    scopes = [str(value) for value in form.getlist("scopes")]
    expires = str(form.get("expires_at") or "").strip()
    return KeyCreate.model_validate({"scopes": scopes, "expires_at": expires or None})


def messages(exc: ValidationError) -> list[str]:
    """A form's errors for people, each naming its field."""
    found = []
    for error in exc.errors(include_input=False, include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        found.append(f"{_FIELD_NAMES.get(field, field)}: {error['msg']}")
    return found


def retention_days(values: dict[str, str]) -> dict[str, int | None]:
    """The retention form's periods (empty: kept forever); InvalidRequest naming the field otherwise."""
    days: dict[str, int | None] = {}
    for name in RETENTION_FIELDS:
        text = values.get(name, "")
        if text and not (text.isascii() and text.isdigit() and len(text) <= 6):
            raise InvalidRequest(f"{name}: a whole number of days, or empty (kept forever)")
        days[name] = int(text) if text else None
    retention.check(days["retention_days"], days["content_retention_days"])
    return days
