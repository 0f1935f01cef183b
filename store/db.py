"""The async engine: SQLite through aiosqlite, PostgreSQL through asyncpg."""

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .config import StoreSettings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers go on while a sync writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def _json_dumps(value) -> str:
    return orjson.dumps(value).decode()


# Names and sectors are JSON on every row read; orjson decodes them several times faster.
_JSON = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def create_engine(settings: StoreSettings) -> AsyncEngine:
    url = settings.database_url
    if is_sqlite(url):
        engine = create_async_engine(url, echo=settings.echo_sql, **_JSON)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=settings.echo_sql,
        **_JSON,
        pool_size=settings.database_pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"statement_timeout": str(settings.statement_timeout_ms)}},
    )


def count_statements(engine: AsyncEngine, counter) -> None:
    """Call `counter()` for every SQL statement the engine sends (metrics and tests)."""

    def _count(*_args) -> None:
        counter()

    event.listen(engine.sync_engine, "before_cursor_execute", _count)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
