"""Bad input over real HTTP: never a 500, always a clear GraphQL error with a code, and the
server stays up.

Each case is a request a careless or hostile client could send. A request that cannot be
executed at all (parse, validation, limits, variables) answers 400 under
`application/graphql-response+json`; an argument refused while resolving (page size, cursor,
slug, id) answers 200 with `data` and a field error carrying our own code.
"""

import base64
import os
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from .server_process import clean_env

GRAPHQL_RESPONSE = "application/graphql-response+json"
NEW_CLIENT = {"accept": GRAPHQL_RESPONSE}
JSON_BODY = {**NEW_CLIENT, "content-type": "application/json"}
MASKED = "Unexpected error."  # what an unexpected server-side failure looks like to a client

UNKNOWN_ENUM = "{ members(filter: {kind: {eq: VILLAGE}}) { totalCount } }"
PAGE_TOO_BIG = "{ members(first: 101) { nodes { slug } } }"
PAGE_NEGATIVE = "{ members(first: -1) { nodes { slug } } }"
FIRST_AND_LAST = "{ members(first: 2, last: 2) { nodes { slug } } }"
GARBAGE_CURSOR = '{ members(after: "garbage") { nodes { slug } } }'
BY_POPULATION = (
    "{ members(first: 2, orderBy: [{field: POPULATION, direction: DESC}])"
    " { pageInfo { endCursor } } }"
)
AFTER_BY_NAME = "query($after: String) { members(first: 2, after: $after) { nodes { slug } } }"
BAD_PARTIAL_DATE = '{ members(filter: {membership: {startDate: {gte: "2018-13"}}}) { totalCount } }'
BAD_PARTIAL_DATE_VARIABLE = (
    "query($d: PartialDate) { members(filter: {membership: {startDate: {gte: $d}}})"
    " { totalCount } }"
)
BAD_COUNTRY = '{ members(filter: {country: {eq: "DEU"}}) { totalCount } }'
BAD_INT_VARIABLE = "query($n: Int) { members(first: $n) { nodes { slug } } }"
UNKNOWN_SLUG = '{ member(slug: "nowhere") { slug } }'
INVALID_ID = '{ node(id: "not-an-id!") { id } }'
NAMED_OPERATION = "query Known { __typename }"
TOO_DEEP = '{ member(slug: "kaiserslautern") { ' + "parent { " * 15 + "slug" + " }" * 15 + " } }"
TOO_MANY_ALIASES = "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"
TOO_MANY_TOKENS = "{ " + " ".join("__typename" for _ in range(6_000)) + " }"
# 10 aliases, each a page of 100 members with 100 organisations each: 202,010 fields to resolve
PAGES = "members(first: 100) { nodes { organisations(first: 100) { nodes { slug } } } }"
ALIASED_PAGES = "{ " + " ".join(f"a{i}: {PAGES}" for i in range(10)) + " }"


@dataclass
class Bad:
    """A bad request and what must come back."""

    query: str
    status: int  # under application/graphql-response+json
    code: str | None  # None: any code, as long as there is one
    says: str  # a fragment of the message that tells the client what is wrong
    variables: dict[str, Any] = field(default_factory=dict)
    operation_name: str | None = None


BAD_QUERIES = {
    "unknown enum value": Bad(UNKNOWN_ENUM, 400, "GRAPHQL_VALIDATION_FAILED", "VILLAGE"),
    "page size over the cap": Bad(PAGE_TOO_BIG, 200, "PAGE_SIZE", "101"),
    "negative page size": Bad(PAGE_NEGATIVE, 200, "PAGE_SIZE", "-1"),
    "first and last together": Bad(FIRST_AND_LAST, 200, "PAGE_SIZE", "not both"),
    "malformed cursor": Bad(GARBAGE_CURSOR, 200, "INVALID_CURSOR", "after"),
    "malformed partial date": Bad(BAD_PARTIAL_DATE, 400, None, "2018-13"),
    "malformed partial date in a variable": Bad(
        BAD_PARTIAL_DATE_VARIABLE, 400, None, "2018-13", variables={"d": "2018-13"}
    ),
    "bad country code": Bad(BAD_COUNTRY, 400, None, "DEU"),
    "variable of the wrong type": Bad(BAD_INT_VARIABLE, 400, None, "abc", variables={"n": "abc"}),
    "unknown slug": Bad(UNKNOWN_SLUG, 200, "NOT_FOUND", "nowhere"),
    "invalid global id": Bad(INVALID_ID, 200, "INVALID_ID", "not-an-id!"),
    "unknown operation name": Bad(NAMED_OPERATION, 400, None, "Unknown", operation_name="Unknown"),
    "too deep": Bad(TOO_DEEP, 400, "QUERY_TOO_DEEP", "depth"),
    "too many aliases": Bad(TOO_MANY_ALIASES, 400, "TOO_MANY_ALIASES", "aliases"),
    "aliases times page sizes": Bad(ALIASED_PAGES, 400, "QUERY_TOO_COSTLY", "cost"),
    "too many tokens": Bad(TOO_MANY_TOKENS, 400, None, "tokens"),
}


def post(http: httpx.Client, query: str, variables=None, operation_name=None) -> httpx.Response:
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    if operation_name:
        body["operationName"] = operation_name
    return http.post("/graphql", json=body, headers=NEW_CLIENT)


