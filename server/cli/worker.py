"""`alliance worker`: the feed scheduler as a process of its own, for deployments whose API
replicas run `serve --no-scheduler` (docs/operations.md)."""

import asyncio

from sync.errors import SyncError

from ._shared import fail, load_settings


def worker() -> None:
    """Run the feed scheduler without HTTP (scaled deployments: API replicas run without it)."""
    from server.web.logs import setup
    from server.web.scheduling import run_worker

    settings = load_settings()
    setup(settings.log_format, settings.log_level)
    try:
        asyncio.run(run_worker(settings))
    except SyncError as exc:
        fail(exc)
