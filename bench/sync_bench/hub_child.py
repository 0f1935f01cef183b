"""The hub's side of one sync, run in a child process: `child` runs `sync.runs.run` once on
the saved feed and prints its Outcome and the process's own figures as one JSON line (time,
CPU and peak memory from `usage.py`, statements by kind and their time in the driver and
database); one JSON line per committed batch goes to stderr, for the progress and the items/s
curve."""

import asyncio
import dataclasses
import functools
import json
import os
import re
import signal
import sys
import time

from sync_bench import usage

_SELECTED = re.compile(r"^SELECT .*? FROM ")
_VALUES = re.compile(r"^(INSERT INTO \S+) .*")
_SET = re.compile(r"^(UPDATE \S+ SET) .*? WHERE ")
_LISTS = re.compile(r"\((?:\$\d+|\?)(?:, (?:\$\d+|\?))*\)")


@functools.cache  # the same few dozen statements, hundreds of thousands of times
def statement_kind(sql: str) -> str:
    """A statement with its column lists and parameters left out, to add up time by kind."""
    sql = " ".join(sql.split())
    sql = _VALUES.sub(r"\1 …", _SET.sub(r"\1 … WHERE ", _SELECTED.sub("SELECT … FROM ", sql)))
    return _LISTS.sub("(…)", sql)[:160]


def child(url: str, slug: str) -> None:
    """Runs the feed once and prints the Outcome and the process's own figures as JSON; one
    JSON line per committed batch to stderr. Stopped by SIGTERM, it prints what it has."""
    import httpx
    from sqlalchemy import event

    from store.config import StoreSettings
    from store.db import create_engine
    from sync import runs

    sql: dict[str, list] = {}  # statement kind -> [count, seconds in the driver and database]
    totals = {"statements": 0}
    # Seconds with at least one statement in flight. Statements may overlap (the lease
    # heartbeat runs beside the batches), so this is less than the sum over kinds.
    waiting = {"in_flight": 0, "since": 0.0, "seconds": 0.0}

    def figures() -> dict:
        return usage.figures() | {
            "statements": totals["statements"],
            "sql": {kind: [n, round(s, 3)] for kind, (n, s) in sql.items()},
            "sql_waiting_s": round(waiting["seconds"], 3),
        }

    def stopped(*_) -> None:
        print(json.dumps({"interrupted": True, **figures()}), flush=True)
        os._exit(143)

    signal.signal(signal.SIGTERM, stopped)

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        now = conn.info["bench_started"] = time.perf_counter()
        if not waiting["in_flight"]:
            waiting["since"] = now
        waiting["in_flight"] += 1

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        now = time.perf_counter()
        took = now - conn.info.pop("bench_started")
        waiting["in_flight"] -= 1
        if not waiting["in_flight"]:
            waiting["seconds"] += now - waiting["since"]
        entry = sql.setdefault(statement_kind(statement), [0, 0.0])
        entry[0] += 1
        entry[1] += took
        totals["statements"] += 1

    async def go() -> dict:
        engine = create_engine(StoreSettings(database_url=url))
        event.listen(engine.sync_engine, "before_cursor_execute", before)
        event.listen(engine.sync_engine, "after_cursor_execute", after)
        started = time.perf_counter()

        def progress(counts) -> None:
            line = {"t": round(time.perf_counter() - started, 3), **totals}
            sys.stderr.write(json.dumps({**dataclasses.asdict(counts), **line}) + "\n")
            sys.stderr.flush()

        try:
            async with httpx.AsyncClient(trust_env=False) as client:
                outcome = await runs.run(
                    engine, slug, client, triggered_by="bench/sync_large.py", progress=progress
                )
            seconds = time.perf_counter() - started
        finally:
            await engine.dispose()
        return {"outcome": dataclasses.asdict(outcome), "seconds": seconds}

    result = asyncio.run(go())
    print(json.dumps(result | figures(), default=str))
