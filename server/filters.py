"""Typed filters: GraphQL inputs, and the SQL conditions they compile to.

Every `*Filter` combines its fields with AND and offers `and`, `or` and `not`, as in logic: an
empty `and` holds for every row, an empty `or` for none, and `not` of an empty filter for none.
Filters across relations (`hasOrganisation`, `party`, `participant`, ...) become correlated
EXISTS subqueries, so they never multiply rows and work the same on SQLite and PostgreSQL. Each
`*_where` function takes the table (or alias) to filter, which lets a filter refer to its own
table (a member's `parent`).
"""

import json
from collections.abc import Callable
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import (
    ColumnElement,
    FromClause,
    String,
    and_,
    cast,
    exists,
    false,
    not_,
    or_,
    select,
    true,
)

from store import names, partial_date
from store.registry import (
    ALLIANCE,
    EVENT,
    MEMBER,
    ORGANISATION,
    PARTICIPANT,
    PARTNERSHIP,
    PARTY,
    PERIOD,
    PERSON,
    POST,
)

from . import enums
from .errors import InvalidArgument
from .scalars import CountryCode, PartialDate

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


def one_of(column: ColumnElement[Any], match: OneOf | None) -> Conditions:
    if match is None:
        return []
    found: Conditions = []
    if match.eq is not None:
        found.append(column == _plain(match.eq))
    if match.in_ is not None:
        found.append(column.in_([_plain(v) for v in match.in_]))
    if match.not_in is not None:
        found.append(column.not_in([_plain(v) for v in match.not_in]))
    return found


def text(column: ColumnElement[Any], match: TextMatch | None) -> Conditions:
    if match is None:
        return []
    found = one_of(column, OneOf(eq=match.eq, in_=match.in_))
    if match.starts_with is not None:
        found.append(_like(column, match.starts_with, "startsWith", anywhere=False))
    return found


def _null(column: ColumnElement[Any], is_null: bool | None) -> Conditions:
    if is_null is None:
        return []
    return [column.is_(None) if is_null else column.is_not(None)]


def number(column: ColumnElement[Any], match: IntMatch | None) -> Conditions:
    if match is None:
        return []
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


def dates(column: ColumnElement[Any], match: DateMatch | None) -> Conditions:
    """Partial dates compare as text; bounds are widened to the period they name."""
    if match is None:
        return []
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


def search(table: FromClause, term: str | None) -> Conditions:
    """Every name in every language, ignoring case and diacritics."""
    if term is None:
        return []
    return [_like(table.c.search_text, term, "search", names.fold)]


def _all(conditions: Conditions) -> ColumnElement[bool]:
    return and_(true(), *conditions)  # true for no conditions, as an empty filter matches all


def _combine(filter_: Any, compile_, table: FromClause) -> Conditions:
    """The `and`/`or`/`not` of a filter, compiled with the filter's own function."""
    found: Conditions = []
    if filter_.and_ is not None:
        found.append(_all([_all(compile_(f, table)) for f in filter_.and_]))
    if filter_.or_ is not None:
        found.append(or_(false(), *[_all(compile_(f, table)) for f in filter_.or_]))
    if filter_.not_ is not None:
        found.append(not_(_all(compile_(filter_.not_, table))))
    return found


