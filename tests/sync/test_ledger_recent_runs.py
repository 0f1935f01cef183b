"""`ledger.recent_runs`, which `alliance runs` prints: newest first, by feed, within a limit."""

import datetime as dt

from sqlalchemy import insert, select

from store.registry import FEED, RUN
from sync import config, ledger

STARTED = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)


async def _feed_with_runs(engine, slug: str, statuses: list[str]) -> None:
    url = f"https://example.org/{slug}.json"
    await config.save(engine, config.spec(slug=slug, url=url, format="alliance-feed/1"))
    async with engine.begin() as connection:
        feed_id = await connection.scalar(select(FEED.c.id).where(FEED.c.slug == slug))
        for status in statuses:
            await connection.execute(
                insert(RUN).values(
                    feed_id=feed_id,
                    trigger="manual",
                    owner="test",
                    status=status,
                    started_at=STARTED,
                    items_seen=3,
                    error="HTTP 500" if status == "failed" else None,
                )
            )


async def test_the_newest_runs_of_one_feed_within_the_limit(databases):
    # given: two feeds with runs, interleaved
    database = await databases.create()
    await _feed_with_runs(database.engine, "cities", ["succeeded", "failed"])
    await _feed_with_runs(database.engine, "towns", ["succeeded"])
    await _feed_with_runs(database.engine, "cities", ["partial"])

    # when
    everything = await ledger.recent_runs(database.engine)
    newest = await ledger.recent_runs(database.engine, feed="cities", limit=2)

    # then: newest first, each with its feed's slug and what it recorded
    assert [(r.feed, r.status) for r in everything] == [
        ("cities", "partial"),
        ("towns", "succeeded"),
        ("cities", "failed"),
        ("cities", "succeeded"),
    ]
    assert [r.status for r in newest] == ["partial", "failed"]
    failed = everything[2]
    assert (failed.trigger, failed.items_seen, failed.error) == ("manual", 3, "HTTP 500")
    assert failed.started_at.replace(tzinfo=dt.UTC) == STARTED


async def test_a_removed_feed_keeps_its_runs(databases):
    database = await databases.create()
    await _feed_with_runs(database.engine, "cities", ["succeeded"])
    await config.remove(database.engine, "cities")

    assert [r.feed for r in await ledger.recent_runs(database.engine, feed="cities")] == ["cities"]
    assert await ledger.recent_runs(database.engine, feed="towns") == []
