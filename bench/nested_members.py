"""Benchmark: a page of members with their organisations, posts and persons, over real HTTP.

Makes a fresh database (PostgreSQL by default, `--sqlite` for a temporary SQLite file), fills it
with `tests/synthetic.py`, starts `alliance serve` as its own process, and drives it from a second
process (`bench/load.py`) at fixed concurrency. Prints one table (and saves it as JSON under
`bench/results/`): throughput, latency, SQL statements per request and cost per object for the
nested query and a few variants. Everything it starts it stops, by process id; the database it
made it drops (unless `--keep`). See bench/README.md.
"""

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import repo_path  # noqa: F401  (bench/ is on the path when run; this puts the repository there)
from scratch_db import create_postgres, drop_postgres

from store import migrate
from store.config import StoreSettings
from store.db import create_engine
from tests import processes, synthetic

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
PREFIX = "syn"  # the synthetic alliance's slug, served as the default alliance
ORGANISATIONS = 5  # per member, in the data and in the query


# --- the queries -----------------------------------------------------------------------------

ORGANISATION_FIELDS = "slug name kind posts { label person { slug name } }"


def nested_query(first: int, edges: bool) -> str:
    """The query under test; with `edges`, both connections are read as edges { cursor node }."""

    def items(fields: str) -> str:
        return f"edges {{ cursor node {{ {fields} }} }}" if edges else f"nodes {{ {fields} }}"

    member = f"slug name organisations(first: {ORGANISATIONS}) {{ {items(ORGANISATION_FIELDS)} }}"
    return f"query Page {{ alliance {{ members(first: {first}) {{ {items(member)} }} }} }}"


@dataclass
class Variant:
    name: str
    query: str
    members: int | None  # members the answer must hold; None: no graph objects at all
    edges: bool = False


def variants(page: int) -> list[Variant]:
    return [
        Variant(f"nodes, first: {page}", nested_query(page, edges=False), page),
        Variant("nodes, first: 10", nested_query(10, edges=False), 10),
        Variant(f"edges, first: {page}", nested_query(page, edges=True), page, edges=True),
        Variant("{ __typename }", "{ __typename }", None),
    ]


def count_objects(answer: dict, expected_members: int, edges: bool) -> dict[str, int]:
    """Counts the objects in one answer, failing loudly unless it has the shape the data implies."""
    if answer.get("errors"):
        raise SystemExit(f"the query answered with errors: {answer['errors']}")

    def items(connection: dict) -> list[dict]:
        return [edge["node"] for edge in connection["edges"]] if edges else connection["nodes"]

    members = items(answer["data"]["alliance"]["members"])
    counts = Counter(members=len(members))
    if len(members) != expected_members:
        raise SystemExit(f"expected {expected_members} members, got {len(members)}")
    for member in members:
        organisations = items(member["organisations"])
        if len(organisations) != ORGANISATIONS:
            raise SystemExit(f"{member['slug']}: {len(organisations)} organisations, expected 5")
        counts["organisations"] += len(organisations)
        for organisation in organisations:
            posts = organisation["posts"]
            if not posts or any(post["person"] is None for post in posts):
                raise SystemExit(f"{organisation['slug']}: no post with a person: {posts}")
            counts["posts"] += len(posts)
            counts["persons"] += len(posts)
    return dict(counts)


# --- the database ----------------------------------------------------------------------------


async def migrate_and_fill(url: str, members: int) -> None:
    engine = create_engine(StoreSettings(database_url=url))
    try:
        await migrate.upgrade(engine)
        await synthetic.fill(engine, members=members, organisations=ORGANISATIONS, prefix=PREFIX)
    finally:
        await engine.dispose()


# --- the server ------------------------------------------------------------------------------


