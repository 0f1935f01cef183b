"""Hostile arguments over real HTTP, against the seeded hub: text the database cannot take,
cursors and ids that decode to nonsense, empty `and`/`or`/`not`, and filters shaped to overflow
the SQL parsers.

Each refused case must come back with its own code and a message that says what is wrong, and
leave no traceback and no "unexpected error" in the server's log: a client must not be able to
flood the log with one cheap request. The cases that are logic (an empty `or`) must be answered.
"""

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from .test_bad_input import assert_clear_errors, post

ALL_MEMBERS = 40
MEMBER = "query($slug: String!) { member(slug: $slug) { slug } }"
MEMBERS = "query($filter: MemberFilter) { members(filter: $filter) { totalCount } }"
AFTER = "query($after: String) { members(first: 2, after: $after) { nodes { slug } } }"
AFTER_BY_POPULATION = (
    "query($after: String) { members(first: 2, after: $after, orderBy: [{field: POPULATION}])"
    " { nodes { slug } } }"
)
AFTER_BY_CREATION = (
    "query($after: String) { members(first: 2, after: $after, orderBy: [{field: CREATED_AT}])"
    " { nodes { slug } } }"
)
NESTED_AFTER = (
    "query($after: String) { alliance { members(first: 2, after: $after) { nodes { slug } } } }"
)
NODE = "query($id: ID!) { node(id: $id) { id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"


