"""Argument values the databases cannot take are refused before anything runs, wherever they
are given; values just inside the limits are answered on this database.

Over HTTP a lone surrogate cannot arrive (JSON and the GraphQL lexer refuse it), so it is tried
here, in process, where a caller can hand the schema any Python string.
"""

import pytest

from server.graph.filtering import MAX_PATTERN
from server.graph.input_values import MAX_DEPTH, MAX_VALUES

MEMBER = "query($slug: String!) { member(slug: $slug) { slug } }"
MEMBERS = "query($filter: MemberFilter) { members(filter: $filter) { totalCount } }"
# A filter is compiled for a page, a total, a nested page and a count: each wraps it differently.
EVERY_USE = """
query($filter: MemberFilter) {
  members(filter: $filter, first: 3) { totalCount nodes { slug } }
  alliance { members(filter: $filter, first: 3) { totalCount nodes { slug } } }
  memberCounts(by: [STATUS], filter: $filter) { count }
}
"""


def _refusal(errors: list[dict]) -> str:
    [error] = errors
    assert error["extensions"] == {
        "code": "INVALID_ARGUMENT",
        "field": error["extensions"]["field"],
    }
    return error["message"]


def _parents(depth: int) -> dict:
    """A filter `depth` input objects deep: parents of parents, and a membership at the bottom,
    the most subqueries a filter of that depth can make."""
    found: dict = {"membership": {"alliance": "isa"}}
    for _ in range(depth - 2):
        found = {"parent": found}
    return found


@pytest.mark.parametrize(
    ("query", "variables", "says"),
    [
        (MEMBER, {"slug": "\ud800"}, "`member(slug:)` (from `$slug`) holds U+D800"),
        (MEMBER, {"slug": "a\udfffb"}, "U+DFFF, half of a surrogate pair"),
        (MEMBERS, {"filter": {"search": "x\x00"}}, "`members(filter:)` at `search`"),
        (
            "query($a: String) { members(filter: {membership: {alliance: $a}}) { totalCount } }",
            {"a": "\x00"},
            "`members(filter:)` at `membership.alliance` (from `$a`) holds U+0000 (NUL)",
        ),
        ('query($s: String = "a\\u0000") { member(slug: $s) { slug } }', {}, "(from `$s`)"),
        (
            'query { ...A ...A } fragment A on Query { alliance(slug: "\\u0000") { slug } }',
            {},
            "`alliance(slug:)` holds U+0000",
        ),
        (
            'query { member(slug: "aachen") { ... on Member { status(alliance: "\\u0000") } } }',
            {},
            "`status(alliance:)`",
        ),
        ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ["x", "\x00"]}, "at `[1]`"),
    ],
)
async def test_text_no_database_can_take_is_refused_where_it_is_given(
    client, query, variables, says
):
    message = _refusal(await client.errors(query, variables))

    assert says in message


async def test_text_any_database_can_take_is_answered(client):
    odd = "\uffff\ufdd0\u200b\u202e😀"  # noncharacters, zero width, a bidi override, an emoji
    data = await client.data(MEMBERS, {"filter": {"search": odd, "slug": {"in": [odd]}}})

    assert data == {"members": {"totalCount": 0}}


async def test_the_deepest_filter_allowed_is_answered_in_every_use(client):
    data = await client.data(EVERY_USE, {"filter": _parents(MAX_DEPTH)})

    assert data["members"]["totalCount"] == 0


async def test_a_filter_one_level_deeper_is_refused(client):
    message = _refusal(await client.errors(EVERY_USE, {"filter": _parents(MAX_DEPTH + 1)}))

    assert f"too deep: at most {MAX_DEPTH} levels" in message


async def test_the_most_values_allowed_are_answered_in_every_use(client):
    branches = (MAX_VALUES - 2) // 2  # {or: [...]} and each {search: ...}
    widest = {"or": [{"search": f"x{i}"} for i in range(branches)]}
    longest = {"slug": {"in": [f"s{i}" for i in range(MAX_VALUES - 3)]}}

    for filter_ in (widest, longest):
        data = await client.data(EVERY_USE, {"filter": filter_})
        assert data["members"]["totalCount"] == 0


async def test_one_value_more_is_refused(client):
    filter_ = {"slug": {"in": [f"s{i}" for i in range(MAX_VALUES - 2)]}}

    message = _refusal(await client.errors(EVERY_USE, {"filter": filter_}))

    assert f"more than {MAX_VALUES} values" in message


async def test_the_longest_search_allowed_is_answered_even_where_folding_widens_it(client):
    widest = "\ufdfa"  # folds to eighteen characters, the most any character does
    for text in (widest * MAX_PATTERN, "%" * MAX_PATTERN):
        filter_ = {"search": text, "slug": {"startsWith": text}}
        data = await client.data(EVERY_USE, {"filter": filter_})
        assert data["members"]["totalCount"] == 0
    sectors = await client.data(
        "query($s: String) { organisations(filter: {sector: $s}) { totalCount } }",
        {"s": widest * MAX_PATTERN},
    )
    assert sectors == {"organisations": {"totalCount": 0}}


@pytest.mark.parametrize("name", ["search", "startsWith", "sector"])
async def test_a_longer_search_is_refused(client, name):
    text = "x" * (MAX_PATTERN + 1)
    filters = {
        "search": (MEMBERS, {"search": text}),
        "startsWith": (MEMBERS, {"slug": {"startsWith": text}}),
        "sector": (
            "query($filter: OrganisationFilter) { organisations(filter: $filter) { totalCount } }",
            {"sector": text},
        ),
    }
    query, filter_ = filters[name]

    [error] = await client.errors(query, {"filter": filter_})

    assert error["extensions"] == {"code": "INVALID_ARGUMENT", "field": "filter"}
    assert f"`{name}` may be at most {MAX_PATTERN} characters" in error["message"]
