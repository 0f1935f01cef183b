"""The Strawberry schema, with its caches, limits and the line between expected and
unexpected errors."""

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from .config import Settings
from .errors import ApiError
from .queries import Query

log = logging.getLogger("alliance.graphql")


def _unexpected(error: GraphQLError) -> bool:
    """Mask what a client did not cause; log it in full, once, here."""
    original = error.original_error
    if original is None or isinstance(original, ApiError):
        return False
    log.error(
        "unexpected error at %s: %s",
        ".".join(map(str, error.path or [])) or "<operation>",
        original,
        exc_info=(type(original), original, original.__traceback__),
    )
    return True


class HubSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Expected errors are the client's business; unexpected ones are logged by `_unexpected`.
        return None


def build_schema(settings: Settings) -> strawberry.Schema:
    return HubSchema(
        query=Query,
        extensions=[
            MaxTokensLimiter(max_token_count=settings.max_tokens),
            ParserCache(maxsize=1024),
            ValidationCache(maxsize=1024),
            QueryDepthLimiter(max_depth=settings.max_query_depth),
            MaxAliasesLimiter(max_alias_count=settings.max_aliases),
            MaskErrors(should_mask_error=_unexpected),
        ],
    )
