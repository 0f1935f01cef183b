"""Answers kept by data version, over real HTTP (docs/api.md, "Caching").

A repeated query is answered from the cache with the same bytes and a weak ETag; a client that
sends that ETag back in If-None-Match gets 304 without a body; an answer with errors is never
kept; a seed or a sync batch committed by another process moves the data version, and the next
answer is read afresh under a new ETag. On PostgreSQL each process learns of a new version from
its listening connection, and a pool whose connections PostgreSQL terminated answers again.

The feed server runs in the test's event loop, so tests that sync only wait asynchronously.
"""

import asyncio
import time

import httpx
import pytest
from sqlalchemy import text

from store import seed
from sync import config, runs
from tests.conftest import ON_POSTGRES
from tests.sync.feedserver import FeedServer, respond

from .server_process import clean_env
from .test_rest_of_http import sample
from .test_sync_processes import document, json_lines

ALLIANCES = "query CacheAlliances { alliances { nodes { slug } } }"
MEMBER_COUNT = "query CacheMemberCount { members { totalCount } }"
FIRST_MEMBERS = "query CacheFirst($n: Int) { members(first: $n) { nodes { slug } } }"
TOO_LARGE_PAGE = "query CacheTooLarge { members(first: 1000) { nodes { slug } } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
# On PostgreSQL a process hears of a new version when its notification arrives: soon after the
# commit, but not within the request that follows it at once.
NOTICE_SECONDS = 15.0


def hits(metrics: str, result: str) -> float:
    return sample(metrics, f'alliance_answer_cache_total{{result="{result}"}}')


def post(http: httpx.Client, query: str, **headers: str) -> httpx.Response:
    return http.post("/graphql", json={"query": query}, headers=headers)


# --- one hub, seeded --------------------------------------------------------------------------


def test_a_repeated_query_is_answered_from_the_cache_with_the_same_bytes(http):
    # given
    first = post(http, "query CacheRepeated { alliance { slug name } }")
    before = http.get("/metrics").text

    # when
    again = post(http, "query CacheRepeated { alliance { slug name } }")

    # then: the same bytes and validators, and a hit
    after = http.get("/metrics").text
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and b"isa" in again.content
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["etag"].startswith('W/"')
    assert again.headers["cache-control"] == "no-cache"
    assert again.headers["vary"] == "Accept"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert hits(after, "hit") == hits(before, "hit") + 1
    assert hits(after, "miss") == hits(before, "miss")


def test_if_none_match_with_the_current_etag_gets_304_without_a_body(http):
    # given: an answer and its ETag
    params = {"query": "query CacheConditional { alliance { slug } }"}
    tag = http.get("/graphql", params=params).headers["etag"]
    before = http.get("/metrics").text

    # when: asked again with it, alone, among others, or compared strongly
    plain = http.get("/graphql", params=params, headers={"if-none-match": tag})
    listed = http.get("/graphql", params=params, headers={"if-none-match": f'"x", {tag}'})
    strong = http.get("/graphql", params=params, headers={"if-none-match": tag[2:]})
    other = http.get("/graphql", params=params, headers={"if-none-match": 'W/"0-other"'})

    # then: 304, no body, the same validators; another ETag gets the whole answer
    for response in (plain, listed, strong):
        assert response.status_code == 304, response.text
        assert response.content == b""
        assert (response.headers["etag"], response.headers["cache-control"]) == (tag, "no-cache")
    assert other.status_code == 200 and other.headers["etag"] == tag
    assert hits(http.get("/metrics").text, "not_modified") == hits(before, "not_modified") + 3


def test_a_post_whose_if_none_match_names_the_current_etag_gets_412(http):
    tag = post(http, "query CachePost { alliance { slug } }").headers["etag"]

    response = post(http, "query CachePost { alliance { slug } }", **{"if-none-match": tag})

    # RFC 9110, 13.1.2: a precondition that fails on a method other than GET or HEAD is 412
    assert response.status_code == 412 and response.content == b""
    assert response.headers["etag"] == tag


def test_the_same_answer_has_one_etag_whichever_the_method(http):
    variables = '{"n": 2}'
    by_get = http.get("/graphql", params={"query": FIRST_MEMBERS, "variables": variables})
    by_post = http.post("/graphql", json={"query": FIRST_MEMBERS, "variables": {"n": 2}})

    assert by_get.status_code == by_post.status_code == 200
    assert by_get.content == by_post.content
    assert by_get.headers["etag"] == by_post.headers["etag"]


