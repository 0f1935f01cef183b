"""The sync as it runs in production: real `alliance sync` and `alliance worker` processes, a real
database (SQLite file, or PostgreSQL when DATABASE_URL says so) and real feeds over loopback.

Two faults that docs/feeds.md ("What a run guarantees") covers, a process killed mid-run and two
workers with manual triggers during a scheduled run: a process killed with SIGKILL between two
batches leaves exactly the batches it committed, its run is found `abandoned` by the reaper and
the next run completes the feed; several schedulers and a stream of manual triggers never run
one feed twice at once and never duplicate a row. Also: a worker stopped with SIGTERM ends what
it was running, and a broken feeds file stops a worker with a message naming what is wrong.

Every process is started from the venv that runs the tests, waited for with a deadline, and
killed by its pid in `finally` if it is still there. The feed server runs in the test's event
loop, so the test only ever waits asynchronously (polling), never with a blocking `wait()`.
"""

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import distinct, func, select, text, update
from sqlalchemy.engine import make_url

from store.registry import ALLIANCE as ALLIANCES
from store.registry import FEED, FEED_ITEM, IDENTIFIER, MEMBER, PERIOD, RUN, SOURCE
from store.tables import as_utc, utcnow
from sync import config, leases, runs
from tests import factories
from tests.conftest import ON_POSTGRES
from tests.sync.feedserver import FeedServer, Request, Writer, respond, sequence

from .server_process import ALLIANCE, clean_env

ENDED = {"succeeded", "partial", "not_modified", "failed", "abandoned", "skipped_locked"}
STOP_TIMEOUT = 10.0


# ---- feeds ------------------------------------------------------------------------------------


def document(prefix: str, count: int) -> bytes:
    """A complete feed `prefix` of `count` cities."""
    return factories.document(*factories.cities(prefix, count), publisher=prefix)


def slowly(body: bytes, delay: float, answered: list[float]):
    """A full answer, after `delay` seconds (the run is then certainly in its fetch); appends
    when it answered to `answered`."""

    async def handler(request: Request, writer: Writer) -> None:
        await asyncio.sleep(delay)
        answered.append(time.monotonic())
        await respond(200, body)(request, writer)

    return handler


# ---- processes --------------------------------------------------------------------------------


@dataclass
class Processes:
    """`alliance` processes started by one test, each logging to its own file."""

    folder: Path
    env: dict[str, str]
    started: list[tuple[subprocess.Popen, Path, list[str]]] = field(default_factory=list)

    def start(self, *args: str, **extra_env: str) -> subprocess.Popen:
        log_path = self.folder / f"{len(self.started):02d}-{args[0]}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(ALLIANCE), *args],
                env={**self.env, "PYTHONFAULTHANDLER": "1", **extra_env},
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started.append((process, log_path, list(args)))
        return process

    def log(self, process: subprocess.Popen) -> str:
        for started, log_path, _ in self.started:
            if started is process:
                return log_path.read_text(encoding="utf-8", errors="replace")
        raise KeyError(process.pid)

    def kill_all(self) -> None:
        """Kill, by pid, every process of this test that is still running."""
        for process, _, _ in self.started:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture
def processes(tmp_path) -> Iterator[Processes]:
    made = Processes(tmp_path, {})
    try:
        yield made
    finally:
        made.kill_all()


async def exited(process: subprocess.Popen, timeout: float) -> int | None:
    """The exit code once the process ended, or None if it is still running after `timeout`."""
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return process.poll()


async def terminate(processes: Processes, *stopping: subprocess.Popen) -> tuple[list, str]:
    """SIGTERM each process and wait up to STOP_TIMEOUT for all; return their exit codes (None:
    still running) and, for a process that hangs, its threads' stacks: it gets SIGABRT, which
    makes faulthandler (PYTHONFAULTHANDLER=1) print them to its log."""
    for process in stopping:
        os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    codes = [await exited(p, max(0.0, deadline - time.monotonic())) for p in stopping]
    report = []
    for process, code in zip(stopping, codes, strict=True):
        if code is None:
            os.kill(process.pid, signal.SIGABRT)
            await exited(process, STOP_TIMEOUT)
            log = processes.log(process)
            report.append(
                f"pid {process.pid} still ran {STOP_TIMEOUT:.0f} s after SIGTERM; its log ends:\n"
                + log[max(log.rfind("Scheduler has been shut down") - 200, 0) :][-6000:]
            )
    return codes, "\n".join(report)


