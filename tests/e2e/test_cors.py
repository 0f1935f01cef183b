"""CORS by an allowlist (server/web/origins.py): a listed page's preflight and request get their
headers, any other page's request is refused with its code, and the hub's own pages pass."""

import json

import httpx
import pytest

from tests.processes import serve

from .server_process import clean_env

ATLAS = "https://atlas.example.org"
QUERY = {"query": "{ __typename }"}


def preflight(hub, origin: str) -> httpx.Response:
    headers = {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }
    return httpx.options(f"{hub.base_url}/graphql", headers=headers)


@pytest.fixture(scope="module")
async def cors_hub(databases, tmp_path_factory):
    database = await databases.create()
    await database.engine.dispose()
    work = tmp_path_factory.mktemp("cors")
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_CORS_ORIGINS=json.dumps([ATLAS]))
    hub = await serve(["--no-scheduler"], env=env, cwd=work, log_path=work / "server.log")
    yield hub
    hub.stop()


def test_a_listed_origin_is_let_in_with_its_preflight_and_headers(cors_hub):
    allowed = preflight(cors_hub, ATLAS)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ATLAS
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()

    response = httpx.post(f"{cors_hub.base_url}/graphql", json=QUERY, headers={"origin": ATLAS})
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["access-control-allow-origin"] == ATLAS
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


def test_another_origin_is_refused_with_its_code_and_no_cors_headers(cors_hub):
    other = "https://elsewhere.example.com"
    assert preflight(cors_hub, other).status_code == 400
    assert "access-control-allow-origin" not in preflight(cors_hub, other).headers

    for method in ("GET", "POST"):
        response = httpx.request(
            method,
            f"{cors_hub.base_url}/graphql",
            params=QUERY if method == "GET" else None,
            json=QUERY if method == "POST" else None,
            headers={"origin": other},
        )
        assert response.status_code == 403, method
        assert response.json()["errors"][0]["extensions"]["code"] == "ORIGIN_NOT_ALLOWED"
        assert "access-control-allow-origin" not in response.headers


def test_the_hubs_own_pages_and_requests_without_an_origin_pass(cors_hub):
    own = cors_hub.base_url  # what GraphiQL at / sends
    assert httpx.post(f"{own}/graphql", json=QUERY, headers={"origin": own}).status_code == 200
    assert httpx.post(f"{own}/graphql", json=QUERY).status_code == 200


def test_without_an_allowlist_no_other_origin_is_let_in(http, hub):
    assert preflight(hub, ATLAS).status_code == 405
    refused = http.post("/graphql", json=QUERY, headers={"origin": ATLAS})
    assert refused.status_code == 403
    assert http.post("/graphql", json=QUERY, headers={"origin": hub.base_url}).status_code == 200
