"""The GraphQL types of the alliance graph, named like their tables.

Objects are made straight from table rows (`from_row`); plain fields read the row's columns and
every relation goes through the request's DataLoaders. Nested lists that can grow (a member's
organisations, partnerships, events) are connections; short ones (posts, memberships, parties)
are lists.
"""

import dataclasses
import datetime as dt
from typing import Annotated, Any, Self

import strawberry
from sqlalchemy import FromClause, select
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from store import names as name_rules
from store.registry import ALLIANCE, SECRETARIAT

from . import ids
from .arguments import (
    After,
    AllianceSlug,
    Before,
    DatedOrderBy,
    EventsWhere,
    First,
    Lang,
    Last,
    MembersOrder,
    MembersWhere,
    OrganisationsOrder,
    OrganisationsWhere,
    PartnershipsWhere,
    PeopleOrder,
    PeopleWhere,
)
from .connection import Connection, Listing, nested, top_level
from .context import Context
from .enums import (
    EventKind,
    EventStatus,
    MemberKind,
    MembershipStatus,
    NameKind,
    OrganisationKind,
    PartnershipKind,
    PartnershipStatus,
)
from .filters import (
    EVENT,
    MEMBER,
    ORGANISATION,
    PARTICIPANT,
    PARTNERSHIP,
    PARTY,
    PERIOD,
    PERSON,
    POST,
    event_where,
    member_where,
    organisation_where,
    partnership_where,
    person_where,
)
from .loaders import Loaders
from .ordering import (
    DATED_KEYS,
    MEMBER_KEYS,
    ORGANISATION_KEYS,
    PERSON_KEYS,
    DatedOrderField,
    MemberOrderField,
    OrganisationOrderField,
    PersonOrderField,
    sort_keys,
)
from .pagination import Link, PageArgs
from .relations import node_selections, prefetch, relation
from .scalars import CountryCode, PartialDate

Ctx = Info[Context, None]


class FromRow:
    """Makes a GraphQL object from a table row, taking the columns its dataclass declares."""

    @classmethod
    def from_row(cls, row: Any) -> Self:
        columns = cls.__dict__.get("_columns")
        if columns is None:
            columns = tuple(f.name for f in dataclasses.fields(cls) if f.init)
            cls._columns = columns
        mapping = row._mapping
        return cls(**{name: mapping[name] for name in columns})


def _members_by_id(loaders: Loaders, _record: Any = None) -> DataLoader:
    return loaders.by_id(MEMBER, Member.from_row)


def _organisations_by_id(loaders: Loaders, _record: Any = None) -> DataLoader:
    return loaders.by_id(ORGANISATION, Organisation.from_row)


def _people_by_id(loaders: Loaders, _record: Any = None) -> DataLoader:
    return loaders.by_id(PERSON, Person.from_row)


def _through(link_table: FromClause, child: str, parent: str) -> Link:
    """Children reached through a link table, each (child, parent) pair once."""
    pairs = (
        select(link_table.c[child], link_table.c[parent])
        .where(link_table.c.deleted_at.is_(None), link_table.c[parent].is_not(None))
        .distinct()
        .subquery()
    )
    return Link(parent=pairs.c[parent], through=pairs, through_child=child)


ALLIANCE_MEMBERS = _through(PERIOD, "member_id", "alliance_id")
HOME_MEMBER = Link(parent=ORGANISATION.c.member_id)
MEMBER_PARTNERSHIPS = _through(PARTY, "partnership_id", "member_id")
ORGANISATION_PARTNERSHIPS = _through(PARTY, "partnership_id", "organisation_id")
MEMBER_EVENTS = _through(PARTICIPANT, "event_id", "member_id")
ORGANISATION_EVENTS = _through(PARTICIPANT, "event_id", "organisation_id")
PERSON_EVENTS = _through(PARTICIPANT, "event_id", "person_id")

