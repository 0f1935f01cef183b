"""`pauseFeed`: stop running a feed on its schedule; triggerSync still runs it."""

from typing import Annotated

import strawberry

from sync import config as sync_config

from ...access import OPERATOR_ONLY
from ...context import Ctx
from ..payloads import FeedPayload, on_feed


async def pause_feed(
    info: Ctx, slug: Annotated[str, strawberry.argument(description="The feed.")]
) -> FeedPayload:
    engine = info.context.engine
    return await on_feed(engine, slug, lambda: sync_config.pause(engine, slug))


field = strawberry.mutation(
    resolver=pause_feed,
    description="Stop running a feed on its schedule; triggerSync still runs it. "
    "Operator keys only.",
    metadata=OPERATOR_ONLY,
)
