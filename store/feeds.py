"""The tables of the sync: partner feeds, their runs, quarantined items, what each feed item
became, and fields an operator locked against feeds.

A feed row also carries its lease (`lease_owner`, `lease_until`, `lease_epoch`): a run claims
it with one conditional UPDATE and every commit of the run checks the epoch, so two workers can
never write for the same feed at once and a run that lost its lease cannot commit (docs/feeds.md).
Header values that are secrets are never stored: a header value `env:NAME` is read from the
environment variable NAME when the feed is fetched.
"""

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from .tables import Record, one_of, timestamp_field, utcnow


class FeedFormat(StrEnum):
    ALLIANCE_FEED = "alliance-feed/1"
    POPOLO = "popolo"
    CSV = "csv"


class FeedMode(StrEnum):
    SNAPSHOT = "snapshot"
    INCREMENTAL = "incremental"


class RunStatus(StrEnum):
    QUEUED = "queued"  # asked for through the API; the next scheduler to look starts it
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"
    ABANDONED = "abandoned"
    SKIPPED_LOCKED = "skipped_locked"


class RunTrigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    STARTUP = "startup"


class Feed(Record, table=True):
    __tablename__ = "feed"
    __table_args__ = (
        one_of("format", FeedFormat),
        one_of("mode", FeedMode),
        CheckConstraint("max_delete_share >= 0 AND max_delete_share <= 1", name="delete_share"),
        CheckConstraint("max_bad_share >= 0 AND max_bad_share <= 1", name="bad_share"),
    )

    slug: str = Field(sa_type=String(120), unique=True)
    url: str
    format: str = Field(sa_type=String(20))
    mode: str = Field(default=FeedMode.SNAPSHOT, sa_type=String(20))
    schedule: str = Field(default="1h", sa_type=String(120))
    enabled: bool = True
    headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    deadline: float = 60.0
    max_bytes: int = 50 * 1024 * 1024
    allow_private: bool = False
    allow_link_local: bool = False
    allow_cross_host_redirects: bool = False
    max_delete_share: float = 0.2
    max_bad_share: float = 0.5
    # Who publishes the feed, as its last run found it declared (alliance-feed/1's `publisher`).
    publisher: dict[str, Any] | None = Field(default=None, sa_type=JSON)

    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None
    last_success_at: dt.datetime | None = timestamp_field(default=None)
    consecutive_failures: int = 0
    next_eligible_at: dt.datetime | None = timestamp_field(default=None)

    lease_owner: str | None = Field(default=None, sa_type=String(200))
    lease_until: dt.datetime | None = timestamp_field(default=None)
    lease_epoch: int = 0


class SyncRun(SQLModel, table=True):
    """One run of one feed, from claim to finish; every field of the run record in docs/feeds.md."""

    __tablename__ = "sync_run"
    __table_args__ = (
        one_of("status", RunStatus),
        one_of("trigger", RunTrigger),
        Index("ix_sync_run_feed_started", "feed_id", "started_at"),
        Index(
            "ix_sync_run_queued",
            "id",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id")
    trigger: str = Field(sa_type=String(20))
    triggered_by: str | None = None
    owner: str = Field(sa_type=String(200))
    lease_epoch: int = 0
    dry_run: bool = False
    status: str = Field(default=RunStatus.RUNNING, sa_type=String(20), index=True)
    started_at: dt.datetime = timestamp_field(default_factory=utcnow)
    heartbeat_at: dt.datetime = timestamp_field(default_factory=utcnow)
    finished_at: dt.datetime | None = timestamp_field(default=None)
    http_status: int | None = None
    bytes: int = 0
    items_seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None
    error: str | None = Field(default=None, sa_type=Text)


class SyncIssue(SQLModel, table=True):
    """An item quarantined by a run, with its reason."""

    __tablename__ = "sync_issue"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="sync_run.id", index=True)
    feed_id: int = Field(foreign_key="feed.id", index=True)
    item_type: str | None = Field(default=None, sa_type=String(20))
    item_id: str | None = None
    position: str | None = None
    stage: str = Field(sa_type=String(20))
    message: str = Field(sa_type=Text)
    snippet: str | None = Field(default=None, sa_type=Text)
    created_at: dt.datetime = timestamp_field(default_factory=utcnow)


class FeedItem(SQLModel, table=True):
    """What one item of one feed became, and what the feed last said of it.

    `content_hash` lets an unchanged item be skipped; `source_updated_at` keeps an older item
    from overwriting a newer one; `pending` holds an item whose references could not be
    resolved yet, to be tried again on the next run.
    """

    __tablename__ = "feed_item"
    __table_args__ = (
        UniqueConstraint("feed_id", "item_type", "item_id", name="uq_feed_item_key"),
        Index("ix_feed_item_entity", "entity_type", "entity_id"),
        # `sync.apply.Applier.retry_pending`: the feed's few waiting items, in order.
        Index(
            "ix_feed_item_waiting",
            "feed_id",
            "id",
            postgresql_where=text("pending IS NOT NULL"),
            sqlite_where=text("pending IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id")
    item_type: str = Field(sa_type=String(20))
    item_id: str
    entity_type: str | None = Field(default=None, sa_type=String(20))
    entity_id: int | None = None
    content_hash: str | None = Field(default=None, sa_type=String(64))
    source_updated_at: dt.datetime | None = timestamp_field(default=None)
    last_seen_run_id: int | None = None
    deleted_at: dt.datetime | None = timestamp_field(default=None)
    # None is SQL NULL, not a JSON null: only waiting items are in `ix_feed_item_waiting`.
    pending: dict[str, Any] | None = Field(default=None, sa_type=JSON(none_as_null=True))


class LockedField(SQLModel, table=True):
    """A field an operator corrected by hand; feeds leave it alone."""

    __tablename__ = "locked_field"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "field", name="uq_locked_field_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(sa_type=String(20))
    entity_id: int
    field: str = Field(sa_type=String(60))
    locked_by: str | None = None
    locked_at: dt.datetime = timestamp_field(default_factory=utcnow)