async def finished(processes: Processes, process: subprocess.Popen, timeout: float = 60.0) -> str:
    """Wait for `process` to end; return its log. A process that does not end fails the test."""
    code = await exited(process, timeout)
    if code is None:
        os.kill(process.pid, signal.SIGKILL)
        await exited(process, STOP_TIMEOUT)
        pytest.fail(
            f"pid {process.pid} did not exit within {timeout:.0f} s:\n{processes.log(process)}"
        )
    return processes.log(process)


async def until(
    condition,
    what: str,
    timeout: float,
    alive: subprocess.Popen | None = None,
    processes: Processes | None = None,
):
    """Poll the async `condition` until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await condition()
        if found:
            return found
        if alive is not None and alive.poll() is not None:
            pytest.fail(
                f"the process ended ({alive.returncode}) before {what}:\n{processes.log(alive)}"
            )
        await asyncio.sleep(0.05)
    pytest.fail(f"not within {timeout:.0f} s: {what}")


# ---- the database -----------------------------------------------------------------------------


@pytest.fixture
async def database(databases):
    return await databases.create()


async def scalar(database, statement):
    async with database.engine.connect() as connection:
        return await connection.scalar(statement)


async def rows(database, statement) -> list:
    async with database.engine.connect() as connection:
        return (await connection.execute(statement)).all()


async def count(database, table, *where) -> int:
    return await scalar(database, select(func.count()).select_from(table).where(*where))


async def runs_of(database, slug: str | None = None) -> list:
    query = select(RUN, FEED.c.slug).join(FEED, FEED.c.id == RUN.c.feed_id).order_by(RUN.c.id)
    if slug is not None:
        query = query.where(FEED.c.slug == slug)
    return await rows(database, query)


async def feed_row(database, slug: str):
    return (await rows(database, select(FEED).where(FEED.c.slug == slug)))[0]


async def held_by_the_feed(database, slug: str) -> dict[str, int]:
    """What the feed's batches left: feed_item rows, the members, sources and identifiers."""
    feed_id = await scalar(database, select(FEED.c.id).where(FEED.c.slug == slug))
    member_ids = select(FEED_ITEM.c.entity_id).where(
        FEED_ITEM.c.feed_id == feed_id, FEED_ITEM.c.entity_type == "member"
    )
    return {
        "feed_item": await count(database, FEED_ITEM, FEED_ITEM.c.feed_id == feed_id),
        "distinct keys": await scalar(
            database,
            select(func.count()).select_from(
                select(FEED_ITEM.c.item_type, FEED_ITEM.c.item_id)
                .where(FEED_ITEM.c.feed_id == feed_id)
                .distinct()
                .subquery()
            ),
        ),
        "members": await count(database, MEMBER, MEMBER.c.id.in_(member_ids)),
        "distinct members": await scalar(
            database,
            select(func.count(distinct(FEED_ITEM.c.entity_id))).where(
                FEED_ITEM.c.feed_id == feed_id, FEED_ITEM.c.entity_type == "member"
            ),
        ),
        "sources": await count(database, SOURCE, SOURCE.c.feed == slug),
        "identifiers": await count(database, IDENTIFIER, IDENTIFIER.c.scheme == f"feed:{slug}"),
    }


def one_line(text: str) -> str:
    """Rich wraps messages at the terminal width; join them again."""
    return " ".join(text.split())


def table_of(found: list) -> str:
    return "\n".join(
        f"  run {r.id} {r.slug} {r.trigger:8} {r.status:15} owner={r.owner} "
        f"start={r.started_at} end={r.finished_at} seen={r.items_seen} error={r.error}"
        for r in found
    )


# ---- 1. killed mid-run ------------------------------------------------------------------------

BIG = 3_000  # six batches of runs.BATCH (500): applying them takes seconds on either database


async def big_sync_under_way(database, processes, server, size: int) -> subprocess.Popen:
    """`alliance sync big` of a feed of `size` members, once its first batch is committed."""
    server.route("/big", respond(200, document("gross", size)))
    await config.save(
        database.engine,
        config.spec(
            slug="big", url=server.url("/big"), format="alliance-feed/1", allow_private=True
        ),
    )
    syncing = processes.start("sync", "big")

    async def progressed():
        found = await runs_of(database, "big")
        return found and found[0].items_seen > 0

    await until(progressed, "the run committed a first batch", 60, syncing, processes)
    return syncing


