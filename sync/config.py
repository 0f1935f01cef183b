"""Feed configuration: checked on the way in, kept in the `feed` table, also declared in a
`feeds.toml` that is applied at start-up.

```toml
[feeds.wfk]
url = "https://example.org/alliance.json"
format = "alliance-feed/1"      # or "popolo", "csv"
schedule = "15m"                # 30s, 15m, 1h, 1d, or a cron expression "*/10 * * * *"
mode = "snapshot"               # or "incremental" (the cursor is sent as ?since=)
headers = { Authorization = "env:WFK_TOKEN" }   # secrets come from the environment
options = { item_type = "member", columns = { Stadt = "name" } }   # CSV only
```

A feed is added once (`add`); changing it changes only what is given (`change`), and a declaration
changes only what it names, so a feed paused by an operator stays paused when the file does not
say `enabled`. A feed that fetches another URL, or reads it another way, forgets its ETag,
Last-Modified and cursor: they describe the document it read before.
"""

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store import feeds
from store.registry import FEED, RUN
from store.tables import utcnow

from .errors import ConfigError

_INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")


def trigger(schedule: str) -> IntervalTrigger | CronTrigger:
    """An APScheduler trigger for `15m`-style intervals or five-field cron expressions."""
    match = _INTERVAL.match(schedule.strip())
    if match:
        amount = int(match.group(1))
        if amount == 0:
            raise ValueError("an interval must be longer than 0")
        return IntervalTrigger(**{_UNITS[match.group(2)]: amount})
    try:
        return CronTrigger.from_crontab(schedule, timezone=dt.UTC)
    except ValueError as exc:
        raise ValueError(
            f"{schedule!r} is neither an interval like 15m nor a cron expression ({exc})"
        ) from None


class FeedSpec(BaseModel):
    """What an operator says about a feed; checked before anything is stored."""

    model_config = ConfigDict(extra="forbid")

    slug: str
    url: str
    format: feeds.FeedFormat
    mode: feeds.FeedMode = feeds.FeedMode.SNAPSHOT
    schedule: str = "1h"
    enabled: bool = True
    headers: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=15.0, gt=0)
    deadline: float = Field(default=60.0, gt=0)
    max_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    allow_private: bool = False
    allow_link_local: bool = False  # link-local and cloud metadata: never by allow_private
    allow_cross_host_redirects: bool = False
    max_delete_share: float = Field(default=0.2, ge=0, le=1)
    max_bad_share: float = Field(default=0.5, ge=0, le=1)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(
                "lowercase letters, digits and dashes, starting with a letter or digit"
            )
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("an http:// or https:// URL")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        trigger(value)
        return value


def spec(**fields: Any) -> FeedSpec:
    """A checked spec, or ConfigError naming every field that is wrong."""
    try:
        return FeedSpec(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'feed'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"feed {fields.get('slug', '?')!r}: {problems}") from None


# What a feed fetches and how it reads it: validators and cursor hold only while these do.
READ_AS = {"url", "format", "mode", "options"}
_FORGOTTEN = {"etag": None, "last_modified": None, "cursor": None}
_AFRESH = _FORGOTTEN | {"consecutive_failures": 0, "next_eligible_at": None}


async def add(engine: AsyncEngine, feed: FeedSpec) -> None:
    """Add a new feed; ConfigError when a feed has its slug. A removed feed comes back as
    given, knowing nothing of its past runs but keeping its records."""
    if not await _insert(engine, feed):
        raise ConfigError(
            f"feed {feed.slug!r} exists; `alliance feeds update {feed.slug}` changes what it is "
            "given and nothing else"
        )


async def _insert(engine: AsyncEngine, feed: FeedSpec) -> bool:
    """Insert the feed, or replace a removed one; False when a feed with its slug is live."""
    values = feed.model_dump(mode="json")
    try:
        async with engine.begin() as connection:
            found = (
                await connection.execute(
                    select(FEED.c.id, FEED.c.deleted_at).where(FEED.c.slug == feed.slug)
                )
            ).first()
            if found is None:
                await connection.execute(insert(FEED).values(values))
            elif found.deleted_at is not None:
                await connection.execute(
                    update(FEED)
                    .where(FEED.c.id == found.id)
                    .values(values | _AFRESH | {"deleted_at": None, "updated_at": utcnow()})
                )
            return found is None or found.deleted_at is not None
    except IntegrityError:
        return False  # another process added it between our look and our insert


