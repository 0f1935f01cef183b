"""The hub as the loader: one bench run on one database is the first sync, the same feed
answered 304, the same feed again as a 200 with the same content (the stored validators
cleared), and the feed with a tenth of its items changed (`feed.write_changed`), each
`sync.runs.run` in a child process of its own (`hub_child.py`, started through the entry point
with `CHILD` as its first argument), watched from outside (`watch.py`) and checked: every item
created, then not modified, then every item unchanged, then the changed ones updated and the
others unchanged."""

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

from sync_bench import BENCH, ROOT, hub_db, report, watch
from sync_bench.spy import profile_path, start_py_spy

CHILD = "_sync"  # argv[1] of the child process that runs one sync
ENTRY = BENCH / "sync_large.py"
ROLES = {
    "first sync": "first",
    "304 not modified": "not_modified",
    "200 same content": "again",
    "200, 10% changed": "changed",
}


def run_child(url: str, where: str, label: str, args, pg: bool, profile_to: Path | None) -> dict:
    """Runs `hub_child.child` as its own process and watches it: peak memory (VmHWM),
    PostgreSQL's CPU, progress; stops it by pid after `--timeout` seconds."""
    process = watch.spawn(
        [sys.executable, str(ENTRY), CHILD, url, hub_db.SLUG],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    spy = start_py_spy(process.pid, profile_to) if profile_to is not None else None
    out: list[str] = []
    progress: list[dict] = []
    other: list[str] = []

    def read_stderr() -> None:
        for line in process.stderr:
            try:
                progress.append(json.loads(line))
            except ValueError:
                other.append(line.rstrip())

    readers = [
        threading.Thread(target=lambda: out.extend(process.stdout), daemon=True),
        threading.Thread(target=read_stderr, daemon=True),
    ]
    for reader in readers:
        reader.start()

    def show(_elapsed: float) -> None:
        if progress:
            last = progress[-1]
            print(f"    {where}: {last['seen']:,} items in {last['t']:.0f} s", flush=True)

    seen = watch.watch(process, timeout=args.timeout, postgres=pg, every_30_s=show)
    if spy is not None:
        try:
            spy.wait(30)  # it ends when the process it samples ends
        except subprocess.TimeoutExpired:
            watch.stop(spy)
        watch.RUNNING.discard(spy)
    for reader in readers:
        reader.join(10)
    row = {
        "case": label,
        "process_wall_s": seen.wall_s,
        "postgres_cpu_s": seen.postgres_cpu_s,
        "progress": progress,
        "timed_out": seen.timed_out,
        "profiled": profile_to is not None,
    }
    if seen.timed_out:
        return row | timed_out(progress, out, other, seen, args.timeout)
    try:
        result = json.loads(out[-1])
    except (IndexError, ValueError):
        tail = "\n".join(other[-30:])
        raise SystemExit(
            f"{where}: the sync process exited with {process.returncode}:\n{tail}"
        ) from None
    outcome = result["outcome"]
    return row | {
        "status": outcome["status"],
        "http_status": outcome["http_status"],
        "error": outcome["error"],
        "bytes": outcome["bytes"],
        "counts": outcome["counts"],
        "seconds": round(result["seconds"], 3),
        "statements": result["statements"],
        "cpu_s": round(result["cpu_s"], 1),
        "sql": result["sql"],
        "sql_waiting_s": result["sql_waiting_s"],
        "sql_window_s": round(result["seconds"], 3),
        # The process's own high-water mark; the polled one is the same figure seen from outside.
        "peak_mib": result["peak_rss_kib"] / 1024,
        "ru_maxrss_mib": result["ru_maxrss_kib"] / 1024,
        "peak_mib_polled": seen.peak_kib / 1024,
        "log": other[-20:],
    }


def timed_out(progress: list[dict], out: list[str], other: list[str], seen, limit) -> dict:
    """What a run stopped at `--timeout` had committed by its last batch: its counts, time and
    statements, and what the process said when it was stopped (up to that moment)."""
    last = progress[-1] if progress else {"t": seen.wall_s, "statements": None}
    row = {
        "status": f"timed out ({limit:g} s)",
        "seconds": last["t"],
        "statements": last["statements"],
        "peak_mib": seen.peak_kib / 1024,
        "counts": {k: v for k, v in last.items() if k not in ("t", "statements")},
        "log": other[-20:],
    }
    try:
        said = json.loads(out[-1])
        row |= {
            "sql": said["sql"],
            "sql_waiting_s": said["sql_waiting_s"],
            "sql_window_s": seen.wall_s,
            "cpu_s": said["cpu_s"],
        }
    except (IndexError, ValueError, KeyError):
        pass
    return row


def rates(progress: list[dict], total: int) -> dict | None:
    """items/s over the first and the last tenth of the run: equal for linear cost."""
    if len(progress) < 4 or total < 10:
        return None
    tenth = total / 10
    first = next((p for p in progress if p["seen"] >= tenth), None)
    late = [p for p in progress if p["seen"] <= total - tenth]
    if first is None or not late:
        return None
    last = progress[-1]
    end_rate = (last["seen"] - late[-1]["seen"]) / max(last["t"] - late[-1]["t"], 1e-9)
    return {"first_tenth": round(first["seen"] / first["t"]), "last_tenth": round(end_rate)}


def curve(progress: list[dict], total: int, steps: int = 10) -> str:
    """items/s over each tenth of the feed, as far as the run got: flat for linear cost."""
    shown, previous = [], {"seen": 0, "t": 0.0}
    for step in range(1, steps + 1):
        point = next((p for p in progress if p["seen"] >= total * step / steps), None)
        if point is None:  # the run stopped in this tenth: up to where it got
            point = progress[-1] if progress else previous
        if point["seen"] <= previous["seen"]:
            continue
        rate = (point["seen"] - previous["seen"]) / max(point["t"] - previous["t"], 1e-9)
        shown.append(f"to {point['seen']:,}: {rate:.0f}")
        previous = point
    return "; ".join(shown) or "-"


def bench_database(name: str, url: str, where: dict, args, run: int) -> list[dict]:
    """The three cases on a fresh database `url`. `where` has the feed's URL, ETag and items,
    and `code()`, a fingerprint of the code under test."""
    pg = name == "postgresql"
    total, etag, code = where["items"], where["etag"], where["code"]
    asyncio.run(hub_db.prepare(url, where["url"]))
    rows = []

    def measure(case: str) -> dict:
        profile = profile_path(name, case, run) if args.profile else None
        print(f"  {name}: {case} ...", flush=True)
        fingerprint = code()
        row = run_child(url, f"{name}, {case}", case, args, pg, profile)
        row |= {"loader": "hub", "database": name, "role": ROLES[case], "run": run}
        row["code"] = fingerprint
        rows.append(row)
        counts = row.get("counts") or {}
        print(
            f"  {name}: {case}: {row['status']} in {row['seconds']:.2f} s, "
            f"seen {counts.get('seen', 0):,}, peak {row['peak_mib']:.0f} MiB",
            flush=True,
        )
        return row

    first = measure("first sync")
    first["rates"] = None if first["timed_out"] else rates(first["progress"], total)
    print(f"  {name}: items/s, by items done {curve(first['progress'], total)}")
    report.print_sql(first)
    if first["timed_out"]:
        print(
            f"  {name}: the first sync did not finish within --timeout {args.timeout:g} s; "
            "the cases after it are skipped"
        )
        first["problems"] = []
        return rows
    facts = asyncio.run(hub_db.database_facts(url, pg))
    first["database_facts"] = facts
    if pg:
        print(f"  {name}: database size after the first sync {facts['size_mib']} MiB")
    problems = expect(first, "succeeded", created=total, quarantined=0, updated=0)
    stored = asyncio.run(hub_db.feed_validators(url))
    if stored[0] != etag:
        problems.append(f"the stored ETag is {stored[0]!r}, the server's {etag!r}")

    measure("304 not modified")
    problems += expect(rows[-1], "not_modified", seen=0)
    if rows[-1].get("http_status") != 304:
        problems.append(f"304 case: HTTP {rows[-1].get('http_status')}")

    asyncio.run(hub_db.clear_validators(url))
    measure("200 same content")
    problems += expect(rows[-1], "succeeded", unchanged=total, created=0, updated=0, deleted=0)
    if rows[-1].get("http_status") != 200:
        problems.append(f"200 case: HTTP {rows[-1].get('http_status')}")

    # The same feed with a tenth of its items changed, from a server of its own.
    changed = where["changed"]
    asyncio.run(hub_db.clear_validators(url, where["changed_url"]))
    measure("200, 10% changed")
    problems += expect(
        rows[-1], "succeeded", updated=changed, unchanged=total - changed, created=0, deleted=0
    )
    for row in rows:
        row["problems"] = problems if row is rows[0] else []
    for problem in problems:
        print(f"  {name}: PROBLEM: {problem}", file=sys.stderr)
    return rows


def expect(row: dict, status: str, **counts: int) -> list[str]:
    found = []
    if row["status"] != status:
        found.append(f"{row['case']}: status {row['status']} ({row.get('error')}), not {status}")
    for key, wanted in counts.items():
        got = (row.get("counts") or {}).get(key)
        if got != wanted:
            found.append(f"{row['case']}: {key} = {got}, expected {wanted}")
    return found
