"""Feeds synced inside `alliance serve`, as the embedded single-process mode runs them.

The sync works in a thread of its own with its own event loop, so the API's loop keeps answering
while a run applies thousands of items; SIGTERM and SIGINT (Ctrl-C) stop the process cleanly,
after a run under way finished, with no ERROR line and no traceback in its log.

Every process is started from the venv that runs the tests and stopped by its pid. The feed
server runs in the test's event loop, so the test only waits asynchronously (polling).
"""

import asyncio
import os
import signal
import time

import httpx
import pytest
from sqlalchemy import select

from server.config import Settings
from server.web import demo
from store.db import create_engine
from store.registry import FEED, RUN
from tests.sync.feedserver import FeedServer, respond

from .server_process import HubProcess, clean_env
from .test_sync_processes import document, json_lines, slowly

BIG = 3_000  # six batches: a run of seconds on either database
QUERY = {"query": "{ alliances(first: 5) { nodes { slug name } } }"}
SYNC_THREAD = "alliance-sync"
STOP_TIMEOUT = 40.0  # the scheduler's grace for runs under way (30 s), and some
# How `serve` exits once it stopped gracefully: uvicorn raises a SIGTERM again (so a process
# manager sees it was stopped by it); a SIGINT (Ctrl-C) ends as a KeyboardInterrupt it handles.
STOPPED = {signal.SIGTERM: -signal.SIGTERM, signal.SIGINT: 0}


@pytest.fixture
async def database(databases):
    return await databases.create()


def feeds_toml(server: FeedServer, path: str) -> str:
    return (
        f'[feeds.big]\nurl = "{server.url(path)}"\nformat = "alliance-feed/1"\n'
        'schedule = "1h"\nallow_private = true\n'
    )


async def serve(start_hub, database, server, tmp_path, path: str) -> HubProcess:
    """`alliance serve` scheduling the feed `big` (served at `path`), logging JSON."""
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(feeds_toml(server, path), encoding="utf-8")
    env = clean_env(
        DATABASE_URL=database.url,
        ALLIANCE_LOG_FORMAT="json",
        ALLIANCE_FEEDS_FILE=str(feeds_file),
    )
    return await start_hub([], env, tmp_path)


async def the_run(database):
    """The one run of `big` (status, items seen), or None before it started."""
    async with database.engine.connect() as connection:
        return (
            await connection.execute(
                select(RUN.c.status, RUN.c.items_seen, RUN.c.finished_at)
                .join(FEED, FEED.c.id == RUN.c.feed_id)
                .where(FEED.c.slug == "big")
            )
        ).first()


async def stopped(hub: HubProcess, signum: int) -> int:
    """Send `signum` and wait for the process to end; its exit code."""
    os.kill(hub.process.pid, signum)
    deadline = time.monotonic() + STOP_TIMEOUT
    while hub.process.poll() is None:
        if time.monotonic() > deadline:
            hub.process.kill()
            pytest.fail(f"still running {STOP_TIMEOUT:.0f} s after {signum}:\n{hub.log()}")
        await asyncio.sleep(0.05)
    return hub.process.returncode


def assert_clean(log: str) -> None:
    """No ERROR line and no traceback anywhere in the log."""
    errors = [e for e in json_lines(log) if e.get("level") in ("error", "critical")]
    assert not errors, errors
    assert "Traceback" not in log, log[-5000:]


def run_lines(log: str) -> list[dict]:
    """The log lines saying how a run ended ("run 1 of big: succeeded")."""
    return [e for e in json_lines(log) if e.get("logger") == "alliance.sync.runs"]


