"""What the operator's mutations return: the object they acted on, or typed errors.

A mutation refuses what it cannot do with errors in its payload (`field`, `code`, `message`),
never with an exception text: a client shows each beside the field it names.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from store import feeds
from sync import config as sync_config
from sync.errors import ConfigError

from .types import Feed


@strawberry.type(description="Why a mutation did not do what it was asked.")
class MutationError:
    field: str | None = strawberry.field(description="The input field at fault, if one is.")
    code: str = strawberry.field(
        description="INVALID_VALUE, NOT_FOUND, FEED_EXISTS, RUN_UNDER_WAY, INVALID_ID, "
        "INVALID_FIELD, NOT_LOCKED."
    )
    message: str = strawberry.field(description="What is wrong, for a person.")


@strawberry.type(description="A feed as a mutation left it, or why it could not.")
class FeedPayload:
    feed: Feed | None = strawberry.field(description="The feed; null when errors are given.")
    errors: list[MutationError] = strawberry.field(description="Empty when it was done.")


def not_found(slug: str, field: str = "slug") -> list[MutationError]:
    return [MutationError(field=field, code="NOT_FOUND", message=f"no feed has the slug {slug!r}")]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def invalid(exc: ValidationError) -> list[MutationError]:
    """A feed's settings refused by `sync.config.FeedSpec`, one error per field."""
    return [
        MutationError(
            field=_camel(str(error["loc"][0])) if error["loc"] else None,
            code="INVALID_VALUE",
            message=error["msg"].removeprefix("Value error, "),
        )
        for error in exc.errors()
    ]


def feed_payload(row: feeds.Feed) -> FeedPayload:
    return FeedPayload(feed=Feed.from_row(row), errors=[])


async def on_feed(engine: AsyncEngine, slug: str, act: Callable[[], Awaitable[Any]]) -> FeedPayload:
    """`act` on the feed `slug`, then the feed as it left it; NOT_FOUND when there is no such
    feed, also when it was removed in between."""
    try:
        await act()
        return feed_payload(await sync_config.get(engine, slug))
    except ConfigError:
        return FeedPayload(feed=None, errors=not_found(slug))
