"""The root `Query`: global ids, the alliance, the five lists and lookups by slug."""

import asyncio
from typing import Annotated, Any

import strawberry

from . import ids
from .connection import Connection, Listing, top_level
from .errors import InvalidArgument, NotFound
from .filters import (
    EventFilter,
    MemberFilter,
    OrganisationFilter,
    PartnershipFilter,
    PersonFilter,
    event_where,
    member_where,
    organisation_where,
    partnership_where,
    person_where,
)
from .ordering import (
    BY_NAME,
    DATED_KEYS,
    MEMBER_KEYS,
    ORGANISATION_KEYS,
    PERSON_KEYS,
    DatedOrder,
    DatedOrderField,
    MemberOrder,
    MemberOrderField,
    OrganisationOrder,
    OrganisationOrderField,
    PersonOrder,
    PersonOrderField,
    sort_keys,
)
from .types import (
    AllianceSlug,
    DatedOrderBy,
    EventsWhere,
    MembersOrder,
    MembersWhere,
    OrganisationsOrder,
    OrganisationsWhere,
    PartnershipsWhere,
    Slug,
    ALLIANCE,
    EVENTS,
    MEMBERS,
    NODE_TYPES,
    ORGANISATIONS,
    PARTNERSHIPS,
    PEOPLE,
    After,
    Alliance,
    Before,
    Ctx,
    Event,
    First,
    Last,
    Member,
    Node,
    Organisation,
    Partnership,
    Person,
    _args,
)

MAX_NODES = 100


async def _by_slug(info: Ctx, listing: Listing, kind: str, slug: Slug) -> Any:
    found = await info.context.loaders.by_slug(listing.table, listing.build).load(slug)
    if found is None:
        raise NotFound(f"no {kind} has the slug {slug!r}", field="slug")
    return found


async def _node(info: Ctx, global_id: str) -> Any:
    type_name, pk = ids.decode(global_id)
    if type_name not in NODE_TYPES:
        return None
    table, cls = NODE_TYPES[type_name]
    return await info.context.loaders.by_id(table, cls.from_row).load(pk)


@strawberry.type(description="Reading the alliance graph.")
class Query:
    @strawberry.field(description="Any record by its global id; null when there is none.")
    async def node(
        self, info: Ctx, id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")]
    ) -> Node | None:
        return await _node(info, id)

    @strawberry.field(description=f"Records by global ids, in the same order (at most {MAX_NODES}).")
    async def nodes(
        self, info: Ctx, ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global ids.")]
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise InvalidArgument(f"at most {MAX_NODES} ids at once", field="ids")
        return list(await asyncio.gather(*(_node(info, global_id) for global_id in ids)))

    @strawberry.field(description="An alliance by slug; the hub's default alliance without one.")
    async def alliance(self, info: Ctx, slug: AllianceSlug = None) -> Alliance | None:
        listing = Listing(ALLIANCE, Alliance.from_row)
        return await _by_slug(info, listing, "alliance", slug or info.context.settings.default_alliance)

    @strawberry.field(description="Every alliance on this hub.")
    async def alliances(
        self, info: Ctx, first: First = None, after: After = None, last: Last = None,
        before: Before = None,
    ) -> Connection[Alliance]:
        listing = Listing(ALLIANCE, Alliance.from_row)
        return await top_level(info, listing, [], BY_NAME, _args(first, after, last, before))

    @strawberry.field(description="Members and other places, filtered and ordered.")
    async def members(
        self,
        info: Ctx,
        filter: MembersWhere = None,
        order_by: MembersOrder = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Member]:
        order = sort_keys(order_by, MEMBER_KEYS, MemberOrderField.NAME)
        return await top_level(info, MEMBERS, member_where(filter), order, _args(first, after, last, before))

    @strawberry.field(description="Organisations, filtered and ordered.")
    async def organisations(
        self,
        info: Ctx,
        filter: OrganisationsWhere = None,
        order_by: OrganisationsOrder = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Organisation]:
        order = sort_keys(order_by, ORGANISATION_KEYS, OrganisationOrderField.NAME)
        where = organisation_where(filter)
        return await top_level(info, ORGANISATIONS, where, order, _args(first, after, last, before))

    @strawberry.field(description="People, filtered and ordered.")
    async def people(
        self,
        info: Ctx,
        filter: Annotated[PersonFilter | None, strawberry.argument(description="Only people matching this.")] = None,
        order_by: Annotated[list[PersonOrder] | None, strawberry.argument(description="Sort terms; by name unless given.")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Person]:
        order = sort_keys(order_by, PERSON_KEYS, PersonOrderField.NAME)
        return await top_level(info, PEOPLE, person_where(filter), order, _args(first, after, last, before))

    @strawberry.field(description="Partnerships, filtered and ordered (by start date unless told).")
    async def partnerships(
        self,
        info: Ctx,
        filter: PartnershipsWhere = None,
        order_by: DatedOrderBy = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Partnership]:
        order = sort_keys(order_by, DATED_KEYS, DatedOrderField.START_DATE)
        where = partnership_where(filter)
        return await top_level(info, PARTNERSHIPS, where, order, _args(first, after, last, before))

    @strawberry.field(description="Events, filtered and ordered (by start date unless told).")
    async def events(
        self,
        info: Ctx,
        filter: EventsWhere = None,
        order_by: DatedOrderBy = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Event]:
        order = sort_keys(order_by, DATED_KEYS, DatedOrderField.START_DATE)
        return await top_level(info, EVENTS, event_where(filter), order, _args(first, after, last, before))

    @strawberry.field(description="A member or other place by slug.")
    async def member(self, info: Ctx, slug: Slug) -> Member | None:
        return await _by_slug(info, MEMBERS, "member", slug)

    @strawberry.field(description="An organisation by slug.")
    async def organisation(self, info: Ctx, slug: Slug) -> Organisation | None:
        return await _by_slug(info, ORGANISATIONS, "organisation", slug)

    @strawberry.field(description="A person by slug.")
    async def person(self, info: Ctx, slug: Slug) -> Person | None:
        return await _by_slug(info, PEOPLE, "person", slug)

    @strawberry.field(description="A partnership by slug.")
    async def partnership(self, info: Ctx, slug: Slug) -> Partnership | None:
        return await _by_slug(info, PARTNERSHIPS, "partnership", slug)

    @strawberry.field(description="An event by slug.")
    async def event(self, info: Ctx, slug: Slug) -> Event | None:
        return await _by_slug(info, EVENTS, "event", slug)
