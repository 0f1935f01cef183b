"""API keys: bearer tokens that name a role (docs/api.md, "Keys and roles").

A token is `ahk_<prefix>_<secret>`. The prefix finds the key's row; the secret is kept only
as an HMAC-SHA256 under a pepper the hub's settings hold and the database does not, so a copy
of the database alone lets no one in. A keyed hash rather than a slow password hash: the secret
is 256 random bits, which no guessing reaches, and every request checks it. A revoked key keeps
its row (its name, role and dates stay listed) and is refused from the next request on, by
every process, since each request reads the row.
"""

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import CheckConstraint, Index, String, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel

from .enums import Role
from .errors import KeyRefused
from .tables import one_of, timestamp_field, utcnow

TOKEN_PREFIX = "ahk_"
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")
_TOKEN = re.compile(r"ahk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
ACTIVE = text("revoked_at IS NULL")


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    __table_args__ = (
        one_of("role", Role),
        CheckConstraint("length(secret_hash) = 64", name="secret_hash_length"),
        # A name is reused only once the key that had it is revoked.
        Index(
            "ix_api_key_active_name",
            "name",
            unique=True,
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(80))
    role: str = Field(sa_type=String(20))
    prefix: str = Field(sa_type=String(12), unique=True)
    secret_hash: str = Field(sa_type=String(64))
    created_at: dt.datetime = timestamp_field(default_factory=utcnow)
    revoked_at: dt.datetime | None = timestamp_field(default=None)


KEY = ApiKey.__table__


@dataclass(frozen=True)
class Caller:
    """Who a request comes from: a key's name and role."""

    name: str
    role: Role


def _digest(secret: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


async def create(connection: AsyncConnection, name: str, role: Role, pepper: str) -> str:
    """A new key; its token, which is not kept, is returned once."""
    if not NAME.fullmatch(name):
        raise KeyRefused(f"{name!r} is not a key name: lowercase letters, digits, '.', '_', '-'")
    taken = await connection.scalar(
        select(KEY.c.id).where(KEY.c.name == name, KEY.c.revoked_at.is_(None))
    )
    if taken is not None:
        raise KeyRefused(f"a key named {name!r} exists; revoke it first")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    await connection.execute(
        KEY.insert().values(
            name=name, role=role.value, prefix=prefix, secret_hash=_digest(secret, pepper)
        )
    )
    return f"{TOKEN_PREFIX}{prefix}_{secret}"


async def listed(connection: AsyncConnection) -> list[ApiKey]:
    rows = await connection.execute(select(KEY).order_by(KEY.c.name, KEY.c.created_at))
    return [ApiKey.model_validate(row._mapping) for row in rows]


async def revoke(connection: AsyncConnection, name: str) -> None:
    done = await connection.execute(
        update(KEY)
        .where(KEY.c.name == name, KEY.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if done.rowcount == 0:
        raise KeyRefused(f"no key named {name!r} is in use")


async def caller(connection: AsyncConnection, token: str, pepper: str) -> Caller | None:
    """The caller a token names, or None for a token that is malformed, unknown or revoked."""
    found = _TOKEN.fullmatch(token)
    if found is None:
        return None
    prefix, secret = found.groups()
    row = (
        await connection.execute(
            select(KEY.c.name, KEY.c.role, KEY.c.secret_hash, KEY.c.revoked_at).where(
                KEY.c.prefix == prefix
            )
        )
    ).first()
    # The digest is compared in constant time, and computed for an unknown prefix too.
    expected = row.secret_hash if row is not None else "0" * 64
    if not hmac.compare_digest(_digest(secret, pepper), expected) or row.revoked_at is not None:
        return None
    return Caller(row.name, Role(row.role))
