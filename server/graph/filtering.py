"""Typed filters: the shared match inputs, and how a filter input compiles to SQL conditions.

Every `*Filter` combines its fields with AND and offers `and`, `or` and `not`, as in logic: an
empty `and` holds for every row, an empty `or` for none, and `not` of an empty filter for none
(docs/api.md, Filters). Each filter input declares in `matches` what its fields mean: a column
and how it compares, or a join (`joins`) whose rows must match a nested filter. Filters across
relations become correlated EXISTS subqueries, so they never multiply rows and work the same on
SQLite and PostgreSQL. `where` compiles any of them against the table (or alias) it filters.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import ColumnElement, FromClause, String, and_, cast, false, not_, or_, select, true

from store import names, partial_date

from .errors import InvalidArgument
from .joins import Many, One, exists_in
from .scalars import PartialDate

E = TypeVar("E")

Conditions = list[ColumnElement[bool]]

# Characters of a search, prefix or sector: folded and escaped, the pattern stays well inside
# the 50,000 bytes SQLite allows a LIKE pattern (no character folds to more than 36 bytes).
MAX_PATTERN = 1000


@strawberry.input(description="Matches one of a set of values.")
class OneOf(Generic[E]):
    eq: E | None = strawberry.field(default=None, description="Equals this value.")
    in_: list[E] | None = strawberry.field(default=None, name="in", description="Is one of these.")
    not_in: list[E] | None = strawberry.field(default=None, description="Is none of these.")


@strawberry.input(description="Matches a text value exactly.")
class TextMatch:
    eq: str | None = strawberry.field(default=None, description="Equals this text.")
    in_: list[str] | None = strawberry.field(
        default=None, name="in", description="Is one of these."
    )
    starts_with: str | None = strawberry.field(default=None, description="Begins with this text.")


@strawberry.input(description="Compares a whole number.")
class IntMatch:
    eq: int | None = strawberry.field(default=None, description="Equals.")
    gt: int | None = strawberry.field(default=None, description="Greater than.")
    gte: int | None = strawberry.field(default=None, description="Greater than or equal.")
    lt: int | None = strawberry.field(default=None, description="Less than.")
    lte: int | None = strawberry.field(default=None, description="Less than or equal.")
    is_null: bool | None = strawberry.field(
        default=None, description="True: unknown; false: known."
    )


@strawberry.input(
    description=(
        'Compares a partial date. A bound covers its whole period: `lte: "2018"` includes '
        '2018-12-31 and `eq: "2018-04"` every date in April 2018. Stored dates compare by '
        "their earliest day."
    )
)
class DateMatch:
    eq: PartialDate | None = strawberry.field(default=None, description="Within this period.")
    gt: PartialDate | None = strawberry.field(default=None, description="After this period.")
    gte: PartialDate | None = strawberry.field(default=None, description="From this period on.")
    lt: PartialDate | None = strawberry.field(default=None, description="Before this period.")
    lte: PartialDate | None = strawberry.field(
        default=None, description="Up to the end of this period."
    )
    is_null: bool | None = strawberry.field(default=None, description="True: no date known.")


def all_of() -> Any:
    return strawberry.field(
        default=None, name="and", description="All of these match; an empty list, every record."
    )


def any_of() -> Any:
    return strawberry.field(
        default=None, name="or", description="Any of these matches; an empty list, no record."
    )


def none_of() -> Any:
    return strawberry.field(
        default=None, name="not", description="This does not match; `not: {}`, no record."
    )


# --- what a field matches --------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def _like(
    column: ColumnElement[Any],
    text: str,
    name: str,
    form: Callable[[str], str] = str,
    anywhere: bool = True,
) -> ColumnElement[bool]:
    """`column` holds `form(text)` (or begins with it), every character taken literally."""
    if len(text) > MAX_PATTERN:
        raise InvalidArgument(f"`{name}` may be at most {MAX_PATTERN} characters", field="filter")
    escaped = form(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"{'%' if anywhere else ''}{escaped}%", escape="\\")


def _one_of(column: ColumnElement[Any], match: OneOf) -> Conditions:
    found: Conditions = []
    if match.eq is not None:
        found.append(column == _plain(match.eq))
    if match.in_ is not None:
        found.append(column.in_([_plain(v) for v in match.in_]))
    if match.not_in is not None:
        found.append(column.not_in([_plain(v) for v in match.not_in]))
    return found


def _text(column: ColumnElement[Any], match: TextMatch) -> Conditions:
    found = _one_of(column, OneOf(eq=match.eq, in_=match.in_))
    if match.starts_with is not None:
        found.append(_like(column, match.starts_with, "startsWith", anywhere=False))
    return found


def _null(column: ColumnElement[Any], is_null: bool | None) -> Conditions:
    if is_null is None:
        return []
    return [column.is_(None) if is_null else column.is_not(None)]


def _number(column: ColumnElement[Any], match: IntMatch) -> Conditions:
    found = _null(column, match.is_null)
    for op, bound in (
        ("__eq__", match.eq),
        ("__gt__", match.gt),
        ("__ge__", match.gte),
        ("__lt__", match.lt),
        ("__le__", match.lte),
    ):
        if bound is not None:
            found.append(getattr(column, op)(bound))
    return found


def _dates(column: ColumnElement[Any], match: DateMatch) -> Conditions:
    """Partial dates compare as text; bounds are widened to the period they name."""
    found = _null(column, match.is_null)
    if match.eq is not None:
        found += [column >= match.eq, column < partial_date.period_end(match.eq)]
    if match.gt is not None:
        found.append(column >= partial_date.period_end(match.gt))
    if match.gte is not None:
        found.append(column >= match.gte)
    if match.lt is not None:
        found.append(column < match.lt)
    if match.lte is not None:
        found.append(column < partial_date.period_end(match.lte))
    return found


def _open(column: ColumnElement[Any], current: bool) -> Conditions:
    return _null(column, current)  # current: no end date yet


def _search(column: ColumnElement[Any], term: str) -> Conditions:
    """Every name in every language, ignoring case and diacritics."""
    return [_like(column, term, "search", names.fold)]


def _sector(column: ColumnElement[Any], sector: str) -> Conditions:
    # Sectors are a JSON list; its text holds each sector JSON-encoded, on both databases.
    return [_like(cast(column, String), sector, "sector", json.dumps)]


@dataclass(frozen=True)
class Column:
    """A field compared with one column of the filtered table, by `compare`."""

    column: str
    compare: Callable[[ColumnElement[Any], Any], Conditions]

    def conditions(self, value: Any, table: FromClause) -> Conditions:
        return self.compare(table.c[self.column], value)


@dataclass(frozen=True)
class Reaches:
    """A field that a row reached by `join` must match: a nested filter, as EXISTS."""

    join: One | Many

    def conditions(self, value: Any, table: FromClause) -> Conditions:
        return [exists_in(self.join, table, lambda target: where(value, target))]


@dataclass(frozen=True)
class SlugOf:
    """A slug that the record `join` reaches must have: `key IN (SELECT id … WHERE slug = ?)`."""

    join: One

    def conditions(self, value: Any, table: FromClause) -> Conditions:
        target = self.join.table
        return [table.c[self.join.key].in_(select(target.c.id).where(target.c.slug == value))]


Match = Column | Reaches | SlugOf


def one_of(column: str) -> Column:
    return Column(column, _one_of)


def text(column: str) -> Column:
    return Column(column, _text)


def number(column: str) -> Column:
    return Column(column, _number)


def dates(column: str) -> Column:
    return Column(column, _dates)


def current(column: str = "end_date") -> Column:
    return Column(column, _open)


def search(column: str = "search_text") -> Column:
    return Column(column, _search)


def sector(column: str = "sectors") -> Column:
    return Column(column, _sector)


def reaches(join: One | Many) -> Reaches:
    return Reaches(join)


def slug_of(join: One) -> SlugOf:
    return SlugOf(join)


# --- compiling a filter ------------------------------------------------------------------------


def _all(conditions: Conditions) -> ColumnElement[bool]:
    return and_(true(), *conditions)  # true for no conditions, as an empty filter matches all


def _combine(filter_: Any, table: FromClause) -> Conditions:
    """The `and`/`or`/`not` of a filter, where its input offers them."""
    found: Conditions = []
    if getattr(filter_, "and_", None) is not None:
        found.append(_all([_all(where(f, table)) for f in filter_.and_]))
    if getattr(filter_, "or_", None) is not None:
        found.append(or_(false(), *[_all(where(f, table)) for f in filter_.or_]))
    if getattr(filter_, "not_", None) is not None:
        found.append(not_(_all(where(filter_.not_, table))))
    return found


def where(filter_: Any, table: FromClause) -> Conditions:
    """The conditions `filter_` (any filter input, or None) sets on rows of `table`."""
    if filter_ is None:
        return []
    found = _combine(filter_, table)
    for name, match in type(filter_).matches.items():
        value = getattr(filter_, name)
        if value is not None:
            found += match.conditions(value, table)
    return found