def server_env(url: str, cached: bool = False) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ALLIANCE_DEFAULT_ALLIANCE": PREFIX,
        "ALLIANCE_LOG_FORMAT": "json",
    }
    if not cached:
        # Every request executed: the same page asked again and again would otherwise be
        # answered from the answer cache, which measures something else.
        env["ALLIANCE_ANSWER_CACHE_BYTES"] = "0"
    env.pop("ALLIANCE_DATABASE_URL", None)
    return env


async def start_server(url: str, log_path: Path, cached: bool = False) -> processes.HubProcess:
    """`alliance serve` in a session of its own: a Ctrl-C at the terminal reaches only us, and
    we stop it cleanly, by its pid. `cached` leaves the answer cache on."""
    try:
        return await processes.serve(
            [], env=server_env(url, cached), cwd=ROOT, log_path=log_path, session=True
        )
    except processes.ProcessError as exc:
        raise SystemExit(str(exc)[-4000:]) from None


def counter_sum(metrics: str, name: str) -> float:
    """The sum of a Prometheus counter over all its label sets."""
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


# --- measuring -------------------------------------------------------------------------------


def load_command(base: str, server_pid: int, body: str, args, duration: float) -> list[str]:
    return [
        sys.executable,
        str(BENCH / "load.py"),
        "--url",
        f"{base}/graphql",
        "--body",
        body,
        "--concurrency",
        str(args.concurrency),
        "--warmup",
        str(args.warmup),
        "--duration",
        str(duration),
        "--snapshot",
        "/metrics",
        "--watch-pid",
        str(server_pid),
    ]


def measure(base: str, server_pid: int, variant: Variant, args) -> dict:
    body = json.dumps({"query": variant.query})
    # One checked answer first: its shape, its size and how many objects it holds.
    answer = httpx.post(
        f"{base}/graphql", content=body, timeout=30, headers={"content-type": "application/json"}
    )
    if answer.status_code != 200:
        raise SystemExit(f"{variant.name}: status {answer.status_code}: {answer.text[:500]}")
    if variant.members is None:
        if answer.json() != {"data": {"__typename": "Query"}}:
            raise SystemExit(f"{variant.name}: unexpected answer {answer.text[:500]}")
        objects = {}
    else:
        objects = count_objects(answer.json(), variant.members, variant.edges)

    run = subprocess.run(
        load_command(base, server_pid, body, args, args.duration),
        capture_output=True,
        text=True,
        timeout=args.warmup + args.duration + 60,
    )
    if run.returncode != 0:
        raise SystemExit(f"{variant.name}: the load generator failed:\n{run.stderr[-2000:]}")
    load = json.loads(run.stdout)

    def delta(metric: str) -> float:
        return counter_sum(load["snapshot_after"], metric) - counter_sum(
            load["snapshot_before"], metric
        )

    def per_second(seconds: float | None) -> int | None:  # CPU seconds -> %, 100% = one core
        return None if seconds is None else round(100 * seconds / load["elapsed_s"])

    requests = load["requests"]
    if delta("alliance_graphql_requests_total") != requests:
        # Only the load generator talks to the server in the window, so the two should agree.
        print(
            f"warning: {variant.name}: /metrics counted "
            f"{delta('alliance_graphql_requests_total'):.0f} requests, the client {requests}",
            file=sys.stderr,
        )
    total = sum(objects.values())
    # Server CPU per request is the cost of one answer without the queueing p50 includes: with
    # 8 requests in flight on a one-process server, p50 is about 8 x that when CPU-bound.
    cpu_ms = None if load["server_cpu_s"] is None else load["server_cpu_s"] * 1000 / requests
    return {
        "variant": variant.name,
        "rps": load["rps"],
        "p50_ms": load["p50_ms"],
        "p90_ms": load["p90_ms"],
        "p99_ms": load["p99_ms"],
        "statements_per_request": round(delta("alliance_sql_statements_total") / requests, 2),
        "objects": total,
        "objects_by_type": objects,
        "bytes": len(answer.content),
        "us_per_object": round(load["p50_ms"] * 1000 / total, 1) if total else None,
        "server_cpu_ms_per_request": None if cpu_ms is None else round(cpu_ms, 3),
        "server_cpu_us_per_object": round(cpu_ms * 1000 / total, 1) if cpu_ms and total else None,
        "server_cpu_pct": per_second(load["server_cpu_s"]),
        "client_cpu_pct": per_second(load["client_cpu_s"]),
        # Well above server + load generator + database: something else ran on the machine.
        "machine_cpu_pct": per_second(load["machine_cpu_s"]),
        "requests": requests,
        "non_200": load["non_200"],
        "with_errors": load["with_errors"],
        "query": variant.query,
    }


