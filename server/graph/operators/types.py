"""Feeds, runs, quarantined items and locked fields as operators read them."""

import datetime as dt
from enum import Enum
from typing import Annotated, Any, Self

import strawberry
from sqlalchemy import and_, select

from store import feeds
from store.registry import FEED, FEED_ITEM, ISSUE, RUN
from store.tables import as_utc, utcnow

from .. import pagination
from ..context import Ctx
from ..entities import Publisher
from ..nodes import global_id

FeedFormat = strawberry.enum(feeds.FeedFormat, description="How a feed is written.")
FeedMode = strawberry.enum(
    feeds.FeedMode,
    description="SNAPSHOT: each run reads the whole feed; INCREMENTAL: only what changed.",
)
RunStatus = strawberry.enum(feeds.RunStatus, description="Where a sync run is, or how it ended.")
RunTrigger = strawberry.enum(feeds.RunTrigger, description="What started a run.")


@strawberry.enum(description="Whether a feed runs on its schedule now.")
class FeedState(Enum):
    ENABLED = "enabled"
    PAUSED = "paused"
    RESTING = "resting"  # after failures, until `nextEligibleAt`


def _columns(cls: type, row: Any) -> dict[str, Any]:
    mapping = row._mapping
    return {name: mapping[name] for name in cls.__annotations__ if name in mapping}


@strawberry.type(description="An item a run quarantined, and why.")
class SyncIssue:
    id: int = strawberry.field(description="The issue's number.")
    run_id: int = strawberry.field(description="The run that quarantined the item.")
    item_type: str | None = strawberry.field(description="The item's type, when it had one.")
    item_id: str | None = strawberry.field(description="The item's id in its feed, if any.")
    position: str | None = strawberry.field(description="Where in the feed: `items[41]`.")
    stage: str = strawberry.field(
        description="What refused it: `parse` (not an item), `validate` (its fields), "
        "`resolve` (a reference that found nothing)."
    )
    message: str = strawberry.field(description="The reason, naming each problem by its path.")
    snippet: str | None = strawberry.field(description="The item's first characters.")
    created_at: dt.datetime = strawberry.field(description="When the run quarantined it.")
    record: strawberry.ID | None = strawberry.field(
        description="The global id of the record the feed's item stands for, when it has one "
        "(an earlier version of the item was taken)."
    )

    @classmethod
    def from_row(cls, row: Any) -> Self:
        mapping = row._mapping
        record = mapping["record_id"] and global_id(mapping["record_type"], mapping["record_id"])
        return cls(**_columns(cls, row), record=record)


# Quarantined items, each with the record its item stands for (the feed's item, by its key).
ISSUES = select(
    ISSUE,
    FEED_ITEM.c.entity_type.label("record_type"),
    FEED_ITEM.c.entity_id.label("record_id"),
).outerjoin(
    FEED_ITEM,
    and_(
        FEED_ITEM.c.feed_id == ISSUE.c.feed_id,
        FEED_ITEM.c.item_type == ISSUE.c.item_type,
        FEED_ITEM.c.item_id == ISSUE.c.item_id,
        FEED_ITEM.c.deleted_at.is_(None),
    ),
)


