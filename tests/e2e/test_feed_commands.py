"""`alliance feeds`, `sync` and `runs` as an operator types them, against a real feed server.

A feed is changed with `feeds update`, which changes only what it is given; `feeds add` never
touches a feed that exists. A feed given a new URL, format, mode or options forgets its ETag,
Last-Modified and cursor: they describe what it fetched before.
"""

import asyncio
import json

import pytest
from sqlalchemy import func, select

from store import feeds, tables
from store.registry import FEED as FEED_TABLE
from tests.sync.feedserver import FeedServer, conditional, respond

from .server_process import ALLIANCE, clean_env

FEED = json.dumps(
    {
        "format": "alliance-feed/1",
        "publisher": {"id": "t", "name": "Test"},
        "complete": True,
        "items": [
            {
                "type": "member",
                "id": f"m{i}",
                "updated_at": "2026-11-20T10:00:00Z",
                "data": {
                    "kind": "city",
                    "country": "DE",
                    "names": [{"value": f"Stadt {i}", "lang": "de", "kind": "official"}],
                },
            }
            for i in range(3)
        ],
    }
).encode()
ETAG, LAST_MODIFIED = '"v1"', "Wed, 25 Nov 2026 08:00:00 GMT"
FEED_WITH_CURSOR = json.dumps(json.loads(FEED) | {"cursor": "c1"}).encode()


async def alliance(*args: str, database, cwd, **env: str) -> tuple[int, str]:
    """Run `alliance <args>` without blocking the feed server that runs in this process."""
    process = await asyncio.create_subprocess_exec(
        str(ALLIANCE),
        *args,
        env=clean_env(DATABASE_URL=database.url, **env),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, " ".join(output.decode().split())


@pytest.fixture
async def server():
    async with FeedServer() as running:
        running.route("/good", respond(200, FEED))
        running.route("/broken", respond(503))
        # two addresses of one document, each answering 304 to the ETag the other gave
        for path in ("/old", "/new"):
            running.route(path, conditional(FEED_WITH_CURSOR, ETAG, LAST_MODIFIED))
        yield running


@pytest.fixture
async def database(databases):
    return await databases.create()


async def count(database, model) -> int:
    async with database.engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(model))


async def feed_row(database, slug: str) -> dict:
    async with database.engine.connect() as connection:
        row = (await connection.execute(select(FEED_TABLE).where(FEED_TABLE.c.slug == slug))).one()
    return dict(row._mapping)


async def synced_feed(database, server, run) -> dict:
    """The feed `old` added with every option and synced once: it holds validators and a cursor."""
    code, said = await run(
        "feeds", "add", "old", server.url("/old"), "--schedule", "15m", "--mode", "incremental",
        "--header", "Authorization=env:OLD_TOKEN", "--header", "Accept=application/json",
        "--allow-private",
    )  # fmt: skip
    assert code == 0, said
    code, said = await run("sync", "old")
    assert code == 0 and "succeeded" in said, said
    before = await feed_row(database, "old")
    assert (before["etag"], before["last_modified"], before["cursor"]) == (
        ETAG,
        LAST_MODIFIED,
        "c1",
    )
    return before


async def test_add_list_pause_resume_remove(database, server, tmp_path):
    run = lambda *args: alliance(*args, database=database, cwd=tmp_path)  # noqa: E731
    code, said = await run(
        "feeds", "add", "good", server.url("/good"), "--schedule", "15m", "--allow-private"
    )
    assert code == 0 and "feed good added" in said, said
    code, said = await run("feeds", "list")
    assert code == 0 and "good" in said and "15m" in said and "enabled" in said, said
    assert (await run("feeds", "pause", "good"))[0] == 0
    assert "paused" in (await run("feeds", "list"))[1]
    assert (await run("feeds", "resume", "good"))[0] == 0
    assert (await run("feeds", "remove", "good"))[0] == 0
    assert "no feeds yet" in (await run("feeds", "list"))[1]


async def test_add_of_an_existing_feed_is_refused_and_changes_nothing(database, server, tmp_path):
    def run(*args):
        return alliance(*args, database=database, cwd=tmp_path, OLD_TOKEN="t")

    before = await synced_feed(database, server, run)

    # when: the operator adds it again, with a new URL and no other option
    code, said = await run("feeds", "add", "old", server.url("/new"))

    # then: refused, pointing at `feeds update`; nothing of the feed changed
    assert code == 2 and "feed 'old' exists" in said and "alliance feeds update old" in said, said
    assert await feed_row(database, "old") == before


