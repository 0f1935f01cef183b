"""Running GraphQL in-process against a test database (`schema.execute`, no HTTP)."""

from typing import Any

import pytest
from strawberry.types import ExecutionResult

from server.config import Settings
from server.graph.compiled import Compiler
from server.graph.context import Context
from server.graph.reader import Reader
from server.graph.schema import build_schema
from store.enums import Role
from store.keys import Caller
from tests import differential


class Client:
    """Runs queries on the resolvers and checks each answer against the compiled read
    (`tests/differential.py`)."""

    def __init__(self, database, settings: Settings, corpus: str = "suite"):
        self.database = database
        self.corpus = corpus
        self.settings = settings
        self.schema = build_schema(settings)
        self.compiler = Compiler(self.schema, database.engine, settings)

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        compare: bool = True,
        role: Role = Role.READER,
    ) -> ExecutionResult:
        """The resolvers' result for a caller of `role`; with `compare`, also checked against
        the compiled read."""
        reader = Reader(self.database.engine)
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=Context(
                    reader=reader, settings=self.settings, caller=Caller("tests", role)
                ),
            )
        finally:
            await reader.close()
        if compare and not result.errors:
            await differential.compare(
                self.compiler,
                self.database.engine,
                query,
                variables,
                result.data,
                self.corpus,
                role,
            )
        return result

    async def data(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        compare: bool = True,
        role: Role = Role.READER,
    ) -> dict[str, Any]:
        """The result's data, failing the test on any error."""
        result = await self.execute(query, variables, compare, role)
        assert result.errors is None, [e.formatted for e in result.errors]
        return result.data

    async def errors(
        self, query: str, variables: dict[str, Any] | None = None, role: Role = Role.READER
    ) -> list[dict]:
        result = await self.execute(query, variables, role=role)
        assert result.errors, f"expected errors, got data {result.data}"
        return [e.formatted for e in result.errors]


@pytest.fixture(scope="session")
def client(seeded) -> Client:
    return Client(seeded, seeded.settings())
