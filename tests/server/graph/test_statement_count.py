"""No N+1: the statements a request sends depend on the query's shape, not on the data; and
nothing else goes with them but the request's one transaction (no ping)."""

import asyncio

import orjson
import pytest
from sqlalchemy import event

from server.graph.reader import Reader
from store.enums import Role
from tests import synthetic
from tests.conftest import ON_POSTGRES

from ..conftest import Client

DEEP_QUERY = """
query Deep {
  alliance(slug: "syn") {
    members(first: 100) {
      totalCount
      nodes {
        slug
        name(lang: "de")
        status(alliance: "syn")
        organisations(first: 5) {
          totalCount
          nodes { slug posts { label person { name posts { label } } } }
        }
        partnerships(first: 5) {
          nodes { title parties { role party { ... on Member { slug country } } } events { title } }
        }
        events { nodes { title participants { role participant { ... on Member { slug } } } } }
        identifiers { scheme }
        sources { url }
      }
    }
  }
}
"""


async def _statements_for(databases, members: int) -> tuple[int, dict]:
    database = await databases.create()
    await synthetic.fill(database.engine, members=members, organisations=5)
    client = Client(database, database.settings(default_alliance="syn"))
    before = database.statements.count
    data = await client.data(DEEP_QUERY, compare=False)  # the resolvers' statements alone
    statements = database.statements.count - before
    await client.data(DEEP_QUERY)  # and the compiled read answers the same
    return statements, data


@pytest.fixture(scope="module")
async def small_and_large(databases):
    return await _statements_for(databases, 10), await _statements_for(databases, 1000)


async def test_statement_count_does_not_grow_with_rows(small_and_large):
    (small, small_data), (large, large_data) = small_and_large
    # Given 10 members and 1,000 members, the same four-level query
    small_members = small_data["alliance"]["members"]
    large_members = large_data["alliance"]["members"]
    # then it reads 10 and 100 (a full page) members with all their organisations
    assert small_members["totalCount"] == 10 and len(small_members["nodes"]) == 10
    assert large_members["totalCount"] == 1000 and len(large_members["nodes"]) == 100
    assert all(len(m["organisations"]["nodes"]) == 5 for m in large_members["nodes"])
    # and sends exactly as many statements either way.
    assert small == large, f"10 members: {small} statements, 1000 members: {large}"
    print(f"\nstatements for the deep query: 10 members {small}, 1000 members {large}")


async def test_statement_count_is_one_per_relation(small_and_large):
    (small, _), _ = small_and_large
    # alliance, members page + count, periods, organisations page + count, posts, people,
    # people's posts, partnerships, parties, events per partnership, events, participants,
    # identifiers, sources: one each, whatever the rows.
    assert small <= 17, small


@pytest.mark.skipif(not ON_POSTGRES, reason="transaction control is PostgreSQL's")
async def test_postgresql_receives_the_statements_in_one_transaction_and_no_ping(databases):
    # given: a database whose driver connections log what they send outside prepared
    # statements (transaction control, and the ping a pool may send at checkout)
    database = await databases.create()
    await synthetic.fill(database.engine, members=10, organisations=5)
    await database.engine.dispose()
    sent: list[str] = []

    def _log(dbapi_connection, _record) -> None:
        dbapi_connection.driver_connection.add_query_logger(lambda query: sent.append(query.query))

    event.listen(database.engine.sync_engine, "connect", _log)
    client = Client(database, database.settings(default_alliance="syn"))
    await client.data(DEEP_QUERY)  # the pool now holds a connection that was used
    await asyncio.sleep(0)  # the driver hands its log over on the loop's next turn

    # when: the query comes again, on that pooled connection
    sent.clear()
    before = database.statements.count
    await client.data(DEEP_QUERY)
    await asyncio.sleep(0)

    # then: its statements, in one read-only transaction, and nothing more
    statements = database.statements.count - before
    assert [query.split()[0] for query in sent] == ["BEGIN", "ROLLBACK;"], sent
    assert "READ ONLY" in sent[0]
    print(f"\nPostgreSQL received {statements + len(sent)} statements: {statements} and {sent}")


async def test_an_answer_that_reads_no_table_is_built_once_and_then_sent_as_kept(databases):
    # given: a compiled `{ __typename }`, and a nested page beside it
    database = await databases.create()
    await synthetic.fill(database.engine, members=3, organisations=1)
    client = Client(database, database.settings(default_alliance="syn"))
    await client.data("{ __typename }")  # validated on the resolvers, then compiled
    typename = client.compiler.prepare("{ __typename }", None, {}, Role.READER)
    page = "{ alliance { members(first: 2) { nodes { slug } } } }"
    await client.data(page)
    members = client.compiler.prepare(page, None, {}, Role.READER)

    # when: each is answered again and again
    before = database.statements.count
    answers = set()
    for _ in range(3):
        reader = Reader(database.engine)
        try:
            answers.add(
                await client.compiler.run(
                    client.compiler.prepare("{ __typename }", None, {}, Role.READER), reader
                )
            )
            await client.compiler.run(members, reader)
        finally:
            await reader.close()

    # then: the constant answer costs no statement, the page one each time
    assert not typename.reads and members.reads
    assert [orjson.loads(a) for a in answers] == [{"__typename": "Query"}]
    assert database.statements.count - before == 3
