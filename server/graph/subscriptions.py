"""The root `Subscription`: changes and sync runs pushed as they commit, over WebSocket
(graphql-transport-ws on `/graphql`; docs/api.md, "Subscriptions").

`changes` pushes every change of the change log, each once and in commit order; from a cursor,
the ones after it first, so a client that reconnects with the cursor of the last change it got
misses nothing. `syncRuns` pushes each state of a run as its batches commit, and its end. What
the process reads for its subscribers is read once for all of them (`server.web.live`); each
batch pushed is answered through a reader of its own (`SocketContext.reading`).
"""

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from sqlalchemy import select

from store.changes import Position
from store.registry import RUN

from .access import OPERATOR_ONLY
from .changes import After, Change, Types, change, followed
from .context import Ctx, SocketContext
from .errors import NotFound
from .operators.queries import OfFeed, feed_id
from .operators.types import SyncRun


@strawberry.type(description="Pushed as it commits, over WebSocket (graphql-transport-ws).")
class Subscription:
    @strawberry.subscription(
        description="Every record created, updated or deleted, as it commits, oldest first: "
        "after `after` when given (a reconnecting client's last cursor), else from now."
    )
    async def changes(
        self,
        info: Ctx,
        after: After = None,
        types: Types = None,
    ) -> AsyncGenerator[Change, None]:
        return _changes(info.context, *followed(after, types))

    @strawberry.subscription(
        description="Each state of the sync runs of one feed (or of every feed) as their "
        "batches commit: the runs not ended first, then every start, step and end. Given "
        "`run`, that run as it stands and then as it goes, ending with it. Operator keys only.",
        metadata=OPERATOR_ONLY,
    )
    async def sync_runs(
        self,
        info: Ctx,
        feed: OfFeed = None,
        run: Annotated[
            int | None, strawberry.argument(description="Only this run, until it ends.")
        ] = None,
    ) -> AsyncGenerator[SyncRun, None]:
        context = info.context
        async with context.reading():
            if feed is not None:
                await feed_id(info, feed)
            if run is not None:
                found = await context.reader.scalar(select(RUN.c.id).where(RUN.c.id == run))
                if found is None:
                    raise NotFound(f"no run has the number {run}", field="run")
        return _runs(context, feed, run)


# The arguments are checked before the stream starts, so that a bad one is the operation's
# error (graphql-transport-ws `error`), not a stream that ends without a word.


async def _changes(
    context: SocketContext, position: Position | None, types: list[str] | None
) -> AsyncGenerator[Change, None]:
    async for rows in context.pushed.changes(position, types):
        async with context.reading():
            for row in rows:
                yield change(row)


async def _runs(
    context: SocketContext, feed: str | None, run: int | None
) -> AsyncGenerator[SyncRun, None]:
    async for row in context.pushed.runs(feed, run):
        async with context.reading():
            yield SyncRun.from_row(row)
