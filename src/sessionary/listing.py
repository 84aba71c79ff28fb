"""The Syllable list contract shared by every list endpoint: paging, paired search, ordering, projection.

Match rules (documented in the README): strings match as case-insensitive substrings; numbers, ids and
booleans match exactly; a `timestamp` search value that is a date matches that whole UTC day, a full
datetime matches exactly. start_datetime is inclusive, end_datetime exclusive.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum, StrEnum
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, Select, String, cast, false, func, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm import Session as DBSession

from sessionary.errors import InvalidRequest
from sessionary.types import as_utc


class OrderByDirection(StrEnum):
    asc = "asc"
    desc = "desc"


class Kind(Enum):
    STRING = "string"
    # A string with few distinct values per scope (agent, prompt, channel type), indexed as (scope, column):
    # a substring search resolves against the distinct values first and then uses the index.
    NAME = "name"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    ID_LIST = "id_list"  # a comma-separated list of integer ids: any of them
    JSON_TEXT = "json_text"  # a JSON value (a list of strings): case-insensitive substring of its text


@dataclass(frozen=True)
class Column:
    """A list property: the column it reads and how a search value compares to it."""

    attr: InstrumentedAttribute[Any]
    kind: Kind


@dataclass(frozen=True)
class ListParams:
    page: int
    limit: int
    search_fields: list[str]
    search_field_values: list[str]
    order_by: str | None
    order_by_direction: OrderByDirection | None
    fields: list[str]
    start_datetime: datetime | None
    end_datetime: datetime | None

    @property
    def offset(self) -> int:
        return self.page * self.limit


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total_count: int


MAX_PAGE = 10_000_000
DISTINCT_CAP = 256
_INT64 = 2**63 - 1
_DATETIME = TypeAdapter(datetime)
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def parse_datetime(name: str, value: str) -> datetime:
    """An ISO 8601 datetime query value (naive = UTC), or 400 naming the parameter."""
    try:
        return as_utc(_DATETIME.validate_python(value.strip()))
    except (ValidationError, ValueError):
        raise InvalidRequest(f"{name}: '{value}' is not an ISO 8601 datetime in years 1000-9999") from None


def list_params_dependency(properties: type[StrEnum], *, max_limit: int) -> Callable[..., ListParams]:
    """A FastAPI dependency reading the nine list parameters, with `properties` as the field enum."""
    prop = properties

    def dependency(
        page: Annotated[int | None, Query(ge=0, le=MAX_PAGE, description="0-based page number")] = 0,
        limit: Annotated[int, Query(ge=0, le=max_limit, description="Items per page")] = 25,
        search_fields: Annotated[list[prop] | None, Query()] = None,  # type: ignore[valid-type]
        search_field_values: Annotated[list[str] | None, Query()] = None,
        order_by: Annotated[prop | None, Query()] = None,  # type: ignore[valid-type]
        order_by_direction: Annotated[OrderByDirection | None, Query()] = None,
        fields: Annotated[list[prop] | None, Query()] = None,  # type: ignore[valid-type]
        start_datetime: Annotated[str | None, Query(description="Inclusive lower bound")] = None,
        end_datetime: Annotated[str | None, Query(description="Exclusive upper bound")] = None,
    ) -> ListParams:
        names = [str(f) for f in search_fields or []]  # StrEnum: str() is the value
        values = list(search_field_values or [])
        _refuse_nul("search_field_values", values)
        if len(names) != len(values):
            raise InvalidRequest(
                f"search_fields has {len(names)} items but search_field_values has {len(values)}; "
                "they pair by index"
            )
        return ListParams(
            page=page or 0,
            limit=limit,
            search_fields=names,
            search_field_values=values,
            order_by=str(order_by) if order_by else None,
            order_by_direction=order_by_direction,
            fields=[str(f) for f in fields or []],
            start_datetime=parse_datetime("start_datetime", start_datetime) if start_datetime else None,
            end_datetime=parse_datetime("end_datetime", end_datetime) if end_datetime else None,
        )

    return dependency


def _refuse_nul(name: str, values: list[str]) -> None:
    for index, value in enumerate(values):
        if "\x00" in value:
            raise InvalidRequest(f"{name}[{index}] must not contain the NUL character")


def search_condition(name: str, column: Column, value: str) -> ColumnElement[bool]:
    """The SQL condition for one (search_field, search_field_value) pair."""
    attr = column.attr
    if column.kind is Kind.STRING:
        return attr.icontains(value, autoescape=True)
    if column.kind is Kind.BOOLEAN:
        if value.strip().lower() not in _BOOLEANS:
            raise InvalidRequest(f"search_field_values for {name}: '{value}' is not a boolean (true/false)")
        return attr.is_(_BOOLEANS[value.strip().lower()])
    if column.kind is Kind.DATETIME:
        return _datetime_match(name, attr, value)
    if column.kind is Kind.ID_LIST:
        ids = [_number(name, part, integer=True) for part in value.split(",") if part.strip()]
        return attr.in_(ids) if ids else false()
    if column.kind is Kind.JSON_TEXT:
        return cast(attr, String).icontains(value, autoescape=True)
    return attr == _number(name, value, integer=column.kind is Kind.INTEGER)


def _number(name: str, value: str, *, integer: bool) -> float | int:
    try:
        number: float | int = int(value.strip()) if integer else float(value)
        if integer and abs(number) > _INT64:
            raise ValueError(value)
        if not math.isfinite(number):
            raise ValueError(value)
    except ValueError:
        kind = "an integer (64-bit)" if integer else "a number"
        raise InvalidRequest(f"search_field_values for {name}: '{value}' is not {kind}") from None
    return number


def _datetime_match(name: str, attr: InstrumentedAttribute[Any], value: str) -> ColumnElement[bool]:
    text = value.strip()
    if len(text) == 10:  # a date: the whole UTC day
        day = parse_datetime(f"search_field_values for {name}", text + "T00:00:00Z")
        if day.date() == date.max:
            return attr >= day
        return (attr >= day) & (attr < day + timedelta(days=1))
    return attr == parse_datetime(f"search_field_values for {name}", text)


@dataclass(frozen=True)
class Scope:
    """The rows a list may see: `attr == value` (the caller's organization)."""

    attr: InstrumentedAttribute[Any]
    value: Any


def apply_filters(
    db: DBSession,
    stmt: Select[Any],
    params: ListParams,
    *,
    columns: Mapping[str, Column],
    time_column: Column,
    scope: Scope,
    known: dict[str, list[str] | None] | None = None,
) -> Select[Any]:
    """`stmt` narrowed to the scope, the paired search fields and the time range. `known` keeps the
    distinct values of the NAME columns searched (by column key), for a counter to reuse."""
    stmt = stmt.where(scope.attr == scope.value)
    known = {} if known is None else known
    for name, value in zip(params.search_fields, params.search_field_values, strict=True):
        column = columns[name]
        if column.kind is Kind.NAME:
            stmt = stmt.where(_name_condition(db, column, value, scope, known))
        else:
            stmt = stmt.where(search_condition(name, column, value))
    if params.start_datetime is not None:
        stmt = stmt.where(time_column.attr >= params.start_datetime)
    if params.end_datetime is not None:
        stmt = stmt.where(time_column.attr < params.end_datetime)
    return stmt


def _name_condition(
    db: DBSession, column: Column, value: str, scope: Scope, known: dict[str, list[str] | None]
) -> ColumnElement[bool]:
    """Substring match, as `column IN (the matching distinct values)` when they are few."""
    key = column.attr.key
    if key not in known:
        known[key] = distinct_values(db, column.attr, scope)
    values = known[key]
    if values is None:
        return column.attr.icontains(value, autoescape=True)
    matching = name_matches(values, value)
    return column.attr.in_(matching) if matching else false()


def name_matches(values: list[str], value: str) -> list[str]:
    """The `values` a NAME search for `value` matches: case-insensitive substrings."""
    needle = value.casefold()
    return [v for v in values if needle in v.casefold()]


def distinct_values(
    db: DBSession, attr: InstrumentedAttribute[Any], scope: Scope, *, cap: int = DISTINCT_CAP
) -> list[str] | None:
    """The distinct non-null values of `attr` in the scope, or None when there are more than `cap`.

    A loose index scan over the (scope, attr) index: one seek per distinct value, not one row per row.
    """
    table = attr.class_.__table__
    column, scope_column = table.c[attr.key], table.c[scope.attr.key]
    # `IS NOT NULL` changes no result (min skips NULLs) but lets a partial index (sessions.models) serve.
    seed = (
        select(func.min(column).label("v"))
        .where(scope_column == scope.value, column.is_not(None))
        .cte("dv", recursive=True)
    )
    step = select(func.min(column)).where(scope_column == scope.value, column > seed.c.v).scalar_subquery()
    walk = seed.union_all(select(step).where(seed.c.v.is_not(None)))
    rows = list(db.scalars(select(walk.c.v).where(walk.c.v.is_not(None)).limit(cap + 1)))
    return rows if len(rows) <= cap else None


def apply_order(
    stmt: Select[Any], params: ListParams, columns: Mapping[str, Column], default: str, tiebreak: Column
) -> Select[Any]:
    """Order by `order_by` (default: `default` newest first), with `tiebreak` keeping pages stable."""
    if params.order_by is None:
        column, descending = columns[default], params.order_by_direction is not OrderByDirection.asc
    else:
        column, descending = columns[params.order_by], params.order_by_direction is OrderByDirection.desc
    key = column.attr.desc() if descending else column.attr.asc()
    if _nullable(column):  # NULLs last in both directions, the same on SQLite and PostgreSQL
        key = key.nulls_last()
    return stmt.order_by(key, tiebreak.attr.desc() if descending else tiebreak.attr.asc())


def _nullable(column: Column) -> bool:
    """Whether the column may hold NULL (NOT NULL columns order without NULLS LAST, so by their index).
    A computed property (a correlated subquery) may always be NULL."""
    return bool(getattr(column.attr.property.columns[0], "nullable", True))


def fetch_page(
    db: DBSession, stmt: Select[Any], params: ListParams, count: Callable[[], int] | None = None
) -> Page[Any]:
    """One page of `stmt` (already filtered and ordered) and the count of all its rows: `count()` when
    given (it must count exactly the rows of `stmt`), else a COUNT(*) of them."""
    if count is not None:
        total = count()
    else:
        counter = stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
        total = db.scalar(counter) or 0
    items = list(db.scalars(stmt.offset(params.offset).limit(params.limit))) if params.limit else []
    return Page(items=items, total_count=total)


@dataclass(frozen=True)
class CountRequest:
    """What a Listing's counter counts: the rows of the scope's `value` with `start <= time < end` (None:
    unbounded) whose NAME columns (by column key) each hold one of the given values."""

    scope_value: Any
    names: dict[str, list[str]]
    start: datetime | None
    end: datetime | None


Counter = Callable[[DBSession, CountRequest], int]


@dataclass(frozen=True)
class Listing(Generic[T]):
    """One list endpoint's rows: the model, its organization column, its filterable columns (by property
    name), the time property of start_datetime/end_datetime and the default order, and the tiebreak column
    that keeps pages stable."""

    model: type[T]
    organization: InstrumentedAttribute[Any]
    columns: Mapping[str, Column]
    tiebreak: Column
    time: str = "timestamp"
    where: tuple[ColumnElement[bool], ...] = ()  # conditions every listed row meets (e.g. not removed)
    # Counts a request whose only searches are NAME ones without reading every row (its count must equal
    # the COUNT(*) of the listed rows, `where` included); others are counted by COUNT(*).
    counter: Counter | None = None

    def page(self, db: DBSession, *, organization_id: int, params: ListParams) -> Page[T]:
        """One page of the organization's rows, filtered and ordered as `params` say (newest first)."""
        scope = Scope(self.organization, organization_id)
        time_column = self.columns[self.time]
        rows = select(self.model).where(*self.where)
        known: dict[str, list[str] | None] = {}
        stmt = apply_filters(
            db, rows, params, columns=self.columns, time_column=time_column, scope=scope, known=known
        )
        stmt = apply_order(stmt, params, self.columns, self.time, self.tiebreak)
        return fetch_page(db, stmt, params, self._count(db, organization_id, params, known))

    def _count(
        self, db: DBSession, organization_id: int, params: ListParams, known: dict[str, list[str] | None]
    ) -> Callable[[], int] | None:
        """The counter's count of this request, or None when it has a search the counter cannot answer."""
        counter = self.counter
        if counter is None:
            return None
        names: dict[str, list[str]] = {}
        for name, value in zip(params.search_fields, params.search_field_values, strict=True):
            column = self.columns[name]
            values = known.get(column.attr.key) if column.kind is Kind.NAME else None
            if values is None:  # not a NAME search, or too many distinct values to resolve
                return None
            matching = name_matches(values, value)
            key = column.attr.key  # the same column searched twice: both must match
            names[key] = [v for v in names[key] if v in matching] if key in names else matching
        request = CountRequest(organization_id, names, params.start_datetime, params.end_datetime)
        return lambda: counter(db, request)


W = TypeVar("W", bound=BaseModel)


def wire_form(schema: type[W], values: dict[str, Any], fields: list[str] | None, always: set[str]) -> W:
    """The wire model of a stored row's `values`; with `fields` (the list's projection), only those and
    `always` are sent. Projected forms are constructed without validation: the values are stored ones."""
    if not fields:
        return schema.model_validate(values)
    return schema.model_construct(_fields_set=always | set(fields), **values)


def total_pages(total_count: int, limit: int) -> int:
    """ceil(total_count / limit); 0 when limit is 0."""
    return math.ceil(total_count / limit) if limit else 0


def envelope(page: Page[T], params: ListParams, to_read: Callable[[T, list[str]], Any]) -> dict[str, Any]:
    """The ListResponse fields: the items through `to_read` (with the projection), and the counts."""
    return {
        "items": [to_read(item, params.fields) for item in page.items],
        "page": params.page,
        "page_size": params.limit,
        "total_pages": total_pages(page.total_count, params.limit),
        "total_count": page.total_count,
    }
