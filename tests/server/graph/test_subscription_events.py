"""A subscription run in-process through the schema, over a real database: each event is
answered with the records as they are when it is pushed, and a long subscription keeps nothing
per event (graphql-core shares one memo between a subscription's events; `schema.Executor`)."""

import asyncio
import gc

from graphql.execution.collect_fields import FieldDetails
from sqlalchemy import update

from server.config import Settings
from server.graph.context import SocketContext
from server.graph.schema import build_schema
from server.web import live
from store import seed, versions
from store.enums import Role
from store.keys import Caller
from store.registry import MEMBER

FOLLOW = (
    "subscription { changes(types: [MEMBER]) { cursor node { ... on Member { population } } } }"
)


async def commit(engine, population: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            update(MEMBER).where(MEMBER.c.slug == "aachen").values(population=population)
        )
        await versions.bump(connection)


def field_details() -> int:
    return sum(isinstance(o, FieldDetails) for o in gc.get_objects())


async def test_a_long_subscription_keeps_nothing_per_event(databases):
    database = await databases.create()
    await seed.seed(database.engine)
    engine = database.engine
    tail = live.ChangeTail(engine, 1000, poll=True)
    pushed = live.Pushed(tail, live.RunWatch(engine))
    context = SocketContext(engine, Settings(), pushed, Caller("test", Role.READER))
    schema = build_schema(Settings())
    async with tail.running(), context.reading():
        stream = await schema.subscribe(FOLLOW, context_value=context)
        counted = {}
        for n in range(1, 151):
            following = asyncio.ensure_future(anext(stream))
            while tail.subscribers == 0:  # subscribed before the first commit
                await asyncio.sleep(0.01)
            await commit(engine, n)
            result = await asyncio.wait_for(following, 10)
            assert result.errors is None, result.errors
            assert result.data["changes"]["node"]["population"] == n
            if n in (50, 150):
                gc.collect()
                counted[n] = field_details()
        await stream.aclose()
    assert counted[150] - counted[50] < 20, counted  # not one set per event
