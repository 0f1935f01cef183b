"""One measured window for `reads.py`: `bench/load.py`'s phases, with readings at the window's
edges of the server's CPU (its process tree) and, on PostgreSQL, of the bench database's
backends (`meter.py`).

Run as its own process from bench/ (`python -m read_bench.drive …`), so the client's CPU is not
the server's; prints one JSON object: load.py's result with `probe_before` and `probe_after`.
"""

import argparse
import asyncio
import json
import sys

import load

from read_bench import meter


async def window(args: argparse.Namespace) -> dict:
    async def probe(postgres: meter.PostgresMeter | None) -> dict:
        # The server's CPU is read right at the window's edge, then the backends'.
        reading = {"server_cpu_s": meter.tree_cpu(args.server_pid)}
        if postgres is not None:
            reading["backends"] = await postgres.backends()
        return reading

    if not args.pg_dsn:
        return await load.run(args, probe=lambda: probe(None))
    async with meter.PostgresMeter(args.pg_dsn, args.pg_database) as postgres:
        return await load.run(args, probe=lambda: probe(postgres))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--body", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--warmup", type=float, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--snapshot", help="a path to GET right before and after the window")
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--pg-dsn", help="a database other than the bench one, for the readings")
    parser.add_argument("--pg-database", help="the bench database")
    args = parser.parse_args()
    args.watch_pid = args.server_pid  # load.py's own reading: the process alone, no children
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(window(args))
    else:
        result = uvloop.run(window(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
