"""Session labels: create (the session's newest label becomes its session_label_id), get, list."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary import listing
from sessionary.db_types import utcnow
from sessionary.errors import Forbidden, NotFound
from sessionary.labels.models import SessionLabel
from sessionary.labels.schemas import SessionLabelCreate, SessionLabelProperties, SessionLabelRead
from sessionary.listing import Column, Kind, ListParams, Page
from sessionary.sessions import service as sessions
from sessionary.sessions import store as sessions_store
from sessionary.types import iso_z

COLUMNS: dict[str, Column] = {
    "timestamp": Column(SessionLabel.timestamp, Kind.DATETIME),
    "session_id": Column(SessionLabel.session_id, Kind.INTEGER),
    "type": Column(SessionLabel.type, Kind.STRING),
    "code": Column(SessionLabel.code, Kind.STRING),
    "user_email": Column(SessionLabel.user_email, Kind.STRING),
    "issue_categories": Column(SessionLabel.issue_categories, Kind.JSON_TEXT),
    "session_id_list": Column(SessionLabel.session_id, Kind.ID_LIST),
}
assert set(COLUMNS) == {p.value for p in SessionLabelProperties}, (
    "every SessionLabelProperties value needs a column"
)
_ID = Column(SessionLabel.id, Kind.INTEGER)
# Keys syllable-sdk requires in every label: a `fields` projection keeps them.
_REQUIRED = {"session_id", "type", "code", "user_email", "id", "timestamp"}
# Only sessionary itself (the session analysis) writes labels of this type, in this author's name.
AUTOMATIC_TYPE = "auto-rating"
AUTOMATIC_AUTHOR = "auto-rating@sessionary"
# A stored label as the reads here return it: other packages name this type, never import the model.
LabelRow: TypeAlias = SessionLabel


def check_author(body: SessionLabelCreate, *, trusted: bool) -> None:
    """Forbidden for an untrusted writer (a key without `admin`, a console user) posting an auto-rating
    label or a label in sessionary's own name: a client must not pass its rating off as the machine's."""
    if trusted:
        return
    if body.type == AUTOMATIC_TYPE:
        raise Forbidden(
            f"type: '{AUTOMATIC_TYPE}' labels are written by sessionary's session analysis; "
            "post 'human-rating' (an API key with the 'admin' scope may post either)"
        )
    if body.user_email.strip().lower() == AUTOMATIC_AUTHOR:
        raise Forbidden(f"user_email: '{AUTOMATIC_AUTHOR}' is sessionary's own name, not a client's")


def create_label(
    db: DBSession, *, organization_id: int, body: SessionLabelCreate, trusted: bool = False
) -> SessionLabel:
    """Label one of the organization's sessions (else NotFound); it becomes the session's newest label.

    `trusted` is for sessionary itself and keys with `admin`: only they may write auto-rating labels."""
    check_author(body, trusted=trusted)
    session = sessions.get_session(db, organization_id=organization_id, session_id=str(body.session_id))
    label = SessionLabel(
        organization_id=organization_id,
        session_id=session.id,
        timestamp=utcnow(),
        type=body.type,
        code=body.code,
        user_email=body.user_email,
        comments=body.comments,
        issue_categories=list(body.issue_categories or []),
    )
    db.add(label)
    db.flush()
    sessions_store.set_label(session, label.id)
    return label


def add_machine_label(
    db: DBSession, *, organization_id: int, body: SessionLabelCreate
) -> SessionLabel | None:
    """A label sessionary or a provider concluded (auto-rating): added unless the author's latest label on
    the session says the same (code and categories), so a re-analysis or a replayed webhook adds nothing.
    It becomes the session's label unless a human rated the session (a human's rating is never displaced
    by a machine's)."""
    session = sessions.get_session(db, organization_id=organization_id, session_id=str(body.session_id))
    latest = db.scalar(
        select(SessionLabel)
        .where(SessionLabel.session_id == session.id, SessionLabel.user_email == body.user_email)
        .order_by(SessionLabel.timestamp.desc(), SessionLabel.id.desc())
        .limit(1)
    )
    same = (body.code, list(body.issue_categories or []))
    if latest is not None and (latest.code, list(latest.issue_categories)) == same:
        return None
    kept = session.session_label_id
    label = create_label(db, organization_id=organization_id, body=body, trusted=True)
    human = select(SessionLabel.id).where(
        SessionLabel.session_id == session.id, SessionLabel.type == "human-rating"
    )
    if db.scalar(human.limit(1)) is not None:
        sessions_store.set_label(session, kept)
    return label


def get_label(db: DBSession, *, organization_id: int, label_id: int) -> SessionLabel:
    """The organization's label with this id; NotFound for an unknown id or another organization's."""
    label = db.get(SessionLabel, label_id) if 0 < label_id < 2**63 else None
    if label is None or label.organization_id != organization_id:
        raise NotFound(f"Session label {label_id} not found")
    return label


_LISTING = listing.Listing(SessionLabel, SessionLabel.organization_id, COLUMNS, _ID)


def list_labels(db: DBSession, *, organization_id: int, params: ListParams) -> Page[SessionLabel]:
    """One page of the organization's labels, filtered and ordered as `params` say (newest first)."""
    return _LISTING.page(db, organization_id=organization_id, params=params)


def codes_of(db: DBSession, *, label_ids: list[int]) -> dict[int, str]:
    """The code of each of these labels (a list page's newest labels)."""
    if not label_ids:
        return {}
    stmt = select(SessionLabel.id, SessionLabel.code).where(SessionLabel.id.in_(label_ids))
    return {label_id: code for label_id, code in db.execute(stmt)}


def to_read(label: SessionLabel, fields: list[str] | None = None) -> SessionLabelRead:
    """The wire form; with `fields`, the optional keys not named are left out (required ones never are)."""
    values: dict[str, Any] = {
        "session_id": label.session_id,
        "type": label.type,
        "code": label.code,
        "user_email": label.user_email,
        "comments": label.comments,
        "issue_categories": label.issue_categories,
        "id": label.id,
        "timestamp": iso_z(label.timestamp),
    }
    return listing.wire_form(SessionLabelRead, values, fields, _REQUIRED)