def assert_clear_errors(response: httpx.Response) -> list[dict]:
    """Not a 500, a GraphQL answer with errors, each with a code and an unmasked message."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE), response.headers
    errors = response.json().get("errors")
    assert errors, response.text
    for error in errors:
        assert error.get("extensions", {}).get("code"), error
        assert error["message"] and error["message"] != MASKED, (
            f"a client mistake must be explained, not masked: {error}"
        )
    return errors


@pytest.mark.parametrize("case", BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_bad_query_gets_a_clear_error_with_a_code(http, case: Bad):
    # when
    response = post(http, case.query, case.variables, case.operation_name)

    # then
    [error, *_] = assert_clear_errors(response)
    assert response.status_code == case.status, response.text
    if case.code is not None:
        assert error["extensions"]["code"] == case.code, error
    assert case.says in error["message"], error


def test_cursor_made_for_another_ordering_is_refused(http):
    # given a cursor of the population ordering
    page = post(http, BY_POPULATION).json()
    cursor = page["data"]["members"]["pageInfo"]["endCursor"]
    assert cursor

    # when it is used with the default (name) ordering
    response = post(http, AFTER_BY_NAME, {"after": cursor})

    # then
    [error] = assert_clear_errors(response)
    assert response.status_code == 200
    assert error["extensions"]["code"] == "INVALID_CURSOR"
    assert "ordering" in error["message"]
    assert response.json()["data"] is None


def test_well_formed_cursor_holding_nonsense_is_refused(http):
    nonsense = base64.urlsafe_b64encode(b'["name+,id+",[[1],{"a":1}]]').decode().rstrip("=")

    response = post(http, AFTER_BY_NAME, {"after": nonsense})

    [error] = assert_clear_errors(response)
    assert error["extensions"]["code"] == "INVALID_CURSOR"


GARBAGE_BODIES = {
    "random bytes as JSON": (os.urandom(512), "application/json", 400),
    "every byte value": (bytes(range(256)), "application/json", 400),
    "a PNG header": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "application/json", 400),
    "a gzip header": (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "application/json", 400),
    "a lone surrogate": (b'{"query": "\\ud800"}', "application/json", 400),
    "an empty body": (b"", "application/json", 400),
    "NUL bytes": (b"\x00" * 64, "application/json", 400),
    "binary as octet-stream": (os.urandom(64), "application/octet-stream", 415),
}


@pytest.mark.parametrize(
    "body,content_type,status", GARBAGE_BODIES.values(), ids=GARBAGE_BODIES.keys()
)
def test_binary_garbage_body_gets_a_request_error(http, body, content_type, status):
    # when
    response = http.post(
        "/graphql", content=body, headers={**NEW_CLIENT, "content-type": content_type}
    )

    # then
    errors = assert_clear_errors(response)
    assert response.status_code == status
    assert "data" not in response.json()
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"


def test_garbage_in_a_get_query_string_gets_a_parse_error(http):
    response = http.get("/graphql", params={"query": "\x00\xff{{{"}, headers=NEW_CLIENT)

    [error] = assert_clear_errors(response)
    assert response.status_code == 400
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


BODY_LIMIT = 256 << 10  # the default of ALLIANCE_MAX_BODY_BYTES, which the shared hub runs with


def padded(size: int) -> bytes:
    """A request for `{ __typename }` of exactly `size` bytes, the rest a padding member."""
    head, tail = b'{"query": "{ __typename }", "padding": "', b'"}'
    return head + b" " * (size - len(head) - len(tail)) + tail


def assert_too_large(response: httpx.Response, limit: int = BODY_LIMIT) -> None:
    [error] = assert_clear_errors(response)
    assert response.status_code == 413, response.text
    assert error["extensions"]["code"] == "REQUEST_TOO_LARGE", error
    assert f"{limit} bytes" in error["message"], error


def test_a_body_at_the_size_limit_is_read(http):
    response = http.post("/graphql", content=padded(BODY_LIMIT), headers=JSON_BODY)

    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


def test_a_body_over_the_size_limit_is_refused(http):
    response = http.post("/graphql", content=padded(BODY_LIMIT + 1), headers=JSON_BODY)

    assert_too_large(response)


def test_a_chunked_body_over_the_size_limit_is_refused(http):
    # given: a body sent in chunks, with no Content-Length to go by
    body = padded(BODY_LIMIT + 1)
    chunks = (body[start : start + 65_536] for start in range(0, len(body), 65_536))

    # when
    response = http.post("/graphql", content=chunks, headers=JSON_BODY)

    # then
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in response.request.headers
    assert_too_large(response)


async def test_a_get_query_string_over_the_size_limit_is_refused(databases, start_hub, tmp_path):
    # given: a hub with a limit below the 64 KiB request line beyond which uvicorn itself
    # answers a bare 400 (so that the default limit is never reached with GET)
    database = await databases.create()
    await database.engine.dispose()
    env = clean_env(
        DATABASE_URL=database.url, ALLIANCE_LOG_FORMAT="json", ALLIANCE_MAX_BODY_BYTES="16384"
    )
    small = await start_hub(["--no-scheduler"], env, tmp_path)
    query = {"query": "{ __typename }"}

    # when
    async with httpx.AsyncClient(base_url=small.base_url, timeout=10.0) as client:
        within = await client.get(
            "/graphql", params={**query, "padding": " " * 15_000}, headers=NEW_CLIENT
        )
        over = await client.get(
            "/graphql", params={**query, "padding": " " * 16_384}, headers=NEW_CLIENT
        )

    # then
    assert within.json() == {"data": {"__typename": "Query"}}
    assert_too_large(over, 16_384)


# Last in this module: everything above has been thrown at the same process.
def test_the_server_stays_up_after_all_that(hub, http):
    # when
    health = http.get("/healthz")
    query = post(http, '{ member(slug: "kaiserslautern") { slug } }')

    # then
    assert hub.alive(), hub.log()[-2000:]
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert query.json() == {"data": {"member": {"slug": "kaiserslautern"}}}
