"""The scheduler: jobs from the feed table, rebuilt when feeds change, backoff respected."""

import asyncio
import datetime as dt
import json

import httpx
import pytest
from sqlalchemy import select, update

from store import feeds
from sync import config
from sync.scheduler import Scheduler

from .feedserver import FeedServer, respond

RUN = feeds.SyncRun.__table__
FEED = feeds.Feed.__table__
EMPTY = json.dumps({"format": "alliance-feed/1", "complete": True, "items": []}).encode()


@pytest.fixture
async def running(databases):
    database = await databases.create()
    async with FeedServer() as server, httpx.AsyncClient(trust_env=False) as client:
        server.route("/a", respond(200, EMPTY))
        server.route("/b", respond(200, EMPTY))
        yield database, server, client


async def runs_of(database, slug: str) -> list:
    async with database.engine.connect() as connection:
        return (
            await connection.execute(
                select(RUN.c.trigger, RUN.c.status)
                .join(FEED, FEED.c.id == RUN.c.feed_id)
                .where(FEED.c.slug == slug)
            )
        ).all()


async def add(database, server, slug, schedule="1s", **fields):
    await config.save(
        database.engine,
        config.spec(
            slug=slug,
            url=server.url(f"/{slug}"),
            format="alliance-feed/1",
            schedule=schedule,
            allow_private=True,
            **fields,
        ),
    )


async def test_feeds_run_at_start_then_on_schedule_and_new_feeds_join(running):
    database, server, client = running
    await add(database, server, "a")
    scheduler = Scheduler(database.engine, client, check_every=dt.timedelta(seconds=0.5))
    await scheduler.start()
    try:
        await asyncio.sleep(2.5)
        await add(database, server, "b")  # as `alliance feeds add` would, from anywhere
        await asyncio.sleep(2.5)
    finally:
        await scheduler.stop()
    a_runs = await runs_of(database, "a")
    assert ("startup", "succeeded") in a_runs
    assert sum(t == "schedule" for t, _ in a_runs) >= 2
    assert any(status == "succeeded" for _, status in await runs_of(database, "b"))


async def test_paused_and_resting_feeds_are_not_run_by_the_schedule(running):
    database, server, client = running
    await add(database, server, "a", enabled=False)
    await add(database, server, "b")
    async with database.engine.begin() as connection:  # b failed lately and rests
        await connection.execute(
            update(FEED)
            .where(FEED.c.slug == "b")
            .values(next_eligible_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        )
    scheduler = Scheduler(database.engine, client, check_every=dt.timedelta(seconds=0.5))
    await scheduler.start()
    try:
        await asyncio.sleep(2.5)
    finally:
        await scheduler.stop()
    assert await runs_of(database, "a") == []
    assert await runs_of(database, "b") == []
    assert server.count() == 0


def test_schedules_are_intervals_or_cron_and_nothing_else():
    assert config.trigger("15m").interval == dt.timedelta(minutes=15)
    assert "minute='*/10'" in str(config.trigger("*/10 * * * *"))
    for wrong in ("0m", "every tuesday", "* * *"):
        with pytest.raises(ValueError):
            config.trigger(wrong)
