"""`createFeed`: add a partner feed, checked as `alliance feeds add` checks it."""

from typing import Annotated

import strawberry
from pydantic import ValidationError

from store.feeds import FeedFormat
from sync import config as sync_config
from sync.errors import ConfigError

from ...access import OPERATOR_ONLY
from ...context import Ctx
from ..payloads import FeedPayload, MutationError, feed_payload, invalid
from .feed_inputs import FeedSettingsInput, given


async def create_feed(
    info: Ctx,
    slug: Annotated[str, strawberry.argument(description="Lowercase letters, digits, dashes.")],
    settings: Annotated[FeedSettingsInput, strawberry.argument(description="`url` at least.")],
) -> FeedPayload:
    try:
        spec = sync_config.FeedSpec(slug=slug, format=FeedFormat.ALLIANCE_FEED, **given(settings))
    except ValidationError as exc:
        return FeedPayload(feed=None, errors=invalid(exc))
    engine = info.context.engine
    try:
        await sync_config.add(engine, spec)
    except ConfigError:
        message = f"a feed has the slug {slug!r}; updateFeed changes it"
        return FeedPayload(
            feed=None, errors=[MutationError(field="slug", code="FEED_EXISTS", message=message)]
        )
    return feed_payload(await sync_config.get(engine, slug))


field = strawberry.mutation(
    resolver=create_feed,
    description="Add a partner feed; it runs on its schedule from the next scheduler check. "
    "Operator keys only.",
    metadata=OPERATOR_ONLY,
)
