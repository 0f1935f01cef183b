"""`updateFeed`: change what is given of a feed, checked as a whole feed."""

from typing import Annotated

import strawberry
from pydantic import ValidationError

from sync import config as sync_config
from sync.errors import ConfigError

from ...access import OPERATOR_ONLY
from ...context import Ctx
from ..payloads import FeedPayload, invalid, not_found, on_feed
from .feed_inputs import FeedSettingsInput, given


async def update_feed(
    info: Ctx,
    slug: Annotated[str, strawberry.argument(description="The feed.")],
    settings: Annotated[
        FeedSettingsInput, strawberry.argument(description="What changes; the rest stays.")
    ],
) -> FeedPayload:
    engine, changes = info.context.engine, given(settings)
    try:
        current = await sync_config.get(engine, slug)
    except ConfigError:
        return FeedPayload(feed=None, errors=not_found(slug))
    kept = {name: getattr(current, name) for name in sync_config.FeedSpec.model_fields}
    try:
        sync_config.FeedSpec(**kept | changes)
    except ValidationError as exc:
        return FeedPayload(feed=None, errors=invalid(exc))
    return await on_feed(engine, slug, lambda: sync_config.change(engine, slug, **changes))


field = strawberry.mutation(
    resolver=update_feed,
    description="Change what is given of a feed. A new URL, format, mode or options make it "
    "forget its ETag, Last-Modified and cursor. Operator keys only.",
    metadata=OPERATOR_ONLY,
)
