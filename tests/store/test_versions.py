"""The data version: raised in the caller's transaction, and on PostgreSQL notified when, and
only when, that transaction commits."""

import asyncio

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from store import versions
from tests.conftest import ON_POSTGRES


async def test_a_bump_counts_with_its_transaction(databases):
    database = await databases.create()
    async with database.engine.begin() as connection:
        assert await versions.bump(connection) == 1
        assert await versions.bump(connection) == 2
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        assert await versions.bump(connection) == 3
        await transaction.rollback()
    async with database.engine.connect() as connection:
        assert await versions.current(connection) == 2


@pytest.mark.skipif(not ON_POSTGRES, reason="LISTEN/NOTIFY is PostgreSQL's")
async def test_listeners_hear_a_committed_version_and_never_a_rolled_back_one(databases):
    # given: a connection listening on the channel
    database = await databases.create()
    heard: asyncio.Queue[str] = asyncio.Queue()
    dsn = make_url(database.url).set(drivername="postgresql").render_as_string(False)
    listener = await asyncpg.connect(dsn)
    await listener.add_listener(versions.CHANNEL, lambda *args: heard.put_nowait(args[-1]))
    try:
        # when: one bump is rolled back, and the next committed
        async with database.engine.connect() as connection:
            transaction = await connection.begin()
            await versions.bump(connection)
            await transaction.rollback()
        async with database.engine.begin() as connection:
            committed = await versions.bump(connection)

        # then: the first thing heard is the committed version (notifications come in order)
        assert await asyncio.wait_for(heard.get(), 10) == str(committed) == "1"
        assert heard.empty()
    finally:
        await listener.close()
