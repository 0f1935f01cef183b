"""Parsed documents kept for reuse, and the validation that checks the limits first.

Documents are kept by their text in a least-recently-used cache bounded in entries and in
bytes (`bounded.py`); a document found valid once is not validated again. A new one is checked
against the limits (`limits`) before graphql-core's rules, and a refused document never reaches
them. A valid document keeps the role it needs (`access`), and a caller whose role falls short
is refused it here, with the code FORBIDDEN.
"""

import sys
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from .access import Needs, needed, refusal
from .bounded import BoundedCache
from .limits import Limits

# What a parsed document keeps alive per token: the token, its share of the nodes and of their
# locations. Measured with tracemalloc on graphql-core 3.3: 260 to 610 bytes, by kind of token.
TOKEN_BYTES = 640


def held_bytes(text: str, document: DocumentNode) -> int:
    """About the memory a parsed document takes: its text, the copies its names and strings make
    of parts of it, and its tokens."""
    tokens = 0
    token = document.loc.start_token if document.loc else None
    while token is not None:
        tokens += 1
        token = token.next
    return 2 * sys.getsizeof(text) + TOKEN_BYTES * tokens


@dataclass
class Entry:
    document: DocumentNode
    size: int
    # Only validity is kept: a document with errors is checked again when it comes back, so the
    # cache holds no error messages that its byte count would have to estimate too.
    valid: bool = False
    needs: Needs = Needs()  # what it needs, once it is valid (`access`)


class DocumentCache(BoundedCache[str, Entry]):
    """Parsed documents by their text. The parse options must be the same for every document
    (they are per schema)."""

    def parse(self, text: str, **options) -> Entry:
        entry = self.get(text)
        if entry is None:
            document = parse(text, **options)
            entry = Entry(document, held_bytes(text, document))
            self.put(text, entry)
        return entry


class CheckedDocuments(SchemaExtension):
    """Parsing through the cache; validation with the limits first, the standard rules after."""

    def __init__(self, cache: DocumentCache, limits: Limits):
        self.cache = cache
        self.limits = limits
        self.entry: Entry | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        self.entry = self.cache.parse(context.query, **context.parse_options)
        context.graphql_document = self.entry.document
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        entry = self.entry
        errors: list[GraphQLError] = []
        if not entry.valid:
            schema = context.schema._schema
            errors = self.limits.check(schema, entry.document) or validate_document(
                schema, entry.document, context.validation_rules
            )
            entry.valid = not errors
            if entry.valid:
                entry.needs = needed(schema, entry.document)
        if not errors:
            refused = refusal(entry.needs.role, context.context.caller.role)
            errors = [refused] if refused else []
            context.context.live = entry.needs.live
        context.pre_execution_errors = errors
        yield
