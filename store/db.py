"""The async engine: SQLite through aiosqlite, PostgreSQL through asyncpg."""

import orjson
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
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


def _closed_connection_refused(dbapi_connection, _record, _proxy) -> None:
    """A pooled connection its server closed (a restart, `pg_terminate_backend`) is known to the
    driver as closed without asking the server; refused, the pool opens a new one in its place.
    A connection that died without a word fails its first statement instead, once: SQLAlchemy
    then discards every connection the pool made before it, and the next request connects
    afresh (tests/e2e/test_answer_cache.py)."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


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
    # No ping before each checkout (`pool_pre_ping`: a BEGIN, a statement and a ROLLBACK more
    # per request); see `_closed_connection_refused` for what takes its place.
    engine = create_async_engine(
        url,
        echo=settings.echo_sql,
        **_JSON,
        pool_size=settings.database_pool_size,
        connect_args={"server_settings": {"statement_timeout": str(settings.statement_timeout_ms)}},
    )
    event.listen(engine.sync_engine, "checkout", _closed_connection_refused)
    return engine


def count_statements(engine: AsyncEngine, counter) -> None:
    """Call `counter()` for every SQL statement the engine sends (metrics and tests)."""

    def _count(*_args) -> None:
        counter()

    event.listen(engine.sync_engine, "before_cursor_execute", _count)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