async def change(engine: AsyncEngine, slug: str, **changes: Any) -> list[str]:
    """Change the fields given, checked as a whole feed; return the names of those that
    changed (none: nothing is written)."""
    async with engine.begin() as connection:
        row = await _row(connection, slug)
        current = {name: getattr(row, name) for name in FeedSpec.model_fields}
        wanted = spec(**current | changes).model_dump(mode="json")
        changed = {name: value for name, value in wanted.items() if value != current[name]}
        if changed:
            forgotten = _FORGOTTEN if changed.keys() & READ_AS else {}
            await connection.execute(
                update(FEED)
                .where(FEED.c.id == row.id)
                .values(changed | forgotten | {"updated_at": utcnow()})
            )
    return sorted(changed)


async def save(engine: AsyncEngine, feed: FeedSpec) -> str:
    """Declare the feed: add it, or change what the declaration names; returns "added",
    "updated" or "unchanged"."""
    if await _insert(engine, feed):
        return "added"
    named = feed.model_dump(mode="json", exclude_unset=True, exclude={"slug"})
    return "updated" if await change(engine, feed.slug, **named) else "unchanged"


async def get(engine: AsyncEngine, slug: str) -> feeds.Feed:
    """The feed `slug` (not removed), or ConfigError."""
    async with engine.connect() as connection:
        return feeds.Feed.model_validate(dict((await _row(connection, slug))._mapping))


async def _row(connection: AsyncConnection, slug: str) -> Row:
    row = (
        await connection.execute(
            select(FEED).where(FEED.c.slug == slug, FEED.c.deleted_at.is_(None))
        )
    ).first()
    if row is None:
        raise ConfigError(f"no feed {slug!r}")
    return row


async def listed(engine: AsyncEngine) -> list[feeds.Feed]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(FEED).where(FEED.c.deleted_at.is_(None)).order_by(FEED.c.slug)
        )
        return [feeds.Feed.model_validate(dict(row._mapping)) for row in rows]


async def _set(engine: AsyncEngine, slug: str, **values: Any) -> None:
    async with engine.begin() as connection:
        result = await connection.execute(
            update(FEED)
            .where(FEED.c.slug == slug, FEED.c.deleted_at.is_(None))
            .values(updated_at=utcnow(), **values)
        )
    if result.rowcount == 0:
        raise ConfigError(f"no feed {slug!r}")


async def pause(engine: AsyncEngine, slug: str) -> None:
    await _set(engine, slug, enabled=False)


async def resume(engine: AsyncEngine, slug: str) -> None:
    """Enable the feed and forget its backoff: the operator says it is worth trying again."""
    await _set(engine, slug, enabled=True, next_eligible_at=None, consecutive_failures=0)


async def remove(engine: AsyncEngine, slug: str) -> None:
    """Stop syncing the feed; its records and runs stay, and its queued runs end unstarted."""
    await _set(engine, slug, deleted_at=utcnow(), enabled=False)
    async with engine.begin() as connection:
        await connection.execute(
            update(RUN)
            .where(
                RUN.c.feed_id == select(FEED.c.id).where(FEED.c.slug == slug).scalar_subquery(),
                RUN.c.status == feeds.RunStatus.QUEUED,
            )
            .values(
                status=feeds.RunStatus.ABANDONED,
                finished_at=utcnow(),
                error="its feed was removed before it started",
            )
        )


def read_toml(path: Path) -> list[FeedSpec]:
    try:
        declared = tomllib.loads(path.read_text(encoding="utf-8")).get("feeds", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not isinstance(declared, dict):
        raise ConfigError(f"{path}: [feeds] must be a table of feeds")
    return [spec(slug=slug, **fields) for slug, fields in declared.items()]