async def test_a_sync_killed_mid_run_leaves_whole_batches_and_the_next_run_completes(
    database, processes, tmp_path
):
    # given: a feed of BIG members, and `alliance sync` applying it in a process of its own
    assert BIG % runs.BATCH == 0 and BIG // runs.BATCH >= 4
    processes.env = clean_env(DATABASE_URL=database.url)
    async with FeedServer() as server:
        # when: it is killed (SIGKILL: no cleanup at all) once a first batch is committed
        syncing = await big_sync_under_way(database, processes, server, BIG)
        os.kill(syncing.pid, signal.SIGKILL)
        assert await exited(syncing, STOP_TIMEOUT) == -signal.SIGKILL

        # then: the store holds exactly the committed batches, as the run's progress says
        (killed,) = await runs_of(database, "big")
        held = await held_by_the_feed(database, "big")
        print(f"killed after {killed.items_seen} of {BIG} items; the store holds {held}")
        assert killed.status == "running" and killed.finished_at is None
        assert 0 < killed.items_seen < BIG, (
            f"the run was not stopped mid-run ({killed.items_seen} of {BIG} items seen)"
        )
        assert killed.items_seen % runs.BATCH == 0, killed.items_seen  # progress is per batch
        assert killed.created == killed.items_seen
        assert held == dict.fromkeys(held, killed.items_seen), (
            f"a half-applied batch: the run's progress says {killed.items_seen} items, "
            f"the store holds {held}"
        )
        assert await count(database, MEMBER) == killed.items_seen  # nothing outside the feed

        # and: its lease outlives it until the TTL. A sync now cannot tell a dead holder from a
        # live one: it neither reaps the run nor runs behind its back, but says who holds the
        # feed since when, and exits 3
        feed = await feed_row(database, "big")
        assert feed.lease_owner == killed.owner
        assert as_utc(feed.lease_until) > utcnow()
        blocked = processes.start("sync", "big")
        said = one_line(await finished(processes, blocked))
        assert blocked.returncode == 3, said
        since = as_utc(killed.started_at).strftime("%Y-%m-%d %H:%M:%S UTC")
        assert f"big: skipped, held by {killed.owner} since {since} (lease until" in said, said
        found = await runs_of(database, "big")
        assert [r.status for r in found] == ["running", "skipped_locked"], table_of(found)

        # when: the killed run's heartbeat and lease are older by a TTL (what waiting out its 60 s
        # TTL does: the dead process no longer extends them) and `alliance sync big` runs again
        aged = leases.TTL + dt.timedelta(seconds=1)
        async with database.engine.begin() as connection:
            await connection.execute(
                update(FEED)
                .where(FEED.c.slug == "big")
                .values(lease_until=as_utc(feed.lease_until) - aged)
            )
            await connection.execute(
                update(RUN)
                .where(RUN.c.id == killed.id)
                .values(heartbeat_at=as_utc(killed.heartbeat_at) - aged)
            )
        again = processes.start("sync", "big")
        said = await finished(processes, again, timeout=120)

        # then: it reaps the killed run first: `abandoned`, and says so
        killed_now = (await runs_of(database, "big"))[0]
        assert killed_now.status == "abandoned", table_of(await runs_of(database, "big"))
        assert killed_now.finished_at is not None and "heartbeat" in killed_now.error
        assert "1 run of a stopped process is now abandoned" in one_line(said), said

        # then: it completes the feed, keeps what the killed run committed, and every item is
        # in the store exactly once
        assert again.returncode == 0, said
        last = (await runs_of(database, "big"))[-1]
        assert last.status == "succeeded", table_of(await runs_of(database, "big"))
        assert (last.items_seen, last.created, last.unchanged, last.updated) == (
            BIG,
            BIG - killed.items_seen,
            killed.items_seen,
            0,
        )
        assert await held_by_the_feed(database, "big") == dict.fromkeys(held, BIG)
        assert await count(database, MEMBER) == BIG
        assert (await feed_row(database, "big")).lease_owner is None


# ---- 1b. a sync told to stop ------------------------------------------------------------------


def answered_once(released: asyncio.Event, body: bytes):
    """Answers when `released` is set: until then, the run that asked certainly waits."""

    async def handler(request: Request, writer: Writer) -> None:
        await released.wait()
        await respond(200, body)(request, writer)

    return handler