async def test_update_changes_only_what_it_is_given_and_a_new_url_starts_afresh(
    database, server, tmp_path
):
    def run(*args):
        return alliance(*args, database=database, cwd=tmp_path, OLD_TOKEN="t")

    before = await synced_feed(database, server, run)

    # when: the schedule changes
    code, said = await run("feeds", "update", "old", "--schedule", "5m")

    # then: only the schedule changed; the validators and cursor still hold
    assert code == 0 and "feed old updated: schedule" in said, said
    after = await feed_row(database, "old")
    assert after.pop("schedule") == "5m" and after.pop("updated_at") > before["updated_at"]
    assert after == {k: v for k, v in before.items() if k not in {"schedule", "updated_at"}}

    # when: the URL changes, a header is dropped and loopback is no longer allowed
    code, said = await run(
        "feeds", "update", "old", "--url", server.url("/new"), "--header", "Accept=",
        "--no-allow-private",
    )  # fmt: skip

    # then: those changed, the new URL starts without the old validators and cursor, and
    # everything else (schedule, mode, the other header) is as it was
    assert code == 0 and "headers" in said and "url" in said and "forgotten" in said, said
    after = await feed_row(database, "old")
    assert (after["url"], after["headers"], after["allow_private"]) == (
        server.url("/new"),
        {"Authorization": "env:OLD_TOKEN"},
        False,
    )
    assert (after["etag"], after["last_modified"], after["cursor"]) == (None, None, None)
    assert (after["schedule"], after["mode"], after["format"]) == (
        "5m",
        "incremental",
        "alliance-feed/1",
    )

    # when: link-local addresses are allowed; then: that alone changes, not private addresses
    code, said = await run("feeds", "update", "old", "--allow-link-local")
    after = await feed_row(database, "old")
    assert code == 0 and (after["allow_link_local"], after["allow_private"]) == (True, False), said

    # when: it is allowed again and synced
    assert (await run("feeds", "update", "old", "--allow-private"))[0] == 0
    code, said = await run("sync", "old")

    # then: the new URL was asked without the old ETag: it answered in full, not 304
    assert code == 0 and "succeeded" in said and "not_modified" not in said, said
    new_requests = [r for r in server.requests if r.route == "/new"]
    assert [r.headers.get("if-none-match") for r in new_requests] == [None]
    assert "since=" not in new_requests[0].path  # the old cursor was not sent either

    # when: the same values are given again
    code, said = await run("feeds", "update", "old", "--schedule", "5m", "--mode", "incremental")

    # then: nothing changed, and the operator is told so
    assert code == 0 and "nothing changed" in said, said


async def test_a_removed_feed_added_again_starts_afresh(database, server, tmp_path):
    def run(*args):
        return alliance(*args, database=database, cwd=tmp_path, OLD_TOKEN="t")

    await synced_feed(database, server, run)
    assert (await run("feeds", "remove", "old"))[0] == 0

    code, said = await run("feeds", "add", "old", server.url("/new"), "--allow-private")

    assert code == 0 and "feed old added" in said, said
    after = await feed_row(database, "old")
    assert after["deleted_at"] is None and after["enabled"]
    assert (after["url"], after["schedule"], after["mode"], after["headers"]) == (
        server.url("/new"),
        "1h",
        "snapshot",
        {},
    )
    assert (after["etag"], after["last_modified"], after["cursor"]) == (None, None, None)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["nowhere", "--schedule", "5m"], "no feed 'nowhere'"),
        (["old"], "nothing to change"),
        (["old", "--schedule", "every tuesday"], "schedule"),
        (["old", "--url", "ftp://example.org/f.json"], "url"),
        (["old", "--header", "Authorization"], "NAME=VALUE"),
    ],
)
async def test_a_wrong_update_is_refused_and_changes_nothing(
    database, server, tmp_path, args, needle
):
    code, said = await alliance(
        "feeds", "add", "old", server.url("/old"), database=database, cwd=tmp_path
    )
    assert code == 0, said
    before = await feed_row(database, "old")

    code, said = await alliance("feeds", "update", *args, database=database, cwd=tmp_path)

    assert code == 2 and needle in said, said
    assert await feed_row(database, "old") == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["bad slug", "https://example.org/f.json"], "slug"),
        (["x", "ftp://example.org/f.json"], "url"),
        (["x", "https://example.org/f.json", "--format", "xml"], "format"),
        (["x", "https://example.org/f.json", "--schedule", "every tuesday"], "schedule"),
        (["x", "https://example.org/f.json", "--header", "Authorization"], "NAME=VALUE"),
    ],
)
async def test_a_wrong_feed_is_refused_naming_what_is_wrong(database, tmp_path, args, needle):
    code, said = await alliance("feeds", "add", *args, database=database, cwd=tmp_path)
    assert code == 2 and needle in said, said
    assert await count(database, feeds.Feed) == 0


