"""The operator's root fields: feeds, runs and quarantined items, paged newest run first and
issues in the order the run met them."""

from typing import Annotated

import strawberry
from sqlalchemy import select

from store import feeds
from store.registry import FEED, ISSUE, LOCKED, RUN

from .. import ids
from ..access import OPERATOR_ONLY
from ..connection import PageInfo
from ..context import Ctx
from ..errors import InvalidCursor, InvalidId, NotFound
from .locks import LockedField
from .types import ISSUES, RUNS, Feed, RunStatus, SyncIssue, SyncRun, page_size

FeedSlug = Annotated[str, strawberry.argument(description="The feed's slug.")]
OfFeed = Annotated[str | None, strawberry.argument(description="Only this feed's.")]
First = Annotated[int, strawberry.argument(description="Page size (max 100).")]
After = Annotated[str | None, strawberry.argument(description="Items after this cursor.")]


@strawberry.type(description="A page of sync runs, newest first.")
class SyncRunConnection:
    nodes: list[SyncRun] = strawberry.field(description="The runs of this page.")
    page_info: PageInfo = strawberry.field(description="The cursor to page on.")


@strawberry.type(description="A page of quarantined items, in the order their runs met them.")
class SyncIssueConnection:
    nodes: list[SyncIssue] = strawberry.field(description="The issues of this page.")
    page_info: PageInfo = strawberry.field(description="The cursor to page on.")


def _cursor(kind: str, pk: int) -> str:
    return ids.encode(kind, pk)


def _after(kind: str, cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        found_kind, pk = ids.decode(cursor)
    except InvalidId:
        found_kind = None
    if found_kind != kind:
        raise InvalidCursor(f"{cursor!r} is not a cursor of this list", field="after")
    return pk


def _page_info(kind: str, rows: list, first: int, after: str | None) -> PageInfo:
    shown = rows[:first]
    return PageInfo(
        has_next_page=len(rows) > first,
        has_previous_page=after is not None,
        start_cursor=_cursor(kind, shown[0].id) if shown else None,
        end_cursor=_cursor(kind, shown[-1].id) if shown else None,
    )


async def feed_id(info: Ctx, slug: str, field: str = "feed") -> int:
    found = await info.context.reader.scalar(
        select(FEED.c.id).where(FEED.c.slug == slug, FEED.c.deleted_at.is_(None))
    )
    if found is None:
        raise NotFound(f"no feed has the slug {slug!r}", field=field)
    return found


async def read_feed(info: Ctx, slug: str) -> Feed:
    rows = await info.context.reader.rows(
        select(FEED).where(FEED.c.slug == slug, FEED.c.deleted_at.is_(None))
    )
    if not rows:
        raise NotFound(f"no feed has the slug {slug!r}", field="slug")
    return Feed.from_row(feeds.Feed.model_validate(dict(rows[0]._mapping)))


@strawberry.type(description="Operating the hub: feeds, runs and quarantined items.")
class OperatorQuery:
    @strawberry.field(
        description="Every feed, by slug. Operator keys only.", metadata=OPERATOR_ONLY
    )
    async def feeds(self, info: Ctx) -> list[Feed]:
        rows = await info.context.reader.rows(
            select(FEED).where(FEED.c.deleted_at.is_(None)).order_by(FEED.c.slug)
        )
        return [Feed.from_row(feeds.Feed.model_validate(dict(row._mapping))) for row in rows]

    @strawberry.field(description="A feed by its slug. Operator keys only.", metadata=OPERATOR_ONLY)
    async def feed(self, info: Ctx, slug: FeedSlug) -> Feed:
        return await read_feed(info, slug)

    @strawberry.field(
        description="Sync runs, newest first: of one feed, in one status. Operator keys only.",
        metadata=OPERATOR_ONLY,
    )
    async def sync_runs(
        self,
        info: Ctx,
        feed: OfFeed = None,
        status: Annotated[
            RunStatus | None, strawberry.argument(description="Only runs in this status.")
        ] = None,
        first: First = 20,
        after: After = None,
    ) -> SyncRunConnection:
        size, since = page_size(info, first), _after("SyncRun", after)
        query = RUNS.order_by(RUN.c.id.desc()).limit(size + 1)
        if feed is not None:
            query = query.where(RUN.c.feed_id == await feed_id(info, feed))
        if status is not None:
            query = query.where(RUN.c.status == status.value)
        if since is not None:
            query = query.where(RUN.c.id < since)
        rows = await info.context.reader.rows(query)
        return SyncRunConnection(
            nodes=[SyncRun.from_row(row) for row in rows[:size]],
            page_info=_page_info("SyncRun", rows, size, after),
        )

    @strawberry.field(
        description="Quarantined items with their reasons: of one run, or of every run of one "
        "feed. Operator keys only.",
        metadata=OPERATOR_ONLY,
    )
    async def sync_issues(
        self,
        info: Ctx,
        run: Annotated[int | None, strawberry.argument(description="Only this run's.")] = None,
        feed: OfFeed = None,
        first: First = 100,
        after: After = None,
    ) -> SyncIssueConnection:
        size, since = page_size(info, first), _after("SyncIssue", after)
        query = ISSUES.order_by(ISSUE.c.id).limit(size + 1)
        if run is not None:
            query = query.where(ISSUE.c.run_id == run)
        if feed is not None:
            query = query.where(ISSUE.c.feed_id == await feed_id(info, feed))
        if since is not None:
            query = query.where(ISSUE.c.id > since)
        rows = await info.context.reader.rows(query)
        return SyncIssueConnection(
            nodes=[SyncIssue.from_row(row) for row in rows[:size]],
            page_info=_page_info("SyncIssue", rows, size, after),
        )

    @strawberry.field(
        description="Fields operators locked against feeds, newest first. Operator keys only.",
        metadata=OPERATOR_ONLY,
    )
    async def locked_fields(self, info: Ctx) -> list[LockedField]:
        rows = await info.context.reader.rows(select(LOCKED).order_by(LOCKED.c.id.desc()))
        return [LockedField.from_row(row) for row in rows]
