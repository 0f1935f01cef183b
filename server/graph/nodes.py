"""`node(id:)` and `nodes(ids:)`: any record by its global id (docs/api.md, Records and node ids).

The one module besides `schema` that knows every area: a global id may name a record of any.
"""

import asyncio
from typing import Annotated, Any

import strawberry

from . import ids
from .context import Ctx
from .entities import Node
from .errors import InvalidArgument, InvalidId
from .events.types import Event
from .limits import MAX_NODES
from .members.types import Alliance, Member, MembershipPeriod
from .organisations.types import Organisation
from .partnerships.types import Partnership
from .people.types import Person, Post

# Every type a global id can name; each is read from its `table`.
NODE_TYPES: dict[str, Any] = {
    cls.__name__: cls
    for cls in (Alliance, Member, MembershipPeriod, Organisation, Person, Post, Partnership, Event)
}
# The type name of each kind of record (`store.enums.EntityType`'s values).
TYPE_NAMES = {cls.entity_type: name for name, cls in NODE_TYPES.items()}


def global_id(entity_type: str, pk: int) -> strawberry.ID:
    """The global id of the record of a kind (as the store names it) and primary key."""
    return strawberry.ID(ids.encode(TYPE_NAMES[entity_type], pk))


def _node_type(global_id: str) -> tuple[Any, int]:
    """The type and primary key a global id names, or INVALID_ID."""
    type_name, pk = ids.decode(global_id)
    if type_name not in NODE_TYPES:
        raise InvalidId(f"{global_id!r} is not an id of this API: no type {type_name}", field="id")
    return NODE_TYPES[type_name], pk


async def load_node(info: Ctx, key: tuple[Any, int]) -> Any:
    """The live record of a (type, primary key), or None; batched per request."""
    cls, pk = key
    return await info.context.loaders.by_id(cls.table, cls.from_row).load(pk)


@strawberry.type(description="Reading any record by its global id.")
class NodeQuery:
    @strawberry.field(description="Any record by its global id; null when there is none.")
    async def node(
        self,
        info: Ctx,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
    ) -> Node | None:
        return await load_node(info, _node_type(id))

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
        keys = [_node_type(global_id) for global_id in ids]
        return list(await asyncio.gather(*(load_node(info, key) for key in keys)))
