"""Alembic environment: runs on the connection `store.migrate` hands over, or on its own
engine (from DATABASE_URL) when called as `alembic -c store/alembic.ini ...` by a developer."""

import asyncio

from alembic import context

from store import feeds, tables  # noqa: F401 (feeds: its tables join the metadata)
from store.config import StoreSettings, load
from store.db import create_engine

config = context.config
target_metadata = tables.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_standalone() -> None:
    engine = create_engine(load(StoreSettings))
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_standalone())