async def test_a_sync_in_serve_runs_off_the_api_loop_while_the_api_keeps_answering(
    database, start_hub, tmp_path
):
    # given: `alliance serve` whose scheduler runs a feed of BIG members at start-up
    async with FeedServer() as server:
        server.route("/big", respond(200, document("gross", BIG)))
        hub = await serve(start_hub, database, server, tmp_path, "/big")

        # when: the API is queried again and again while the run applies its batches
        answered_mid_run, deadline = 0, time.monotonic() + 180
        async with httpx.AsyncClient(base_url=hub.base_url, timeout=10.0) as http:
            while (run := await the_run(database)) is None or run.status == "running":
                assert time.monotonic() < deadline, f"the run did not end: {run}"
                response = await http.post("/graphql", json=QUERY)  # "answers within 10 s"
                assert response.status_code == 200 and "errors" not in response.json()
                after = await the_run(database)
                if run is not None and after.status == "running" and 0 < run.items_seen:
                    answered_mid_run += 1  # a run under way before and after the answer

        # and: the server is stopped with SIGTERM
        code = await stopped(hub, signal.SIGTERM)

    # then: the API answered during the run, which ran in the sync thread and succeeded
    print(f"{answered_mid_run} answers while the run was under way")
    assert answered_mid_run > 0
    assert (run.status, run.items_seen) == ("succeeded", BIG)
    log = hub.log()
    (ended,) = [e for e in run_lines(log) if "of big" in e["msg"]]
    assert (ended["msg"].endswith("succeeded"), ended.get("thread")) == (True, SYNC_THREAD), ended
    serving = [e for e in json_lines(log) if e["msg"].startswith("serving on")]
    assert serving and serving[0].get("thread") == "MainThread", serving

    # and: it stopped cleanly
    assert code == STOPPED[signal.SIGTERM], f"exit code {code}:\n{log[-3000:]}"
    assert_clean(log)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
async def test_serve_stopped_mid_run_lets_the_run_finish_and_logs_no_error(
    database, start_hub, tmp_path, signum
):
    # given: `alliance serve` whose feed answers after 3 s, so the stop lands mid-run
    async with FeedServer() as server:
        answered: list[float] = []
        server.route("/slow", slowly(document("langsam", 10), delay=3.0, answered=answered))
        hub = await serve(start_hub, database, server, tmp_path, "/slow")
        deadline = time.monotonic() + 60
        while (run := await the_run(database)) is None or run.status != "running":
            assert time.monotonic() < deadline, f"the startup run did not start: {run}"
            await asyncio.sleep(0.05)
        assert not answered  # the feed has not answered yet: the run is certainly mid-run

        # when
        code = await stopped(hub, signum)

    # then: the run was let finish within the grace, and the stop was clean
    run = await the_run(database)
    log = hub.log()
    assert (run.status, run.items_seen) == ("succeeded", 10), log[-3000:]
    assert code == STOPPED[signum], f"exit code {code}:\n{log[-3000:]}"
    assert_clean(log)


async def test_serve_demo_syncs_the_feeds_it_publishes_and_stops_on_ctrl_c(start_hub, tmp_path):
    # given: `serve --demo` in an empty directory: the sync thread fetches the demo feeds from
    # the API of its own process
    hub = await start_hub(["--demo"], clean_env(ALLIANCE_LOG_FORMAT="json"), tmp_path)
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/alliance.db"))
    try:
        deadline = time.monotonic() + 60
        while True:
            async with engine.connect() as connection:
                ended = (
                    await connection.execute(
                        select(FEED.c.slug, RUN.c.status)
                        .join(FEED, FEED.c.id == RUN.c.feed_id)
                        .where(RUN.c.finished_at.is_not(None))
                    )
                ).all()
            if len(ended) >= len(demo.FEEDS):
                break
            assert time.monotonic() < deadline, f"the demo runs did not end: {ended}"
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()

    # when
    code = await stopped(hub, signal.SIGINT)

    # then: both demo feeds were synced at start-up, and the stop was clean
    assert sorted(ended) == sorted((slug, "succeeded") for slug in demo.FEEDS)
    assert code == STOPPED[signal.SIGINT], hub.log()[-3000:]
    assert {e.get("thread") for e in run_lines(hub.log())} == {SYNC_THREAD}
    assert_clean(hub.log())
