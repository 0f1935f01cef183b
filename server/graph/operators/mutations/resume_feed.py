"""`resumeFeed`: run a feed on its schedule again, without waiting out a rest after failures."""

from typing import Annotated

import strawberry

from sync import config as sync_config

from ...access import OPERATOR_ONLY
from ...context import Ctx
from ..payloads import FeedPayload, on_feed


async def resume_feed(
    info: Ctx, slug: Annotated[str, strawberry.argument(description="The feed.")]
) -> FeedPayload:
    engine = info.context.engine
    return await on_feed(engine, slug, lambda: sync_config.resume(engine, slug))


field = strawberry.mutation(
    resolver=resume_feed,
    description="Run a feed on its schedule again, without waiting out a rest after failures. "
    "Operator keys only.",
    metadata=OPERATOR_ONLY,
)