async def stop_and_check(processes, database, syncing, signum, slug: str):
    """Send `signum` to `alliance sync slug`; it must stop at once, its run ended `abandoned`
    and the feed's lease free (not a TTL later). Returns the run."""
    os.kill(syncing.pid, signum)
    code = await exited(syncing, STOP_TIMEOUT)
    said = one_line(processes.log(syncing))
    assert code == 128 + signum, f"exit code {code}: {said}"
    stopped = (await runs_of(database, slug))[0]
    assert stopped.status == "abandoned", table_of(await runs_of(database, slug))
    assert stopped.finished_at is not None and "interrupted" in stopped.error
    feed = await feed_row(database, slug)
    assert (feed.lease_owner, feed.lease_until) == (None, None)
    assert f"interrupted by {signal.Signals(signum).name}" in said, said
    assert "Traceback" not in said, said
    return stopped


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_a_sync_told_to_stop_while_it_waits_for_the_feed_ends_abandoned_and_frees_it(
    database, processes, signum
):
    # given: `alliance sync slow` waiting for a feed that answers its first request only later
    processes.env = clean_env(DATABASE_URL=database.url)
    released = asyncio.Event()
    async with FeedServer() as server:
        body = document("langsam", 10)
        server.route("/slow", sequence(answered_once(released, body), respond(200, body)))
        await config.save(
            database.engine,
            config.spec(
                slug="slow",
                url=server.url("/slow"),
                format="alliance-feed/1",
                allow_private=True,
                read_timeout=300.0,  # the run waits until it is told to stop, not a timeout
                deadline=300.0,
            ),
        )
        syncing = processes.start("sync", "slow")

        async def waiting_for_the_feed():
            found = [r for r in await runs_of(database, "slow") if r.status == "running"]
            return server.count("/slow") == 1 and found

        (running,) = await until(waiting_for_the_feed, "the run waits", 60, syncing, processes)

        # and: a second sync meanwhile leaves the live run alone and says who holds the feed
        blocked = processes.start("sync", "slow")
        said = one_line(await finished(processes, blocked))
        assert blocked.returncode == 3, said
        assert f"slow: skipped, held by {running.owner} since" in said, said
        assert [r.status for r in await runs_of(database, "slow")] == ["running", "skipped_locked"]

        # when: the first is told to stop; then: it stops at once, its run abandoned, the
        # feed free
        await stop_and_check(processes, database, syncing, signum, "slow")
        released.set()

        # and: the next sync runs the feed right away
        again = processes.start("sync", "slow")
        said = await finished(processes, again)
        assert again.returncode == 0, said
        assert (await runs_of(database, "slow"))[-1].status == "succeeded", said


async def test_a_sync_told_to_stop_mid_batch_keeps_whole_batches_and_frees_the_feed(
    database, processes
):
    # given: `alliance sync big` applying a feed of two batches, the first one committed
    size = 2 * runs.BATCH
    processes.env = clean_env(DATABASE_URL=database.url)
    async with FeedServer() as server:
        syncing = await big_sync_under_way(database, processes, server, size)

        # when: it is told to stop while it applies the second; then: it stops at once, its run
        # abandoned, the feed free
        await stop_and_check(processes, database, syncing, signal.SIGINT, "big")

        # and: the store holds the first batch whole and nothing of the second
        held = await held_by_the_feed(database, "big")
        assert held == dict.fromkeys(held, runs.BATCH), held

        # and: the next sync completes the feed, every item once
        again = processes.start("sync", "big")
        said = await finished(processes, again, timeout=120)
        assert again.returncode == 0, said
        last = (await runs_of(database, "big"))[-1]
        assert (last.status, last.created, last.unchanged) == ("succeeded", runs.BATCH, runs.BATCH)
        assert await held_by_the_feed(database, "big") == dict.fromkeys(held, size)


# ---- 2. two workers and manual triggers -------------------------------------------------------

WORKER_FEEDS = {"alpha": 150, "beta": 150, "gamma": 150}  # about 0.5 s of applying each
RUN_FOR = 16.0  # seconds the workers run once both are ready
MANUAL = [
    ["alpha"],
    ["beta"],
    ["gamma"],
    ["alpha", "beta", "gamma"],
    ["alpha"],
    ["beta"],
    ["gamma"],
    ["alpha", "gamma"],
    ["beta"],
    ["alpha", "beta", "gamma"],
]


def feeds_toml(server: FeedServer, schedule: str = "2s") -> str:
    return "".join(
        f'[feeds.{slug}]\nurl = "{server.url("/" + slug)}"\nformat = "alliance-feed/1"\n'
        f'schedule = "{schedule}"\nallow_private = true\n\n'
        for slug in WORKER_FEEDS
    )


