"""The change log (migration 0011, store/versions.py, server/graph/changes.py): every record
created, updated or deleted is one change, in commit order, whoever wrote it; a partner paging
`changes` from an old cursor sees each change once, also while a sync commits."""

import asyncio
import threading
from collections import Counter

from sqlalchemy import func, select, update

from server.config import Settings
from store import seed
from store.db import create_engine
from store.registry import CHANGE, MEMBER
from store.tables import utcnow
from sync import config, runs
from tests.conftest import Database
from tests.factories import document, member
from tests.server.conftest import Client

from .feedserver import in_parts, respond

PAGE = """
query ($after: String, $first: Int, $types: [EntityType!]) {
  changes(after: $after, first: $first, types: $types) {
    nodes { id entityType action version cursor node { id } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def read_all(client: Client, after=None, first=7, types=None) -> tuple[list[dict], str]:
    """Every change after `after`, page by page; and the cursor to go on from."""
    seen = []
    while True:
        page = (
            await client.data(PAGE, {"after": after, "first": first, "types": types}, compare=False)
        )["changes"]
        seen += page["nodes"]
        after = page["pageInfo"]["endCursor"] or after
        if not page["pageInfo"]["hasNextPage"]:
            return seen, after


def page_until(url: str, cursor: str, stop: threading.Event, read: list, sizes: list) -> None:
    """A partner on its own connections: pages on from `cursor` until told to stop, then once
    more, appending what it reads to `read` and how much it had after each pass to `sizes`."""

    async def partner() -> None:
        database = Database(url, create_engine(Settings(database_url=url)))
        try:
            api, after = Client(database, database.settings()), cursor
            while True:
                last = stop.is_set()
                page, after = await read_all(api, after=after, first=100)
                read.extend(page)
                sizes.append(len(read))
                if last:
                    return
                await asyncio.sleep(0.005)
        finally:
            await database.engine.dispose()

    asyncio.run(partner())


async def add_feed(database, server, path="/feed"):
    spec = config.spec(
        slug="cities", url=server.url(path), format="alliance-feed/1", allow_private=True
    )
    await config.save(database.engine, spec)


async def test_the_seed_is_logged_created_once_per_record_and_types_filter(databases):
    database = await databases.create()
    await seed.seed(database.engine)
    client = Client(database, database.settings())

    changes, _ = await read_all(client, first=50)

    async with database.engine.connect() as connection:
        members = await connection.scalar(select(func.count()).select_from(MEMBER))
        logged = await connection.scalar(select(func.count()).select_from(CHANGE))
    assert len(changes) == logged and {c["action"] for c in changes} == {"CREATED"}
    assert len({c["id"] for c in changes}) == len(changes)  # each record once
    only_members, _ = await read_all(client, first=50, types=["MEMBER"])
    assert len(only_members) == members
    assert all(c["node"]["id"] == c["id"] for c in only_members)


async def test_a_sync_logs_what_it_created_updated_and_deleted_in_commit_order(
    databases, server, client
):
    database = await databases.create()
    api = Client(database, database.settings())
    cities = [member(f"c{i}", f"Stadt {i}") for i in range(5)]
    await add_feed(database, server)
    server.route("/feed", respond(200, document(*cities)))
    await runs.run(database.engine, "cities", client)
    first, cursor = await read_all(api)
    assert [c["action"] for c in first] == ["CREATED"] * 5

    changed = [member("c0", "Stadt Null"), *cities[1:4]]  # c4 gone from the snapshot
    server.route("/feed", respond(200, document(*changed, cursor="c2")))
    await runs.run(database.engine, "cities", client)
    later, _ = await read_all(api, after=cursor)

    assert Counter(c["action"] for c in later) == {"UPDATED": 1, "DELETED": 1}
    deleted = next(c for c in later if c["action"] == "DELETED")
    assert deleted["node"] is None
    versions = [c["version"] for c in first + later]
    assert versions == sorted(versions) and versions[0] >= 1
    # an update of a record that stays deleted is no change
    async with database.engine.begin() as connection:
        await connection.execute(
            update(MEMBER).where(MEMBER.c.deleted_at.is_not(None)).values(updated_at=utcnow())
        )
    assert (await read_all(api, after=cursor))[0] == later


async def test_a_partner_paging_during_a_sync_sees_every_change_exactly_once(
    databases, server, client
):
    # given: a feed of 2,000 cities, four batches, and a partner that already read the seed
    database = await databases.create()
    await seed.seed(database.engine)
    api = Client(database, database.settings())
    _, cursor = await read_all(api, first=100)

    cities = document(*(member(f"c{i}", f"Ort {i}") for i in range(2000)))
    server.route("/feed", in_parts(cities, parts=8, pause=0.15))
    await add_feed(database, server)

    # when: it pages on, in a thread of its own, while the sync commits its batches
    stop, read, sizes = threading.Event(), [], []
    pager = threading.Thread(target=page_until, args=(database.url, cursor, stop, read, sizes))
    pager.start()
    try:
        outcome = await runs.run(database.engine, "cities", client)
    finally:
        stop.set()
        await asyncio.to_thread(pager.join, 60)

    # then: every change of the run once, in the order of the log, some read mid-run
    assert outcome.counts.created == 2000
    assert any(0 < n < 2000 for n in sizes), sizes
    assert len(read) == len({c["id"] for c in read}) == 2000
    order = [(c["version"], c["cursor"]) for c in read]
    assert [v for v, _ in order] == sorted(v for v, _ in order)
    async with database.engine.connect() as connection:
        unversioned = await connection.scalar(
            select(func.count()).select_from(CHANGE).where(CHANGE.c.version.is_(None))
        )
    assert unversioned == 0


async def test_a_cursor_the_hub_did_not_make_or_a_page_too_large_is_refused(databases):
    database = await databases.create()
    client = Client(database, database.settings())
    for variables, code in (
        ({"after": "nonsense"}, "INVALID_CURSOR"),
        ({"after": "Q2hhbmdlOng6eQ"}, "INVALID_CURSOR"),  # "Change:x:y"
        ({"first": 101}, "PAGE_SIZE"),
        ({"first": -1}, "PAGE_SIZE"),
    ):
        [error] = await client.errors(PAGE, variables)
        assert error["extensions"]["code"] == code, variables