def test_variables_media_types_and_operations_are_answers_of_their_own(http):
    def etag(body: dict, accept: str = GRAPHQL_RESPONSE) -> str:
        response = http.post("/graphql", json=body, headers={"accept": accept})
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        return response.headers["etag"]

    two_operations = "query A { alliance { slug } } query B { alliance { name } }"
    tags = [
        etag({"query": FIRST_MEMBERS, "variables": {"n": 1}}),
        etag({"query": FIRST_MEMBERS, "variables": {"n": 3}}),
        etag({"query": FIRST_MEMBERS, "variables": {"n": 3}}, accept="application/json"),
        etag({"query": two_operations, "operationName": "A"}),
        etag({"query": two_operations, "operationName": "B"}),
    ]
    assert len(set(tags)) == len(tags), tags


def test_an_answer_with_errors_is_never_kept_nor_tagged(http):
    before = http.get("/metrics").text

    answers = [post(http, TOO_LARGE_PAGE, accept=GRAPHQL_RESPONSE) for _ in range(2)]

    after = http.get("/metrics").text
    for response in answers:
        assert response.json()["errors"][0]["extensions"]["code"] == "PAGE_SIZE"
        assert "etag" not in response.headers and "cache-control" not in response.headers
    assert hits(after, "miss") == hits(before, "miss") + 2  # executed both times
    assert hits(after, "hit") == hits(before, "hit")


def test_what_is_not_a_query_bypasses_the_cache(http):
    before = http.get("/metrics").text

    mutation = post(http, "mutation { x }")
    broken = post(http, "{ alliance {")

    after = http.get("/metrics").text
    for response in (mutation, broken):
        assert "errors" in response.json() and "etag" not in response.headers
    assert hits(after, "bypass") == hits(before, "bypass") + 2


# --- the data version moving ------------------------------------------------------------------


async def fresh(http: httpx.AsyncClient, query: str, stale: httpx.Response) -> httpx.Response:
    """The next answer whose data is not `stale`'s. On SQLite the version is read per request, so
    that is the very next one; on PostgreSQL it comes once the notification has arrived. Data,
    not bytes: the same data reads differently from the resolvers and from a compiled read."""
    deadline = time.monotonic() + NOTICE_SECONDS
    while True:
        response = await http.post("/graphql", json={"query": query})
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        if response.json() != stale.json() or not ON_POSTGRES:
            return response
        assert time.monotonic() < deadline, f"still the answer of before: {response.text}"
        await asyncio.sleep(0.05)


async def test_a_seed_moves_the_version_and_the_next_answer_is_read_afresh(
    databases, start_hub, tmp_path
):
    # given: a hub on an empty database, whose answer is kept
    database = await databases.create()
    hub = await start_hub([], clean_env(DATABASE_URL=database.url), tmp_path)
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=10.0) as http:
        empty = await http.post("/graphql", json={"query": ALLIANCES})
        assert empty.json() == {"data": {"alliances": {"nodes": []}}}
        kept = await http.post("/graphql", json={"query": ALLIANCES})
        assert kept.content == empty.content

        # when: another process seeds the database
        await seed.seed(database.engine)

        # then: the answer is the seeded one, under another ETag, and the old one is no match
        seeded = await fresh(http, ALLIANCES, empty)
        assert seeded.json() == {"data": {"alliances": {"nodes": [{"slug": "isa"}]}}}
        assert seeded.headers["etag"] != empty.headers["etag"]
        again = await http.post(
            "/graphql", json={"query": ALLIANCES}, headers={"if-none-match": empty.headers["etag"]}
        )
        assert again.status_code == 200 and again.content == seeded.content


async def test_a_sync_batch_moves_the_version_and_the_next_answer_is_read_afresh(
    databases, start_hub, tmp_path
):
    # given: a hub on the seed, whose member count is kept
    database = await databases.create()
    await seed.seed(database.engine)
    hub = await start_hub([], clean_env(DATABASE_URL=database.url), tmp_path)
    async with FeedServer() as server, httpx.AsyncClient(trust_env=False) as feeds:
        server.route("/feed", respond(200, document("neu", 10)))
        await config.save(
            database.engine,
            config.spec(
                slug="neu", url=server.url("/feed"), format="alliance-feed/1", allow_private=True
            ),
        )
        async with httpx.AsyncClient(base_url=hub.base_url, timeout=10.0) as http:
            before = await http.post("/graphql", json={"query": MEMBER_COUNT})
            count = before.json()["data"]["members"]["totalCount"]

            # when: a real sync of ten new members commits, from this process
            outcome = await runs.run(database.engine, "neu", feeds)
            assert outcome.status == "succeeded", outcome.error

            # then: the hub counts them, under another ETag
            after = await fresh(http, MEMBER_COUNT, before)
    assert after.json()["data"]["members"]["totalCount"] == count + 10
    assert after.headers["etag"] != before.headers["etag"]