def json_lines(text: str) -> list[dict]:
    found = []
    for line in text.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


async def ready(processes: Processes, worker: subprocess.Popen) -> None:
    async def said_running():
        return any(
            e.get("msg", "").startswith("worker running") for e in json_lines(processes.log(worker))
        )

    await until(said_running, f"worker {worker.pid} says it is running", 60, worker, processes)


def overlaps(found: list) -> list[tuple]:
    """Pairs of runs of one feed that did work at the same time (an unfinished run never ends)."""
    working = sorted(
        (r for r in found if r.status != "skipped_locked"), key=lambda r: as_utc(r.started_at)
    )
    return [
        (a.id, b.id)
        for a, b in zip(working, working[1:], strict=False)
        if a.finished_at is None or as_utc(a.finished_at) > as_utc(b.started_at)
    ]


async def test_two_workers_and_manual_triggers_run_each_feed_once_at_a_time_without_duplicates(
    database, processes, tmp_path
):
    async with FeedServer() as server:
        for slug, size in WORKER_FEEDS.items():
            server.route(f"/{slug}", respond(200, document(slug, size)))
        feeds_file = tmp_path / "feeds.toml"
        feeds_file.write_text(feeds_toml(server), encoding="utf-8")
        processes.env = clean_env(
            DATABASE_URL=database.url,
            ALLIANCE_LOG_FORMAT="json",
            ALLIANCE_FEEDS_FILE=str(feeds_file),
        )

        # given: two workers scheduling every feed every 2 s. The second starts once the first
        # saved the declared feeds: two workers saving them at the same moment is the race of
        # `test_two_workers_started_together_with_one_feeds_file_both_start`, not this test's.
        workers = []
        for _ in range(2):
            workers.append(processes.start("worker"))
            await ready(processes, workers[-1])

        # when: ten `alliance sync` commands come in while they run, one a second
        started = time.monotonic()
        manual = []
        for slugs in MANUAL:
            manual.append((processes.start("sync", *slugs), slugs))
            await asyncio.sleep(1.0)
        for process, slugs in manual:  # each ran its feeds, or says which worker has one
            said = await finished(processes, process)
            assert process.returncode == 0 or (
                process.returncode == 3 and ": skipped, held by " in one_line(said)
            ), f"`alliance sync {' '.join(slugs)}` exited {process.returncode}:\n{said}"
        await asyncio.sleep(max(0.0, RUN_FOR - (time.monotonic() - started)))

        # and: the workers are stopped with SIGTERM while one of them is in a run (a stop in a
        # deployment does not wait for a quiet moment either)
        pids = {str(worker.pid) for worker in workers}

        async def worker_mid_run():
            return [
                r
                for r in await runs_of(database)
                if r.status == "running" and r.owner.split(":")[1] in pids
            ]

        await until(worker_mid_run, "a worker is in a run", 15)
        for worker in workers:
            assert worker.poll() is None, f"worker {worker.pid} died:\n{processes.log(worker)}"
        codes, hung = await terminate(processes, *workers)  # asserted last: the data first

    # then: per feed, the runs that did work never overlapped
    every = await runs_of(database)
    for slug in WORKER_FEEDS:
        found = [r for r in every if r.slug == slug]
        counted = Counter((r.trigger, r.status) for r in found)
        print(f"{slug}: {len(found)} runs: {dict(sorted(counted.items()))}")
        assert not overlaps(found), f"{slug}: runs {overlaps(found)} overlap:\n{table_of(found)}"

    # and: every manual trigger left its run, and both workers ran feeds
    manual_runs = [r for r in every if r.trigger == "manual"]
    assert len(manual_runs) == sum(len(slugs) for slugs in MANUAL), table_of(manual_runs)
    for worker in workers:
        mine = [r for r in every if r.owner.split(":")[1] == str(worker.pid)]
        assert mine, f"worker {worker.pid} left no run:\n{table_of(every)}"

    # and: no duplicate rows: one member and one feed_item per item served, per feed
    for slug, size in WORKER_FEEDS.items():
        held = await held_by_the_feed(database, slug)
        assert held == dict.fromkeys(held, size), f"{slug}: served {size} items, holds {held}"
    assert await count(database, MEMBER) == sum(WORKER_FEEDS.values())

    # and: the lease kept them apart: runs were refused, or each feed ran several times in turn
    statuses = Counter(r.status for r in every)
    print(f"statuses: {dict(statuses)}")
    for slug in WORKER_FEEDS:
        done = [r for r in every if r.slug == slug and r.status == "succeeded"]
        assert len(done) >= 3 or statuses["skipped_locked"] > 0, table_of(every)

    # and: no run failed (e.g. `database is locked` under concurrent writers) ...
    failed = [r for r in every if r.status == "failed"]
    assert not failed, f"runs failed:\n{table_of(failed)}"

    # and: SIGTERM stopped both workers within 10 s, cleanly ...
    assert codes == [0, 0], f"the workers' exit codes after SIGTERM: {codes}\n{hung}"

    # ... and every run ended, with a known status, its worker stopped or not
    unended = [r for r in every if r.status not in ENDED or r.finished_at is None]
    assert not unended, f"runs that never ended:\n{table_of(unended)}"


