"""`alliance feeds`, `sync` and `runs` as an operator types them, against a real feed server."""

import asyncio
import json

import pytest
from sqlalchemy import func, select

from store import feeds, tables
from tests.sync.feedserver import FeedServer, respond

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


async def alliance(*args: str, database, cwd) -> tuple[int, str]:
    """Run `alliance <args>` without blocking the feed server that runs in this process."""
    process = await asyncio.create_subprocess_exec(
        str(ALLIANCE),
        *args,
        env=clean_env(DATABASE_URL=database.url),
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
        yield running


@pytest.fixture
async def database(databases):
    return await databases.create()


async def count(database, model) -> int:
    async with database.engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(model))


async def test_add_list_pause_resume_remove(database, server, tmp_path):
    run = lambda *args: alliance(*args, database=database, cwd=tmp_path)  # noqa: E731
    code, said = await run(
        "feeds", "add", "good", server.url("/good"), "--schedule", "15m", "--allow-private"
    )
    assert code == 0 and "feed good added" in said, said
    code, said = await run("feeds", "list")
    assert code == 0 and "good" in said and "15m" in said and "yes" in said, said
    assert (await run("feeds", "pause", "good"))[0] == 0
    assert "paused" in (await run("feeds", "list"))[1]
    assert (await run("feeds", "resume", "good"))[0] == 0
    assert (await run("feeds", "remove", "good"))[0] == 0
    assert "no feeds yet" in (await run("feeds", "list"))[1]


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
