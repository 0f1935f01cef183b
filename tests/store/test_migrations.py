"""The migrations build exactly the tables the code declares, and carry data forward."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from store import feeds, migrate, tables  # noqa: F401 (feeds: its tables join the metadata)
from store.registry import SOURCE


def _differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, tables.metadata)


async def test_migrated_database_matches_the_tables(databases):
    database = await databases.create()
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
    assert await migrate.current(database.engine) == migrate.head()


async def test_sources_written_by_runs_lose_the_feed_url_and_cited_documents_keep_theirs(
    databases,
):
    # given a database as 0002 left it: a source from a run, holding the feed's URL, and one
    # citing a public document
    database = await databases.create()
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(migrate._config(sync), "0002"))
    source = SOURCE
    feed_url = "https://partner.example.org/feed?api_key=secret"
    document = "https://www.agit.de/agit/aktuelles/details/allianz"
    rows = [
        {"entity_type": "member", "entity_id": 1, "feed": "wfk", "url": feed_url, "run_id": 7},
        {"entity_type": "member", "entity_id": 1, "feed": "seed", "url": document, "run_id": None},
    ]
    async with database.engine.begin() as connection:
        await connection.execute(source.insert(), rows)

    # when
    await migrate.upgrade(database.engine)

    # then
    async with database.engine.connect() as connection:
        found = (await connection.execute(select(source.c.feed, source.c.url))).all()
    assert sorted(found) == [("seed", document), ("wfk", None)]
    assert await migrate.current(database.engine) == migrate.head()
