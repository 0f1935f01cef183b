"""Benchmark: the hub's reads beside PostGraphile 5's, on the same PostgreSQL database.

Installs PostGraphile into the git-ignored `bench/.peers/postgraphile/` (pinned, once), makes a
fresh database filled like `nested_members.py`'s, starts `alliance serve` and PostGraphile on
it, checks that both answer each query with the same records, counts the statements each
sends to PostgreSQL per answer (on the wire, in a pass of its own), then measures the queries
on both servers in turn, A B A B, at 8 and at 1 connections. Prints one markdown table of the
medians and saves every window as JSON under `bench/results/`. Everything it starts it stops,
by process id; the database it made it drops. With `--hub-only --sqlite`, the hub on SQLite
alone. See bench/README.md, "reads.py".
"""

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import repo_path  # noqa: F401  (bench/ is on the path when run; this puts the repository there)
from nested_members import ADMIN_URL, counter_sum, git, migrate_and_fill, start_server
from read_bench import meter, peer, queries, wire
from scratch_db import create_postgres, drop_postgres
from sqlalchemy.engine import make_url

from tests import processes

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
CONCURRENCIES = (8, 1)
HUB, CACHED, PEER = "hub", "hub, cached", "PostGraphile"


@dataclass
class Server:
    name: str  # HUB, CACHED or PEER
    process: processes.HubProcess

    @property
    def is_hub(self) -> bool:
        return self.name != PEER

    def query(self, read: queries.Read) -> str:
        return read.hub if self.is_hub else read.peer


def post(base: str, query: str) -> httpx.Response:
    answer = httpx.post(
        f"{base}/graphql",
        content=json.dumps({"query": query}),
        headers={"content-type": "application/json"},
        timeout=60,
        trust_env=False,
    )
    if answer.status_code != 200:
        raise SystemExit(f"{base}: status {answer.status_code}: {answer.text[:500]}")
    return answer


# --- statements on the wire ------------------------------------------------------------------


async def count_statements(url: str, with_peer: bool, requests: int) -> dict:
    """Starts each server once more, through a relay that counts what reaches PostgreSQL, and
    sends each query `requests` times, one after the other: statements per answer, by kind."""
    target = make_url(url)
    counts: dict[str, dict[str, dict[str, float]]] = {}
    async with wire.StatementRelay(target.host, target.port or 5432) as relay:
        relayed = target.set(host="127.0.0.1", port=relay.listen_port)
        relayed_url = relayed.render_as_string(hide_password=False)
        sides = [(HUB, lambda: start_server(relayed_url, RESULTS / "reads-hub-wire.log"))]
        if with_peer:
            sides.append((PEER, lambda: peer.serve(relayed_url, RESULTS / "postgraphile-wire.log")))
        for name, start in sides:
            server = await start()
            try:
                async with httpx.AsyncClient(
                    base_url=server.base_url, timeout=60, trust_env=False
                ) as client:
                    for read in queries.READS:
                        body = {"query": read.hub if name == HUB else read.peer}
                        await client.post("/graphql", json=body)  # planned and cached first
                        await asyncio.sleep(0.2)  # lets the pool take its connection back
                        relay.counts.clear()
                        for _ in range(requests):
                            answer = await client.post("/graphql", json=body)
                            # A failed answer would make the count mean something else.
                            queries.check(read, f"{name} (through the relay)", answer.json())
                        await asyncio.sleep(0.2)
                        per_answer = {
                            kind: n / requests for kind, n in sorted(relay.counts.items())
                        }
                        counts.setdefault(read.name, {})[name] = per_answer
            finally:
                # In a thread: the relay must keep forwarding while the server closes its pool.
                await asyncio.to_thread(server.stop)
    return counts


def wire_total(by_kind: dict[str, float] | None) -> float | None:
    if by_kind is None:
        return None
    return sum(n for kind, n in by_kind.items() if kind != "(parse)")


# --- one window ------------------------------------------------------------------------------