# The types are defined below; the lambdas find them when rows arrive.
MEMBERS = Listing(
    "Member",
    MEMBER,
    lambda row: Member.from_row(row),
    member_where,
    MEMBER_KEYS,
    MemberOrderField.NAME,
    MembersWhere,
    MembersOrder,
)
ORGANISATIONS = Listing(
    "Organisation",
    ORGANISATION,
    lambda row: Organisation.from_row(row),
    organisation_where,
    ORGANISATION_KEYS,
    OrganisationOrderField.NAME,
    OrganisationsWhere,
    OrganisationsOrder,
)
PEOPLE = Listing(
    "Person",
    PERSON,
    lambda row: Person.from_row(row),
    person_where,
    PERSON_KEYS,
    PersonOrderField.NAME,
    PeopleWhere,
    PeopleOrder,
)
PARTNERSHIPS = Listing(
    "Partnership",
    PARTNERSHIP,
    lambda row: Partnership.from_row(row),
    partnership_where,
    DATED_KEYS,
    DatedOrderField.START_DATE,
    PartnershipsWhere,
    DatedOrderBy,
)
EVENTS = Listing(
    "Event",
    EVENT,
    lambda row: Event.from_row(row),
    event_where,
    DATED_KEYS,
    DatedOrderField.START_DATE,
    EventsWhere,
    DatedOrderBy,
)


def connection_field(listing: Listing, description: str, link: Link | None = None) -> Any:
    """A connection field over `listing`: top-level, or the children of its object via `link`.

    One function for every list of the graph, so they all take the same arguments.
    """

    async def resolve(
        self,
        info: Ctx,
        filter: listing.filter_arg = None,
        order_by: listing.order_arg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[listing.name]:
        order = sort_keys(order_by, listing.keys, listing.default)
        args = PageArgs(first=first, after=after, last=last, before=before)
        where = listing.where(filter)
        if link is None:
            connection = await top_level(info, listing, where, order, args)
        else:
            # Filter inputs are dataclasses: their repr tells two filters apart for the loaders.
            key = (listing.name, link, repr(filter))
            connection = await nested(info, listing, link, self.id, where, order, args, key)
        selections = node_selections(info.selected_fields[0])
        await prefetch(info.context.loaders, connection.page.items, selections)
        return connection

    return strawberry.field(resolver=resolve, description=description)


@strawberry.type(description="A name in one language.")
class Name:
    value: str = strawberry.field(description="The name as written.")
    lang: str = strawberry.field(
        description="BCP 47 language tag: de, en, zh-Hans, zh-Latn-pinyin."
    )
    kind: NameKind = strawberry.field(
        description="Official, short, alias, former or transliteration."
    )


@strawberry.type(description="An external key: a Wikidata QID, an official code, a feed's item id.")
class Identifier:
    scheme: str = strawberry.field(description="wikidata, ags, gbt2260, geonames or feed:<slug>.")
    value: str = strawberry.field(description="The key within its scheme: Q3832, 07312000.")


@strawberry.type(description="Who publishes a feed, as the feed declares itself.")
class Publisher:
    id: str = strawberry.field(description="Its stable identifier: `wfk-kaiserslautern`.")
    name: str | None = strawberry.field(description="Its name.")
    url: str | None = strawberry.field(description="Its public web site.")


@strawberry.type(description="Where a fact came from: a feed of the hub, or a cited document.")
class Source:
    feed: str | None = strawberry.field(description="Slug of the feed, or `seed`.")
    item_id: str | None = strawberry.field(description="The item's id in that feed.")
    url: str | None = strawberry.field(
        description="Where to read the document cited; never the address of a feed."
    )
    note: str | None = strawberry.field(description="What the source is, in words.")
    retrieved_at: dt.datetime | None = strawberry.field(description="When the hub read it.")
    run_id: int | None = strawberry.field(description="The sync run that brought it.")
    feed_publisher: strawberry.Private[dict[str, Any] | None]

    @strawberry.field(description="Who publishes the feed; null for the seed and silent feeds.")
    def publisher(self) -> Publisher | None:
        declared = self.feed_publisher
        if declared is None:
            return None
        return Publisher(id=declared["id"], name=declared.get("name"), url=declared.get("url"))


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.Private[int]

    @strawberry.field(name="id", description="Global id, stable across syncs.")
    def global_id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode(type(self).__name__, self.id))


@strawberry.interface(description="A record of the graph with its external keys and sources.")
class Entity(Node):
    entity_type = ""  # the `entity_type` that identifiers and sources use for this type

    created_at: dt.datetime = strawberry.field(description="When the hub first stored it.")
    updated_at: dt.datetime = strawberry.field(description="When the hub last changed it.")

    identifiers = relation(
        list[Identifier],
        "External keys of this record.",
        lambda loaders, record: loaders.identifiers_by_entity(record.entity_type),
    )
    sources = relation(
        list[Source],
        "Which feed or document said this, when, in which run.",
        lambda loaders, record: loaders.sources_by_entity(record.entity_type),
    )


