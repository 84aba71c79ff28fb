"""The sessions whose `source` or `target` names a person's phones or emails, in whatever form it was stored.

A phone may be stored as "+1 (555) 123-4567", "555-123-4567", "tel:+15551234567", "sip:+15551234567@pbx"...:
the database first keeps the values holding the national number's digits in order ("%5%5%5%1%2%...%7%", a
LIKE it runs at C speed over the organization's sessions), then phonenumbers confirms each candidate as the
same E.164 number. Emails are compared lowercased and trimmed. Runs in a read transaction, streamed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session as DBSession

from sessionary.errors import Conflict
from sessionary.journey import contacts
from sessionary.sessions.models import Session

_PER_SCAN = 50  # identifiers per statement (a merge set rarely has more than a few)
_YIELD = 2000


def too_many(cap: int) -> Conflict:
    """The answer when one request would erase more sessions than it may."""
    return Conflict(
        f"this person has more than {cap} sessions, more than one request erases "
        "(SESSIONARY_ERASURE_MAX_SESSIONS): erase them with `sessionary erase`, which works in batches"
    )


def sessions_named(
    db: DBSession,
    *,
    organization_id: int,
    phones: Iterable[str],
    emails: Iterable[str],
    region: str,
    cap: int | None = None,
) -> list[int]:
    """Ids of the organization's sessions whose source or target is one of these E.164 phones or lowercase
    emails; Conflict (too_many) as soon as more than `cap` are found."""
    wanted_phones, wanted_emails = set(phones), set(emails)
    names = [("phone", value) for value in sorted(wanted_phones)] + [
        ("email", v) for v in sorted(wanted_emails)
    ]
    found: set[int] = set()
    for start in range(0, len(names), _PER_SCAN):
        chunk = names[start : start + _PER_SCAN]
        stmt = (
            select(Session.id, Session.source, Session.target)
            .where(Session.organization_id == organization_id, or_(*_prefilter(chunk)))
            .execution_options(yield_per=_YIELD)
        )
        result = db.execute(stmt)
        try:
            for session_id, source, target in result:
                if _names(source, wanted_phones, wanted_emails, region) or _names(
                    target, wanted_phones, wanted_emails, region
                ):
                    found.add(int(session_id))
                    if cap is not None and len(found) > cap:
                        raise too_many(cap)
        finally:
            result.close()  # PostgreSQL streams through a server-side cursor: closed even when stopped early
    return sorted(found)


def _prefilter(names: Sequence[tuple[str, str]]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    emails = [value for kind, value in names if kind == "email"]
    for column in (Session.source, Session.target):
        conditions.extend(column.like(_digits_pattern(value)) for kind, value in names if kind == "phone")
        if emails:
            conditions.append(func.lower(func.trim(column)).in_(emails))
    return conditions


def _digits_pattern(e164: str) -> str:
    """A LIKE pattern holding the number's national digits in order, anything around and between them."""
    import phonenumbers  # at the first erasure by phone: 1 MB in every server process otherwise

    number = phonenumbers.parse(e164)
    digits = phonenumbers.national_significant_number(number)
    return "%" + "%".join(digits) + "%"


def _names(value: str | None, phones: set[str], emails: set[str], region: str) -> bool:
    if not value:
        return False
    if emails and value.strip().lower() in emails:
        return True
    return bool(phones) and contacts.normalize("phone", as_phone_text(value), region) in phones


def as_phone_text(value: str) -> str:
    """The number in a stored phone: a SIP URI's user ("sip:+15551234567@pbx;user=phone"), or the value."""
    text = value.strip()
    scheme, colon, rest = text.partition(":")
    if colon and scheme.lower() in ("sip", "sips"):
        return rest.split("@", 1)[0].split(";", 1)[0]
    return text
