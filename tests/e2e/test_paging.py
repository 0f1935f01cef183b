"""Keyset paging end to end: walking the ISA's members page by page, forwards and backwards.

The seed has 40 member records, 34 of them with a membership in the ISA (the hub's default
alliance). Names sort by their folded form (lower case, no diacritics), ties by id.
"""

import unicodedata
from typing import Any

import httpx
import pytest

PAGE = 7
ISA_TOTAL = 34
ALL_MEMBERS = 40

TOTALS = "{ alliance { members { totalCount } } members { totalCount } }"
FORWARD = """
query Forward($first: Int, $after: String) {
  members(first: $first, after: $after, filter: {membership: {alliance: "isa"}}) {
    edges { cursor node { slug name } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
BACKWARD = """
query Backward($last: Int, $before: String) {
  members(last: $last, before: $before, filter: {membership: {alliance: "isa"}}) {
    edges { cursor node { slug name } }
    pageInfo { hasNextPage hasPreviousPage startCursor }
  }
}
"""
NESTED_FORWARD = """
query NestedForward($first: Int, $after: String) {
  alliance {
    members(first: $first, after: $after) {
      nodes { slug name }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
ALL_FORWARD = """
query AllForward($first: Int, $after: String) {
  members(first: $first, after: $after) { nodes { slug } pageInfo { hasNextPage endCursor } }
}
"""
MAX_PAGES = 20  # a walk that does not end by then loops


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def data(http: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def walk_forward(http: httpx.Client, query: str, path: list[str]) -> tuple[list[dict], list[int]]:
    """Every node, following `endCursor` until `hasNextPage` is false; and the page sizes."""
    nodes: list[dict] = []
    sizes: list[int] = []
    after = None
    for _ in range(MAX_PAGES):
        connection = data(http, query, first=PAGE, after=after)
        for key in path:
            connection = connection[key]
        page = connection.get("nodes") or [edge["node"] for edge in connection.get("edges", [])]
        nodes += page
        sizes.append(len(page))
        if "hasPreviousPage" in connection["pageInfo"]:
            assert connection["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes, sizes
        after = connection["pageInfo"]["endCursor"]
        assert after, connection
    pytest.fail(f"paging forward did not end after {MAX_PAGES} pages of {PAGE}")


@pytest.fixture(scope="module")
def isa_total(hub) -> int:
    with httpx.Client(base_url=hub.base_url) as http:
        totals = data(http, TOTALS)
    assert totals["members"]["totalCount"] == ALL_MEMBERS
    return totals["alliance"]["members"]["totalCount"]


def test_the_isa_has_34_of_the_40_members(isa_total):
    assert isa_total == ISA_TOTAL


def test_walking_forward_gives_every_isa_member_once_in_name_order(http, isa_total):
    # when
    nodes, sizes = walk_forward(http, FORWARD, ["members"])

    # then
    slugs = [n["slug"] for n in nodes]
    assert len(slugs) == isa_total
    assert len(set(slugs)) == len(slugs), (
        f"repeated: {sorted({s for s in slugs if slugs.count(s) > 1})}"
    )
    assert sizes == [PAGE] * (isa_total // PAGE) + ([isa_total % PAGE] if isa_total % PAGE else [])
    keys = [fold(n["name"]) for n in nodes]
    assert keys == sorted(keys), "members must come in the order of their names"


def test_walking_backward_gives_the_same_members_reversed(http):
    # given
    forward, _ = walk_forward(http, FORWARD, ["members"])

    # when: last/before from the end back to the start
    backward: list[dict] = []
    before = None
    for _ in range(MAX_PAGES):
        connection = data(http, BACKWARD, last=PAGE, before=before)["members"]
        page = [edge["node"] for edge in connection["edges"]]
        assert connection["pageInfo"]["hasNextPage"] == (before is not None)
        backward += reversed(page)  # each page still reads in name order
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    else:
        pytest.fail(f"paging backward did not end after {MAX_PAGES} pages")

    # then
    assert [n["slug"] for n in backward] == [n["slug"] for n in reversed(forward)]


def test_the_alliances_nested_members_page_to_the_same_list(http):
    # given
    top_level, _ = walk_forward(http, FORWARD, ["members"])

    # when
    nested, _ = walk_forward(http, NESTED_FORWARD, ["alliance", "members"])

    # then
    assert [n["slug"] for n in nested] == [n["slug"] for n in top_level]


def test_walking_every_member_record_gives_all_40(http):
    nodes, _ = walk_forward(http, ALL_FORWARD, ["members"])

    slugs = [n["slug"] for n in nodes]
    assert len(slugs) == len(set(slugs)) == ALL_MEMBERS