def display_name(record: Any, lang: str | None) -> str:
    """A named record's name in `lang` by the fallback chain, or its own name."""
    if lang is None:
        return record.name
    return name_rules.resolve(record.names, lang, record.default_lang) or record.name


@strawberry.interface(description="A record with names in several languages.")
class Named:
    slug: str = strawberry.field(description="Stable, lowercase ASCII, unique for its type.")
    default_lang: str = strawberry.field(description="The language of the record's own name.")
    name: strawberry.Private[str]
    names: strawberry.Private[list[dict[str, str]]]
    sort_key: strawberry.Private[str]  # what NAME orders by; cursors carry it

    @strawberry.field(
        name="name",
        description=(
            "The name in `lang` if known, else in the record's own language, else English, "
            "else any. A BCP 47 tag; `zh` finds `zh-Hans`."
        ),
    )
    def localized_name(self, lang: Lang = None) -> str:
        return display_name(self, lang)

    @strawberry.field(name="names", description="Every name, in every language, of every kind.")
    def all_names(
        self,
        lang: Annotated[
            str | None, strawberry.argument(description="Only names in this exact language.")
        ] = None,
        kind: Annotated[
            NameKind | None, strawberry.argument(description="Only names of this kind.")
        ] = None,
    ) -> list[Name]:
        wanted = kind.value if kind is not None else None
        return [
            Name(value=n["value"], lang=n["lang"], kind=n["kind"])
            for n in self.names
            if (lang is None or n["lang"] == lang) and (wanted is None or n["kind"] == wanted)
        ]


@strawberry.type(description="An alliance of cities: the network itself.")
class Alliance(Entity, Named, FromRow):
    entity_type = "alliance"

    founded_on: PartialDate | None = strawberry.field(description="When it was founded.")
    website: str | None = strawberry.field(description="Its website.")

    members = connection_field(
        MEMBERS, "Members: places with a membership period in this alliance.", link=ALLIANCE_MEMBERS
    )

    secretariats = relation(
        "list[Organisation]",
        "Organisations serving as its secretariat.",
        lambda loaders, _: loaders.linked_by(
            SECRETARIAT, "alliance_id", "organisation_id", ORGANISATION, Organisation.from_row
        ),
    )


@strawberry.type(description="One period of a member's status in an alliance, as one source said.")
class MembershipPeriod(Entity, FromRow):
    entity_type = "membership_period"

    member_id: strawberry.Private[int]
    alliance_id: strawberry.Private[int]
    status: MembershipStatus = strawberry.field(description="The member's standing in the period.")
    start_date: PartialDate | None = strawberry.field(description="When the period began.")
    end_date: PartialDate | None = strawberry.field(
        description="When it ended; null while it lasts."
    )

    alliance = relation(
        "Alliance | None",
        "The alliance.",
        lambda loaders, _: loaders.by_id(ALLIANCE, Alliance.from_row),
        "alliance_id",
    )
    member = relation("Member | None", "The member.", _members_by_id, "member_id")


@strawberry.type(description="A city, district, region or city network.")
class Member(Entity, Named, FromRow):
    entity_type = "member"

    kind: MemberKind = strawberry.field(description="City, district, region or city network.")
    country: CountryCode = strawberry.field(description="Its country.")
    latitude: float | None = strawberry.field(description="WGS 84 latitude.")
    longitude: float | None = strawberry.field(description="WGS 84 longitude.")
    population: int | None = strawberry.field(description="Inhabitants, where a source gives them.")
    parent_id: strawberry.Private[int | None]

    parent = relation(
        "Member | None", "The city network this place belongs to.", _members_by_id, "parent_id"
    )
    constituents = relation(
        "list[Member]",
        "The places of a city network.",
        lambda loaders, _: loaders.lists_by(MEMBER, "parent_id", Member.from_row, "sort_key"),
    )

    @strawberry.field(description="Its membership periods, in every alliance unless one is named.")
    async def memberships(self, info: Ctx, alliance: AllianceSlug = None) -> list[MembershipPeriod]:
        periods = await _periods(info, self.id)
        if alliance is None:
            return periods
        wanted = await alliance_by_slug(info).load(alliance)
        return [p for p in periods if wanted is not None and p.alliance_id == wanted.id]

    @strawberry.field(
        description=(
            "Its status now in an alliance (the hub's default alliance unless named): the "
            "latest open period, or null when it has none."
        )
    )
    async def status(self, info: Ctx, alliance: AllianceSlug = None) -> MembershipStatus | None:
        slug = alliance or info.context.settings.default_alliance
        wanted = await alliance_by_slug(info).load(slug)
        open_periods = [
            p
            for p in await _periods(info, self.id)
            if wanted is not None and p.alliance_id == wanted.id and p.end_date is None
        ]
        latest = max(open_periods, key=lambda p: (p.start_date or "", p.id), default=None)
        return None if latest is None else latest.status

    organisations = connection_field(ORGANISATIONS, "Organisations based here.", link=HOME_MEMBER)

    posts = relation(
        "list[Post]",
        "Posts held for this place itself (a lord mayor, say).",
        lambda loaders, _: loaders.lists_by(POST, "member_id", Post.from_row),
    )

    partnerships = connection_field(
        PARTNERSHIPS, "Partnerships this place is a party to.", link=MEMBER_PARTNERSHIPS
    )

    events = connection_field(EVENTS, "Events this place took part in.", link=MEMBER_EVENTS)


