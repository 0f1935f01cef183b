"""`changes`: the change log, for partners that mirror the hub (docs/api.md, "Changes").

Every record created, updated or deleted is one change, in commit order (store/versions.py):
a partner keeps the cursor of the last change it read and pages on from it, and sees every
change once, also while a sync commits. A change names its record by global id and carries its
commit's data version; `node` is the record as it is now (null once deleted).
"""

import datetime as dt
from typing import Annotated, Any

import strawberry

from store import changes, enums

from .connection import PageInfo
from .context import Ctx
from .entities import Node
from .errors import InvalidCursor
from .nodes import NODE_TYPES, TYPE_NAMES, global_id, load_node
from .pagination import page_size

EntityType = strawberry.enum(enums.EntityType, description="A kind of record.")
ChangeAction = strawberry.enum(
    enums.ChangeAction,
    description="CREATED (also a deleted record that came back), UPDATED or DELETED.",
)


@strawberry.type(description="A record created, updated or deleted by one commit.")
class Change:
    change_id: strawberry.Private[int]
    entity_id: strawberry.Private[int]
    entity_type: EntityType = strawberry.field(description="The kind of record.")
    action: ChangeAction = strawberry.field(description="What happened to it.")
    version: int = strawberry.field(description="The data version its commit raised.")
    changed_at: dt.datetime = strawberry.field(description="When it was written.")

    @strawberry.field(description="Pass as `after` to read the changes after this one.")
    def cursor(self) -> str:
        return changes.cursor(self.version, self.change_id)

    @strawberry.field(description="The record's global id.")
    def id(self) -> strawberry.ID:
        return global_id(self.entity_type.value, self.entity_id)

    @strawberry.field(description="The record as it is now; null once it is deleted.")
    async def node(self, info: Ctx) -> Node | None:
        cls = NODE_TYPES[TYPE_NAMES[self.entity_type.value]]
        return await load_node(info, (cls, self.entity_id))


@strawberry.type(description="A page of the change log, oldest change first.")
class ChangeConnection:
    nodes: list[Change] = strawberry.field(description="The changes of this page.")
    page_info: PageInfo = strawberry.field(
        description="`endCursor` is where to go on from, now or on a later visit; null when "
        "the page is empty (keep the cursor you sent)."
    )


def change(row: Any) -> Change:
    return Change(
        change_id=row.id,
        entity_id=row.entity_id,
        entity_type=enums.EntityType(row.entity_type),
        action=enums.ChangeAction(row.action),
        version=row.version,
        changed_at=row.changed_at,
    )


After = Annotated[
    str | None, strawberry.argument(description="The cursor of the last change read.")
]
Types = Annotated[list[EntityType] | None, strawberry.argument(description="Only these kinds.")]


def followed(
    after: str | None, types: list[EntityType] | None
) -> tuple[changes.Position | None, list[str] | None]:
    """Where in the log `after` is and which kinds `types` names, for the query and the
    subscription alike; INVALID_CURSOR for a cursor the hub did not make."""
    position = None
    if after is not None:
        position = changes.position(after)
        if position is None:
            raise InvalidCursor(f"{after!r} is not a cursor of the change log", field="after")
    return position, None if types is None else [t.value for t in types]


@strawberry.type(description="Mirroring the hub: what changed, in commit order.")
class ChangeQuery:
    @strawberry.field(
        description="Every record created, updated or deleted, oldest first, from `after` on."
    )
    async def changes(
        self,
        info: Ctx,
        after: After = None,
        first: Annotated[
            int | None, strawberry.argument(description="Page size (max 100).")
        ] = None,
        types: Types = None,
    ) -> ChangeConnection:
        settings = info.context.settings
        size = page_size(first, settings.default_page_size, settings.max_page_size)
        after_position, wanted = followed(after, types)
        query = changes.page(after_position, size + 1, wanted)
        rows = await info.context.reader.rows(query)
        shown = [change(row) for row in rows[:size]]
        return ChangeConnection(
            nodes=shown,
            page_info=PageInfo(
                has_next_page=len(rows) > size,
                has_previous_page=after is not None,
                start_cursor=shown[0].cursor() if shown else None,
                end_cursor=shown[-1].cursor() if shown else None,
            ),
        )
