"""Segments and outcomes: an organization's rules over session fields.

A condition is `FIELD OP VALUE`: FIELD a camelCase path into the session as the API shows it
(`referrer.medium`, `pageviewCount`, `mktCampaign.source`, `device.category`, `geolocation.country`,
`attributes.plan` (an attribute's value), `type`, `authenticated`, `searchTerms`), or `eventName` (an event
of that name was seen in the session). OP is one of == != >= <= > < and `contains` (substring, or list
member). Strings compare case-insensitively; numbers as numbers. A rule holds when all its conditions do.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DBSession

from sessionary.db_types import utcnow
from sessionary.errors import InvalidRequest
from sessionary.journey.models import Rule

KINDS = ("segment", "outcome")
OPERATORS = ("==", "!=", ">=", "<=", ">", "<", "contains")
_CONDITION = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.]*)\s*(==|!=|>=|<=|>|<|\bcontains\b)\s*(.+?)\s*$")
_MISSING = object()


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any

    def holds(self, view: dict[str, Any], event_names: Iterable[str]) -> bool:
        if self.field == "eventName":
            seen = str(self.value).casefold() in {n.casefold() for n in event_names}
            return seen if self.op in ("==", "contains") else not seen if self.op == "!=" else False
        actual = _lookup(view, self.field)
        if actual is _MISSING or actual is None:
            return self.op == "!="
        return _compare(actual, self.op, self.value)


@dataclass(frozen=True)
class CompiledRule:
    id: str
    kind: str
    name: str
    conditions: tuple[Condition, ...]

    def holds(self, view: dict[str, Any], event_names: Iterable[str]) -> bool:
        names = list(event_names)
        return all(c.holds(view, names) for c in self.conditions)

    def share_holding(self, view: dict[str, Any], event_names: Iterable[str]) -> float:
        """The fraction of its conditions that hold (the outcome score of a session not there yet)."""
        names = list(event_names)
        return sum(c.holds(view, names) for c in self.conditions) / len(self.conditions)


def parse_condition(text: str) -> Condition:
    """`referrer.medium == search` as a Condition; InvalidRequest naming the problem otherwise."""
    match = _CONDITION.match(text)
    if not match:
        raise InvalidRequest(
            f"condition '{text}': expected FIELD OP VALUE with OP one of {', '.join(OPERATORS)}"
        )
    field, op, raw = match.groups()
    return Condition(field=field, op=op, value=_value(raw))


def _value(raw: str) -> Any:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError:
        return raw


def _lookup(view: dict[str, Any], path: str) -> Any:
    current: Any = view
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    if isinstance(current, dict) and "value" in current and "dataType" in current:
        return current["value"]  # a custom attribute
    return current


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if isinstance(actual, list):
        wanted = str(expected).casefold()
        found = any(wanted == str(item).casefold() for item in actual)
        return found if op in ("==", "contains") else not found if op == "!=" else False
    if op == "contains":
        return str(expected).casefold() in str(actual).casefold()
    if isinstance(expected, bool) or isinstance(actual, bool):
        equal = str(actual).lower() == str(expected).lower()
        return equal if op == "==" else not equal if op == "!=" else False
    if isinstance(expected, int | float):
        try:
            number = float(actual)
        except (TypeError, ValueError):
            return op == "!="
        return _ordered(number, op, float(expected))
    left, right = str(actual).casefold(), str(expected).casefold()
    return _ordered(left, op, right)


def _ordered(left: Any, op: str, right: Any) -> bool:
    return {
        "==": left == right,
        "!=": left != right,
        ">=": left >= right,
        "<=": left <= right,
        ">": left > right,
        "<": left < right,
    }[op]


def create_rule(
    db: DBSession, *, organization_id: int, kind: str, name: str, conditions: Sequence[str]
) -> Rule:
    """A new segment or outcome of the organization."""
    if kind not in KINDS:
        raise InvalidRequest(f"kind must be one of {', '.join(KINDS)}")
    if not name.strip():
        raise InvalidRequest(f"{kind} name must not be empty")
    if not conditions:
        raise InvalidRequest(f"a {kind} needs at least one condition")
    parsed = [parse_condition(text) for text in conditions]
    rule = Rule(
        id=str(uuid.uuid4()),
        organization_id=organization_id,
        kind=kind,
        name=name.strip(),
        conditions=[{"field": c.field, "op": c.op, "value": c.value} for c in parsed],
        created_at=utcnow(),
    )
    db.add(rule)
    db.flush()
    return rule


def load_rules(db: DBSession, *, organization_id: int) -> list[CompiledRule]:
    """The organization's segments and outcomes, oldest first."""
    rows = db.scalars(
        select(Rule).where(Rule.organization_id == organization_id).order_by(Rule.created_at, Rule.id)
    )
    return [
        CompiledRule(
            id=row.id,
            kind=row.kind,
            name=row.name,
            conditions=tuple(Condition(**c) for c in row.conditions),
        )
        for row in rows
    ]


class RuleCache:
    """An organization's compiled rules, read at most every `ttl_seconds` per process: the single-event
    writer would otherwise read them once per transaction. A new or changed rule applies to the events
    that arrive from `ttl_seconds` after it on."""

    def __init__(self, ttl_seconds: float = 5.0) -> None:
        self.ttl = ttl_seconds
        self._known: dict[int, tuple[list[CompiledRule], float]] = {}

    def get(self, db: DBSession, organization_id: int) -> list[CompiledRule]:
        hit = self._known.get(organization_id)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        found = load_rules(db, organization_id=organization_id)
        self._known[organization_id] = (found, time.monotonic() + self.ttl)
        return found
