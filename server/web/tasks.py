"""Work an API process does beside its requests for as long as it serves: the data version's
listener, the change log's tail, the run watch. Each is a task started and stopped with the
app's lifespan (`app.py`)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable


@contextlib.asynccontextmanager
async def background(run: Callable[[], Awaitable[None]], name: str) -> AsyncIterator[None]:
    """`run()` in a task of its own while the block lasts; cancelled and awaited at its end."""
    task = asyncio.create_task(run(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
