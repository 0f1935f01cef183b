"""Registered operations: the documents an allowlisted hub runs (docs/api.md, "Persisted
queries"), each found by the sha256 of its text, as Apollo's persisted queries name it."""

import datetime as dt
import hashlib

from sqlalchemy import String, Text, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel

from .tables import timestamp_field, utcnow


class PersistedQuery(SQLModel, table=True):
    __tablename__ = "persisted_query"

    sha256: str = Field(sa_type=String(64), primary_key=True)
    text: str = Field(sa_type=Text)
    name: str | None = None  # where it came from: a file's name
    created_at: dt.datetime = timestamp_field(default_factory=utcnow)


PERSISTED = PersistedQuery.__table__


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def register(connection: AsyncConnection, text: str, name: str | None) -> tuple[str, bool]:
    """Register a document; its hash, and whether it is new."""
    sha = digest(text)
    dialect = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
    done = await connection.execute(
        dialect(PERSISTED)
        .values(sha256=sha, text=text, name=name, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["sha256"])
    )
    return sha, done.rowcount == 1


async def text_of(connection: AsyncConnection, sha: str) -> str | None:
    return await connection.scalar(select(PERSISTED.c.text).where(PERSISTED.c.sha256 == sha))


async def listed(connection: AsyncConnection) -> list[PersistedQuery]:
    rows = await connection.execute(select(PERSISTED).order_by(PERSISTED.c.created_at))
    return [PersistedQuery.model_validate(row._mapping) for row in rows]


async def remove(connection: AsyncConnection, sha: str) -> bool:
    done = await connection.execute(delete(PERSISTED).where(PERSISTED.c.sha256 == sha))
    return done.rowcount > 0