@strawberry.type(description="A company, agency, utility, research body, association or office.")
class Organisation(Entity, Named, FromRow):
    entity_type = "organisation"

    kind: OrganisationKind = strawberry.field(description="What kind of organisation it is.")
    description: str | None = strawberry.field(description="What it does, in a sentence or two.")
    sectors: list[str] = strawberry.field(description="Sectors it works in.")
    website: str | None = strawberry.field(description="Its website.")
    member_id: strawberry.Private[int | None]
    parent_id: strawberry.Private[int | None]

    member = relation("Member | None", "The place it is based in.", _members_by_id, "member_id")
    parent = relation(
        "Organisation | None",
        "The organisation it belongs to.",
        _organisations_by_id,
        "parent_id",
    )
    subsidiaries = relation(
        "list[Organisation]",
        "Organisations that belong to it.",
        lambda loaders, _: loaders.lists_by(
            ORGANISATION, "parent_id", Organisation.from_row, "sort_key"
        ),
    )
    posts = relation(
        "list[Post]",
        "Posts in this organisation and who holds them.",
        lambda loaders, _: loaders.lists_by(POST, "organisation_id", Post.from_row),
    )

    partnerships = connection_field(
        PARTNERSHIPS,
        "Partnerships this organisation is a party to.",
        link=ORGANISATION_PARTNERSHIPS,
    )

    events = connection_field(
        EVENTS, "Events this organisation took part in.", link=ORGANISATION_EVENTS
    )


@strawberry.type(description="Someone who acts for a member or an organisation.")
class Person(Entity, Named, FromRow):
    entity_type = "person"

    sort_name: str | None = strawberry.field(description="Family name first: `Weiler, Stefan`.")
    honorific_prefix: str | None = strawberry.field(description="Dr., Prof., as sources give it.")

    posts = relation(
        "list[Post]",
        "The posts this person holds or held.",
        lambda loaders, _: loaders.lists_by(POST, "person_id", Post.from_row),
    )

    events = connection_field(EVENTS, "Events this person took part in.", link=PERSON_EVENTS)


Party = Annotated[
    Member | Organisation,
    strawberry.union("Party", description="A member or an organisation."),
]
Actor = Annotated[
    Member | Organisation | Person,
    strawberry.union("Actor", description="A member, an organisation or a person."),
]


@strawberry.type(description="A position a person holds in an organisation or for a member.")
class Post(Entity, FromRow):
    entity_type = "post"

    label: str = strawberry.field(description="As the source words it: `Geschäftsführer`.")
    role: str | None = strawberry.field(description="A normalised role: `managing_director`.")
    start_date: PartialDate | None = strawberry.field(description="When the post began.")
    end_date: PartialDate | None = strawberry.field(description="When it ended; null while held.")
    person_id: strawberry.Private[int]
    organisation_id: strawberry.Private[int | None]
    member_id: strawberry.Private[int | None]

    person = relation("Person | None", "Who holds the post.", _people_by_id, "person_id")
    organisation = relation(
        "Organisation | None",
        "The organisation the post is in, if any.",
        _organisations_by_id,
        "organisation_id",
    )
    member = relation(
        "Member | None", "The member the post is for, if any.", _members_by_id, "member_id"
    )


async def _actor(info: Ctx, member_id, organisation_id, person_id=None) -> Any:
    loaders = info.context.loaders
    if member_id is not None:
        return await _members_by_id(loaders).load(member_id)
    if organisation_id is not None:
        return await _organisations_by_id(loaders).load(organisation_id)
    if person_id is not None:
        return await _people_by_id(loaders).load(person_id)
    return None


