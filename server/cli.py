"""The `alliance` command: serve the API, run feeds, manage the database, print the schema."""

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import typer
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from store import migrate, seed
from store.config import load
from store.db import create_engine
from store.errors import ConfigError
from sync import config as sync_config
from sync.errors import SyncError

from .config import Settings

app = typer.Typer(help="Alliance Hub: the linked graph of an alliance of cities, over GraphQL.")
db_app = typer.Typer(help="Migrate and seed the database.")
app.add_typer(db_app, name="db")
err = Console(stderr=True)
out = Console()


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
    scheduler: Annotated[
        bool, typer.Option(help="Run the feed scheduler here (off for API replicas).")
    ] = True,
) -> None:
    """Serve GraphQL at /graphql and GraphiQL at /, and run the feed scheduler."""
    import uvicorn

    from .app import create_app
    from .logs import setup

    settings = _settings(host=host, port=port)
    if not scheduler:
        settings = settings.model_copy(update={"scheduler": False})
    if demo:
        settings = settings.model_copy(update={"demo": True})
        _upgrade_and_seed(settings, with_seed=True)
    if settings.scheduler and settings.feeds_file.is_file():
        # Read here too, before uvicorn: a broken file fails in one line, as `worker` does,
        # not in a traceback of the application's start-up.
        try:
            sync_config.read_toml(settings.feeds_file)
        except SyncError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
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


feeds_app = typer.Typer(help="Partner feeds: list, add, update, pause, resume, remove.")
app.add_typer(feeds_app, name="feeds")


