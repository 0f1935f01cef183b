"""`alliance sync` runs feeds now, `alliance runs` lists how runs ended
(docs/operations.md#feeds-and-runs)."""

import asyncio
import signal
from collections.abc import Awaitable
from typing import Annotated, TypeVar

import typer

from sync import config as sync_config
from sync import fetch
from sync.errors import SyncError

from ._shared import err, load_settings, out, print_json, run_existing, run_migrated

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
            async with fetch.client() as client:

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
        outcomes = run_migrated(load_settings(), work)
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


def list_runs(
    feed: Annotated[str | None, typer.Option(help="Only this feed's runs.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, every field.")] = False,
) -> None:
    """Recent sync runs and how they ended: items seen, then +created ~updated -deleted
    !quarantined."""
    from rich.table import Table

    from sync import ledger

    found = run_existing(
        load_settings(), lambda engine: ledger.recent_runs(engine, feed=feed, limit=limit)
    )
    if as_json:
        print_json(found)
        return
    table = Table("run", "feed", "started", "status", "http", "seen", "changes", "error")
    for r in found:
        table.add_row(
            str(r.id),
            r.feed,
            r.started_at.strftime("%m-%d %H:%M"),
            r.status,
            str(r.http_status or ""),
            str(r.items_seen),
            f"+{r.created} ~{r.updated} -{r.deleted} !{r.quarantined}",
            (r.error or "")[:200],
        )
    out.print(table)


def list_issues(
    feed: Annotated[str | None, typer.Option(help="Only this feed's.")] = None,
    run: Annotated[int | None, typer.Option(help="Only this run's.")] = None,
    limit: Annotated[int, typer.Option(help="How many, the newest.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, every field.")] = False,
) -> None:
    """Items runs quarantined, and why: each problem named by its path in the item."""
    from rich.table import Table

    from sync import ledger

    found = run_existing(
        load_settings(),
        lambda engine: ledger.quarantined(engine, feed=feed, run=run, limit=limit),
    )
    if as_json:
        print_json(found)
        return
    if not found:
        out.print("no quarantined items")
        return
    table = Table("run", "feed", "item", "stage", "reason")
    for q in found:
        item = f"{q.item_type or '?'} {q.item_id or q.position or ''}".strip()
        table.add_row(str(q.run_id), q.feed, item, q.stage, q.message)
    out.print(table)
