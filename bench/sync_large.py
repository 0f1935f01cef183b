"""Benchmark: syncing one large `alliance-feed/1` feed into SQLite and into PostgreSQL, beside
dlt and PostgreSQL's COPY as peers on PostgreSQL.

Generates a feed of `--items` items (100,000) once: mostly members (German and Chinese cities
with their names and identifiers), organisations that refer to members by item id, persons and
the posts they hold. Checks every item with the feed's own parser, serves the file from a small
HTTP server of its own on loopback (with an ETag; it answers 304 to `If-None-Match`), then runs
the loaders in turn, `--repeat` times (A B A B), each on a fresh database:

- the hub (`--peers hub`), on each database: `sync.runs.run` in a child process four times --
  the first sync, the same feed answered 304, the same feed again with the stored validators
  cleared (a 200 with the same content), and a copy of the feed with every tenth item changed,
  from a second server;
- dlt (`dlt`, PostgreSQL only): the same file loaded with a merge on (type, id), then again,
  then the changed copy;
- the COPY floor (`copy`, PostgreSQL only): asyncpg `copy_records_to_table` of the parsed items.

Prints the hub's table and the loaders' medians (and saves them with the commit and the load
average as JSON under `bench/results/`): seconds, items/s, peak memory, CPU of the loader and of
PostgreSQL, SQL statements. Everything it starts it stops, by process id; the databases it made
it drops and the temporary folder it removes (unless `--keep`). The parts are in `sync_bench/`;
see bench/README.md.
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import repo_path  # noqa: F401  (bench/ is on the path when run; this puts the repository there)
from scratch_db import create_postgres, drop_postgres
from sync_bench import RESULTS, ROOT, feed_server, hub, hub_child, peers, report, watch
from sync_bench.feed import check_feed, write_changed, write_feed
from sync_bench.spy import PY_SPY, print_profile, profile_path

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
PEERS = ("hub", "dlt", "copy")
POSTGRES_ONLY = ("dlt", "copy")


def code_fingerprint() -> str:
    """A hash of the code under test as it is on disk now (`sync/`, `store/`): each sync
    process imports it afresh, so a row whose fingerprint differs ran other code."""
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("sync/**/*.py"), *ROOT.glob("store/**/*.py")]):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="items in the feed (100000)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true", help="only SQLite (only the hub)")
    only.add_argument("--postgres-only", action="store_true", help="only PostgreSQL")
    parser.add_argument(
        "--peers",
        default=None,
        help="loaders to run, of hub,dlt,copy (all; dlt and copy load PostgreSQL only)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs of each loader, alternated (2)")
    parser.add_argument(
        "--database-url",
        default=ADMIN_URL,
        help=f"PostgreSQL to create the bench databases next to (default {ADMIN_URL})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="stop a loader process after this many seconds (900; 0: no limit)",
    )
    parser.add_argument("--seed", type=int, default=20261125, help="of the generated feed")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample every hub sync process with py-spy (100 Hz; slows it a little)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder and databases")
    args = parser.parse_args()
    if args.items < 20:
        parser.error("--items must be at least 20")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.sqlite_only and not args.database_url.startswith("postgres"):
        parser.error("--database-url must be a PostgreSQL URL")
    if args.profile and not PY_SPY.exists():
        parser.error(f"--profile needs py-spy: {PY_SPY.parent / 'pip'} install py-spy")
    if args.peers is None:
        args.peers = ["hub"] if args.sqlite_only else list(PEERS)
    else:
        args.peers = [name.strip() for name in args.peers.split(",") if name.strip()]
        unknown = sorted(set(args.peers) - set(PEERS))
        if unknown or not args.peers:
            parser.error(f"--peers takes some of {','.join(PEERS)}, not {','.join(unknown)}")
        if args.sqlite_only and set(args.peers) & set(POSTGRES_ONLY):
            parser.error("dlt and copy load PostgreSQL only: not with --sqlite-only")
    return args


def plan(args) -> list[tuple[str, str]]:
    """(loader, database) in the order of one round."""
    targets = []
    if "hub" in args.peers:
        if not args.postgres_only:
            targets.append(("hub", "sqlite"))
        if not args.sqlite_only:
            targets.append(("hub", "postgresql"))
    return targets + [(peer, "postgresql") for peer in POSTGRES_ONLY if peer in args.peers]


@contextlib.contextmanager
def fresh_postgres(args, kept: list[str], servers: frozenset):
    """A new database for one load, dropped after it (kept with `--keep`)."""
    name, url = asyncio.run(create_postgres(args.database_url))
    try:
        yield name, url
    finally:
        watch.stop_all(sparing=servers)  # no loader may still write to it; the feeds stay
        if args.keep:
            kept.append(name)
        else:
            asyncio.run(drop_postgres(args.database_url, name))


def run_one(loader: str, database: str, run: int, where: dict, args, kept: list[str]) -> list:
    """One load by `loader` on a fresh `database`: its rows."""
    folder, feed, total = where["folder"], where["feed"], where["items"]
    if database == "sqlite":
        path = folder / f"sync-{run}.db"
        print(f"sqlite ({path}), run {run}:", flush=True)
        rows = hub.bench_database("sqlite", f"sqlite+aiosqlite:///{path}", where, args, run)
        size = sum(p.stat().st_size for p in folder.glob(f"sync-{run}.db*")) / 2**20
        rows[0].setdefault("database_facts", {})["size_mib"] = round(size, 1)
        return rows
    with fresh_postgres(args, kept, where["servers"]) as (name, url):
        print(f"{loader} on postgresql (database {name}), run {run}:", flush=True)
        if loader == "hub":
            return hub.bench_database("postgresql", url, where, args, run)
        if loader == "dlt":
            return peers.bench_dlt(feed, where["changed_feed"], url, folder, total, args, run)
        return peers.bench_copy(feed, url, folder, total, args, run)


def make_feed(folder: Path, args) -> tuple[Path, dict]:
    """Writes the feed and checks it with the sync's parser: its path and what it holds."""
    feed = folder / "feed.json"
    started = time.perf_counter()
    made = write_feed(feed, args.items, args.seed)
    print(
        f"feed: {made['items']:,} items {made['types']}, {made['bytes'] / 2**20:.1f} MiB, "
        f"written in {time.perf_counter() - started:.1f} s "
        f"({made['german_members_sharing_a_name']:,} German members share one of "
        f"{made['german_names_repeated']:,} repeated names)",
        flush=True,
    )
    checked = time.perf_counter()
    check_feed(feed, made["items"])
    made["check_s"] = round(time.perf_counter() - checked, 1)
    print(f"feed: every item valid (checked with the sync's parser in {made['check_s']} s)")
    return feed, made