@strawberry.type(description="One run of one feed: how it was started, how far it got.")
class SyncRun:
    id: int = strawberry.field(description="The run's number, as `alliance runs` shows it.")
    feed: str = strawberry.field(description="The feed's slug.")
    trigger: RunTrigger = strawberry.field(description="What started it.")
    triggered_by: str | None = strawberry.field(description="Who asked: a key's name, `cli`.")
    status: RunStatus = strawberry.field(description="QUEUED and RUNNING until it ends.")
    dry_run: bool = strawberry.field(description="Whether it wrote nothing.")
    started_at: dt.datetime = strawberry.field(description="When it started, or was queued.")
    finished_at: dt.datetime | None = strawberry.field(description="When it ended.")
    http_status: int | None = strawberry.field(description="What the feed's server answered.")
    bytes: int = strawberry.field(description="Bytes read from the feed.")
    items_seen: int = strawberry.field(description="Items read so far.")
    created: int = strawberry.field(description="Records it created.")
    updated: int = strawberry.field(description="Records it changed.")
    unchanged: int = strawberry.field(description="Items whose records it left as they were.")
    deleted: int = strawberry.field(description="Records it deleted (tombstones, the sweep).")
    quarantined: int = strawberry.field(description="Items it refused; see `issues`.")
    error: str | None = strawberry.field(description="Why it failed, or was skipped.")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(**_columns(cls, row))

    @strawberry.field(description="The items it quarantined, with their reasons, in feed order.")
    async def issues(self, info: Ctx) -> list[SyncIssue]:
        rows = await info.context.reader.rows(
            ISSUES.where(ISSUE.c.run_id == self.id).order_by(ISSUE.c.id)
        )
        return [SyncIssue.from_row(row) for row in rows]


def page_size(info: Ctx, first: int) -> int:
    settings = info.context.settings
    return pagination.page_size(first, settings.default_page_size, settings.max_page_size)


# A run's columns, with its feed's slug as `feed`.
RUNS = select(RUN, FEED.c.slug.label("feed")).join(FEED, FEED.c.id == RUN.c.feed_id)


@strawberry.type(description="A partner feed the hub syncs, and how its runs went.")
class Feed:
    id: strawberry.Private[int]
    slug: str = strawberry.field(description="Its short name.")
    url: str = strawberry.field(description="Where it is fetched from.")
    format: FeedFormat = strawberry.field(description="How it is written.")
    mode: FeedMode = strawberry.field(description="Whole snapshots, or changes since a cursor.")
    schedule: str = strawberry.field(description="`15m`, `1h`, `1d` or a cron expression.")
    enabled: bool = strawberry.field(description="False while paused.")
    consecutive_failures: int = strawberry.field(description="Failed runs in a row.")
    next_eligible_at: dt.datetime | None = strawberry.field(
        description="While resting after failures: when its schedule may run it again."
    )
    last_success_at: dt.datetime | None = strawberry.field(
        description="When a run last ended well."
    )
    max_delete_share: float = strawberry.field(
        description="The largest share of its records one snapshot may delete."
    )
    max_bad_share: float = strawberry.field(
        description="The largest share of its items one run may quarantine and still succeed."
    )
    allow_private: bool = strawberry.field(description="Whether it may reach private addresses.")
    headers: strawberry.Private[dict[str, str]]
    declared_publisher: strawberry.Private[dict[str, Any] | None]

    @classmethod
    def from_row(cls, row: feeds.Feed) -> Self:
        fields = {name: getattr(row, name) for name in cls.__annotations__ if hasattr(row, name)}
        return cls(**fields, declared_publisher=row.publisher)

    @strawberry.field(description="ENABLED, PAUSED, or RESTING after failures.")
    def state(self) -> FeedState:
        if not self.enabled:
            return FeedState.PAUSED
        if self.next_eligible_at is not None and as_utc(self.next_eligible_at) > utcnow():
            return FeedState.RESTING
        return FeedState.ENABLED

    @strawberry.field(description="The names of the headers it is fetched with; never values.")
    def header_names(self) -> list[str]:
        return sorted(self.headers)

    @strawberry.field(description="Who publishes it, as its last run found it declared.")
    def publisher(self) -> Publisher | None:
        declared = self.declared_publisher
        if declared is None:
            return None
        return Publisher(id=declared["id"], name=declared.get("name"), url=declared.get("url"))

    @strawberry.field(description="Its newest runs, newest first.")
    async def runs(
        self,
        info: Ctx,
        first: Annotated[int, strawberry.argument(description="How many (max 100).")] = 10,
    ) -> list[SyncRun]:
        rows = await info.context.reader.rows(
            RUNS.where(RUN.c.feed_id == self.id)
            .order_by(RUN.c.id.desc())
            .limit(page_size(info, first))
        )
        return [SyncRun.from_row(row) for row in rows]
