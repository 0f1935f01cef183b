"""The migrations build exactly the tables the code declares."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from store import feeds, migrate, tables  # noqa: F401 (feeds: its tables join the metadata)


def _differences(connection) -> list:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, tables.metadata)


async def test_migrated_database_matches_the_tables(databases):
    database = await databases.create()
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_differences) == []
    assert await migrate.current(database.engine) == migrate.head()

