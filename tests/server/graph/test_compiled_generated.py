"""Generated queries answered alike by both read paths (tests/differential.py).

hypothesis-graphql writes valid queries over the whole schema, with arguments of every kind;
the synthetic graph answers them. Whatever the resolvers answer without errors, the compiler
must answer the same or leave to them; a mismatch is shrunk to the smallest query that shows
it. The seed is fixed and the count bounded, so a run is repeatable and short.
"""

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

from server.config import Settings
from server.graph.schema import build_schema
from tests import synthetic

from ..conftest import Client

SCALARS = {
    "PartialDate": st.sampled_from(["2019", "2020-05", "2021-03-04"]).map(nodes.String),
    "CountryCode": st.sampled_from(["DE", "CN", "FR"]).map(nodes.String),
    "DateTime": st.sampled_from(["2020-01-01T00:00:00+00:00"]).map(nodes.String),
}


@pytest.fixture(scope="module")
async def generated(databases) -> Client:
    database = await databases.create()
    await synthetic.fill(database.engine, members=8, organisations=3)
    return Client(database, database.settings(default_alliance="syn"), corpus="generated")


SCHEMA = build_schema(Settings())


# The lists and the alliance: node ids and slugs drawn at random name no record, and cursors
# drawn at random are refused, so those root fields would only be answered with errors.
ROOTS = ["alliance", "alliances", "members", "organisations", "people", "partnerships", "events"]


@seed(20261202)
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries(SCHEMA._schema, fields=ROOTS, custom_scalars=SCALARS, allow_x00=False))
async def test_generated_queries_are_answered_alike(generated, query):
    await generated.execute(query)
