"""Fixtures: the hub as users run it, over loopback HTTP (see `server_process`).

`hub` is one server for the whole e2e package, over a fresh migrated and seeded database: SQLite by
default, a new PostgreSQL database when DATABASE_URL points at PostgreSQL. `start_hub` starts
more in a test (e.g. `serve --demo` in an empty directory) and stops them at its end.
"""

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from store import seed

from .server_process import HubProcess, clean_env, start


@pytest.fixture(scope="package")
async def hub(databases, tmp_path_factory) -> AsyncIterator[HubProcess]:
    """`alliance serve` over a fresh migrated and seeded database, shared by every e2e test."""
    database = await databases.create()
    await seed.seed(database.engine)
    await database.engine.dispose()  # the server process is the database's only user now
    work = tmp_path_factory.mktemp("hub")
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_LOG_FORMAT="json")
    server = await start([], env, work, work / "server.log")
    yield server
    server.stop()


@pytest.fixture
def start_hub(tmp_path) -> Iterator[Callable]:
    """Start more servers in a test; each is stopped at the test's end."""
    started: list[HubProcess] = []

    async def _start(
        args: list[str], env: dict[str, str], cwd: Path, port: int | None = None
    ) -> HubProcess:
        server = await start(args, env, cwd, tmp_path / f"server-{len(started)}.log", port)
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


@pytest.fixture
def http(hub) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.base_url, timeout=10.0) as client:
        yield client
