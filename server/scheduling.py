"""The feed scheduler inside a process: `alliance serve` (unless told not to) and `alliance
worker`. Feeds declared in the feeds file are saved first, so the schedule starts with them."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from store.db import create_engine
from sync import config
from sync.scheduler import Scheduler

from .config import Settings

log = logging.getLogger("alliance.scheduling")


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
    async with httpx.AsyncClient() as client:
        await save_declared(engine, settings)
        scheduler = Scheduler(engine, client)
        await scheduler.start()
        try:
            yield scheduler
        finally:
            await scheduler.stop()


async def run_worker(settings: Settings) -> None:
    """Schedule feeds until SIGTERM or SIGINT."""
    engine = create_engine(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with scheduling(engine, settings):
            log.info("worker running; stop with SIGTERM")
            await stop.wait()
    finally:
        await engine.dispose()