def _exists(table: FromClause, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists(select(table.c.id).where(table.c.deleted_at.is_(None), *conditions))


def _all_of() -> Any:
    return strawberry.field(
        default=None, name="and", description="All of these match; an empty list, every record."
    )


def _any_of() -> Any:
    return strawberry.field(
        default=None, name="or", description="Any of these matches; an empty list, no record."
    )


def _none_of() -> Any:
    return strawberry.field(
        default=None, name="not", description="This does not match; `not: {}`, no record."
    )


@strawberry.input(description="Matches membership periods of a member.")
class MembershipFilter:
    alliance: str | None = strawberry.field(default=None, description="Alliance slug.")
    status: OneOf[enums.MembershipStatus] | None = strawberry.field(
        default=None, description="The status in the period."
    )
    start_date: DateMatch | None = strawberry.field(default=None, description="When it began.")
    end_date: DateMatch | None = strawberry.field(default=None, description="When it ended.")
    current: bool | None = strawberry.field(
        default=None, description="True: the period has no end date yet."
    )


def membership_where(f: MembershipFilter, period: FromClause) -> Conditions:
    found: Conditions = []
    if f.alliance is not None:
        found.append(
            period.c.alliance_id.in_(select(ALLIANCE.c.id).where(ALLIANCE.c.slug == f.alliance))
        )
    found += one_of(period.c.status, f.status)
    found += dates(period.c.start_date, f.start_date)
    found += dates(period.c.end_date, f.end_date)
    if f.current is not None:
        found += _null(period.c.end_date, f.current)
    return found


@strawberry.input(description="Filters members. Fields combine with AND.")
class MemberFilter:
    and_: list["MemberFilter"] | None = _all_of()
    or_: list["MemberFilter"] | None = _any_of()
    not_: "MemberFilter | None" = _none_of()
    slug: TextMatch | None = strawberry.field(default=None, description="Its slug.")
    kind: OneOf[enums.MemberKind] | None = strawberry.field(default=None, description="Its kind.")
    country: OneOf[CountryCode] | None = strawberry.field(default=None, description="Its country.")
    population: IntMatch | None = strawberry.field(default=None, description="Its population.")
    search: str | None = strawberry.field(
        default=None, description="Part of any of its names, in any language."
    )
    membership: MembershipFilter | None = strawberry.field(
        default=None, description="Has a membership period matching this (alliance, status, dates)."
    )
    parent: "MemberFilter | None" = strawberry.field(
        default=None, description="Belongs to a city network matching this."
    )
    has_organisation: "OrganisationFilter | None" = strawberry.field(
        default=None, description="Is home to an organisation matching this."
    )


def member_where(f: MemberFilter | None, table: FromClause = MEMBER) -> Conditions:
    if f is None:
        return []
    found = _combine(f, member_where, table)
    found += text(table.c.slug, f.slug)
    found += one_of(table.c.kind, f.kind)
    found += one_of(table.c.country, f.country)
    found += number(table.c.population, f.population)
    found += search(table, f.search)
    if f.membership is not None:
        found.append(
            _exists(
                PERIOD, PERIOD.c.member_id == table.c.id, *membership_where(f.membership, PERIOD)
            )
        )
    if f.parent is not None:
        parent = MEMBER.alias()
        found.append(
            _exists(parent, parent.c.id == table.c.parent_id, *member_where(f.parent, parent))
        )
    if f.has_organisation is not None:
        org = ORGANISATION.alias()
        found.append(
            _exists(
                org, org.c.member_id == table.c.id, *organisation_where(f.has_organisation, org)
            )
        )
    return found


@strawberry.input(description="Filters organisations. Fields combine with AND.")
class OrganisationFilter:
    and_: list["OrganisationFilter"] | None = _all_of()
    or_: list["OrganisationFilter"] | None = _any_of()
    not_: "OrganisationFilter | None" = _none_of()
    slug: TextMatch | None = strawberry.field(default=None, description="Its slug.")
    kind: OneOf[enums.OrganisationKind] | None = strawberry.field(
        default=None, description="Its kind."
    )
    sector: str | None = strawberry.field(default=None, description="Works in this sector.")
    search: str | None = strawberry.field(
        default=None, description="Part of any of its names, in any language."
    )
    member: MemberFilter | None = strawberry.field(
        default=None, description="Its home member matches this."
    )
    parent: "OrganisationFilter | None" = strawberry.field(
        default=None, description="Its parent organisation matches this."
    )


def organisation_where(
    f: OrganisationFilter | None, table: FromClause = ORGANISATION
) -> Conditions:
    if f is None:
        return []
    found = _combine(f, organisation_where, table)
    found += text(table.c.slug, f.slug)
    found += one_of(table.c.kind, f.kind)
    found += search(table, f.search)
    if f.sector is not None:
        # Sectors are a JSON list; its text holds each sector JSON-encoded, on both databases.
        found.append(_like(cast(table.c.sectors, String), f.sector, "sector", json.dumps))
    if f.member is not None:
        home = MEMBER.alias()
        found.append(_exists(home, home.c.id == table.c.member_id, *member_where(f.member, home)))
    if f.parent is not None:
        parent = ORGANISATION.alias()
        found.append(
            _exists(parent, parent.c.id == table.c.parent_id, *organisation_where(f.parent, parent))
        )
    return found


@strawberry.input(description="Matches posts a person holds.")
class PostFilter:
    role: TextMatch | None = strawberry.field(default=None, description="The role, as recorded.")
    organisation: OrganisationFilter | None = strawberry.field(
        default=None, description="The post is in an organisation matching this."
    )
    member: MemberFilter | None = strawberry.field(
        default=None, description="The post is for a member matching this."
    )
    current: bool | None = strawberry.field(default=None, description="True: no end date yet.")


@strawberry.input(description="Filters people. Fields combine with AND.")
class PersonFilter:
    and_: list["PersonFilter"] | None = _all_of()
    or_: list["PersonFilter"] | None = _any_of()
    not_: "PersonFilter | None" = _none_of()
    slug: TextMatch | None = strawberry.field(default=None, description="Its slug.")
    search: str | None = strawberry.field(default=None, description="Part of any of their names.")
    holds_post: PostFilter | None = strawberry.field(
        default=None, description="Holds a post matching this."
    )


def person_where(f: PersonFilter | None, table: FromClause = PERSON) -> Conditions:
    if f is None:
        return []
    found = _combine(f, person_where, table)
    found += text(table.c.slug, f.slug)
    found += search(table, f.search)
    if f.holds_post is not None:
        post = f.holds_post
        conditions = [POST.c.person_id == table.c.id, *text(POST.c.role, post.role)]
        if post.current is not None:
            conditions += _null(POST.c.end_date, post.current)
        if post.organisation is not None:
            org = ORGANISATION.alias()
            conditions.append(
                _exists(
                    org,
                    org.c.id == POST.c.organisation_id,
                    *organisation_where(post.organisation, org),
                )
            )
        if post.member is not None:
            member = MEMBER.alias()
            conditions.append(
                _exists(member, member.c.id == POST.c.member_id, *member_where(post.member, member))
            )
        found.append(_exists(POST, *conditions))
    return found


@strawberry.input(description="Matches a party of a partnership, or a participant of an event.")
class PartyFilter:
    role: TextMatch | None = strawberry.field(default=None, description="The role, as recorded.")
    member: MemberFilter | None = strawberry.field(
        default=None, description="A member matching this."
    )
    organisation: OrganisationFilter | None = strawberry.field(
        default=None, description="An organisation matching this."
    )


def _party_conditions(
    f: PartyFilter, link: FromClause, person: PersonFilter | None = None
) -> Conditions:
    found = text(link.c.role, f.role)
    if f.member is not None:
        member = MEMBER.alias()
        found.append(
            _exists(member, member.c.id == link.c.member_id, *member_where(f.member, member))
        )
    if f.organisation is not None:
        org = ORGANISATION.alias()
        found.append(
            _exists(
                org, org.c.id == link.c.organisation_id, *organisation_where(f.organisation, org)
            )
        )
    if person is not None:
        who = PERSON.alias()
        found.append(_exists(who, who.c.id == link.c.person_id, *person_where(person, who)))
    return found


@strawberry.input(description="Filters partnerships. Fields combine with AND.")
class PartnershipFilter:
    and_: list["PartnershipFilter"] | None = _all_of()
    or_: list["PartnershipFilter"] | None = _any_of()
    not_: "PartnershipFilter | None" = _none_of()
    slug: TextMatch | None = strawberry.field(default=None, description="Its slug.")
    kind: OneOf[enums.PartnershipKind] | None = strawberry.field(
        default=None, description="Its kind."
    )
    status: OneOf[enums.PartnershipStatus] | None = strawberry.field(
        default=None, description="Its status."
    )
    start_date: DateMatch | None = strawberry.field(default=None, description="When it began.")
    end_date: DateMatch | None = strawberry.field(default=None, description="When it ended.")
    party: PartyFilter | None = strawberry.field(
        default=None, description="Has a party matching this (e.g. a member in country CN)."
    )


def partnership_where(f: PartnershipFilter | None, table: FromClause = PARTNERSHIP) -> Conditions:
    if f is None:
        return []
    found = _combine(f, partnership_where, table)
    found += text(table.c.slug, f.slug)
    found += one_of(table.c.kind, f.kind)
    found += one_of(table.c.status, f.status)
    found += dates(table.c.start_date, f.start_date)
    found += dates(table.c.end_date, f.end_date)
    if f.party is not None:
        found.append(
            _exists(PARTY, PARTY.c.partnership_id == table.c.id, *_party_conditions(f.party, PARTY))
        )
    return found


@strawberry.input(description="Matches a participant of an event.")
class ParticipantFilter(PartyFilter):
    person: PersonFilter | None = strawberry.field(
        default=None, description="A person matching this."
    )


@strawberry.input(description="Filters events. Fields combine with AND.")
class EventFilter:
    and_: list["EventFilter"] | None = _all_of()
    or_: list["EventFilter"] | None = _any_of()
    not_: "EventFilter | None" = _none_of()
    slug: TextMatch | None = strawberry.field(default=None, description="Its slug.")
    kind: OneOf[enums.EventKind] | None = strawberry.field(default=None, description="Its kind.")
    status: OneOf[enums.EventStatus] | None = strawberry.field(
        default=None, description="Its status."
    )
    start_date: DateMatch | None = strawberry.field(default=None, description="When it began.")
    end_date: DateMatch | None = strawberry.field(default=None, description="When it ended.")
    participant: ParticipantFilter | None = strawberry.field(
        default=None, description="Has a participant matching this."
    )
    partnership: PartnershipFilter | None = strawberry.field(
        default=None, description="Belongs to a partnership matching this."
    )


def event_where(f: EventFilter | None, table: FromClause = EVENT) -> Conditions:
    if f is None:
        return []
    found = _combine(f, event_where, table)
    found += text(table.c.slug, f.slug)
    found += one_of(table.c.kind, f.kind)
    found += one_of(table.c.status, f.status)
    found += dates(table.c.start_date, f.start_date)
    found += dates(table.c.end_date, f.end_date)
    if f.participant is not None:
        conditions = _party_conditions(f.participant, PARTICIPANT, f.participant.person)
        found.append(_exists(PARTICIPANT, PARTICIPANT.c.event_id == table.c.id, *conditions))
    if f.partnership is not None:
        link = PARTNERSHIP.alias()
        found.append(
            _exists(
                link, link.c.id == table.c.partnership_id, *partnership_where(f.partnership, link)
            )
        )
    return found