# ---- 2c. two workers started together ----------------------------------------------------------


@contextlib.asynccontextmanager
async def feed_table_write_locked(database) -> AsyncIterator[None]:
    """Hold a write lock that keeps every writer of `feed` waiting (reads go on), until exit."""
    if ON_POSTGRES:
        async with database.engine.connect() as connection:
            async with connection.begin() as transaction:
                # EXCLUSIVE: SELECTs go on, INSERT and UPDATE wait
                await connection.execute(text("LOCK TABLE feed IN EXCLUSIVE MODE"))
                yield
                await transaction.commit()
        return
    path = make_url(database.url).database
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")  # the write lock; WAL readers go on
        yield
        connection.execute("COMMIT")
    finally:
        connection.close()


async def writers_waiting(database) -> int:
    """PostgreSQL: how many sessions of this database wait for a lock."""
    return await scalar(
        database,
        text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ),
    )


async def test_two_workers_started_together_with_one_feeds_file_both_start(
    database, processes, tmp_path
):
    # given: one feeds file for two workers, as a scaled deployment starts them
    async with FeedServer() as server:
        server.route("/one", respond(200, document("eins", 3)))
        feeds_file = tmp_path / "feeds.toml"
        feeds_file.write_text(
            f'[feeds.one]\nurl = "{server.url("/one")}"\nformat = "alliance-feed/1"\n'
            'schedule = "1h"\nallow_private = true\n',
            encoding="utf-8",
        )
        processes.env = clean_env(
            DATABASE_URL=database.url,
            ALLIANCE_LOG_FORMAT="json",
            ALLIANCE_FEEDS_FILE=str(feeds_file),
        )

        # when: both save the declared feed at the same moment. A write lock held by the test
        # lines them up: both look for the feed (reads go on) and both wait to write it.
        async with feed_table_write_locked(database):
            workers = [processes.start("worker"), processes.start("worker")]
            if ON_POSTGRES:

                async def both_wait():
                    return await writers_waiting(database) >= 2

                await until(both_wait, "both workers wait to write the feed", 30)
            else:  # SQLite shows no waiters: give both time to start (~1 s) and to read
                await asyncio.sleep(5.0)  # well within their busy_timeout (10 s)

        # then: both start and schedule the feed, which exists once
        for worker in workers:
            await ready(processes, worker)
        assert await count(database, FEED, FEED.c.slug == "one") == 1
        await terminate(processes, *workers)


# ---- 2b. a worker stopped mid-run -------------------------------------------------------------


async def test_a_worker_stopped_with_sigterm_mid_run_ends_that_run_and_frees_the_feed(
    database, processes, tmp_path
):
    # given: a worker whose feed answers after 3 s, so a SIGTERM certainly lands mid-run
    async with FeedServer() as server:
        answered: list[float] = []
        server.route("/slow", slowly(document("langsam", 10), delay=3.0, answered=answered))
        feeds_file = tmp_path / "feeds.toml"
        feeds_file.write_text(
            f'[feeds.slow]\nurl = "{server.url("/slow")}"\nformat = "alliance-feed/1"\n'
            'schedule = "1h"\nallow_private = true\n',
            encoding="utf-8",
        )
        processes.env = clean_env(
            DATABASE_URL=database.url,
            ALLIANCE_LOG_FORMAT="json",
            ALLIANCE_FEEDS_FILE=str(feeds_file),
        )
        worker = processes.start("worker")

        async def running():
            return [r for r in await runs_of(database, "slow") if r.status == "running"]

        await until(running, "the worker's startup run is running", 60, worker, processes)
        assert not answered  # the feed has not answered yet: the run is certainly mid-run

        # when: the worker is told to stop
        (code,), hung = await terminate(processes, worker)
        assert code == 0, f"exit code {code} after SIGTERM:\n{hung or processes.log(worker)}"

    # then: its run ended (finished, or recorded as stopped), and the feed's lease is free,
    # so another worker can run the feed now, not a TTL later
    found = await runs_of(database, "slow")
    assert all(r.status in ENDED and r.finished_at is not None for r in found), (
        f"a run left `running` by a worker that stopped normally:\n{table_of(found)}\n"
        f"{processes.log(worker)[-3000:]}"
    )
    feed = await feed_row(database, "slow")
    assert feed.lease_owner is None or as_utc(feed.lease_until) <= utcnow(), (
        f"the stopped worker still holds the lease until {feed.lease_until}"
    )


