"""`alliance feeds`: the partner feeds an operator lists, adds, changes, pauses, resumes and
removes (docs/operations.md#feeds-and-runs); what a feed's fields mean is in docs/feeds.md."""

from typing import Annotated, Any

import typer

from store.tables import as_utc, utcnow
from sync import config as sync_config
from sync import locks
from sync.errors import SyncError

from ._shared import fail, load_settings, out, print_json, run_existing, run_migrated

app = typer.Typer(help="Partner feeds: list, add, update, pause, resume, remove.")


def _pairs(given: list[str], what: str) -> dict[str, str]:
    found = {}
    for pair in given:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            fail(f"{what} {pair!r} is not NAME=VALUE")
        found[name] = value
    return found


def _state(feed) -> str:
    if not feed.enabled:
        return "paused"
    if feed.next_eligible_at is not None and as_utc(feed.next_eligible_at) > utcnow():
        return f"resting until {as_utc(feed.next_eligible_at):%H:%M}"
    return "enabled"


@app.command("list")
def feeds_list(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array; header names, never values.")
    ] = False,
) -> None:
    """The feeds, their schedules and how their last runs went."""
    from rich.table import Table

    found = run_existing(load_settings(), sync_config.listed)
    if as_json:
        print_json(
            [
                feed.model_dump(exclude={"headers"}) | {"header_names": sorted(feed.headers)}
                for feed in found
            ]
        )
        return
    table = Table("feed", "format", "schedule", "state", "last success", "fails", "url")
    for feed in found:
        last = feed.last_success_at.strftime("%m-%d %H:%M") if feed.last_success_at else "-"
        table.add_row(
            feed.slug,
            f"{feed.format} {feed.mode}",
            feed.schedule,
            _state(feed),
            last,
            str(feed.consecutive_failures),
            feed.url,
        )
    out.print(table if found else "no feeds yet: alliance feeds add SLUG URL --format ...")


@app.command("add")
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
        fail(exc)
    run_migrated(load_settings(), lambda engine: sync_config.add(engine, feed))
    out.print(f"feed {slug} added")


def _merged(current: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """`given` over `current`; a name given an empty value is removed."""
    return {
        name: value
        for name, value in (current | given).items()
        if not (name in given and value == "")
    }


@app.command("update")
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
        fail("nothing to change: give the options to change (see --help)")

    async def work(engine) -> list[str]:
        if headers or options:
            feed = await sync_config.get(engine, slug)
            if headers:
                given["headers"] = _merged(feed.headers, headers)
            if options:
                given["options"] = _merged(feed.options, options)
        return await sync_config.change(engine, slug, **given)

    changed = run_migrated(load_settings(), work)
    if not changed:
        out.print(f"feed {slug}: nothing changed")
        return
    out.print(f"feed {slug} updated: {', '.join(changed)}")
    if sync_config.READ_AS & set(changed):
        out.print("its ETag, Last-Modified and cursor are forgotten: the next run reads it all")


def _feed_command(action: str, help_text: str) -> None:
    def command(slug: Annotated[str, typer.Argument(help="The feed.")]) -> None:
        run_migrated(load_settings(), lambda engine: getattr(sync_config, action)(engine, slug))
        out.print(f"feed {slug}: {action}d")

    command.__doc__ = help_text
    app.command(action)(command)


_feed_command("pause", "Stop running the feed on its schedule (manual syncs still work).")
_feed_command("resume", "Run the feed on its schedule again, without waiting out a backoff.")
_feed_command("remove", "Stop syncing the feed; what it brought stays.")


@app.command("lock")
def feeds_lock(
    record: Annotated[str, typer.Argument(help="TYPE/SLUG: member/kaiserslautern.")],
    field: Annotated[str, typer.Argument(help="As feeds name it: population, sort_name.")],
) -> None:
    """Lock a field of a record: from the next run on, feeds leave it as it is."""
    _lock_command(record, field, lock=True)


@app.command("unlock")
def feeds_unlock(
    record: Annotated[str, typer.Argument(help="TYPE/SLUG: member/kaiserslautern.")],
    field: Annotated[str, typer.Argument(help="The locked field.")],
) -> None:
    """Let feeds write a locked field again."""
    _lock_command(record, field, lock=False)


def _lock_command(record: str, field: str, lock: bool) -> None:
    entity_type, sep, slug = record.partition("/")
    if not sep:
        fail(f"{record!r} is not TYPE/SLUG, such as member/kaiserslautern")
    refused = locks.refusal(entity_type, field)
    if refused is not None:
        fail(refused)

    async def work(engine) -> bool:
        record_id = await locks.by_slug(engine, entity_type, slug)
        if record_id is None:
            fail(f"no {entity_type} has the slug {slug!r}")
        if lock:
            await locks.lock(engine, entity_type, record_id, field, by="cli")
            return True
        return await locks.unlock(engine, entity_type, record_id, field)

    if not run_existing(load_settings(), work):
        fail(f"{field} of {record} is not locked")
    out.print(f"{field} of {record} {'locked' if lock else 'unlocked'}")