def window(
    server: Server, read: queries.Read, concurrency: int, args, database: str | None
) -> dict:
    """One measured window on one server (`read_bench/drive.py` as its own process)."""
    command = [
        sys.executable,
        "-m",
        "read_bench.drive",
        "--url",
        f"{server.process.base_url}/graphql",
        "--body",
        json.dumps({"query": server.query(read)}),
        "--concurrency",
        str(concurrency),
        "--warmup",
        str(args.warmup),
        "--duration",
        str(args.duration),
        "--server-pid",
        str(server.process.process.pid),
    ]
    if server.is_hub:
        command += ["--snapshot", "/metrics"]
    if database:
        command += ["--pg-dsn", meter.libpq_url(args.database_url), "--pg-database", database]
    run = subprocess.run(
        command,
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=args.warmup + args.duration + 60,
    )
    if run.returncode != 0:
        raise SystemExit(f"{read.name}, {server.name}: the load failed:\n{run.stderr[-2000:]}")
    load = json.loads(run.stdout)
    before, after = load["probe_before"], load["probe_after"]
    requests = load["requests"]
    result = {
        "read": read.name,
        "server": server.name,
        "concurrency": concurrency,
        "requests": requests,
        "rps": load["rps"],
        "p50_ms": load["p50_ms"],
        "p99_ms": load["p99_ms"],
        "server_cpu_ms": 1000 * (after["server_cpu_s"] - before["server_cpu_s"]) / requests,
        "machine_cpu_pct": round(100 * load["machine_cpu_s"] / load["elapsed_s"]),
        "client_cpu_pct": round(100 * load["client_cpu_s"] / load["elapsed_s"]),
        "non_200": load["non_200"],
        "with_errors": load["with_errors"],
    }
    if database:
        used, gone = meter.backend_cpu(before["backends"], after["backends"])
        result |= {"pg_cpu_ms": 1000 * used / requests, "backends_gone": gone}
    if server.is_hub:
        metrics = {
            key: counter_sum(load["snapshot_after"], key)
            - counter_sum(load["snapshot_before"], key)
            for key in ("alliance_sql_statements_total", "alliance_graphql_requests_total")
        }
        result["hub_statements"] = metrics["alliance_sql_statements_total"] / requests
        if metrics["alliance_graphql_requests_total"] != requests:
            print(
                f"warning: {read.name}: /metrics counted other requests than sent", file=sys.stderr
            )
    return result


async def analyze(url: str) -> None:
    """Gives the planner its statistics now rather than when autovacuum comes by: on a freshly
    filled database it estimates one row per table, and the hub's filtered page then joins by
    nested loop over every membership: 650 ms of PostgreSQL CPU instead of 8."""
    connection = await asyncpg.connect(meter.libpq_url(url))
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


# --- the table -------------------------------------------------------------------------------


def median(rows: list[dict], key: str) -> float | None:
    values = [row[key] for row in rows if row.get(key) is not None]
    return statistics.median(values) if values else None


def summarise(windows: list[dict], checked: dict, wire_counts: dict) -> list[dict]:
    summary = []
    for read in queries.READS:
        for name in (HUB, CACHED, PEER):
            mine = [w for w in windows if w["read"] == read.name and w["server"] == name]
            if not mine:
                continue
            by = {c: [w for w in mine if w["concurrency"] == c] for c in CONCURRENCIES}
            busy = by[CONCURRENCIES[0]]
            summary.append(
                {
                    "read": read.name,
                    "server": name,
                    "rounds": len(busy),
                    **{
                        f"{key}_{c}": median(by[c], key)
                        for c in CONCURRENCIES
                        for key in ("rps", "p50_ms", "p99_ms")
                    },
                    "server_cpu_ms": median(busy, "server_cpu_ms"),
                    "pg_cpu_ms": median(busy, "pg_cpu_ms"),
                    "hub_statements": median(busy, "hub_statements"),
                    "wire_statements": wire_total(wire_counts.get(read.name, {}).get(name)),
                    "objects": read.objects,
                    "bytes": checked[read.name][name],
                }
            )
    return summary


