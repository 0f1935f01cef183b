"""Compiled reads: a query operation answered by one SQL statement that builds its whole `data`
(docs/architecture.md, Compiled reads).

The resolver path stays the schema, the parser and validator and the home of errors: an
operation reaches the compiler only once its document is known valid and its argument values
fit (`input_values`), and whatever the compiler does not plan, or any argument the resolvers
would refuse, runs whole on the resolvers, and so does an operation the caller's role may not run
(the resolvers refuse it, `access`). Plans are kept by (document, operation, variables, role),
bounded in number; each holds its SQL compiled for the engine's driver with its parameters.
"""

import logging
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

import orjson
from graphql import GraphQLError, get_operation_ast
from graphql.execution.values import get_variable_values
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.util import find_tables

from server.config import Settings
from store.enums import Role

from ..errors import ApiError
from ..input_values import refusal
from ..reader import Reader
from .json import NotPlanned, for_engine
from .planner import Planner

log = logging.getLogger("alliance.compiled")

MAX_PLANS = 512


def operation_name_of(operation) -> str:
    return operation.name.value if operation.name else "-"


@dataclass(frozen=True)
class Compiled:
    key: tuple[str, str | None, bytes, Role]
    sql: str
    parameters: tuple[Any, ...]
    lookups: bool
    reads: bool = True  # False: no table is read (`{ __typename }`), the answer never changes
    answer: str | None = None  # such a plan's answer, once the database has built it


@dataclass(frozen=True)
class Fallback:
    """Why an operation runs on the resolvers."""

    reason: str


UNSEEN = Fallback("a document not yet validated")
FORBIDDEN = Fallback("an operation the caller's role may not run")


class Compiler:
    def __init__(self, schema: Any, engine: AsyncEngine, settings: Settings):
        self.schema = schema
        self.dialect = engine.dialect
        self.planner = Planner(schema, for_engine(engine), settings)
        # An operation the resolvers answer is kept too: it is not planned again.
        self.plans: OrderedDict[tuple[str, str | None, bytes, Role], Compiled | Fallback] = (
            OrderedDict()
        )

    def prepare(
        self, query: str, operation_name: str | None, variables: dict, role: Role
    ) -> Compiled | Fallback:
        """The compiled statement of an operation for a caller of `role`, or why the resolvers
        answer it."""
        key = (query, operation_name, orjson.dumps(variables, option=orjson.OPT_SORT_KEYS), role)
        found = self.plans.get(key)
        if found is not None:
            self.plans.move_to_end(key)
            return found
        entry = self.schema.documents.entries.get(query)
        if entry is None or not entry.valid:
            return UNSEEN  # the resolver path parses and validates it first, with its errors
        if not role.may(entry.needs.role):
            return FORBIDDEN
        operation = get_operation_ast(entry.document, operation_name)
        if operation is None or refusal(entry.document, operation_name, variables):
            return Fallback("an operation or argument the resolvers refuse")
        return self._keep(key, self._compile(key, entry.document, operation, variables))

    def _keep(self, key, plan: Compiled | Fallback) -> Compiled | Fallback:
        self.plans[key] = plan
        self.plans.move_to_end(key)
        if len(self.plans) > MAX_PLANS:
            self.plans.popitem(last=False)
        return plan

    def _compile(self, key, document, operation, variables) -> Compiled | Fallback:
        coerced = get_variable_values(
            self.schema._schema, operation.variable_definitions or (), variables
        )
        if isinstance(coerced, list):
            return Fallback("variables the resolvers refuse")
        try:
            plan = self.planner.plan(document, operation, coerced)
        except NotPlanned as exc:
            return Fallback(str(exc))
        except (ApiError, GraphQLError) as exc:
            return Fallback(f"an argument the resolvers refuse ({type(exc).__name__})")
        compiled = plan.statement.compile(
            dialect=self.dialect, compile_kwargs={"render_postcompile": True}
        )
        values = compiled.construct_params()
        processors = compiled._bind_processors
        parameters = tuple(
            processors[name](values[name]) if name in processors else values[name]
            for name in compiled.positiontup or ()
        )
        log.info(
            "compiled read planned",
            extra={"operation": operation_name_of(operation), "sql": compiled.string},
        )
        reads = bool(find_tables(plan.statement, include_aliases=True, include_joins=True))
        return Compiled(key, compiled.string, parameters, plan.lookups, reads)

    async def run(self, compiled: Compiled, reader: Reader) -> str | None:
        """The `data` of the answer as JSON text; None when a lookup found nothing (the
        resolvers then answer with their error)."""
        if compiled.answer is not None:
            return compiled.answer
        try:
            row = await reader.alone(compiled.sql, compiled.parameters)
        except DBAPIError as exc:
            # SQLite's parser has a fixed depth that a deep enough query exceeds; whatever the
            # cause, the resolvers answer this operation from now on.
            log.warning("compiled read refused by the database, left to resolvers: %s", exc.orig)
            self._keep(compiled.key, Fallback(f"the database refused it: {exc.orig}"))
            return None
        if row is None or (compiled.lookups and row.missing):
            return None
        if not compiled.reads:
            self._keep(compiled.key, replace(compiled, answer=row.data))
        return row.data
