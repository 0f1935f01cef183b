"""Finding a record the hub already has by one of its keys: an identifier or a slug.

Both uses go through here: a reference (`slug:isa`, `wikidata:Q64`, see `sync.mapping`) and a
new item looking for its record before it makes one (`sync.apply`, docs/feeds.md, "Matching
records the hub already has").

The rule for soft-deleted records: **a look-up by key finds a record whether or not it is
soft-deleted.** A deleted record keeps its slug and identifiers, and both are unique keys, so
no other record can ever take them: a look-up that skipped it would make an item a twin under
`<slug>-2` and leave a reference waiting for ever. Finding it, an item brings the record back
(apply clears `deleted_at`), and a reference names it as it is (a reference never revives).
"""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from store.registry import IDENTIFIER, RECORD_TABLES


async def by_identifier(
    connection: AsyncConnection, scheme: str, value: str, types: tuple[str, ...]
) -> tuple[str, int] | None:
    """The (type, id) of the record of one of `types` holding the identifier, if any."""
    row = (
        await connection.execute(
            select(IDENTIFIER.c.entity_type, IDENTIFIER.c.entity_id)
            .where(
                IDENTIFIER.c.scheme == scheme,
                IDENTIFIER.c.value == value,
                IDENTIFIER.c.entity_type.in_(types),
            )
            .limit(1)
        )
    ).first()
    return None if row is None else (row.entity_type, row.entity_id)


async def by_slug(
    connection: AsyncConnection, slug: str, types: tuple[str, ...]
) -> tuple[str, int] | None:
    """The (type, id) of the record of the first of `types` with that slug, if any."""
    for entity_type in types:
        table = RECORD_TABLES[entity_type]
        if "slug" not in table.c:  # a post has no slug
            continue
        found = await connection.scalar(select(table.c.id).where(table.c.slug == slug))
        if found is not None:
            return entity_type, found
    return None
