"""What every command group needs: the settings, a database engine for one piece of work, and
the one-line errors with their exit codes (2 for a wrong setting or argument, 1 for a database
that cannot be used) that the commands promise in docs/operations.md."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from server.config import Settings
from store import migrate
from store.config import load
from store.db import create_engine
from store.errors import ConfigError
from sync.errors import SyncError

err = Console(stderr=True)
out = Console()


def print_json(rows: Any) -> None:
    """Rows (dataclasses or models) as one JSON array on stdout, for scripts."""
    import orjson

    encoded = [row.model_dump() if hasattr(row, "model_dump") else row for row in rows]
    sys.stdout.write(orjson.dumps(encoded, option=orjson.OPT_INDENT_2).decode() + "\n")


def fail(reason: object, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {reason}")
    raise typer.Exit(code)


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment, with the options given on the command line."""
    try:
        loaded = load(Settings)
    except ConfigError as exc:
        fail(exc)
    return loaded.model_copy(update={k: v for k, v in overrides.items() if v is not None})


async def _with_engine(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    engine = create_engine(settings)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def run(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """`await work(engine)` in a loop of its own; a database that cannot be reached is named."""
    try:
        return asyncio.run(_with_engine(settings, work))
    except (OSError, DBAPIError) as exc:
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        fail(f"cannot use the database {where}: {reason}; check DATABASE_URL", code=1)


def run_existing(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """`run` on a database that exists at the newest migration, for commands that only read or
    change what is there: they never create or migrate one (a SQLite file is not made by
    asking, and a database behind the code says what to run)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).is_file():
            fail(f"no database at {url.database}: check DATABASE_URL, or `alliance db upgrade`")

    async def at_head(engine) -> Any:
        current = await migrate.current(engine)
        if current != migrate.head():
            fail(
                f"the database is at migration {current or 'none'}, not {migrate.head()}: "
                "run `alliance db upgrade`"
            )
        return await work(engine)

    return run(settings, at_head)


def run_migrated(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """`run` on a migrated database, turning a feed's configuration error into a message."""

    async def migrated(engine) -> Any:
        await migrate.upgrade(engine)
        return await work(engine)

    try:
        return run(settings, migrated)
    except SyncError as exc:
        fail(exc)