COLUMNS = [
    ("read", "read", "{}"),
    ("server", "server", "{}"),
    ("req/s @8", "rps_8", "{:.1f}"),
    ("p50 @8", "p50_ms_8", "{:.1f}"),
    ("p99 @8", "p99_ms_8", "{:.1f}"),
    ("req/s @1", "rps_1", "{:.1f}"),
    ("p50 @1", "p50_ms_1", "{:.2f}"),
    ("p99 @1", "p99_ms_1", "{:.2f}"),
    ("server CPU ms", "server_cpu_ms", "{:.2f}"),
    ("PG CPU ms", "pg_cpu_ms", "{:.2f}"),
    ("stmts (hub)", "hub_statements", "{:.2f}"),
    ("stmts (wire)", "wire_statements", "{:.2f}"),
    ("objects", "objects", "{}"),
    ("bytes", "bytes", "{}"),
]


def markdown(summary: list[dict]) -> str:
    lines = [
        "| " + " | ".join(title for title, _, _ in COLUMNS) + " |",
        "|" + "|".join(" --- " if i < 2 else " ---: " for i in range(len(COLUMNS))) + "|",
    ]
    for row in summary:
        cells = [fmt.format(row[key]) if row[key] is not None else "-" for _, key, fmt in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def wire_markdown(wire_counts: dict) -> str:
    lines = [
        "| read | server | statements per answer at PostgreSQL, by kind |",
        "| --- | --- | --- |",
    ]
    for read, sides in wire_counts.items():
        for name, by_kind in sides.items():
            kinds = ", ".join(f"{kind} {n:g}" for kind, n in by_kind.items()) or "none"
            lines.append(f"| {read} | {name} | {kinds} |")
    return "\n".join(lines)


# --- main ------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2000, help="synthetic members (2000)")
    parser.add_argument("--rounds", type=int, default=2, help="A B rounds per window (2)")
    parser.add_argument("--duration", type=float, default=10, help="measured seconds (10)")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds (3)")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1 s warm-up, 3 s windows"
    )
    parser.add_argument("--hub-only", action="store_true", help="no PostGraphile")
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file (with --hub-only)")
    parser.add_argument(
        "--wire-requests",
        type=int,
        default=10,
        help="requests per query in the statement count (10; 0 skips it)",
    )
    parser.add_argument(
        "--database-url",
        default=ADMIN_URL,
        help=f"PostgreSQL to create the bench database next to (default {ADMIN_URL})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and say where")
    args = parser.parse_args()
    if args.sqlite and not args.hub_only:
        parser.error("PostGraphile needs PostgreSQL: --sqlite goes with --hub-only")
    if args.members < 50:
        parser.error("--members must be at least 50 (the page size)")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.quick:
        args.warmup, args.duration = 1.0, 3.0
    return args