def finish(rows: list[dict], made: dict, args, context: dict) -> None:
    """Prints the tables, saves them as JSON with `context` (commit, load average, versions)
    and says what to doubt; a run that did not end as expected makes the bench fail."""
    hub_rows = [row for row in rows if row["loader"] == "hub"]
    found = report.summary(rows)
    if hub_rows:
        print()
        report.print_table(hub_rows)
        if any(row.get("profiled") for row in hub_rows):
            print("* sampled by py-spy while it ran (100 Hz), a little slower than unobserved")
    load = context["load_average"]
    print(
        f"\n{made['items']:,} items, median of {args.repeat} run(s) of each loader, "
        f"alternated; commit {context['commit']}; load average {load['start']} at the start, "
        f"{load['end']} at the end"
    )
    report.print_comparison(found)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    saved = RESULTS / f"sync_large-{stamp}.json"
    codes = {row["code"] for row in hub_rows}
    document = {
        "when": stamp,
        "command": sys.argv,
        "feed": made,
        "timeout_s": args.timeout,
        "repeat": args.repeat,
        "peers": args.peers,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        **context,
        "commit_at_end": git("rev-parse", "--short", "HEAD"),
        "code_changed_during_run": len(codes) > 1,
        "summary": found,
        "rows": rows,
    }
    saved.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    print(f"\nsaved {saved.relative_to(ROOT)}")
    if args.profile:
        for row in hub_rows:
            print(f"\n{row['database']}, {row['case']}, run {row['run']}:", end="")
            print_profile(profile_path(row["database"], row["case"], row["run"]))
    if len(codes) > 1:
        print(
            "\nWARNING: sync/ or store/ changed on disk during the run (see each row's "
            "`code` in the JSON): the rows measured different code."
        )
    if any(row["timed_out"] for row in rows):
        print(
            f"\nA loader did not finish within --timeout {args.timeout:g} s: its row "
            "shows what it had committed by then, and the cases after it were skipped. "
            "See the items/s by items done above; --timeout 0 waits for the end."
        )
    problems = [p for row in rows for p in row.get("problems", [])]
    if problems:
        raise SystemExit("some runs did not end as expected: " + "; ".join(problems))


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    RESULTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    commit = git("rev-parse", "--short", "HEAD")
    context = {
        "commit": commit,
        # Uncommitted changes to the code under test make the figures hard to compare.
        "uncommitted": git("status", "--porcelain", "--", "sync", "store").splitlines(),
    }
    if args.sqlite_only:
        print("--sqlite-only: the hub alone (dlt and COPY load PostgreSQL only)")
    if "dlt" in args.peers:
        peers.dlt_python()  # installed before anything is timed
        context["dlt"] = peers.DLT_REQUIREMENTS
    folder = Path(tempfile.mkdtemp(prefix="alliance_sync_large_"))
    kept: list[str] = []
    rows: list[dict] = []
    try:
        feed, made = make_feed(folder, args)
        server, feed_url, etag = feed_server.start(folder, feed)
        print(f"feed server pid {server.pid} on {feed_url}, ETag {etag}", flush=True)
        where = {"folder": folder, "feed": feed, "items": made["items"], "url": feed_url}
        where |= {"etag": etag, "server": server, "code": code_fingerprint}
        changed_feed = folder / "changed.json"
        where["changed"] = write_changed(feed, changed_feed)
        changed_server, where["changed_url"], _ = feed_server.start(folder, changed_feed)
        where["changed_feed"] = changed_feed
        where["servers"] = frozenset({server, changed_server})
        print(
            f"changed feed: {where['changed']:,} of the items changed, served by pid "
            f"{changed_server.pid} on {where['changed_url']}",
            flush=True,
        )
        load = {"start": load_average()}
        print(f"load average {load['start']} (1, 5, 15 min); commit {commit}", flush=True)
        for run in range(1, args.repeat + 1):
            for loader, database in plan(args):
                rows += run_one(loader, database, run, where, args, kept)
        load["end"] = load_average()
        finish(rows, made, args, context | {"load_average": load})
    finally:
        watch.stop_all()
        if args.keep:
            print(f"kept {folder}" + (f" and databases {', '.join(kept)}" if kept else ""))
        else:
            shutil.rmtree(folder, ignore_errors=True)
        print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == hub.CHILD:
        hub_child.child(*sys.argv[2:4])
    else:
        main()
