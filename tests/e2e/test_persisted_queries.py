"""Persisted queries (server/web/persisted.py): Apollo's automatic protocol (a hash first, the
text only on a miss), and the allowlist mode in which only registered operations run."""

import hashlib
import json

import httpx
import pytest

from store import seed

from .server_process import clean_env, run_cli

QUERY = '{ member(slug: "aachen") { slug } }'
SHA = hashlib.sha256(QUERY.encode()).hexdigest()
ANSWER = {"data": {"member": {"slug": "aachen"}}}


def persisted(sha: str = SHA, query: str | None = None) -> dict:
    body: dict = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha}}}
    if query is not None:
        body["query"] = query
    return body


def code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


def test_a_hash_is_learned_from_the_text_sent_on_a_miss(http):
    unknown = hashlib.sha256(b"{ __typename } # a query never sent before").hexdigest()
    missed = http.post("/graphql", json=persisted(unknown))
    assert (missed.status_code, code(missed)) == (400, "PERSISTED_QUERY_NOT_FOUND")
    assert missed.json()["errors"][0]["message"] == "PersistedQueryNotFound"

    assert http.post("/graphql", json=persisted(query=QUERY)).json() == ANSWER
    assert http.post("/graphql", json=persisted()).json() == ANSWER  # the hash alone now
    extensions = json.dumps(persisted()["extensions"])
    assert http.get("/graphql", params={"extensions": extensions}).json() == ANSWER


def test_a_text_that_is_not_its_hash_and_malformed_hashes_are_refused(http):
    wrong = http.post("/graphql", json=persisted("0" * 64, QUERY))
    assert (wrong.status_code, code(wrong)) == (400, "PERSISTED_QUERY_HASH_MISMATCH")
    for asked in ({"version": 2, "sha256Hash": SHA}, {"version": 1, "sha256Hash": "x"}, "v1"):
        refused = http.post("/graphql", json={"extensions": {"persistedQuery": asked}})
        assert (refused.status_code, code(refused)) == (400, "BAD_REQUEST"), asked


@pytest.fixture
async def allowlisted(databases, tmp_path, start_hub):
    database = await databases.create()
    await seed.seed(database.engine)
    await database.engine.dispose()
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_PERSISTED_QUERIES="allowlist")
    (tmp_path / "aachen.graphql").write_text(QUERY, encoding="utf-8")
    added = run_cli("queries", "add", str(tmp_path / "aachen.graphql"), env=env, cwd=tmp_path)
    assert added.returncode == 0 and SHA in added.stdout, added.stderr
    return await start_hub(["--no-scheduler"], env, tmp_path), env


async def test_an_allowlisted_hub_runs_only_registered_operations(allowlisted, tmp_path):
    hub, env = allowlisted
    url = f"{hub.base_url}/graphql"

    assert httpx.post(url, json={"query": QUERY}).json() == ANSWER  # its text
    assert httpx.post(url, json=persisted()).json() == ANSWER  # its hash
    for other in ({"query": "{ __typename }"}, persisted(hashlib.sha256(b"x").hexdigest())):
        refused = httpx.post(url, json=other)
        assert (refused.status_code, code(refused)) == (403, "OPERATION_NOT_ALLOWED"), other
    # a text sent with the hash of a registered one does not slip through
    smuggled = httpx.post(url, json=persisted(query="{ __typename }"))
    assert (smuggled.status_code, code(smuggled)) == (400, "PERSISTED_QUERY_HASH_MISMATCH")

    removed = run_cli("queries", "remove", SHA, env=env, cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert httpx.post(url, json={"query": QUERY}).status_code == 403
