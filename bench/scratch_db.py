"""Fresh PostgreSQL databases for the benchmarks, made next to the one an admin URL names and
dropped afterwards, so a benchmark never touches data it did not make."""

import secrets

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from store.config import async_database_url


async def _admin(admin_url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    engine = create_async_engine(async_database_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def create_postgres(admin_url: str) -> tuple[str, str]:
    """A new database `alliance_bench_<random>`: its name and URL."""
    name = f"alliance_bench_{secrets.token_hex(6)}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(async_database_url(admin_url)).set(database=name)
    return name, url.render_as_string(hide_password=False)


async def drop_postgres(admin_url: str, name: str) -> None:
    await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
