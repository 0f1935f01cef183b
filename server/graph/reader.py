"""One request's view of the database: a single connection, opened on first use.

DataLoaders of one request run concurrently; an asyncio lock serialises their statements on the
one connection, and on PostgreSQL a read-only REPEATABLE READ transaction makes every statement
of the request see the same snapshot, even while a sync commits. A compiled read is one
statement, which sees one snapshot by itself: it runs alone, outside any transaction.
"""

import asyncio
from typing import Any

from sqlalchemy import Executable, Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


class Reader:
    def __init__(self, engine: AsyncEngine):
        self._engine = engine
        self._connection: AsyncConnection | None = None
        self._single = False  # the connection runs single statements outside a transaction
        self._lock = asyncio.Lock()

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def _connect(self, alone: bool = False) -> AsyncConnection:
        # Kept at once: a resolver cancelled from here on must not leak the connection.
        connection = self._connection = await self._engine.connect()
        self._single = alone
        if connection.dialect.name == "postgresql":
            if alone:  # no BEGIN and ROLLBACK around the one statement
                await connection.execution_options(isolation_level="AUTOCOMMIT")
            else:
                await connection.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
        return connection  # the first statement begins the transaction

    async def rows(self, statement: Executable) -> list[Row[Any]]:
        # When one resolver fails, GraphQL cancels its siblings. Cancelling a statement inside
        # the driver breaks the connection, so a statement once started is allowed to finish.
        return await asyncio.shield(self._rows(statement))

    async def _rows(self, statement: Executable) -> list[Row[Any]]:
        async with self._lock:
            if self._connection is not None and self._single:  # a compiled read gave way
                connection, self._connection = self._connection, None
                await connection.close()
            connection = self._connection or await self._connect()
            return (await connection.execute(statement)).all()

    async def alone(self, sql: str, parameters: tuple[Any, ...]) -> Row[Any] | None:
        """The first row of one statement already compiled for this engine's driver."""
        return await asyncio.shield(self._alone(sql, parameters))

    async def _alone(self, sql: str, parameters: tuple[Any, ...]) -> Row[Any] | None:
        async with self._lock:
            connection = self._connection or await self._connect(alone=True)
            return (await connection.exec_driver_sql(sql, parameters)).first()

    async def scalar(self, statement: Executable) -> Any:
        rows = await self.rows(statement)
        return rows[0][0] if rows else None

    async def close(self) -> None:
        async with self._lock:  # after any statement still running
            connection, self._connection = self._connection, None
            if connection is not None:
                await connection.close()
