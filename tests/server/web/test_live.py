"""The change log's tail (server/web/live.py) in one process, over a real database: every
subscriber gets every change once and in order, one that falls behind reads on from the log by
itself without holding up the others, and a backlog longer than a page comes whole.

The tail here looks at the data version itself (as on SQLite) on either database; on PostgreSQL
the API process wakes it from its LISTEN connection instead (tests/e2e/test_subscriptions.py).
"""

import asyncio

from sqlalchemy import select, update

from server.web.live import PAGE, ChangeTail
from store import changes, seed, versions
from store.registry import CHANGE, MEMBER


async def commit_all_members(engine, population: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(update(MEMBER).values(population=population))
        await versions.bump(connection)


async def log_after(engine, after) -> list[tuple[int, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(CHANGE.c.version, CHANGE.c.id)
            .where(CHANGE.c.version.is_not(None))
            .order_by(CHANGE.c.version, CHANGE.c.id)
        )
        return [tuple(r) for r in rows if tuple(r) > after]


async def latest(engine) -> tuple[int, int]:
    async with engine.connect() as connection:
        found = (await connection.execute(changes.LATEST)).first()
    return (found.version, found.id) if found else (0, 0)


async def until(condition, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_a_subscriber_that_falls_behind_holds_up_nobody_and_misses_nothing(databases):
    database = await databases.create()
    await seed.seed(database.engine)
    engine = database.engine
    start = await latest(engine)
    tail = ChangeTail(engine, queue=10, poll=True)
    held = asyncio.Event()
    seen: dict[str, list] = {"fast": [], "slow": []}

    async def follow(name: str) -> None:
        async for rows in tail.changes(None, None):
            if name == "slow":
                await held.wait()
            seen[name].extend((r.version, r.id) for r in rows)

    async with tail.running():
        tasks = [asyncio.create_task(follow(name)) for name in seen]
        await until(lambda: tail.subscribers == 2)
        for population in range(10):
            await commit_all_members(engine, population)
        expected = await log_after(engine, start)
        assert len(expected) > 10 * 10  # more than the slow one's queue holds
        await until(lambda: len(seen["fast"]) == len(expected))
        assert seen["slow"] == []  # still held: the fast one did not wait for it
        held.set()
        await until(lambda: len(seen["slow"]) == len(expected))
        for task in tasks:
            task.cancel()
    assert seen["fast"] == expected and seen["slow"] == expected


async def test_from_a_cursor_a_backlog_longer_than_a_page_comes_whole_then_the_new_changes(
    databases,
):
    database = await databases.create()
    await seed.seed(database.engine)
    engine = database.engine
    start = await latest(engine)
    while len(await log_after(engine, start)) <= PAGE:
        await commit_all_members(engine, len(await log_after(engine, start)))
    backlog = await log_after(engine, start)
    tail = ChangeTail(engine, queue=100, poll=True)
    seen: list = []
    only_members: list = []

    async def follow(into: list, types) -> None:
        async for rows in tail.changes(start, types):
            into.extend((r.version, r.id) for r in rows)

    async with tail.running():
        tasks = [
            asyncio.create_task(follow(seen, None)),
            asyncio.create_task(follow(only_members, ["member"])),
        ]
        await until(lambda: len(seen) == len(backlog))
        await commit_all_members(engine, -1)
        everything = await log_after(engine, start)
        await until(lambda: len(seen) == len(everything))
        await asyncio.sleep(0.3)  # nothing more comes
        for task in tasks:
            task.cancel()
    assert seen == everything
    async with engine.connect() as connection:
        kinds = dict(
            ((r.version, r.id), r.entity_type) for r in await connection.execute(select(CHANGE))
        )
    assert only_members == [p for p in everything if kinds[p] == "member"]
