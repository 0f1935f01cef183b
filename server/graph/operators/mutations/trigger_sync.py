"""`triggerSync`: run a feed now. A real run is queued and returned at once; the next scheduler
to look (in `alliance serve` or `alliance worker`, within seconds) takes it, and the feed's lease
keeps it to one run at a time. A dry run is run here, within the feed's deadline, and answers
what it would have done: it writes nothing, so no run is kept to read later."""

from typing import Annotated

import strawberry
from sqlalchemy import select

from store.feeds import RunStatus as Status
from store.registry import FEED, RUN
from sync import fetch, ledger, runs

from ...access import OPERATOR_ONLY
from ...context import Ctx
from ..payloads import MutationError, not_found
from ..types import RUNS, RunStatus, SyncRun


@strawberry.type(description="What a dry run would have done; nothing of it was written.")
class DryRun:
    status: RunStatus = strawberry.field(description="How it would have ended.")
    items_seen: int = strawberry.field(description="Items read.")
    created: int = strawberry.field(description="Records it would create.")
    updated: int = strawberry.field(description="Records it would change.")
    unchanged: int = strawberry.field(description="Items whose records would stay as they are.")
    deleted: int = strawberry.field(description="Records it would delete.")
    quarantined: int = strawberry.field(description="Items it would refuse.")
    error: str | None = strawberry.field(description="Why it would fail.")


@strawberry.type(description="The run a trigger queued, or what a dry run found, or why not.")
class TriggerSyncPayload:
    run: SyncRun | None = strawberry.field(
        description="The queued run (poll `syncRuns`), or the one already under way."
    )
    dry_run: DryRun | None = strawberry.field(description="A dry run's findings.")
    errors: list[MutationError] = strawberry.field(description="Empty when it was done.")


UNDER_WAY = (Status.QUEUED, Status.RUNNING)


async def trigger_sync(
    info: Ctx,
    feed: Annotated[str, strawberry.argument(description="The feed's slug.")],
    dry_run: Annotated[
        bool, strawberry.argument(description="Report what would change, writing nothing.")
    ] = False,
) -> TriggerSyncPayload:
    engine, caller = info.context.engine, info.context.caller
    async with engine.begin() as connection:
        feed_id = await connection.scalar(
            select(FEED.c.id).where(FEED.c.slug == feed, FEED.c.deleted_at.is_(None))
        )
        if feed_id is None:
            return TriggerSyncPayload(run=None, dry_run=None, errors=not_found(feed, "feed"))
        if not dry_run:
            return await _queued(connection, feed, feed_id, caller.name)
    async with fetch.client() as client:
        outcome = await runs.run(engine, feed, client, dry_run=True, triggered_by=caller.name)
    found = DryRun(status=outcome.status, error=outcome.error, **outcome.counts.columns())
    return TriggerSyncPayload(run=None, dry_run=found, errors=[])


async def _queued(connection, feed: str, feed_id: int, by: str) -> TriggerSyncPayload:
    """A run queued for the feed, unless one is queued or running: that one is returned."""
    under_way = (
        await connection.execute(
            RUNS.where(RUN.c.feed_id == feed_id, RUN.c.status.in_(UNDER_WAY))
            .order_by(RUN.c.id)
            .limit(1)
        )
    ).first()
    if under_way is not None:
        message = f"run {under_way.id} of {feed} is {under_way.status}; it is returned"
        error = MutationError(field="feed", code="RUN_UNDER_WAY", message=message)
        return TriggerSyncPayload(run=SyncRun.from_row(under_way), dry_run=None, errors=[error])
    run_id = await ledger.queue(connection, feed_id, triggered_by=by)
    queued = (await connection.execute(RUNS.where(RUN.c.id == run_id))).one()
    return TriggerSyncPayload(run=SyncRun.from_row(queued), dry_run=None, errors=[])


field = strawberry.mutation(
    resolver=trigger_sync,
    description="Run a feed now: a real run is queued and returned at once, a dry run answers "
    "what it would change. A paused feed runs too. Operator keys only.",
    metadata=OPERATOR_ONLY,
)