# ---- 3. a broken feeds file -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ('[feeds.wfk\nurl = "https://example.org/f.json"\n', ["feeds.toml", "line 1"]),
        (
            '[feeds.wfk]\nurl = "https://example.org/f.json"\nformat = "rss/2"\n',
            ["wfk", "format", "alliance-feed/1"],  # the feed, the field, what it may be
        ),
        (
            '[feeds.wfk]\nurl = "https://example.org/f.json"\nformat = "csv"\nschedul = "1h"\n',
            ["wfk", "schedul"],
        ),
    ],
    ids=["invalid-toml", "unknown-format", "unknown-field"],
)
@pytest.mark.parametrize(
    "command",
    [("worker",), ("serve", "--host", "127.0.0.1", "--port", "0")],
    ids=["worker", "serve"],
)
async def test_a_scheduler_with_a_broken_feeds_file_exits_naming_the_problem(
    database, processes, tmp_path, content, needles, command
):
    # given
    feeds_file = tmp_path / "feeds.toml"
    feeds_file.write_text(content, encoding="utf-8")
    processes.env = clean_env(DATABASE_URL=database.url, ALLIANCE_FEEDS_FILE=str(feeds_file))

    # when
    worker = processes.start(*command)
    said = " ".join((await finished(processes, worker, timeout=30)).split())

    # then: it stops, says what is wrong where, and saved nothing
    assert worker.returncode not in (0, None), said
    for needle in needles:
        assert needle in said, f"{needle!r} not in: {said}"
    assert "Traceback" not in said, said
    assert await count(database, FEED) == 0


# ---- 4. two feeds creating the same records at once -------------------------------------------

PLACES = 15  # places per round that both feeds describe
ONE_PROCESS = [["sync", "eins", "zwei"]]  # both runs at once in one process
TWO_PROCESSES = [["sync", "eins"], ["sync", "zwei"]]  # started at once
# How the two feeds run; whether the second lists the places backwards (the runs deadlock);
# whether each place starts with its town (the runs meet on an identifier) or its alliance
# (they meet on a slug).
ROUNDS = [
    (ONE_PROCESS, False, True),
    (ONE_PROCESS, True, False),
    (TWO_PROCESSES, False, False),
    (TWO_PROCESSES, True, True),
]


def place_item(feed: str, item_type: str, name: str, **data) -> dict:
    """An item of `feed` named `name`; its id is the feed's own ("eins-stadt-0-3")."""
    return {
        "type": item_type,
        "id": f"{feed}-{name.lower().replace(' ', '-')}",
        "updated_at": "2026-11-20T10:00:00Z",
        "data": {"names": [{"value": name, "lang": "de", "kind": "official"}], **data},
    }


def wikidata(kind: int, round_: int, i: int) -> list[dict]:
    return [{"scheme": "wikidata", "value": f"Q{kind}{round_}{i:03d}"}]


def places(feed: str, round_: int, backwards: bool, town_first: bool) -> bytes:
    """What partner `feed` says in `round_`: per place an alliance and a city that both feeds
    name by the same wikidata item (so one record each; the city is a member of the
    alliance), a town both name by the same wikidata item but by other names (one record),
    and a village whose name merely recurs in the other feed (two records)."""
    city = {"kind": "city", "country": "DE"}
    town_name = {"eins": "Ort", "zwei": "Ortschaft"}[feed]
    groups = []
    for i in range(PLACES):
        key = f"{round_}-{i}"
        town = place_item(
            feed, "member", f"{town_name} {key}", **city, identifiers=wikidata(3, round_, i)
        )
        rest = [
            place_item(feed, "alliance", f"Bund {key}", identifiers=wikidata(1, round_, i)),
            place_item(
                feed,
                "member",
                f"Stadt {key}",
                **city,
                identifiers=wikidata(2, round_, i),
                memberships=[{"alliance": f"{feed}-bund-{key}", "status": "member"}],
            ),
            place_item(feed, "member", f"Dorf {key}", **city),
        ]
        groups.append([town, *rest] if town_first else [*rest, town])
    if backwards:
        groups.reverse()
    return json.dumps(
        {
            "format": "alliance-feed/1",
            "publisher": {"id": feed, "name": feed.title()},
            "complete": False,
            "items": [item for group in groups for item in group],
        }
    ).encode()


