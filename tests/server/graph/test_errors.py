"""Expected errors carry a code and their message; unexpected ones are masked and logged."""

import logging

from sqlalchemy import text

from store import seed

from ..conftest import Client

QUERY = """
{
  member(slug: "kaiserslautern") {
    slug
    organisations { nodes { slug } }
    events { nodes { slug } }
    partnerships { nodes { slug } }
  }
}
"""


async def test_unknown_slug_is_not_found(client):
    errors = await client.errors('{ member(slug: "atlantis") { slug } }')
    assert errors[0]["extensions"] == {"code": "NOT_FOUND", "field": "slug"}
    assert "atlantis" in errors[0]["message"]


async def test_database_failure_is_masked_logged_and_leaks_no_connection(databases, caplog):
    # Given a hub whose organisation table has gone missing
    database = await databases.create()
    await seed.seed(database.engine)
    async with database.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE organisation RENAME TO organisation_gone"))
    client = Client(database, database.settings())
    # when a query needs it next to other relations
    with caplog.at_level(logging.ERROR, logger="alliance.graphql"):
        result = await client.execute(QUERY)
    # then the client sees no internals, the log has everything,
    messages = [e.message for e in result.errors]
    assert messages and set(messages) == {"Unexpected error."}
    assert "organisation" in caplog.text and "Traceback" in caplog.text
    # and every connection went back to the pool.
    assert database.engine.pool.checkedout() == 0
