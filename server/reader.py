"""One request's view of the database: a single connection, opened on first use.

DataLoaders of one request run concurrently; an asyncio lock serialises their statements on the
one connection, and on PostgreSQL a read-only REPEATABLE READ transaction makes every statement
of the request see the same snapshot, even while a sync commits.
"""

import asyncio
import logging
from typing import Any

from sqlalchemy import Executable, Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("alliance.db")


class Reader:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._lock = asyncio.Lock()

    async def _connect(self) -> AsyncConnection:
        connection = await self._engine.connect()
        if connection.dialect.name == "postgresql":
            await connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        await connection.begin()
        return connection

    async def rows(self, statement: Executable) -> list[Row[Any]]:
        async with self._lock:
            if self._connection is None:
                self._connection = await self._connect()
            return (await self._connection.execute(statement)).all()

    async def scalar(self, statement: Executable) -> Any:
        rows = await self.rows(statement)
        return rows[0][0] if rows else None

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            await connection.close()
        except Exception:  # a statement cancelled mid-flight can leave the driver unusable
            log.warning("dropping a broken database connection", exc_info=True)
            await connection.invalidate()
