"""The Strawberry schema, with its caches, limits and the line between expected and
unexpected errors."""

import logging
from functools import partial

import strawberry
from graphql import GraphQLError, GraphQLObjectType
from strawberry.extensions import MaskErrors, MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig

from .aggregates import CountQuery
from .config import Settings
from .errors import ApiError
from .input_values import CheckArgumentValues
from .limits import CheckedDocuments, DocumentCache, Limits
from .queries import GraphQuery
from .scalars import SCALARS
from .types import display_name

log = logging.getLogger("alliance.graphql")


def _unexpected(error: GraphQLError) -> bool:
    """Mask what a client did not cause; log it in full, once, here."""
    original = error.original_error
    # Without a path the error came before execution: parsing, validation, variable coercion.
    if original is None or error.path is None or isinstance(original, ApiError | GraphQLError):
        return False
    log.error(
        "unexpected error at %s: %s",
        ".".join(map(str, error.path or [])) or "<operation>",
        original,
        exc_info=(type(original), original, original.__traceback__),
    )
    return True


@strawberry.type(description="Reading the alliance graph: records, lists and counts.")
class Query(GraphQuery, CountQuery):
    pass


class HubSchema(strawberry.Schema):
    documents: DocumentCache

    def process_errors(self, errors, execution_context=None) -> None:
        # Expected errors are the client's business; unexpected ones are logged by `_unexpected`.
        return None


def _resolve_name(record, _info, lang=None) -> str:
    return display_name(record, lang)


def _lean_name_resolvers(schema: strawberry.Schema) -> None:
    """Resolve `name(lang:)` without Strawberry's per-call argument conversion.

    `name` is on every record an answer holds, and Strawberry converts its arguments on each
    call even when none are given: about a tenth of a nested page's CPU (bench/). The lean
    resolver does what `Named.localized_name` does, straight on graphql-core's field.
    """
    for type_ in schema._schema.type_map.values():
        if isinstance(type_, GraphQLObjectType) and "Named" in {i.name for i in type_.interfaces}:
            type_.fields["name"].resolve = _resolve_name


def build_schema(settings: Settings) -> HubSchema:
    documents = DocumentCache(max_entries=1024, max_bytes=settings.document_cache_bytes)
    schema = HubSchema(
        query=Query,
        config=StrawberryConfig(scalar_map=SCALARS),
        # Factories: Strawberry makes fresh extensions per request; the document cache made
        # here is shared by all of them.
        extensions=[
            partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
            partial(CheckedDocuments, documents, Limits(settings)),
            CheckArgumentValues,
            partial(MaskErrors, should_mask_error=_unexpected),
        ],
    )
    schema.documents = documents
    _lean_name_resolvers(schema)
    return schema
