"""The feed scheduler inside a process: `alliance serve` (unless told not to) and `alliance
worker`. Feeds declared in the feeds file are saved first, so the schedule starts with them.

In `serve` the scheduler and its runs live in a thread of their own, with their own event loop,
database engine and HTTP client (asyncpg and aiosqlite connections belong to the loop that made
them): a run applying thousands of items then never holds up the API's loop.
"""

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future

from sqlalchemy.ext.asyncio import AsyncEngine

from server.config import Settings
from store.db import create_engine
from sync import config, fetch
from sync.errors import ConfigError
from sync.scheduler import Scheduler

from . import probes

log = logging.getLogger("alliance.scheduling")
THREAD = "alliance-sync"


async def save_declared(engine: AsyncEngine, settings: Settings) -> None:
    if settings.feeds_file.is_file():
        for feed in config.read_toml(settings.feeds_file):
            log.info(
                "feed %s from %s: %s",
                feed.slug,
                settings.feeds_file,
                await config.save(engine, feed),
            )


@contextlib.asynccontextmanager
async def scheduling(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Scheduler]:
    async with fetch.client() as client:
        await save_declared(engine, settings)
        scheduler = Scheduler(engine, client)
        await scheduler.start()
        try:
            yield scheduler
        finally:
            await scheduler.stop()


async def _schedule_until(
    settings: Settings, stop: asyncio.Event, started: Callable[[], None]
) -> None:
    """Schedule feeds, with a database engine of the running loop, until `stop` is set."""
    engine = create_engine(settings)
    try:
        async with scheduling(engine, settings):
            started()
            await stop.wait()
    finally:
        await engine.dispose()


async def run_worker(settings: Settings) -> None:
    """Schedule feeds until SIGTERM or SIGINT, answering probes on the worker's port."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        listening = await probes.serve(settings.host, settings.worker_port)
    except OSError as exc:
        where = f"{settings.host}:{settings.worker_port}"
        raise ConfigError(
            f"cannot listen on {where} for /healthz and /metrics ({exc.strerror}): "
            "set ALLIANCE_WORKER_PORT to a free port"
        ) from None
    try:
        await _schedule_until(settings, stop, lambda: log.info("worker running; stop with SIGTERM"))
    finally:
        listening.close()


@contextlib.asynccontextmanager
async def in_thread(settings: Settings) -> AsyncIterator[None]:
    """Schedule feeds in the thread `alliance-sync` while the context is open. Its start-up
    errors (a broken feeds file) are raised here; leaving stops it as a worker stops, letting
    runs under way finish, without holding up the loop that waits."""
    started: Future[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = Future()
    # A daemon: a forced exit (a second Ctrl-C) does not wait for it.
    thread = threading.Thread(target=_thread, args=(settings, started), name=THREAD, daemon=True)
    thread.start()
    loop, stop = await asyncio.wrap_future(started)
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):  # its loop is closed: it ended on an error
            loop.call_soon_threadsafe(stop.set)
        await asyncio.to_thread(thread.join)


def _thread(settings: Settings, started: Future) -> None:
    async def schedule() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        await _schedule_until(settings, stop, lambda: started.set_result((loop, stop)))

    try:
        asyncio.run(schedule())
    except BaseException as exc:  # whatever it is, the lifespan waiting for the start hears it
        if not started.done():
            started.set_exception(exc)
            return
        log.exception("the scheduler stopped on an error")
