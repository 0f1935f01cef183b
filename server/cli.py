"""The `alliance` command: serve the API, manage the database, print the schema."""

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from store import migrate, seed
from store.config import load
from store.db import create_engine
from store.errors import ConfigError

from .config import Settings

app = typer.Typer(help="Alliance Hub: the linked graph of an alliance of cities, over GraphQL.")
db_app = typer.Typer(help="Migrate and seed the database.")
app.add_typer(db_app, name="db")
err = Console(stderr=True)
out = Console()

DEMO_DATABASE = "sqlite+aiosqlite:///./alliance-demo.db"


def _settings(**overrides: Any) -> Settings:
    try:
        settings = load(Settings)
    except ConfigError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    return settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})


async def _with_engine(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    engine = create_engine(settings)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def _run(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    try:
        return asyncio.run(_with_engine(settings, work))
    except (OSError, DBAPIError) as exc:
        reason = exc.orig if isinstance(exc, DBAPIError) else exc
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        err.print(
            f"[red]error:[/red] cannot use the database {where}: {reason}; check DATABASE_URL"
        )
        raise typer.Exit(1) from None


def _upgrade_and_seed(settings: Settings, with_seed: bool) -> None:
    async def work(engine) -> seed.SeedReport | None:
        await migrate.upgrade(engine)
        return await seed.seed(engine) if with_seed else None

    report = _run(settings, work)
    if report is not None:
        _print_seed(report)


def _print_seed(report: seed.SeedReport) -> None:
    if report.already_seeded:
        out.print("seed: already present, nothing changed")
    else:
        counts = ", ".join(f"{n} {kind}" for kind, n in report.created.items())
        out.print(f"seed: created {counts}")


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option(help="Migrate and seed a local SQLite demo database first.")
    ] = False,
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (ALLIANCE_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (ALLIANCE_PORT).")] = None,
) -> None:
    """Serve GraphQL at /graphql and GraphiQL at /."""
    import uvicorn

    from .app import create_app
    from .logs import setup

    settings = _settings(host=host, port=port)
    if demo:
        if not {"DATABASE_URL", "ALLIANCE_DATABASE_URL"} & os.environ.keys():
            settings = settings.model_copy(update={"database_url": DEMO_DATABASE})
        _upgrade_and_seed(settings, with_seed=True)
    setup(settings.log_format)
    logging.getLogger("alliance").info(
        "serving on http://%s:%s/ (database %s)",
        settings.host,
        settings.port,
        settings.database_url.split("@")[-1],
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        log_config=None,  # uvicorn's own lines go through our handler (JSON in production)
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the newest migration."""
    settings = _settings()
    _upgrade_and_seed(settings, with_seed=False)
    out.print(f"database at migration {migrate.head()}")


@db_app.command("seed")
def db_seed() -> None:
    """Load the ISA as of 2018-04-23 (migrating first); does nothing when already seeded."""
    _upgrade_and_seed(_settings(), with_seed=True)


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Print the GraphQL schema (SDL); `schema.graphql` is this output."""
    from .schema import build_schema

    sdl = build_schema(_settings()).as_str() + "\n"
    if output is None:
        typer.echo(sdl, nl=False)
    else:
        output.write_text(sdl, encoding="utf-8")
