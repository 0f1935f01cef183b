"""`deleteFeed`: stop syncing a feed; what it brought stays, and so do its runs."""

from typing import Annotated

import strawberry

from sync import config as sync_config
from sync.errors import ConfigError

from ...access import OPERATOR_ONLY
from ...context import Ctx
from ..payloads import MutationError, not_found


@strawberry.type(description="The feed a mutation removed, or why it could not.")
class DeleteFeedPayload:
    slug: str | None = strawberry.field(description="The feed removed; null when errors are given.")
    errors: list[MutationError] = strawberry.field(description="Empty when it was done.")


async def delete_feed(
    info: Ctx, slug: Annotated[str, strawberry.argument(description="The feed.")]
) -> DeleteFeedPayload:
    try:
        await sync_config.remove(info.context.engine, slug)
    except ConfigError:
        return DeleteFeedPayload(slug=None, errors=not_found(slug))
    return DeleteFeedPayload(slug=slug, errors=[])


field = strawberry.mutation(
    resolver=delete_feed,
    description="Stop syncing a feed: its records stay, its runs stay listed, its queued runs "
    "end unstarted. Operator keys only.",
    metadata=OPERATOR_ONLY,
)