# --- PostgreSQL: processes listening ----------------------------------------------------------


def data_version(metrics: str) -> float:
    return sample(metrics, "alliance_data_version")


@pytest.mark.skipif(not ON_POSTGRES, reason="LISTEN/NOTIFY is PostgreSQL's")
async def test_a_change_one_process_commits_is_heard_by_another(databases, start_hub, tmp_path):
    # given: an API process without scheduler, on the seed, whose member count is kept
    database = await databases.create()
    await seed.seed(database.engine)
    reader = await start_hub(["--no-scheduler"], clean_env(DATABASE_URL=database.url), tmp_path)
    async with (
        FeedServer() as server,
        httpx.AsyncClient(base_url=reader.base_url, timeout=10.0) as http,
    ):
        server.route("/feed", respond(200, document("fern", 10)))
        before = await http.post("/graphql", json={"query": MEMBER_COUNT})
        count = before.json()["data"]["members"]["totalCount"]
        version = data_version((await http.get("/metrics")).text)
        assert version >= 1

        # when: a second process, whose scheduler syncs a feed at start, commits ten members
        feeds_file = tmp_path / "feeds.toml"
        feeds_file.write_text(
            f'[feeds.fern]\nurl = "{server.url("/feed")}"\nformat = "alliance-feed/1"\n'
            'schedule = "1h"\nallow_private = true\n',
            encoding="utf-8",
        )
        env = clean_env(DATABASE_URL=database.url, ALLIANCE_FEEDS_FILE=str(feeds_file))
        await start_hub([], env, tmp_path)

        # then: the first process hears of it, and answers afresh
        after = await fresh(http, MEMBER_COUNT, before)
        assert after.json()["data"]["members"]["totalCount"] == count + 10
        assert data_version((await http.get("/metrics")).text) > version


@pytest.mark.skipif(not ON_POSTGRES, reason="terminating backends is PostgreSQL's")
async def test_after_postgresql_terminated_its_connections_the_hub_answers_again(
    databases, start_hub, tmp_path
):
    # given: a hub that has answered, with connections in its pool and its listener up
    database = await databases.create()
    await seed.seed(database.engine)
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_LOG_FORMAT="json")
    hub = await start_hub(["--no-scheduler"], env, tmp_path)
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=10.0) as http:
        for number in range(3):
            answered = await http.post(
                "/graphql", json={"query": f"{{ a{number}: alliance {{ slug }} }}"}
            )
            assert "errors" not in answered.json(), answered.text

        # when: PostgreSQL terminates every connection to the database, as a restart would
        async with database.engine.connect() as connection:
            terminated = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        assert terminated >= 2  # the pool's and the listener's
        answers = [
            await http.post("/graphql", json={"query": f"{{ b{number}: alliance {{ slug }} }}"})
            for number in range(2)
        ]

        # then: the next request, or the one after, is answered; not a 500, not an error
        assert all(response.status_code == 200 for response in answers)
        assert answers[-1].json() == {"data": {"b1": {"slug": "isa"}}}, answers[-1].text

        # and: the listener connects again, and the cache serves hits again
        deadline = time.monotonic() + NOTICE_SECONDS
        while data_version((await http.get("/metrics")).text) < 1:
            assert time.monotonic() < deadline, hub.log()[-3000:]
            await asyncio.sleep(0.05)
        first = await http.post("/graphql", json={"query": "{ c: alliance { slug } }"})
        before = (await http.get("/metrics")).text
        again = await http.post("/graphql", json={"query": "{ c: alliance { slug } }"})
        assert again.content == first.content
        assert hits((await http.get("/metrics")).text, "hit") == hits(before, "hit") + 1
    listener = [e for e in json_lines(hub.log()) if e.get("logger") == "alliance.data_version"]
    assert [e["level"] for e in listener][:3] == ["info", "warning", "info"], listener