def main() -> None:
    args = parse_args()
    # A SIGTERM (a CI timeout, say) should clean up as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    RESULTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    commit = git("rev-parse", "--short", "HEAD")
    load_before = meter.load_average()
    print(f"commit {commit}; load average {' '.join(map(str, load_before))}")
    installed = None if args.hub_only else peer.install()

    pg_name = temp_dir = url = None
    servers: list[Server] = []
    try:
        if args.sqlite:
            temp_dir = tempfile.mkdtemp(prefix="alliance_bench_")
            url = f"sqlite+aiosqlite:///{temp_dir}/bench.db"
        else:
            pg_name, url = asyncio.run(create_postgres(args.database_url))
        asyncio.run(migrate_and_fill(url, args.members))
        if pg_name:
            asyncio.run(analyze(url))
        print(f"{pg_name or url}: filled with {args.members} members")

        wire_counts = {}
        if pg_name and args.wire_requests:
            wire_counts = asyncio.run(count_statements(url, not args.hub_only, args.wire_requests))
            print(f"statements counted on the wire, {args.wire_requests} answers per query")

        hub = asyncio.run(start_server(url, RESULTS / "reads-hub.log"))
        servers.append(Server(HUB, hub))
        # The same hub with its answer cache on: every window after the first request is a hit.
        cached = asyncio.run(start_server(url, RESULTS / "reads-hub-cached.log", cached=True))
        servers.append(Server(CACHED, cached))
        if not args.hub_only:
            servers.append(Server(PEER, asyncio.run(peer.serve(url, RESULTS / "postgraphile.log"))))
        print(
            ", ".join(
                f"{s.name} pid {s.process.process.pid} on {s.process.base_url}" for s in servers
            )
        )

        # Each answer once, checked: the records the data implies, the same on both sides.
        checked: dict[str, dict[str, int]] = {}
        for read in queries.READS:
            found = {}
            for server in servers:
                answer = post(server.process.base_url, server.query(read))
                found[server.name] = queries.check(read, server.name, answer.json())
                checked.setdefault(read.name, {})[server.name] = len(answer.content)
            if PEER in found:
                queries.same_records(read, found[HUB], found[PEER])
        print(
            f"answers checked; {args.rounds} rounds of {args.warmup:g} s warm-up + "
            f"{args.duration:g} s per window"
        )

        windows = []
        for round_ in range(1, args.rounds + 1):
            for read in queries.READS:
                for concurrency in CONCURRENCIES:
                    for server in servers:  # A B, A B: a slow stretch falls on both
                        row = window(server, read, concurrency, args, pg_name)
                        windows.append(row | {"round": round_})
                        pg = f", PG {row['pg_cpu_ms']:.2f}" if "pg_cpu_ms" in row else ""
                        print(
                            f"  {round_} {read.name} @{concurrency} {server.name}: "
                            f"{row['rps']} req/s, p50 {row['p50_ms']:.1f} ms, CPU ms/answer "
                            f"server {row['server_cpu_ms']:.2f}{pg}; machine "
                            f"{row['machine_cpu_pct']}%",
                            flush=True,
                        )
        load_after = meter.load_average()
        summary = summarise(windows, checked, wire_counts)
        database = "SQLite" if args.sqlite else "PostgreSQL"
        print(
            f"\n{database}, {args.members} members, commit {commit}, {args.rounds} rounds, "
            f"{args.duration:g} s windows; load average before "
            f"{' '.join(map(str, load_before))}, after {' '.join(map(str, load_after))}\n"
        )
        print(markdown(summary))
        if wire_counts:
            print()
            print(wire_markdown(wire_counts))

        stamp = time.strftime("%Y%m%dT%H%M%S")
        saved = RESULTS / f"reads-{stamp}.json"
        saved.write_text(
            json.dumps(
                {
                    "when": stamp,
                    "commit": commit,
                    # Uncommitted changes to the code under test make the figures hard to compare.
                    "uncommitted": git(
                        "status", "--porcelain", "--", "server", "store"
                    ).splitlines(),
                    "database": database.lower(),
                    "members": args.members,
                    "rounds": args.rounds,
                    "warmup_s": args.warmup,
                    "duration_s": args.duration,
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load_average_before": load_before,
                    "load_average_after": load_after,
                    "postgraphile": installed,
                    "queries": {r.name: {HUB: r.hub, PEER: r.peer} for r in queries.READS},
                    "wire_statements": wire_counts,
                    "summary": summary,
                    "windows": windows,
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
        print(f"\nsaved {saved.relative_to(ROOT)}")
        failed = {
            f"{w['read']} ({w['server']})" for w in windows if w["non_200"] or w["with_errors"]
        }
        if failed:
            raise SystemExit(f"non-200 answers or GraphQL errors in: {', '.join(sorted(failed))}")
    except processes.ProcessError as exc:  # a server that exited or never answered: its log
        raise SystemExit(str(exc)[-4000:]) from None
    finally:
        for server in servers:
            server.process.stop()
        if args.keep and url:
            print(f"kept the database: {url}")
        elif pg_name:
            asyncio.run(drop_postgres(args.database_url, pg_name))
        elif temp_dir:
            for leftover in Path(temp_dir).iterdir():
                leftover.unlink()
            os.rmdir(temp_dir)
        print(f"done in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