async def test_sync_runs_now_reports_and_exits_non_zero_when_a_run_failed(
    database, server, tmp_path
):
    for slug, path in (("good", "/good"), ("broken", "/broken")):
        await alliance(
            "feeds",
            "add",
            slug,
            server.url(path),
            "--allow-private",
            database=database,
            cwd=tmp_path,
        )
    code, said = await alliance("sync", "good", database=database, cwd=tmp_path)
    assert code == 0 and "succeeded" in said, said
    assert await count(database, tables.Member) == 3
    code, said = await alliance("sync", "--all", database=database, cwd=tmp_path)
    assert code == 1 and "failed" in said and "503" in said, said
    code, said = await alliance("runs", "--feed", "broken", database=database, cwd=tmp_path)
    assert code == 0 and "broken" in said and "failed │ 503" in said, said


async def test_dry_run_writes_nothing(database, server, tmp_path):
    await alliance(
        "feeds",
        "add",
        "good",
        server.url("/good"),
        "--allow-private",
        database=database,
        cwd=tmp_path,
    )
    code, said = await alliance("sync", "good", "--dry-run", database=database, cwd=tmp_path)
    assert code == 0 and "dry run" in said and "succeeded" in said, said
    assert await count(database, tables.Member) == 0
    assert await count(database, feeds.SyncRun) == 0


async def test_sync_of_an_unknown_feed_says_so(database, tmp_path):
    code, said = await alliance("sync", "nowhere", database=database, cwd=tmp_path)
    assert code == 2 and "nowhere" in said, said


def with_population(population: int, bad: bool = False) -> bytes:
    document = json.loads(FEED)
    document["items"][0]["data"]["population"] = population
    if bad:
        document["items"].append(
            document["items"][1] | {"id": "bad", "data": {"kind": "village", "country": "DE"}}
        )
    return json.dumps(document).encode()


async def test_issues_say_why_items_were_quarantined_and_a_locked_field_holds(
    database, server, tmp_path
):
    server.route("/counted", respond(200, with_population(1_000, bad=True)))
    await alliance(
        "feeds", "add", "counted", server.url("/counted"), "--allow-private",
        database=database, cwd=tmp_path,
    )  # fmt: skip
    code, said = await alliance("sync", "counted", database=database, cwd=tmp_path)
    assert code == 0 and "partial" in said, said

    code, said = await alliance("issues", "--feed", "counted", database=database, cwd=tmp_path)
    assert code == 0 and "member bad" in said and "village" in said, said
    code, said = await alliance("issues", "--json", database=database, cwd=tmp_path)
    [issue] = json.loads(said)
    assert (issue["feed"], issue["item_id"], issue["stage"]) == ("counted", "bad", "validate")

    code, said = await alliance(
        "feeds", "lock", "member/stadt-0", "population", database=database, cwd=tmp_path
    )
    assert code == 0 and "locked" in said, said
    server.route("/counted", respond(200, with_population(2_000)))
    code, said = await alliance("sync", "counted", database=database, cwd=tmp_path)
    assert code == 0, said
    async with database.engine.connect() as connection:
        population = await connection.scalar(
            select(tables.Member.population).where(tables.Member.slug == "stadt-0")
        )
    assert population == 1_000

    code, said = await alliance("runs", "--json", database=database, cwd=tmp_path)
    runs = json.loads(said)
    assert [r["status"] for r in runs] == ["succeeded", "partial"]
    code, said = await alliance(
        "feeds", "unlock", "member/stadt-0", "population", database=database, cwd=tmp_path
    )
    assert code == 0 and "unlocked" in said, said
    code, said = await alliance(
        "feeds", "unlock", "member/stadt-0", "population", database=database, cwd=tmp_path
    )
    assert code == 2 and "is not locked" in said, said