def cursor(signature: str, values: list[Any]) -> str:
    """A cursor as this API makes them, holding whatever the test wants."""
    raw = json.dumps([signature, values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def global_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def nested(key: str, depth: int, leaf: dict) -> dict:
    for _ in range(depth):
        leaf = {key: leaf}
    return leaf


@dataclass
class Hostile:
    query: str
    code: str
    says: str  # a fragment of the message: what the client must change
    variables: dict[str, Any] = field(default_factory=dict)


REFUSED = {
    # Text PostgreSQL cannot store: U+0000, as a literal escape, a braced escape, a raw NUL in a
    # block string, and in variables, nested in input objects and lists.
    "NUL in a slug literal": Hostile(
        '{ member(slug: "a\\u0000b") { slug } }', "INVALID_ARGUMENT", "slug"
    ),
    "NUL in a braced escape": Hostile(
        '{ alliance(slug: "isa\\u{0}") { slug } }', "INVALID_ARGUMENT", "slug"
    ),
    "raw NUL in a block string": Hostile(
        '{ member(slug: """a\x00b""") { slug } }', "INVALID_ARGUMENT", "slug"
    ),
    "NUL in a slug variable": Hostile(MEMBER, "INVALID_ARGUMENT", "$slug", {"slug": "a\x00b"}),
    "NUL in search": Hostile(
        MEMBERS, "INVALID_ARGUMENT", "search", {"filter": {"search": "k\x00"}}
    ),
    "NUL in a slug filter list": Hostile(
        '{ members(filter: {slug: {in: ["aachen", "a\\u0000"]}}) { totalCount } }',
        "INVALID_ARGUMENT",
        "slug.in",
    ),
    "NUL in a membership filter": Hostile(
        MEMBERS,
        "INVALID_ARGUMENT",
        "membership.alliance",
        {"filter": {"membership": {"alliance": "isa\x00"}}},
    ),
    "NUL deep in a nested filter": Hostile(
        MEMBERS,
        "INVALID_ARGUMENT",
        "not.or[1].parent.slug.startsWith",
        {"filter": {"not": {"or": [{}, {"parent": {"slug": {"startsWith": "\x00"}}}]}}},
    ),
    "NUL in a field argument below the root": Hostile(
        '{ member(slug: "aachen") { memberships(alliance: "\\u0000") { status } } }',
        "INVALID_ARGUMENT",
        "alliance",
    ),
    "NUL in a count's alliance": Hostile(
        '{ memberCounts(by: [STATUS], alliance: "\\u0000") { count } }',
        "INVALID_ARGUMENT",
        "alliance",
    ),
    # Cursors that decode to nonsense for their ordering.
    "cursor of nulls": Hostile(
        AFTER,
        "INVALID_CURSOR",
        "`after` holds no name",
        {"after": cursor("name+,id+", [None, None])},
    ),
    "cursor of nulls, nested": Hostile(
        NESTED_AFTER,
        "INVALID_CURSOR",
        "`after` holds no name",
        {"after": cursor("name+,id+", [None, None])},
    ),
    "cursor of booleans": Hostile(
        AFTER,
        "INVALID_CURSOR",
        "`after` holds no name",
        {"after": cursor("name+,id+", [True, False])},
    ),
    "cursor with the kinds swapped": Hostile(
        AFTER,
        "INVALID_CURSOR",
        "`after` holds no name",
        {"after": cursor("name+,id+", [1, "aachen"])},
    ),
    "cursor id beyond the integers": Hostile(
        AFTER,
        "INVALID_CURSOR",
        "`after` holds no id",
        {"after": cursor("name+,id+", ["aachen", 2**63])},
    ),
    "cursor id just past 32 bits": Hostile(
        AFTER,
        "INVALID_CURSOR",
        "`after` holds no id",
        {"after": cursor("name+,id+", ["aachen", 2**31])},
    ),
    "cursor id that is a fraction": Hostile(
        AFTER,
        "INVALID_CURSOR",
        "`after` holds no id",
        {"after": cursor("name+,id+", ["aachen", 1.5])},
    ),
    "cursor text with NUL": Hostile(
        AFTER,
        "INVALID_CURSOR",
        "`after` holds no name",
        {"after": cursor("name+,id+", ["aa\x00", 1])},
    ),
    "cursor population as text": Hostile(
        AFTER_BY_POPULATION,
        "INVALID_CURSOR",
        "`after` holds no population",
        {"after": cursor("population+,id+", ["many", 1])},
    ),
    "cursor timestamp as a number": Hostile(
        AFTER_BY_CREATION,
        "INVALID_CURSOR",
        "`after` holds no created_at",
        {"after": cursor("created_at+,id+", [5, 1])},
    ),
    "cursor timestamp of null": Hostile(
        AFTER_BY_CREATION,
        "INVALID_CURSOR",
        "`after` holds no created_at",
        {"after": cursor("created_at+,id+", [None, 1])},
    ),
    # Global ids whose number or type is nonsense.
    "id above the integer range": Hostile(
        NODE,
        "INVALID_ID",
        "is not an Alliance Hub id",
        {"id": global_id("Member:99999999999999999999")},
    ),
    "id just above 32 bits": Hostile(
        NODE, "INVALID_ID", "is not an Alliance Hub id", {"id": global_id("Member:2147483648")}
    ),
    "negative id": Hostile(
        NODE, "INVALID_ID", "is not an Alliance Hub id", {"id": global_id("Member:-1")}
    ),
    "id with a sign": Hostile(
        NODE, "INVALID_ID", "is not an Alliance Hub id", {"id": global_id("Member:+1")}
    ),
    "id with other digits": Hostile(
        NODE, "INVALID_ID", "is not an Alliance Hub id", {"id": global_id("Member:١")}
    ),
    "id of an unknown type": Hostile(
        NODE, "INVALID_ID", "no type Spaceship", {"id": global_id("Spaceship:1")}
    ),
    "id with junk around its base64": Hostile(
        NODE, "INVALID_ID", "is not an Alliance Hub id", {"id": "!!" + global_id("Member:1")}
    ),
    "nodes with one id out of range": Hostile(
        NODES,
        "INVALID_ID",
        "is not an Alliance Hub id",
        {"ids": [global_id("Member:1"), global_id("Member:9223372036854775808")]},
    ),
    # Filters shaped to overflow the SQL parsers, or too big to bind.
    "filter nested too deep": Hostile(
        MEMBERS, "INVALID_ARGUMENT", "deep", {"filter": nested("parent", 12, {"slug": {"eq": "x"}})}
    ),
    "and/or nested too deep": Hostile(
        MEMBERS,
        "INVALID_ARGUMENT",
        "deep",
        {"filter": nested("not", 40, {"or": [{"slug": {"eq": "x"}}, {"slug": {"eq": "y"}}]})},
    ),
    "an or of a thousand": Hostile(
        MEMBERS,
        "INVALID_ARGUMENT",
        "filter",
        {"filter": {"or": [{"slug": {"eq": str(i)}} for i in range(1000)]}},
    ),
    "an in of twenty thousand": Hostile(
        MEMBERS,
        "INVALID_ARGUMENT",
        "filter",
        {"filter": {"slug": {"in": [str(i) for i in range(20_000)]}}},
    ),
    "a search of a hundred thousand characters": Hostile(
        MEMBERS, "INVALID_ARGUMENT", "search", {"filter": {"search": "x" * 100_000}}
    ),
    "a prefix of a hundred thousand characters": Hostile(
        MEMBERS,
        "INVALID_ARGUMENT",
        "startsWith",
        {"filter": {"slug": {"startsWith": "x" * 100_000}}},
    ),
    # Already refused before execution, with the GraphQL codes: kept here so they stay so.
    "a date off the calendar": Hostile(
        '{ events(filter: {startDate: {eq: "9999-99"}}) { totalCount } }',
        "GRAPHQL_VALIDATION_FAILED",
        "9999-99",
    ),
    "a page size beyond 32 bits": Hostile(
        "{ members(first: 99999999999) { totalCount } }", "GRAPHQL_VALIDATION_FAILED", "99999999999"
    ),
    "a lone surrogate in a literal": Hostile(
        '{ member(slug: "\\ud800") { slug } }', "GRAPHQL_PARSE_FAILED", "Unicode"
    ),
}

ANSWERED = {
    # As in logic: an empty `and` holds for every row, an empty `or` for none, `not {}` for none.
    "and of nothing": ({"and": []}, ALL_MEMBERS),
    "or of nothing": ({"or": []}, 0),
    "not of an empty filter": ({"not": {}}, 0),
    "not of an and of nothing": ({"not": {"and": []}}, 0),
    "not of an or of nothing": ({"not": {"or": []}}, ALL_MEMBERS),
    "or of an empty filter": ({"or": [{}]}, ALL_MEMBERS),
    "the last day there is": ({"membership": {"startDate": {"lte": "9999-12-31"}}}, 23),
    "past the last year": ({"membership": {"startDate": {"gt": "9999"}}}, 0),
    "text with odd but storable Unicode": ({"search": "\uffff\ufdfa\u200b😀"}, 0),
}


def assert_log_clean(hub, since: int) -> None:
    written = hub.log()[since:]
    assert "Traceback" not in written, written[-3000:]
    assert "unexpected error" not in written.lower(), written[-3000:]


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
def test_hostile_argument_gets_its_code_and_no_traceback(hub, http, case: Hostile):
    # given
    since = len(hub.log())

    # when
    response = post(http, case.query, case.variables)

    # then
    [error, *_] = assert_clear_errors(response)
    assert error["extensions"]["code"] == case.code, error
    assert case.says in error["message"], error
    assert_log_clean(hub, since)


@pytest.mark.parametrize(("filter_", "count"), ANSWERED.values(), ids=ANSWERED.keys())
def test_logic_of_empty_filters_is_answered(hub, http, filter_, count):
    # given
    since = len(hub.log())

    # when
    response = post(http, MEMBERS, {"filter": filter_})

    # then
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"members": {"totalCount": count}}}
    assert_log_clean(hub, since)


def test_lone_surrogates_cannot_reach_the_hub_in_variables(hub, http):
    # JSON cannot carry half a surrogate pair: the body is refused before GraphQL sees it.
    since = len(hub.log())
    body = '{"query": ' + json.dumps(MEMBER) + ', "variables": {"slug": "\\ud800"}}'
    response = http.post(
        "/graphql",
        content=body.encode(),
        headers={"content-type": "application/json", "accept": "application/graphql-response+json"},
    )

    [error] = assert_clear_errors(response)
    assert response.status_code == 400
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert_log_clean(hub, since)


def test_a_get_with_nul_in_its_variables_is_refused(hub, http: httpx.Client):
    since = len(hub.log())
    response = http.get(
        "/graphql",
        params={"query": MEMBER, "variables": json.dumps({"slug": "a\x00b"})},
        headers={"accept": "application/graphql-response+json"},
    )

    [error] = assert_clear_errors(response)
    assert error["extensions"]["code"] == "INVALID_ARGUMENT"
    assert "$slug" in error["message"]
    assert_log_clean(hub, since)
