"""Keyset connections: cursors, both directions, stable under inserts, capped page sizes."""

import pytest
from sqlalchemy import insert

from store.registry import MEMBER
from tests import synthetic

from ..conftest import Client

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String, $orderBy: [MemberOrder!]) {
  members(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    totalCount
    edges { cursor node { slug population } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
NESTED = """
query Nested($after: String) {
  member(slug: "syn-m3") {
    organisations(first: 2, after: $after) {
      totalCount
      nodes { slug }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


@pytest.fixture(scope="module")
async def client(databases):
    database = await databases.create()
    await synthetic.fill(database.engine, members=25, organisations=5)
    return Client(database, database.settings(default_alliance="syn"))


async def _walk(client, **args) -> list[str]:
    slugs, cursor = [], None
    forward = "first" in args
    while True:
        page_args = {**args, ("after" if forward else "before"): cursor}
        page = (await client.data(PAGE, page_args))["members"]
        nodes = [e["node"]["slug"] for e in page["edges"]]
        slugs += nodes if forward else list(reversed(nodes))
        info = page["pageInfo"]
        if not (info["hasNextPage"] if forward else info["hasPreviousPage"]):
            return slugs
        cursor = info["endCursor"] if forward else info["startCursor"]


async def test_walk_forward_and_backward(client):
    forward = await _walk(client, first=4)
    backward = await _walk(client, last=3)
    assert len(forward) == 25 == len(set(forward))
    assert forward == sorted(forward, key=lambda s: int(s.removeprefix("syn-m")))  # by name
    assert backward == list(reversed(forward))


async def test_order_by_descending_population(client):
    order = [{"field": "POPULATION", "direction": "DESC"}]
    slugs = await _walk(client, first=6, orderBy=order)
    assert slugs[0] == "syn-m24" and slugs[-1] == "syn-m0" and len(slugs) == 25


async def test_insert_before_the_cursor_does_not_shift_the_next_page(client):
    first = (await client.data(PAGE, {"first": 5}))["members"]
    cursor = first["pageInfo"]["endCursor"]
    expected = (await client.data(PAGE, {"first": 5, "after": cursor}))["members"]["edges"]
    # A sync inserts a member that sorts before everything seen so far.
    async with client.database.engine.begin() as conn:
        await conn.execute(
            insert(MEMBER).values(
                slug="aaa-new",
                name="AAA",
                names=[],
                sort_key="aaa",
                search_text="aaa",
                kind="city",
                country="DE",
            )
        )
    again = (await client.data(PAGE, {"first": 5, "after": cursor}))["members"]["edges"]
    assert [e["node"] for e in again] == [e["node"] for e in expected]


async def test_nested_connection_pages_with_cursors(client):
    first = (await client.data(NESTED))["member"]["organisations"]
    second = (await client.data(NESTED, {"after": first["pageInfo"]["endCursor"]}))["member"][
        "organisations"
    ]
    assert first["totalCount"] == 5
    assert [n["slug"] for n in first["nodes"]] == ["syn-m3-o0", "syn-m3-o1"]
    assert [n["slug"] for n in second["nodes"]] == ["syn-m3-o2", "syn-m3-o3"]
    assert second["pageInfo"]["hasNextPage"] is True


async def test_default_page_size(client):
    page = (await client.data(PAGE, {}))["members"]
    assert len(page["edges"]) == 20 and page["pageInfo"]["hasNextPage"]


async def test_empty_page(client):
    page = (await client.data(PAGE, {"first": 0}))["members"]
    assert page["edges"] == [] and page["pageInfo"]["endCursor"] is None
    assert page["totalCount"] >= 25


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"first": 101}, "PAGE_SIZE"),
        ({"first": -1}, "PAGE_SIZE"),
        ({"last": 500}, "PAGE_SIZE"),
        ({"first": 2, "last": 2}, "PAGE_SIZE"),
        ({"after": "garbage"}, "INVALID_CURSOR"),
        ({"after": "W10"}, "INVALID_CURSOR"),  # valid base64 JSON, not a cursor
        ({"before": "!!!"}, "INVALID_CURSOR"),
    ],
)
async def test_bad_page_arguments(client, args, code):
    errors = await client.errors(PAGE, args)
    assert errors[0]["extensions"]["code"] == code
    assert "Unexpected" not in errors[0]["message"]


async def test_cursor_from_another_ordering_is_refused(client):
    page = (await client.data(PAGE, {"first": 2}))["members"]
    errors = await client.errors(
        PAGE,
        {
            "first": 2,
            "after": page["pageInfo"]["endCursor"],
            "orderBy": [{"field": "POPULATION"}],
        },
    )
    assert errors[0]["extensions"]["code"] == "INVALID_CURSOR"
    assert "orderBy" in errors[0]["message"]
