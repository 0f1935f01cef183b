"""`/graphql` over real HTTP: the README's query, and the GraphQL-over-HTTP protocol.

Media types and status codes follow the GraphQL-over-HTTP specification: a client that accepts
`application/graphql-response+json` gets it, and 400 for a request that could not be executed;
`application/json` clients get 200. GET runs queries only; mutations and subscriptions over GET
are refused with 405.
"""

import httpx

from tests.readme import assert_kaiserslautern, readme_query

TYPENAME = "{ __typename }"
UNKNOWN_FIELD = "{ nope }"
A_MUTATION = "mutation { x }"
A_SUBSCRIPTION = "subscription { x }"
FIRST_MEMBERS = "query FirstMembers($n: Int) { members(first: $n) { nodes { slug } } }"

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
NEW_CLIENT = {"accept": GRAPHQL_RESPONSE}
LEGACY_CLIENT = {"accept": JSON}


def media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


def assert_request_error(response: httpx.Response, status: int) -> list[dict]:
    """The answer is an `errors` list (no data), each with a message and a code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body, body
    assert isinstance(body["errors"], list) and body["errors"], body
    for error in body["errors"]:
        assert error["message"], body
        assert error["extensions"]["code"], body
    return body["errors"]


# --- the README query ---------------------------------------------------------------------------


def test_readme_query_returns_kaiserslautern_in_german_and_chinese_with_its_people(http):
    # when
    response = http.post("/graphql", json={"query": readme_query()}, headers=NEW_CLIENT)

    # then
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    assert_kaiserslautern(body["data"])


# --- media types and status codes ---------------------------------------------------------------


def test_post_answers_in_the_media_type_the_client_accepts(http):
    # when
    new = http.post("/graphql", json={"query": TYPENAME}, headers=NEW_CLIENT)
    legacy = http.post("/graphql", json={"query": TYPENAME}, headers=LEGACY_CLIENT)

    # then
    assert (new.status_code, media_type(new)) == (200, GRAPHQL_RESPONSE)
    assert (legacy.status_code, media_type(legacy)) == (200, JSON)
    assert new.json() == legacy.json() == {"data": {"__typename": "Query"}}


def test_a_client_that_names_no_media_type_gets_application_json(http):
    for accept in ("*/*", None):
        request = http.build_request("POST", "/graphql", json={"query": UNKNOWN_FIELD})
        request.headers.pop("accept", None)
        if accept is not None:
            request.headers["accept"] = accept

        # when
        response = http.send(request)

        # then: the legacy media type, and its status for a request error
        assert (response.status_code, media_type(response)) == (200, JSON), accept


def test_get_takes_extensions_as_json(http):
    params = {"query": TYPENAME, "extensions": '{"tracing": false}'}
    response = http.get("/graphql", params=params, headers=NEW_CLIENT)
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


def test_validation_error_is_400_for_the_new_media_type_and_200_for_legacy_clients(http):
    # when
    new = http.post("/graphql", json={"query": UNKNOWN_FIELD}, headers=NEW_CLIENT)
    legacy = http.post("/graphql", json={"query": UNKNOWN_FIELD}, headers=LEGACY_CLIENT)

    # then
    assert media_type(new) == GRAPHQL_RESPONSE
    [error] = assert_request_error(new, 400)
    assert "nope" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert media_type(legacy) == JSON
    assert assert_request_error(legacy, 200) == [error]


def test_get_runs_a_query_from_the_query_string(http):
    # when
    response = http.get(
        "/graphql",
        params={"query": FIRST_MEMBERS, "variables": '{"n": 2}', "operationName": "FirstMembers"},
        headers=NEW_CLIENT,
    )

    # then
    assert response.status_code == 200, response.text
    assert media_type(response) == GRAPHQL_RESPONSE
    body = response.json()
    assert "errors" not in body, body
    assert len(body["data"]["members"]["nodes"]) == 2


def test_get_with_a_plain_query_and_the_legacy_media_type(http):
    # when
    response = http.get("/graphql", params={"query": TYPENAME}, headers=LEGACY_CLIENT)

    # then
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


def test_get_never_runs_a_mutation_or_subscription(http):
    for operation in (A_MUTATION, A_SUBSCRIPTION):
        # when
        response = http.get("/graphql", params={"query": operation}, headers=NEW_CLIENT)

        # then: 405 as the GraphQL-over-HTTP spec says, with a message pointing at POST
        [error] = assert_request_error(response, 405)
        assert "POST" in error["message"], error


def test_get_mutation_405_says_which_methods_are_allowed(http):
    # RFC 9110 §15.5.6: a 405 response MUST carry an Allow header; here POST would be accepted.
    response = http.get("/graphql", params={"query": A_MUTATION}, headers=NEW_CLIENT)

    assert response.status_code == 405
    assert "POST" in response.headers.get("allow", ""), dict(response.headers)


def test_a_mutation_naming_no_mutation_of_the_schema_is_a_validation_error(http):
    response = http.post("/graphql", json={"query": A_MUTATION}, headers=NEW_CLIENT)

    [error] = assert_request_error(response, 400)
    assert "mutation" in error["message"].lower()


# --- requests that are not GraphQL requests ------------------------------------------------------


def test_malformed_json_body_is_400_with_an_errors_list(http):
    # when
    response = http.post(
        "/graphql",
        content=b'{"query": "{ __typename }"',
        headers={**NEW_CLIENT, "content-type": JSON},
    )

    # then
    [error] = assert_request_error(response, 400)
    assert "JSON" in error["message"]


def test_body_in_another_content_type_is_415(http):
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/graphql"):
        # when
        response = http.post(
            "/graphql",
            content=b'{"query": "{ __typename }"}',
            headers={**NEW_CLIENT, "content-type": content_type},
        )

        # then
        [error] = assert_request_error(response, 415)
        assert "application/json" in error["message"]


def test_json_that_is_not_a_graphql_request_is_400(http):
    bodies = [
        [{"query": TYPENAME}],  # a batch: not supported
        [],
        "{ __typename }",
        {"variables": {}},  # no query
        {"query": ""},
        {"query": 42},
        {"query": TYPENAME, "variables": [1]},
        {"query": TYPENAME, "variables": 0},  # falsy, and still not an object
        {"query": TYPENAME, "variables": False},
        {"query": TYPENAME, "variables": "{}"},
        {"query": TYPENAME, "extensions": 1},
        {"query": TYPENAME, "extensions": "{}"},
        {"query": TYPENAME, "operationName": 7},
        {"query": TYPENAME, "operationName": False},
    ]
    for body in bodies:
        # when
        response = http.post("/graphql", json=body, headers=NEW_CLIENT)

        # then
        assert_request_error(response, 400)


def test_get_without_a_query_or_with_broken_variables_is_400(http):
    broken = ({}, {"query": ""}, {"query": TYPENAME, "variables": "{broken"})
    not_objects = tuple({"query": TYPENAME, name: "7"} for name in ("variables", "extensions"))
    for params in broken + not_objects:
        response = http.get("/graphql", params=params, headers=NEW_CLIENT)

        assert_request_error(response, 400)


def test_every_answer_carries_a_request_id_and_echoes_the_clients(http):
    # when
    given = http.post(
        "/graphql", json={"query": TYPENAME}, headers={**NEW_CLIENT, "x-request-id": "e2e-echo-1"}
    )
    made = http.post("/graphql", json={"query": TYPENAME}, headers=NEW_CLIENT)

    # then
    assert given.headers["x-request-id"] == "e2e-echo-1"
    assert len(made.headers["x-request-id"]) >= 16