def _feed_work(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `work` on a migrated database, turning a feed's configuration error into a message."""

    async def migrated(engine) -> Any:
        await migrate.upgrade(engine)
        return await work(engine)

    try:
        return _run(settings, migrated)
    except SyncError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _pairs(given: list[str], what: str) -> dict[str, str]:
    found = {}
    for pair in given:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            err.print(f"[red]error:[/red] {what} {pair!r} is not NAME=VALUE")
            raise typer.Exit(2)
        found[name] = value
    return found


@feeds_app.command("list")
def feeds_list() -> None:
    """The feeds, their schedules and how their last runs went."""
    from rich.table import Table

    found = _feed_work(_settings(), sync_config.listed)
    table = Table(
        "feed", "format", "mode", "schedule", "enabled", "last success", "failures", "url"
    )
    for feed in found:
        last = feed.last_success_at.strftime("%Y-%m-%d %H:%M") if feed.last_success_at else "-"
        table.add_row(
            feed.slug,
            feed.format,
            feed.mode,
            feed.schedule,
            "yes" if feed.enabled else "paused",
            last,
            str(feed.consecutive_failures),
            feed.url,
        )
    out.print(table if found else "no feeds yet: alliance feeds add SLUG URL --format ...")


@feeds_app.command("add")
def feeds_add(
    slug: Annotated[str, typer.Argument(help="Short name: lowercase, digits, dashes.")],
    url: Annotated[str, typer.Argument(help="Where the feed is published (http/https).")],
    format: Annotated[
        str, typer.Option(help="alliance-feed/1, popolo or csv.")
    ] = "alliance-feed/1",
    schedule: Annotated[str, typer.Option(help="15m, 1h, 1d or a cron expression.")] = "1h",
    mode: Annotated[str, typer.Option(help="snapshot or incremental.")] = "snapshot",
    header: Annotated[
        list[str], typer.Option(help="NAME=VALUE; VALUE env:VAR reads a secret from $VAR.")
    ] = [],  # noqa: B006 (typer reads the default, never mutates it)
    option: Annotated[
        list[str], typer.Option(help="Format option NAME=VALUE (CSV: item_type, id_column).")
    ] = [],  # noqa: B006
    allow_private: Annotated[
        bool, typer.Option(help="Allow loopback and private addresses (tests, intranets).")
    ] = False,
    allow_link_local: Annotated[
        bool, typer.Option(help="Allow link-local and cloud metadata addresses (169.254.x.x).")
    ] = False,
) -> None:
    """Add a feed (one that exists is changed with `feeds update`)."""
    try:
        feed = sync_config.spec(
            slug=slug,
            url=url,
            format=format,
            schedule=schedule,
            mode=mode,
            headers=_pairs(header, "header"),
            options=_pairs(option, "option"),
            allow_private=allow_private,
            allow_link_local=allow_link_local,
        )
    except SyncError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    _feed_work(_settings(), lambda engine: sync_config.add(engine, feed))
    out.print(f"feed {slug} added")


def _merged(current: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """`given` over `current`; a name given an empty value is removed."""
    return {
        name: value
        for name, value in (current | given).items()
        if not (name in given and value == "")
    }


@feeds_app.command("update")
def feeds_update(
    slug: Annotated[str, typer.Argument(help="The feed.")],
    url: Annotated[str | None, typer.Option(help="Where the feed is published now.")] = None,
    format: Annotated[str | None, typer.Option(help="alliance-feed/1, popolo or csv.")] = None,
    schedule: Annotated[str | None, typer.Option(help="15m, 1h, 1d or a cron expression.")] = None,
    mode: Annotated[str | None, typer.Option(help="snapshot or incremental.")] = None,
    header: Annotated[
        list[str], typer.Option(help="NAME=VALUE sets a header, NAME= removes it.")
    ] = [],  # noqa: B006 (typer reads the default, never mutates it)
    option: Annotated[
        list[str], typer.Option(help="NAME=VALUE sets a format option, NAME= removes it.")
    ] = [],  # noqa: B006
    allow_private: Annotated[
        bool | None,
        typer.Option(
            "--allow-private/--no-allow-private", help="Allow loopback and private addresses."
        ),
    ] = None,
    allow_link_local: Annotated[
        bool | None,
        typer.Option(
            "--allow-link-local/--no-allow-link-local",
            help="Allow link-local and cloud metadata addresses.",
        ),
    ] = None,
) -> None:
    """Change only what is given. A new URL, format, mode or options make the feed forget its
    ETag, Last-Modified and cursor, so its next run reads the whole document."""
    given = {
        name: value
        for name, value in dict(
            url=url,
            format=format,
            schedule=schedule,
            mode=mode,
            allow_private=allow_private,
            allow_link_local=allow_link_local,
        ).items()
        if value is not None
    }
    headers, options = _pairs(header, "header"), _pairs(option, "option")
    if not (given or headers or options):
        err.print("[red]error:[/red] nothing to change: give the options to change (see --help)")
        raise typer.Exit(2)

    async def work(engine) -> list[str]:
        if headers or options:
            feed = await sync_config.get(engine, slug)
            if headers:
                given["headers"] = _merged(feed.headers, headers)
            if options:
                given["options"] = _merged(feed.options, options)
        return await sync_config.change(engine, slug, **given)

    changed = _feed_work(_settings(), work)
    if not changed:
        out.print(f"feed {slug}: nothing changed")
        return
    out.print(f"feed {slug} updated: {', '.join(changed)}")
    if sync_config.READ_AS & set(changed):
        out.print("its ETag, Last-Modified and cursor are forgotten: the next run reads it all")


def _feed_command(action: str, help_text: str) -> None:
    def command(slug: Annotated[str, typer.Argument(help="The feed.")]) -> None:
        _feed_work(_settings(), lambda engine: getattr(sync_config, action)(engine, slug))
        out.print(f"feed {slug}: {action}d")

    command.__doc__ = help_text
    feeds_app.command(action)(command)


_feed_command("pause", "Stop running the feed on its schedule (manual syncs still work).")
_feed_command("resume", "Run the feed on its schedule again, without waiting out a backoff.")
_feed_command("remove", "Stop syncing the feed; what it brought stays.")


T = TypeVar("T")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_SKIPPED = 3


class Interrupted(Exception):
    """SIGINT or SIGTERM came while feeds ran."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


async def _until_signalled(work: Awaitable[T]) -> T:
    """Await `work`. The first SIGINT or SIGTERM cancels it (each run under way then ends
    `abandoned` and releases its feed) and raises Interrupted; a second one stops at once."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    caught: list[int] = []

    def stop(signum: int) -> None:
        caught.append(signum)
        for each in STOP_SIGNALS:
            loop.remove_signal_handler(each)
        task.cancel()

    for each in STOP_SIGNALS:
        loop.add_signal_handler(each, stop, each)
    try:
        return await task
    except asyncio.CancelledError:
        if not caught:
            raise
        raise Interrupted(caught[0]) from None
    finally:
        for each in STOP_SIGNALS:
            loop.remove_signal_handler(each)


@app.command()
def sync(
    feeds: Annotated[list[str] | None, typer.Argument(help="Feeds to run now.")] = None,
    all_feeds: Annotated[bool, typer.Option("--all", help="Every enabled feed.")] = False,
    dry_run: Annotated[
        bool, typer.Option(help="Report what would change without writing anything.")
    ] = False,
) -> None:
    """Run feeds now, with a progress bar each.

    First, runs whose process stopped (no heartbeat for the lease's TTL) are marked
    abandoned. Exits 0 when every feed ran (succeeded, partial or not modified), 1 when a run
    failed, 3 when none failed but a feed was skipped because another process runs it (named,
    with since when), and 128 + the signal's number (130, 143) when SIGINT or SIGTERM stopped
    it: its runs end abandoned and free their feeds at once.
    """
    from rich.progress import Progress
    from rich.table import Table

    from store.feeds import RunStatus
    from sync import leases, ledger, runs

    async def work(engine) -> list[runs.Outcome]:
        wanted = list(feeds or [])
        if all_feeds:
            wanted += [f.slug for f in await sync_config.listed(engine) if f.enabled]
        if not wanted:
            raise SyncError("name feeds to sync, or --all")
        reaped = await ledger.reap(engine, grace=leases.TTL)
        if reaped:
            whose = (
                "run of a stopped process is" if reaped == 1 else "runs of stopped processes are"
            )
            ttl = leases.TTL.total_seconds()
            err.print(f"{reaped} {whose} now abandoned (no heartbeat for {ttl:g} s)")
        with Progress(console=err) as progress:
            async with httpx.AsyncClient() as client:

                async def one(slug: str) -> runs.Outcome:
                    task = progress.add_task(slug, total=None)

                    def advance(counts) -> None:
                        progress.update(
                            task, completed=counts.seen, description=f"{slug}: {counts.seen} items"
                        )

                    outcome = await runs.run(
                        engine, slug, client, dry_run=dry_run, progress=advance, triggered_by="cli"
                    )
                    progress.update(
                        task,
                        total=outcome.counts.seen or 1,
                        completed=outcome.counts.seen or 1,
                        description=f"{slug}: {outcome.status}",
                    )
                    return outcome

                runs_now = asyncio.gather(*(one(slug) for slug in dict.fromkeys(wanted)))
                return await _until_signalled(runs_now)

    try:
        outcomes = _feed_work(_settings(), work)
    except Interrupted as stop:
        err.print(f"interrupted by {stop}: the runs under way ended abandoned, their feeds free")
        raise typer.Exit(128 + stop.signum) from None
    table = Table(
        "feed",
        "status",
        "seen",
        "created",
        "updated",
        "unchanged",
        "deleted",
        "quarantined",
        "error",
        title="dry run: nothing written" if dry_run else None,
    )
    for o in outcomes:
        c = o.counts
        table.add_row(
            o.feed,
            o.status,
            *map(str, (c.seen, c.created, c.updated, c.unchanged, c.deleted, c.quarantined)),
            o.error or "",
        )
    out.print(table)
    for o in outcomes:
        if o.status == RunStatus.SKIPPED_LOCKED:
            err.print(f"{o.feed}: skipped, {o.error}", markup=False, soft_wrap=True)
    if any(o.status == RunStatus.FAILED for o in outcomes):
        raise typer.Exit(1)
    if any(o.status == RunStatus.SKIPPED_LOCKED for o in outcomes):
        raise typer.Exit(EXIT_SKIPPED)


@app.command("runs")
def list_runs(
    feed: Annotated[str | None, typer.Option(help="Only this feed's runs.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
) -> None:
    """Recent sync runs and how they ended."""
    from rich.table import Table
    from sqlalchemy import select

    from store.registry import FEED as feed_table
    from store.registry import RUN as run_table

    async def work(engine) -> list:
        query = (
            select(run_table, feed_table.c.slug)
            .join(feed_table, feed_table.c.id == run_table.c.feed_id)
            .order_by(run_table.c.id.desc())
            .limit(limit)
        )
        if feed:
            query = query.where(feed_table.c.slug == feed)
        async with engine.connect() as connection:
            return (await connection.execute(query)).all()

    table = Table(
        "run",
        "feed",
        "trigger",
        "started",
        "status",
        "http",
        "seen",
        "created",
        "updated",
        "deleted",
        "quarantined",
        "error",
    )
    for r in _feed_work(_settings(), work):
        table.add_row(
            str(r.id),
            r.slug,
            r.trigger,
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.status,
            str(r.http_status or ""),
            *map(str, (r.items_seen, r.created, r.updated, r.deleted, r.quarantined)),
            (r.error or "")[:80],
        )
    out.print(table)


@app.command()
def worker() -> None:
    """Run the feed scheduler without HTTP (scaled deployments: API replicas run without it)."""
    from .logs import setup
    from .scheduling import run_worker

    settings = _settings()
    setup(settings.log_format)
    try:
        asyncio.run(run_worker(settings))
    except SyncError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