def together(bodies: dict[str, bytes], timeout: float = 10.0):
    """Answers no request until one has come for every path of `bodies` (or `timeout` passed),
    so the runs of both feeds get their items at the same moment."""
    arrived: set[str] = set()
    all_there = asyncio.Event()

    async def handler(request: Request, writer: Writer) -> None:
        arrived.add(request.route)
        if arrived >= set(bodies):
            all_there.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_there.wait(), timeout)
        await respond(200, bodies[request.route])(request, writer)

    return handler


async def named(database, table, name: str) -> list:
    return await rows(database, select(table.c.id, table.c.slug).where(table.c.name == name))


async def schemes_of(database, table, entity_id: int) -> list[str]:
    found = await rows(
        database,
        select(IDENTIFIER.c.scheme).where(
            IDENTIFIER.c.entity_type == table.name, IDENTIFIER.c.entity_id == entity_id
        ),
    )
    return sorted(scheme for (scheme,) in found)


async def test_two_feeds_creating_the_same_records_at_once_both_succeed_with_one_record_each(
    database, processes
):
    processes.env = clean_env(DATABASE_URL=database.url)
    async with FeedServer() as server:
        for slug in ("eins", "zwei"):
            await config.save(
                database.engine,
                config.spec(
                    slug=slug,
                    url=server.url(f"/{slug}"),
                    format="alliance-feed/1",
                    mode="incremental",  # each round brings new places; none is swept
                    allow_private=True,
                ),
            )
        for round_, (commands, backwards, town_first) in enumerate(ROUNDS):
            # given: both feeds list this round's places, the second maybe in the other order,
            # and the feed server answers both at the same moment
            bodies = {
                "/eins": places("eins", round_, False, town_first),
                "/zwei": places("zwei", round_, backwards, town_first),
            }
            for path in bodies:
                server.route(path, together(bodies))

            # when: both feeds run at once, in one `alliance sync` or in two processes
            started = [processes.start(*command) for command in commands]
            said = [await finished(processes, process, timeout=120) for process in started]

            # then: both runs succeeded, and between them made each shared place once
            these = (await runs_of(database))[-2:]
            assert [r.status for r in these] == ["succeeded"] * 2, (
                f"round {round_} {ROUNDS[round_]}:\n{table_of(these)}\n"
                + "\n".join(log[-3000:] for log in said)
            )
            assert [p.returncode for p in started] == [0] * len(started), said
            assert sum(r.created for r in these) == 5 * PLACES  # 1 + 1 + 1 + 2 per place
            assert sum(r.updated for r in these) == 3 * PLACES

            # and: each alliance, city and town is one record, known by both feeds, the city a
            # member of the alliance by both; each village is two records
            for i in range(PLACES):
                key = f"{round_}-{i}"
                (alliance,) = await named(database, ALLIANCES, f"Bund {key}")
                (city,) = await named(database, MEMBER, f"Stadt {key}")
                assert (alliance.slug, city.slug) == (f"bund-{key}", f"stadt-{key}")
                (town,) = await rows(
                    database,
                    select(MEMBER.c.id, MEMBER.c.slug).where(
                        MEMBER.c.name.in_([f"Ort {key}", f"Ortschaft {key}"])
                    ),
                )
                for table, record in ((ALLIANCES, alliance), (MEMBER, city), (MEMBER, town)):
                    schemes = await schemes_of(database, table, record.id)
                    assert schemes == ["feed:eins", "feed:zwei", "wikidata"], (record, schemes)
                periods = await rows(
                    database, select(PERIOD.c.alliance_id).where(PERIOD.c.member_id == city.id)
                )
                assert periods == [(alliance.id,)] * 2, (city, periods)
                villages = await named(database, MEMBER, f"Dorf {key}")
                assert sorted(v.slug for v in villages) == [f"dorf-{key}", f"dorf-{key}-2"]