@strawberry.type(description="A party to a partnership, in its role.")
class PartnershipParty(FromRow):
    role: str | None = strawberry.field(description="The party's role, as recorded.")
    member_id: strawberry.Private[int | None]
    organisation_id: strawberry.Private[int | None]

    @strawberry.field(description="The member or organisation.")
    async def party(self, info: Ctx) -> Party | None:
        return await _actor(info, self.member_id, self.organisation_id)


@strawberry.type(description="A participant of an event, in its role.")
class EventParticipant(FromRow):
    role: str | None = strawberry.field(description="The participant's role, as recorded.")
    member_id: strawberry.Private[int | None]
    organisation_id: strawberry.Private[int | None]
    person_id: strawberry.Private[int | None]
    on_behalf_of_member_id: strawberry.Private[int | None]
    on_behalf_of_organisation_id: strawberry.Private[int | None]
    on_behalf_of_person_id: strawberry.Private[int | None]

    @strawberry.field(description="The member, organisation or person.")
    async def participant(self, info: Ctx) -> Actor | None:
        return await _actor(info, self.member_id, self.organisation_id, self.person_id)

    @strawberry.field(description="Whom the participant acted for, if anyone.")
    async def on_behalf_of(self, info: Ctx) -> Actor | None:
        return await _actor(
            info,
            self.on_behalf_of_member_id,
            self.on_behalf_of_organisation_id,
            self.on_behalf_of_person_id,
        )


@strawberry.type(description="A lasting link between members or organisations.")
class Partnership(Entity, FromRow):
    entity_type = "partnership"

    slug: str = strawberry.field(description="Stable, lowercase ASCII, unique among partnerships.")
    kind: PartnershipKind = strawberry.field(description="What the partnership is about.")
    status: PartnershipStatus = strawberry.field(description="Proposed, active or ended.")
    title: str = strawberry.field(description="Its title.")
    description: str | None = strawberry.field(description="What it is, in a few sentences.")
    start_date: PartialDate | None = strawberry.field(description="When it began.")
    end_date: PartialDate | None = strawberry.field(description="When it ended.")

    parties = relation(
        list[PartnershipParty],
        "Who is party to it, in which role.",
        lambda loaders, _: loaders.lists_by(PARTY, "partnership_id", PartnershipParty.from_row),
    )
    events = relation(
        "list[Event]",
        "Events held under this partnership.",
        lambda loaders, _: loaders.lists_by(EVENT, "partnership_id", Event.from_row, "start_date"),
    )


@strawberry.type(description="A plenary, ceremony, delegation visit, fair or meeting.")
class Event(Entity, FromRow):
    entity_type = "event"

    slug: str = strawberry.field(description="Stable, lowercase ASCII, unique among events.")
    kind: EventKind = strawberry.field(description="What kind of event it is.")
    status: EventStatus = strawberry.field(description="Requested, planned, held or cancelled.")
    title: str = strawberry.field(description="Its title.")
    description: str | None = strawberry.field(description="What happened, in a few sentences.")
    start_date: PartialDate | None = strawberry.field(description="When it began (or begins).")
    end_date: PartialDate | None = strawberry.field(description="When it ended.")
    place: str | None = strawberry.field(description="Where, in words.")
    partnership_id: strawberry.Private[int | None]

    participants = relation(
        list[EventParticipant],
        "Who took part, in which role, on whose behalf.",
        lambda loaders, _: loaders.lists_by(PARTICIPANT, "event_id", EventParticipant.from_row),
    )
    partnership = relation(
        Partnership | None,
        "The partnership the event belongs to, if any.",
        lambda loaders, _: loaders.by_id(PARTNERSHIP, Partnership.from_row),
        "partnership_id",
    )


# Every type a global id can name, with the table it is read from.
NODE_TYPES: dict[str, tuple[FromClause, Any]] = {
    cls.__name__: (table, cls)
    for cls, table in (
        (Alliance, ALLIANCE),
        (Member, MEMBER),
        (MembershipPeriod, PERIOD),
        (Organisation, ORGANISATION),
        (Person, PERSON),
        (Post, POST),
        (Partnership, PARTNERSHIP),
        (Event, EVENT),
    )
}


def alliance_by_slug(info: Ctx):
    return info.context.loaders.by_slug(ALLIANCE, Alliance.from_row)


async def _periods(info: Ctx, member_id: int) -> list[MembershipPeriod]:
    loader = info.context.loaders.lists_by(
        PERIOD, "member_id", MembershipPeriod.from_row, "start_date"
    )
    return await loader.load(member_id)
