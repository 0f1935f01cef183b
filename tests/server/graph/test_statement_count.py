"""No N+1: the statements a request sends depend on the query's shape, not on the data."""

import pytest

from tests import synthetic

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
    data = await client.data(DEEP_QUERY)
    return database.statements.count - before, data


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
