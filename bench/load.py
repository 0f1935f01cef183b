"""A small closed-loop load generator: N keep-alive HTTP/1.1 connections POST one body back to back.

Run by `nested_members.py` as a separate process, so the client's CPU is not the server's (and
imported by `read_bench/drive.py`, which `reads.py` runs the same way):

    python bench/load.py --url http://127.0.0.1:8000/graphql --body '{"query": "{ __typename }"}'

It speaks HTTP/1.1 over raw asyncio streams (uvloop when installed) rather than through httpx:
a full-featured client costs more CPU per request than the trivial queries it measures, and on
two cores that CPU is taken from the server. Each answer is still read in full (Content-Length).

Warm-up and measured window are two phases with a pause between them: every connection finishes
its request in flight, then `--snapshot` (e.g. /metrics) is fetched, so a snapshot taken between
phases sees no half-done request and counters read from it cover exactly the measured requests.

Prints one JSON object on stdout: requests, elapsed, req/s, latency percentiles in ms, statuses,
answers carrying GraphQL `errors`, CPU seconds used in the window by `--watch-pid` (the server),
by this client and by the whole machine, and the raw text of the snapshots before and after.
"""

import argparse
import asyncio
import json
import math
import os
import sys
import time
from urllib.parse import urlsplit


class Connection:
    """One keep-alive HTTP/1.1 connection; reopened if the server asks to close it."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        reused = self.writer is not None
        if not reused:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            # The server may close a keep-alive connection left idle (uvicorn: after 5 s);
            # that shows as nothing read at all. Reconnect and send again, once.
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            await self.close()
            return await self.request(raw)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            # Starlette's Response always sets it; anything else would be a surprise worth seeing.
            raise RuntimeError(f"answer without Content-Length: {headers}")
        body = await self.reader.readexactly(int(headers["content-length"]))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except ConnectionError:
                pass
        self.reader = self.writer = None


def http_request(method: str, host: str, path: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []  # seconds, one per answered request
        self.statuses: dict[int, int] = {}
        self.with_errors = 0

    def add(self, seconds: float, status: int, body: bytes) -> None:
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        # A GraphQL error comes back with 200; a substring test is enough for answers we know.
        if b'"errors"' in body:
            self.with_errors += 1


async def phase(connections: list[Connection], raw: bytes, seconds: float) -> tuple[Tally, float]:
    """Every connection sends back to back until the deadline; returns when all have finished."""
    tally = Tally()
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(connection: Connection) -> None:
        clock = time.perf_counter
        while clock() < deadline:
            sent = clock()
            status, body = await connection.request(raw)
            tally.add(clock() - sent, status, body)

    await asyncio.gather(*(worker(c) for c in connections))
    return tally, time.perf_counter() - started


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU a process has used so far, from /proc (Linux); None elsewhere."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    # Fields 14 and 15 of proc(5), counted from the state field that follows the ")".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy so far (Linux /proc/stat); None elsewhere."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # guest time is already in user


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


async def run(args: argparse.Namespace, probe=None) -> dict:
    """One warm-up and one measured phase. `probe`, an optional coroutine function, is awaited
    right before and right after the measured window, between the snapshots, with no request in
    flight; what it returns goes into the result as `probe_before` and `probe_after`."""
    url = urlsplit(args.url)
    host, port = url.hostname, url.port or 80
    raw = http_request("POST", url.netloc, url.path or "/", args.body.encode())
    connections = [Connection(host, port) for _ in range(args.concurrency)]
    observer = Connection(host, port)  # its own connection, so it never waits behind the load

    async def snapshot() -> str | None:
        if not args.snapshot:
            return None
        status, body = await observer.request(http_request("GET", url.netloc, args.snapshot))
        if status != 200:
            raise RuntimeError(f"GET {args.snapshot} answered {status}")
        return body.decode()

    try:
        warm, _ = await phase(connections, raw, args.warmup)
        before = await snapshot()
        probed_before = None if probe is None else await probe()
        cpu_before, own_before = cpu_seconds(args.watch_pid), time.process_time()
        busy_before = machine_busy_seconds()
        tally, elapsed = await phase(connections, raw, args.duration)
        cpu_after, own_after = cpu_seconds(args.watch_pid), time.process_time()
        busy_after = machine_busy_seconds()
        probed_after = None if probe is None else await probe()
        after = await snapshot()
    finally:
        for connection in [*connections, observer]:
            await connection.close()

    ordered = sorted(tally.latencies)
    ms = lambda seconds: round(seconds * 1000, 3)  # noqa: E731
    probed = {} if probe is None else {"probe_before": probed_before, "probe_after": probed_after}
    return {
        "concurrency": args.concurrency,
        "warmup_requests": len(warm.latencies),
        "requests": len(ordered),
        "elapsed_s": round(elapsed, 3),
        "rps": round(len(ordered) / elapsed, 1),
        "p50_ms": ms(percentile(ordered, 50)),
        "p90_ms": ms(percentile(ordered, 90)),
        "p99_ms": ms(percentile(ordered, 99)),
        "max_ms": ms(ordered[-1]) if ordered else None,
        "mean_ms": ms(sum(ordered) / len(ordered)) if ordered else None,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "non_200": sum(v for k, v in tally.statuses.items() if k != 200)
        + sum(v for k, v in warm.statuses.items() if k != 200),
        "with_errors": tally.with_errors + warm.with_errors,
        # CPU used in the measured window: by the watched process (the server), and by us.
        "server_cpu_s": None if cpu_before is None else round(cpu_after - cpu_before, 2),
        "client_cpu_s": round(own_after - own_before, 2),
        # Everything the machine did meanwhile (the database, and whatever else runs there).
        "machine_cpu_s": None if busy_before is None else round(busy_after - busy_before, 2),
        "snapshot_before": before,
        "snapshot_after": after,
        **probed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="http://host:port/path to POST to")
    parser.add_argument("--body", required=True, help="the JSON body to POST")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--snapshot", help="a path to GET right before and after the window")
    parser.add_argument("--watch-pid", type=int, help="report this process's CPU in the window")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(args))
    else:
        result = uvloop.run(run(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
