"""The hub's graph as its own feed (sync/publish.py): the snapshot's pages hold every live
record once, each item valid by the feed's own schema, and the changes after a cursor hold
each changed record once, as it is now or as a tombstone."""

from sqlalchemy import func, select, update

from store import changes, seed, versions
from store.registry import MEMBER, RECORD_TABLES
from store.tables import utcnow
from sync import publish
from sync.formats._check import item_problems


async def walk(connection, size: int) -> tuple[list[dict], set[str | None]]:
    """Every page of the snapshot, following `next`; and the cursors the pages gave."""
    found, cursors, after, as_of = [], set(), None, None
    while True:
        page = await publish.snapshot(connection, as_of, after, size=size)
        found += page.items
        cursors.add(page.cursor)
        if page.next is None:
            return found, cursors
        as_of, after = page.next["as_of"], publish.parse_after(page.next["after"])


async def test_the_snapshot_pages_hold_every_live_record_once_each_item_valid(databases):
    database = await databases.create()
    await seed.seed(database.engine)
    async with database.engine.connect() as connection:
        items, cursors = await walk(connection, size=7)
        live = 0
        for table in RECORD_TABLES.values():
            live += await connection.scalar(
                select(func.count()).select_from(table).where(table.c.deleted_at.is_(None))
            )

    assert len(items) == len({(i["type"], i["id"]) for i in items}) == live
    assert [item_problems(item) for item in items] == [None] * live
    assert len(cursors) == 1  # every page says where the log stood at the first
    assert [i["type"] for i in items] == sorted(
        (i["type"] for i in items), key=publish.ORDER.index
    )  # what is referred to comes first


async def test_each_page_of_changes_holds_a_changed_record_once_as_it_is_or_a_tombstone(databases):
    database = await databases.create()
    await seed.seed(database.engine)
    async with database.engine.connect() as connection:
        start = changes.position((await publish.snapshot(connection, None, None)).cursor)
    async with database.engine.begin() as connection:
        await connection.execute(
            update(MEMBER).where(MEMBER.c.slug == "aachen").values(population=250_000)
        )
        await connection.execute(
            update(MEMBER).where(MEMBER.c.slug == "aachen").values(population=249_000)
        )
        await connection.execute(
            update(MEMBER).where(MEMBER.c.slug == "mainz").values(deleted_at=utcnow())
        )
        await versions.bump(connection)

    async with database.engine.connect() as connection:
        page = await publish.since(connection, start, size=1)
        rest = await publish.since(connection, changes.position(page.next["since"]))

    found = page.items + rest.items
    by_id = {(i["type"], i["data"]["slug"] if "data" in i else None): i for i in found}
    assert by_id[("member", "aachen")]["data"]["population"] == 249_000
    assert [i for i in found if i.get("deleted")] == [
        {
            "type": "member",
            "id": found[-1]["id"],
            "updated_at": found[-1]["updated_at"],
            "deleted": True,
        }
    ]
    assert page.complete is False and rest.next is None
    assert [item_problems(item) for item in found] == [None] * len(found)
