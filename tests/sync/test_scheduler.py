"""The scheduler: jobs from the feed table, rebuilt when feeds change, backoff respected.

What docs/feeds.md promises an operator editing feeds while the scheduler runs: other feeds keep
their next run times, and a feed on a short schedule keeps running on it while another is edited.
"""

import asyncio
import datetime as dt
import json

import httpx
import pytest
from sqlalchemy import select, update

from store.registry import FEED, RUN
from sync import config
from sync.scheduler import Scheduler

from .feedserver import FeedServer, respond

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


def job(scheduler: Scheduler, slug: str):
    return scheduler.scheduler.get_job(f"feed:{slug}")


async def rebuilt(scheduler: Scheduler, slug: str, ready) -> None:
    """Wait until the job of `slug` satisfies `ready` (the scheduler saw the change)."""
    for _ in range(100):
        if ready(job(scheduler, slug)):
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"the scheduler did not pick up the change of {slug} within 5 s")


async def test_editing_one_feed_keeps_the_next_run_time_of_every_other(running):
    # given: two feeds scheduled hourly
    database, server, client = running
    await add(database, server, "a", schedule="1h")
    await add(database, server, "b", schedule="1h")
    scheduler = Scheduler(database.engine, client, check_every=dt.timedelta(seconds=0.2))
    await scheduler.start()
    try:
        a_next, b_next = job(scheduler, "a").next_run_time, job(scheduler, "b").next_run_time

        # when: b's schedule changes, then b's URL
        await add(database, server, "b", schedule="2h")
        await rebuilt(scheduler, "b", lambda j: j.trigger.interval == dt.timedelta(hours=2))

        # then: b runs on its new schedule, a keeps its next run time
        assert job(scheduler, "a").next_run_time == a_next
        assert job(scheduler, "b").next_run_time > b_next
        b_next = job(scheduler, "b").next_run_time
        await config.save(
            database.engine,
            config.spec(slug="b", url=server.url("/a"), format="alliance-feed/1", schedule="2h"),
        )
        await scheduler.rebuild()  # what the next check does, now
        assert (job(scheduler, "a").next_run_time, job(scheduler, "b").next_run_time) == (
            a_next,
            b_next,
        )

        # when: b is paused, then resumed
        await config.pause(database.engine, "b")
        await rebuilt(scheduler, "b", lambda j: j is None)
        assert job(scheduler, "a").next_run_time == a_next
        await config.resume(database.engine, "b")
        await rebuilt(scheduler, "b", lambda j: j is not None)
        assert job(scheduler, "a").next_run_time == a_next
    finally:
        await scheduler.stop()


async def test_a_feed_runs_on_its_schedule_while_another_is_edited_again_and_again(running):
    # given: a runs every 2 s
    database, server, client = running
    await add(database, server, "a", schedule="2s")
    await add(database, server, "b", schedule="1h")
    scheduler = Scheduler(database.engine, client, check_every=dt.timedelta(seconds=0.2))
    await scheduler.start()
    try:
        # when: b is edited every half second for 7 s, as an operator trying settings does
        for minutes in range(14):
            await add(database, server, "b", schedule=f"{minutes + 2}m")
            await asyncio.sleep(0.5)
    finally:
        await scheduler.stop()

    # then: a ran on its schedule all the same (due three times in those 7 s)
    scheduled = [s for t, s in await runs_of(database, "a") if t == "schedule"]
    assert len(scheduled) >= 2, await runs_of(database, "a")


def test_schedules_are_intervals_or_cron_and_nothing_else():
    assert config.trigger("15m").interval == dt.timedelta(minutes=15)
    assert "minute='*/10'" in str(config.trigger("*/10 * * * *"))
    for wrong in ("0m", "every tuesday", "* * *"):
        with pytest.raises(ValueError):
            config.trigger(wrong)
