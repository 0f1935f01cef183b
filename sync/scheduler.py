"""Scheduling: an APScheduler job per enabled feed, rebuilt when the feed table changes.

Any number of processes may run a scheduler (`alliance serve`, `alliance worker`): the lease
decides who runs a feed, the others' runs end `skipped_locked`. Jobs come from the database, so a
feed added with the CLI in another process is picked up at the next check. A feed backing off
after failures is skipped by its schedule until `next_eligible_at`; manual triggers ignore that.
"""

import asyncio
import contextlib
import datetime as dt
import logging

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from store.registry import FEED
from store.tables import as_utc, utcnow

from . import config, ledger, runs

log = logging.getLogger("alliance.sync.scheduler")
CHECK_EVERY = dt.timedelta(seconds=10)
# How soon a run queued through the API (`triggerSync`) starts: one query on a partial index.
QUEUE_EVERY = dt.timedelta(seconds=2)
STOP_GRACE = dt.timedelta(seconds=30)


class Scheduler:
    def __init__(
        self,
        engine: AsyncEngine,
        client: httpx.AsyncClient,
        owner: str | None = None,
        check_every: dt.timedelta = CHECK_EVERY,
    ):
        self.engine = engine
        self.check_every = check_every
        self.client = client
        self.owner = owner or runs.worker_name()
        self.scheduler = AsyncIOScheduler(timezone=dt.UTC)
        self._seen: tuple | None = None
        self._schedules: dict[str, str] = {}  # slug → schedule, of the feeds that have a job
        self._running: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Reap, schedule every enabled feed, and run each once now (trigger `startup`)."""
        await ledger.reap(self.engine)
        await self.rebuild()
        for job in self.scheduler.get_jobs():
            slug = job.id.removeprefix("feed:")
            self.scheduler.add_job(self._run, args=[slug, "startup"], id=f"startup:{slug}")
        self.scheduler.add_job(
            self._check,
            "interval",
            seconds=self.check_every.total_seconds(),
            id="check-feeds",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(
            self._start_queued,
            "interval",
            seconds=QUEUE_EVERY.total_seconds(),
            id="queued-runs",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()

    async def stop(self, grace: dt.timedelta = STOP_GRACE) -> None:
        """Stop scheduling, then let runs under way finish (within `grace`) rather than cut
        them off: a run cut off ends `abandoned`, and its items are fetched again next time.
        Runs still going after `grace` are cancelled, which ends each as abandoned."""
        self.scheduler.shutdown(wait=False)
        if not self._running:
            return
        log.info("waiting for %d run(s) to finish", len(self._running))
        _, late = await asyncio.wait(self._running, timeout=grace.total_seconds())
        if late:
            log.warning("%d run(s) did not finish within %s; cut off", len(late), grace)
            for run in late:
                run.cancel()
            await asyncio.wait(late)

    async def _check(self) -> None:
        """Reap dead runs; rebuild the jobs when feeds were added, changed or removed. A
        database that cannot answer now (SQLite locked by a long batch, PostgreSQL restarting)
        is asked again at the next check."""
        try:
            await ledger.reap(self.engine)
            if await self._state() != self._seen:
                await self.rebuild()
        except (DBAPIError, OSError) as exc:
            reason = exc.orig if isinstance(exc, DBAPIError) else exc
            log.warning("cannot check the feeds now (%s); again in %s", reason, self.check_every)

    async def _start_queued(self) -> None:
        """Start the runs operators queued (`triggerSync`) that no other process took first."""
        try:
            taken = await ledger.take_queued(self.engine, self.owner)
        except (DBAPIError, OSError) as exc:
            reason = exc.orig if isinstance(exc, DBAPIError) else exc
            log.warning("cannot look for queued runs now (%s)", reason)
            return
        for run_id, slug in taken:
            log.info("starting run %s of %s, queued through the API", run_id, slug)
            self._track(runs.run(self.engine, slug, self.client, owner=self.owner, queued=run_id))

    def _track(self, run) -> asyncio.Task:
        """A run as a task of its own, which `stop` waits for."""
        task = asyncio.create_task(run)
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return task

    async def _state(self) -> tuple:
        """Changes when a feed is added, changed or removed: its count and newest change."""
        async with self.engine.connect() as connection:
            found = await connection.execute(
                select(func.count(FEED.c.id), func.max(FEED.c.updated_at))
            )
            return tuple(found.one())

    async def rebuild(self) -> None:
        """Give each enabled feed a job. Only a new feed or a changed schedule gets a fresh
        trigger: every other job keeps its next run time, or editing one feed now and then would
        keep postponing the runs of all the others. The state is remembered only once the jobs
        match it, so a rebuild that fails part way is tried again at the next check."""
        seen = await self._state()
        wanted = {
            feed.slug: feed.schedule for feed in await config.listed(self.engine) if feed.enabled
        }
        gone = self._schedules.keys() - wanted.keys()
        for slug in gone:
            self.scheduler.remove_job(f"feed:{slug}")
        changed = {
            slug for slug, schedule in wanted.items() if self._schedules.get(slug) != schedule
        }
        for slug in changed:
            self.scheduler.add_job(
                self._run,
                config.trigger(wanted[slug]),
                args=[slug],
                id=f"feed:{slug}",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=60,
            )
        if changed or gone:
            log.info("scheduling %d feed(s): %s", len(wanted), ", ".join(sorted(wanted)) or "none")
        self._seen, self._schedules = seen, wanted

    async def _run(self, slug: str, trigger: str = "schedule") -> None:
        async with self.engine.connect() as connection:
            rest_until = await connection.scalar(
                select(FEED.c.next_eligible_at).where(FEED.c.slug == slug)
            )
        if rest_until is not None and as_utc(rest_until) > utcnow():
            log.info("feed %s rests after failures until %s", slug, rest_until)
            return
        # Shielded and tracked: shutting the scheduler down cancels this job, not the run.
        run = self._track(
            runs.run(self.engine, slug, self.client, trigger=trigger, owner=self.owner)
        )
        with contextlib.suppress(asyncio.CancelledError):  # the scheduler shut down, not the run
            await asyncio.shield(run)
