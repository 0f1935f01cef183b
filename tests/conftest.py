"""Databases for the suite: SQLite files by default, PostgreSQL when DATABASE_URL says so.

On PostgreSQL every database the suite makes is a new one (`alliance_test_<random>`) created
next to the one DATABASE_URL names and dropped at the end, so the suite never touches data it
did not make.
"""

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from server.config import Settings
from store import migrate, seed
from store.config import async_database_url
from store.db import count_statements, create_engine

BASE_URL = async_database_url(os.environ.get("DATABASE_URL", "sqlite:///"))
ON_POSTGRES = BASE_URL.startswith("postgresql")


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@dataclass
class Database:
    """A migrated database made for the tests, counting the statements sent to it."""

    url: str
    engine: AsyncEngine
    statements: StatementCounter = field(default_factory=StatementCounter)

    def settings(self, **overrides) -> Settings:
        return Settings(database_url=self.url, **overrides)


class Databases:
    def __init__(self, tmp_dir):
        self.tmp_dir = tmp_dir
        self.made: list[Database] = []
        self.names: list[str] = []

    async def create(self) -> Database:
        if ON_POSTGRES:
            name = f"alliance_test_{uuid.uuid4().hex[:12]}"
            await self._admin(f'CREATE DATABASE "{name}"')
            self.names.append(name)
            url = make_url(BASE_URL).set(database=name).render_as_string(hide_password=False)
        else:
            url = f"sqlite+aiosqlite:///{self.tmp_dir / uuid.uuid4().hex[:12]}.db"
        database = Database(url, create_engine(Settings(database_url=url)))
        count_statements(database.engine, database.statements)
        await migrate.upgrade(database.engine)
        self.made.append(database)
        return database

    async def _admin(self, statement: str) -> None:
        admin = create_async_engine(BASE_URL, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await admin.dispose()

    async def drop_all(self) -> None:
        for database in self.made:
            await database.engine.dispose()
        for name in self.names:
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def databases(tmp_path_factory) -> AsyncIterator[Databases]:
    made = Databases(tmp_path_factory.mktemp("databases"))
    yield made
    await made.drop_all()


@pytest.fixture(autouse=True)
async def _idle_connections_closed(databases: Databases) -> AsyncIterator[None]:
    """The databases a test made give back their pooled connections when it ends: the suite
    makes hundreds, and PostgreSQL serves 100 connections by default."""
    made = len(databases.made)
    yield
    for database in databases.made[made:]:
        await database.engine.dispose()  # the engine connects again if it is used later


@pytest.fixture(scope="session")
async def seeded(databases: Databases) -> Database:
    """The ISA seed data set, shared read-only by the tests that query it."""
    database = await databases.create()
    await seed.seed(database.engine)
    return database


def pytest_terminal_summary(terminalreporter) -> None:
    from tests import differential

    if differential.TALLY:
        database = "PostgreSQL" if ON_POSTGRES else "SQLite"
        terminalreporter.section(f"compiled reads against the resolvers, on {database}")
        for outcome, count in differential.TALLY.most_common():
            terminalreporter.write_line(f"{count:6}  {outcome}")
        for reason, count in differential.FALLBACKS.most_common():
            terminalreporter.write_line(f"{count:6}    because: {reason}")