def print_table(rows: list[dict]) -> None:
    columns = [
        ("variant", "variant", "{}"),
        ("req/s", "rps", "{:.1f}"),
        ("p50 ms", "p50_ms", "{:.2f}"),
        ("p90 ms", "p90_ms", "{:.2f}"),
        ("p99 ms", "p99_ms", "{:.2f}"),
        ("stmts/req", "statements_per_request", "{:.2f}"),
        ("objects", "objects", "{}"),
        ("bytes", "bytes", "{}"),
        ("µs/object", "us_per_object", "{:.1f}"),
        ("cpu ms/req", "server_cpu_ms_per_request", "{:.2f}"),
        ("cpu µs/obj", "server_cpu_us_per_object", "{:.1f}"),
        ("srv cpu%", "server_cpu_pct", "{}"),
        ("non-200", "non_200", "{}"),
    ]
    cells = [[title for title, _, _ in columns]] + [
        [fmt.format(row[key]) if row[key] is not None else "-" for _, key, fmt in columns]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    for n, line in enumerate(cells):
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


# --- profiling (optional) --------------------------------------------------------------------


def profile(base: str, server_pid: int, query: str, args) -> None:
    """Samples the server with py-spy while the load generator runs; prints the hot spots."""
    py_spy = BIN / "py-spy"
    if not py_spy.exists():
        print(f"--profile: {py_spy} not found (`{BIN / 'pip'} install py-spy`)", file=sys.stderr)
        return
    output = RESULTS / "profile.txt"
    body = json.dumps({"query": query})
    load = subprocess.Popen(
        load_command(base, server_pid, body, args, args.profile + 2),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        time.sleep(args.warmup)
        spy = subprocess.run(
            [
                str(py_spy),
                "record",
                "--pid",
                str(server_pid),
                "--duration",
                str(int(args.profile)),
                "--rate",
                "200",
                "--format",
                "raw",
                "--nolineno",
                "--output",
                str(output),
            ],
            capture_output=True,
            text=True,
            timeout=args.profile + 30,
        )
    finally:
        processes.stop(load)
    if spy.returncode != 0:
        print(f"py-spy failed: {spy.stderr[-1000:]}", file=sys.stderr)
        return
    # Raw format: one line per distinct stack, "outer;...;leaf count". Own time = leaf frames.
    own: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    for line in output.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        leaf = stack.rsplit(";", 1)[-1]
        own[leaf] += int(count)
        by_package[package_of(leaf)] += int(count)
    samples = sum(own.values())
    print(
        f"\npy-spy, {args.profile:.0f} s at 200 Hz on pid {server_pid}: {samples} busy samples "
        f"(raw stacks in {output.relative_to(ROOT)})"
    )
    print("top 10 by own time:")
    for frame, count in own.most_common(10):
        print(f"  {100 * count / samples:5.1f}%  {frame}")
    print("own time by package:")
    for package, count in by_package.most_common(12):
        print(f"  {100 * count / samples:5.1f}%  {package}")


def package_of(frame: str) -> str:
    """`func (graphql/execution/values.py)` -> `graphql/execution`: py-spy prints paths relative
    to the sys.path entry they came from, so the first folders name the package."""
    path = frame.rpartition("(")[2].rstrip(")")
    parts = path.split("/")
    if len(parts) == 1:
        return path  # a top-level module, or <string> for code made by exec (dataclasses)
    package = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
    return f"{package} (project)" if parts[0] in ("server", "store", "sync") else package


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2000, help="synthetic members (2000)")
    parser.add_argument("--page", type=int, default=50, help="members per page (50)")
    parser.add_argument("--duration", type=float, default=15, help="measured seconds per variant")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up seconds per variant")
    parser.add_argument("--concurrency", type=int, default=8, help="connections kept busy (8)")
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead")
    parser.add_argument(
        "--database-url",
        default=ADMIN_URL,
        help=f"PostgreSQL to create the bench database next to (default {ADMIN_URL})",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and say where")
    parser.add_argument(
        "--profile",
        type=float,
        default=0,
        metavar="SECONDS",
        help="afterwards, run py-spy on the server this long under load",
    )
    args = parser.parse_args()
    if args.members < max(args.page, 10):
        parser.error(f"--members must be at least {max(args.page, 10)}")
    if not args.sqlite and not args.database_url.startswith("postgres"):
        parser.error("--database-url must be a PostgreSQL URL (for SQLite, use --sqlite)")
    # A plain `kill` of this script should clean up like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    RESULTS.mkdir(exist_ok=True)
    log_path = RESULTS / "server.log"
    pg_name = temp_dir = server = url = None
    try:
        started = time.perf_counter()
        if args.sqlite:
            temp_dir = tempfile.mkdtemp(prefix="alliance_bench_")
            url = f"sqlite+aiosqlite:///{temp_dir}/bench.db"
            where = f"{temp_dir}/bench.db"
        else:
            pg_name, url = asyncio.run(create_postgres(args.database_url))
            where = f"PostgreSQL database {pg_name}"
        asyncio.run(migrate_and_fill(url, args.members))
        print(
            f"{where}: migrated and filled with {args.members} members "
            f"in {time.perf_counter() - started:.1f} s"
        )

        server = asyncio.run(start_server(url, log_path))
        base = server.base_url
        print(
            f"server pid {server.process.pid} on {base}, log in {log_path.relative_to(ROOT)}; "
            f"{args.concurrency} connections, {args.warmup:g} s warm-up + {args.duration:g} s "
            f"per variant"
        )

        rows = []
        for variant in variants(args.page):
            rows.append(row := measure(base, server.process.pid, variant, args))
            print(
                f"  {variant.name}: {row['rps']} req/s, p50 {row['p50_ms']} ms; "
                f"CPU (100% = a core): server {row['server_cpu_pct']}%, "
                f"load generator {row['client_cpu_pct']}%, "
                f"whole machine {row['machine_cpu_pct']}%",
                flush=True,
            )
        print()
        print_table(rows)

        stamp = time.strftime("%Y%m%dT%H%M%S")
        saved = RESULTS / f"nested_members-{stamp}.json"
        saved.write_text(
            json.dumps(
                {
                    "when": stamp,
                    "database": "sqlite" if args.sqlite else "postgresql",
                    "members": args.members,
                    "page": args.page,
                    "concurrency": args.concurrency,
                    "warmup_s": args.warmup,
                    "duration_s": args.duration,
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "commit": git("rev-parse", "--short", "HEAD"),
                    # Uncommitted changes to the code under test make the figures hard to compare.
                    "uncommitted": git(
                        "status", "--porcelain", "--", "server", "store"
                    ).splitlines(),
                    "rows": rows,
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
        print(f"\nsaved {saved.relative_to(ROOT)}")

        if args.profile:
            profile(base, server.process.pid, variants(args.page)[0].query, args)

        failed = [row["variant"] for row in rows if row["non_200"] or row["with_errors"]]
        if failed:
            raise SystemExit(f"non-200 answers or GraphQL errors in: {', '.join(failed)}")
    finally:
        if server is not None:
            server.stop()
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
