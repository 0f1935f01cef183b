"""The root `Query`: global ids, the alliance, the five lists and lookups by slug."""

import asyncio
from typing import Annotated, Any

import strawberry

from . import ids
from .arguments import After, AllianceSlug, Before, First, Last, Slug
from .connection import Connection, Listing, top_level
from .errors import InvalidArgument, InvalidId, NotFound
from .ordering import BY_NAME
from .pagination import PageArgs
from .relations import prefetch
from .types import (
    ALLIANCE,
    EVENTS,
    MEMBERS,
    NODE_TYPES,
    ORGANISATIONS,
    PARTNERSHIPS,
    PEOPLE,
    Alliance,
    Ctx,
    Event,
    Member,
    Node,
    Organisation,
    Partnership,
    Person,
    connection_field,
)

ALLIANCES = Listing("Alliance", ALLIANCE, Alliance.from_row)
MAX_NODES = 100


async def _by_slug(info: Ctx, listing: Listing, kind: str, slug: str) -> Any:
    found = await info.context.loaders.by_slug(listing.table, listing.build).load(slug)
    if found is None:
        raise NotFound(f"no {kind} has the slug {slug!r}", field="slug")
    await prefetch(info.context.loaders, [found], info.selected_fields[0].selections)
    return found


def _node_key(global_id: str) -> tuple[Any, Any, int]:
    """The table, type and primary key a global id names, or INVALID_ID."""
    type_name, pk = ids.decode(global_id)
    if type_name not in NODE_TYPES:
        raise InvalidId(f"{global_id!r} is not an id of this API: no type {type_name}", field="id")
    table, cls = NODE_TYPES[type_name]
    return table, cls, pk


async def _node(info: Ctx, key: tuple[Any, Any, int]) -> Any:
    table, cls, pk = key
    return await info.context.loaders.by_id(table, cls.from_row).load(pk)


@strawberry.type(description="Reading the alliance graph.")
class GraphQuery:
    @strawberry.field(description="Any record by its global id; null when there is none.")
    async def node(
        self,
        info: Ctx,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        return await _node(info, _node_key(id))

    @strawberry.field(
        description=f"Records by global ids, in the same order (at most {MAX_NODES})."
    )
    async def nodes(
        self,
        info: Ctx,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description="Global ids.")],
    ) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise InvalidArgument(f"at most {MAX_NODES} ids at once", field="ids")
        # Every id is checked before any is loaded: a load left running by a refusal would
        # outlive the request's connection.
        keys = [_node_key(global_id) for global_id in ids]
        return list(await asyncio.gather(*(_node(info, key) for key in keys)))

    @strawberry.field(description="An alliance by slug; the hub's default alliance without one.")
    async def alliance(self, info: Ctx, slug: AllianceSlug = None) -> Alliance | None:
        slug = slug or info.context.settings.default_alliance
        return await _by_slug(info, ALLIANCES, "alliance", slug)

    @strawberry.field(description="Every alliance on this hub.")
    async def alliances(
        self,
        info: Ctx,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Alliance]:
        args = PageArgs(first=first, after=after, last=last, before=before)
        return await top_level(info, ALLIANCES, [], BY_NAME, args)

    members = connection_field(MEMBERS, "Members and other places, filtered and ordered.")
    organisations = connection_field(ORGANISATIONS, "Organisations, filtered and ordered.")
    people = connection_field(PEOPLE, "People, filtered and ordered.")
    partnerships = connection_field(
        PARTNERSHIPS, "Partnerships, filtered and ordered (by start date unless told)."
    )
    events = connection_field(EVENTS, "Events, filtered and ordered (by start date unless told).")

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
