"""The Strawberry schema: the root `Query` composed from the areas, with its caches, limits
and the line between expected and unexpected errors."""

import logging
from functools import partial

import strawberry
from graphql import GraphQLError, GraphQLObjectType, OperationType, get_operation_ast
from strawberry.extensions import MaskErrors, MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.tools import create_type

from server.config import Settings

from .changes import ChangeQuery
from .documents import CheckedDocuments, DocumentCache
from .entities import display_name
from .errors import ApiError
from .events.queries import EventQuery
from .input_values import CheckArgumentValues
from .limits import Limits
from .members.queries import MemberQuery
from .nodes import NodeQuery
from .operators.mutations import (
    create_feed,
    delete_feed,
    lock_field,
    pause_feed,
    resume_feed,
    trigger_sync,
    unlock_field,
    update_feed,
)
from .operators.queries import OperatorQuery
from .organisations.queries import OrganisationQuery
from .partnerships.queries import PartnershipQuery
from .people.queries import PersonQuery
from .scalars import SCALARS
from .subscriptions import Subscription

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


AREAS = (
    NodeQuery,
    MemberQuery,
    OrganisationQuery,
    PersonQuery,
    PartnershipQuery,
    EventQuery,
    ChangeQuery,
    OperatorQuery,
)
# The root fields by what they do (ids, the alliance, lists, lookups by slug, counts), then by
# area: the order schema.graphql prints, which clients' tools show. Areas keep their own fields.
ROOT_FIELDS = (
    "node",
    "nodes",
    "alliance",
    "alliances",
    "members",
    "organisations",
    "people",
    "partnerships",
    "events",
    "member",
    "organisation",
    "person",
    "partnership",
    "event",
    "member_counts",
    "organisation_counts",
    "partnership_counts",
    "event_counts",
    "changes",
    "feeds",
    "feed",
    "sync_runs",
    "sync_issues",
    "locked_fields",
)


def _compose(name: str, description: str, queries: tuple[type, ...], order: tuple[str, ...]):
    """One type with the fields of `queries`, in `order`, which must name each exactly once."""
    fields = {f.python_name: f for q in queries for f in q.__strawberry_definition__.fields}
    if sorted(fields) != sorted(order):
        raise TypeError(f"{name}: fields {sorted(fields)} are not those ordered {sorted(order)}")
    return create_type(name, [fields[n] for n in order], description=description)


Query = _compose(
    "Query",
    "Reading the alliance graph: records, lists and counts; and, for operators, the feeds.",
    AREAS,
    ROOT_FIELDS,
)

# The operator's mutations, one module each, in the order schema.graphql prints them.
MUTATIONS = (
    create_feed,
    update_feed,
    pause_feed,
    resume_feed,
    delete_feed,
    trigger_sync,
    lock_field,
    unlock_field,
)
Mutation = create_type(
    "Mutation",
    [module.field for module in MUTATIONS],
    description="Operating the hub: feeds, syncs and locked fields. Operator keys only.",
)


class HubSchema(strawberry.Schema):
    documents: DocumentCache
    max_tokens: int

    def operation_type(self, query: str, name: str | None) -> OperationType | None:
        """The type of the operation `name` (or the only one), parsed as execution parses it
        and through the same cache; None when the document does not parse or has no such
        operation (execution then says why)."""
        try:
            document = self.documents.parse(query, max_tokens=self.max_tokens).document
        except GraphQLError:
            return None
        operation = get_operation_ast(document, name)
        return None if operation is None else operation.operation

    def process_errors(self, errors, execution_context=None) -> None:
        # Expected errors are the client's business; unexpected ones are logged by `_unexpected`.
        return None


class Executor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with a subscription's events forgetting what each collected.

    graphql-core (3.3) copies one executor per event of a subscription, and the copies share
    the memo of the subfields they collect, keyed by lists each event makes anew: a subscription
    would keep every event's entries for as long as it runs (about 1 KiB per change pushed,
    bench/fleet.py). Each event gets a memo of its own, gone with it."""

    def build_per_event_executor(self, payload):
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor


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
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=Executor,
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
    schema.max_tokens = settings.max_tokens
    _lean_name_resolvers(schema)
    return schema
