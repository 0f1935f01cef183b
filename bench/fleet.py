"""A fleet tried for real: two API processes and two workers on one PostgreSQL, under load,
while feeds sync, with subscribers on both API processes.

    .venv/bin/python bench/fleet.py                    # 3 minutes
    .venv/bin/python bench/fleet.py --minutes 10       # longer

It makes a scratch database (next to `--admin-url`'s, dropped at the end), migrates and seeds
it, and starts `alliance serve --no-scheduler` twice and `alliance worker` twice on it. Then, for
the time asked:

- `--readers` closed-loop clients read a nested page (members → organisations → posts →
  people) from both API processes in turn;
- two feeds, served by this script on loopback, sync every 5 s by schedule, and every answer a
  feed gives changes a tenth of its items, so every run writes;
- `triggerSync` is called every 7 s through either API process;
- every 2 s this script commits a change of its own (as a third process would), to time how
  soon it reaches the subscribers of both API processes;
- `--subscribers` clients per API process follow `changes` from the log's end at the start, and
  one operator follows `syncRuns`, which tells which reads ran while a sync did.

At the end the feeds are paused, the runs waited for, and each subscriber's changes compared
with the log as the database holds it: all of them, once each, in order. It prints a table and
writes bench/results/fleet-<time>.json. Everything it starts it stops by its pid.
"""

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import repo_path  # noqa: F401  (puts the repository on sys.path)
from load import Connection, http_request, percentile
from scratch_db import create_postgres, drop_postgres
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from store import changes, versions
from store.registry import CHANGE, MEMBER, RUN
from tests import factories, processes
from tests.e2e.sockets import Socket

RESULTS = Path(__file__).parent / "results"
PEPPER = "the fleet bench's pepper, 32 chars"
FEEDS = ("fleet-east", "fleet-west")
NESTED = {
    "query": "query Nested { members(first: 10) { nodes { slug name organisations(first: 5) "
    "{ nodes { name posts { label person { name } } } } } } }"
}
FOLLOW = "subscription ($after: String) { changes(after: $after) { cursor version } }"


# ---- the partner feeds: a tenth of the items changed in every answer ---------------------------


class Feeds:
    def __init__(self, items: int):
        self.items = items
        self.answers = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, slug: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{slug}"

    def document(self, slug: str) -> bytes:
        with self._lock:
            self.answers += 1
            answer = self.answers
        now = dt.datetime.now(dt.UTC)
        cities = factories.cities(slug, self.items)
        for i, city in enumerate(cities):
            if i % 10 == answer % 10:  # a different tenth each time
                city["data"]["population"] = answer
                city["updated_at"] = now.isoformat().replace("+00:00", "Z")
        return factories.document(*cities, publisher=slug)

    def _handler(self):
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = feeds.document(self.path.strip("/"))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        return Handler


# ---- what the run measures ---------------------------------------------------------------------


class Record:
    def __init__(self):
        self.started = time.monotonic()
        self.reads: list[tuple[float, float, int, bool, bool]] = []  # at, s, status, error, sync
        self.memory: dict[str, list[tuple[float, int]]] = {}  # process -> (at, rss KiB)
        self.running: set[int] = set()  # runs RUNNING now, from the syncRuns subscription
        self.commits: dict[int, float] = {}  # version -> when this script's commit returned
        self.arrivals: list[float] = []  # commit → subscriber delays, seconds
        self.triggers = {"asked": 0, "errors": 0}
        self.reconnects: list[str] = []  # why a subscriber had to connect again
        self.window = 0.0  # seconds of load, set when it ends

    def minute(self, at: float) -> int:
        return int((at - self.started) // 60)


def rss_kib(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


async def ask(client: httpx.AsyncClient, base_url: str, token: str, query: str, **variables):
    response = await client.post(
        f"{base_url}/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    body = response.json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]


async def reader(base_urls: list[str], record: Record, stop: asyncio.Event, n: int) -> None:
    body = json.dumps(NESTED).encode()
    connections = []
    for url in base_urls:
        host = url.removeprefix("http://")
        name, port = host.split(":")
        connections.append(
            (Connection(name, int(port)), http_request("POST", host, "/graphql", body))
        )
    turn = n
    while not stop.is_set():
        connection, raw = connections[turn % len(connections)]
        turn += 1
        sent = time.monotonic()
        syncing = bool(record.running)
        try:
            status, answer = await connection.request(raw)
            error = b'"errors"' in answer
        except (OSError, asyncio.IncompleteReadError, RuntimeError):
            status, error = 0, True
            await connection.close()
        record.reads.append((sent, time.monotonic() - sent, status, error, syncing))
    for connection, _ in connections:
        await connection.close()


async def subscriber(
    base_url: str, token: str, after: str, into: list, record: "Record", stop: asyncio.Event
) -> None:
    """Follow the changes from `after`; reconnect from the last cursor if the socket drops."""
    while not stop.is_set():
        try:
            async with Socket.opened(base_url) as socket:
                await socket.init(token)
                last = into[-1]["cursor"] if into else after
                await socket.subscribe("c", FOLLOW, after=last)
                while not stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        data = await socket.next("c", timeout=1.0)
                        change = data["changes"]
                        change["at"] = time.monotonic()
                        into.append(change)
        except Exception as exc:  # counted, and followed again from the last cursor
            record.reconnects.append(repr(exc))
            await asyncio.sleep(0.5)


async def run_follower(base_url: str, token: str, record: Record, stop: asyncio.Event) -> None:
    async with Socket.opened(base_url) as socket:
        await socket.init(token)
        await socket.subscribe("r", "subscription { syncRuns { id status } }")
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                run = (await socket.next("r", timeout=1.0))["syncRuns"]
                if run["status"] == "RUNNING":
                    record.running.add(run["id"])
                else:
                    record.running.discard(run["id"])


async def triggers(clients, base_urls, token, record: Record, stop: asyncio.Event) -> None:
    turn = 0
    while not stop.is_set():
        await asyncio.sleep(7)
        turn += 1
        record.triggers["asked"] += 1
        try:
            await ask(
                clients,
                base_urls[turn % 2],
                token,
                "mutation ($f: String!) { triggerSync(feed: $f) { run { id } } }",
                f=FEEDS[turn % 2],
            )
        except Exception:
            record.triggers["errors"] += 1


async def own_commits(engine, record: Record, stop: asyncio.Event) -> None:
    population = 0
    while not stop.is_set():
        await asyncio.sleep(2)
        population += 1
        async with engine.begin() as connection:
            await connection.execute(
                update(MEMBER)
                .where(MEMBER.c.slug == "kaiserslautern")
                .values(population=population)
            )
            version = await versions.bump(connection)
        record.commits[version] = time.monotonic()


async def memory(pids: dict[str, int], record: Record, stop: asyncio.Event) -> None:
    while not stop.is_set():
        for name, pid in pids.items():
            found = rss_kib(pid)
            if found is not None:
                record.memory.setdefault(name, []).append((time.monotonic(), found))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 5)


# ---- the report --------------------------------------------------------------------------------


def ms(values: list[float], p: float) -> float | None:
    return round(percentile(sorted(values), p) * 1000, 1) if values else None


def report(record: Record, subscribers: dict[str, list], log: list, runs: dict, load: list) -> dict:
    minutes = {}
    whole = int(record.window // 60)  # minutes wholly inside the run; a last part-minute is
    for at, seconds, status, error, _ in record.reads:  # counted in the totals, not shown
        if record.minute(at) >= whole:
            at = record.started + (whole - 1) * 60  # folded into the last whole minute
        m = minutes.setdefault(record.minute(at), {"requests": 0, "errors": 0, "5xx": 0, "s": []})
        m["requests"] += 1
        m["errors"] += error or status != 200
        m["5xx"] += status >= 500 or status == 0
        m["s"].append(seconds)
    per_minute = [
        {
            "minute": m,
            "requests": v["requests"],
            "errors": v["errors"],
            "5xx": v["5xx"],
            "p50_ms": ms(v["s"], 50),
            "p99_ms": ms(v["s"], 99),
            **{
                f"{name}_MiB": round(
                    max((k for at, k in series if record.minute(at) == m), default=0) / 1024, 1
                )
                for name, series in record.memory.items()
            },
        }
        for m, v in sorted(minutes.items())
    ]
    syncing = [s for _, s, _, _, during in record.reads if during]
    quiet = [s for _, s, _, _, during in record.reads if not during]
    expected = log
    checks = {}
    for name, got in subscribers.items():
        cursors = [c["cursor"] for c in got]
        checks[name] = {
            "received": len(cursors),
            "expected": len(expected),
            "every_change_once_in_order": cursors == expected,
            "duplicates": len(cursors) - len(set(cursors)),
        }
    growth = {}
    for name, series in record.memory.items():
        second = [k for at, k in series if record.minute(at) == 1]
        last_minute = whole - 1
        last = [k for at, k in series if record.minute(at) == last_minute]
        if second and last and last_minute > 1:
            growth[name] = round(100 * (max(last) - max(second)) / max(second), 1)
    return {
        "per_minute": per_minute,
        "requests": len(record.reads),
        "errors": sum(m["errors"] for m in per_minute),
        "5xx": sum(m["5xx"] for m in per_minute),
        "p99_ms_during_syncs": ms(syncing, 99),
        "p99_ms_without_syncs": ms(quiet, 99),
        "reads_during_syncs": len(syncing),
        "runs_by_status": runs,
        "triggers": record.triggers,
        "subscriber_reconnects": record.reconnects,
        "subscribers": checks,
        "commit_to_subscriber_ms": {
            "count": len(record.arrivals),
            "p50": ms(record.arrivals, 50),
            "p99": ms(record.arrivals, 99),
            "max": ms(record.arrivals, 100),
        },
        "memory_growth_pct_minute_2_to_last": growth,
        "load_average": load,
    }


def table(result: dict) -> str:
    lines = [
        "| minute | requests | errors | 5xx | p50 ms | p99 ms | "
        + " | ".join(k for k in result["per_minute"][0] if k.endswith("_MiB"))
        + " |"
    ]
    lines.append("|" + " --- |" * (6 + sum(k.endswith("_MiB") for k in result["per_minute"][0])))
    for m in result["per_minute"]:
        lines.append("| " + " | ".join(str(v) for v in m.values()) + " |")
    return "\n".join(lines)


# ---- the run -----------------------------------------------------------------------------------


async def main(args) -> dict:
    name, url = await create_postgres(args.admin_url)
    work = Path(args.work or f"/tmp/alliance-fleet-{os.getpid()}")
    work.mkdir(parents=True, exist_ok=True)
    started: list[processes.Started] = []
    feeds = Feeds(args.items)
    feeds.thread.start()
    engine = create_async_engine(url)
    try:
        env = processes.clean_env(
            DATABASE_URL=url,
            ALLIANCE_KEY_PEPPER=PEPPER,
            ALLIANCE_LOG_LEVEL="warning",
            ALLIANCE_CONNECTIONS_PER_KEY="100",
            # With --uncached every read is executed (compiled), none answered from memory.
            ALLIANCE_ANSWER_CACHE_BYTES="0" if args.uncached else "67108864",
        )
        for command in (("db", "seed"),):
            done = processes.run_cli(*command, env=env, cwd=work, timeout=120)
            assert done.returncode == 0, done.stderr
        made = processes.run_cli("keys", "create", "fleet", "--role", "operator", env=env, cwd=work)
        token = made.stdout.strip().splitlines()[-1]
        apis = []
        for i in range(2):
            api = await processes.serve(
                ["--no-scheduler"], env=env, cwd=work, log_path=work / f"api-{i}.log", session=True
            )
            started.append(api)
            apis.append(api)
        for i in range(2):
            worker = processes.start(
                [str(processes.ALLIANCE), "worker"],
                env=env,
                cwd=work,
                log_path=work / f"worker-{i}.log",
                session=True,
            )
            started.append(worker)
        base_urls = [api.base_url for api in apis]
        async with httpx.AsyncClient(timeout=30) as client:
            for slug in FEEDS:
                await ask(
                    client,
                    base_urls[0],
                    token,
                    "mutation ($s: String!, $u: String!) { createFeed(slug: $s, settings: "
                    '{url: $u, allowPrivate: true, schedule: "5s"}) { feed { slug } } }',
                    s=slug,
                    u=feeds.url(slug),
                )
            async with engine.connect() as connection:
                end = (await connection.execute(changes.LATEST)).first()
            after = changes.cursor(end.version, end.id)
            record = Record()
            stop = asyncio.Event()  # the load, the triggers, this script's commits
            done = asyncio.Event()  # the subscribers, once they have the log's end
            subscribers = {
                f"api-{i}/sub-{j}": [] for i in range(2) for j in range(args.subscribers)
            }
            pids = {f"api-{i}": apis[i].process.pid for i in range(2)}
            pids |= {f"worker-{i}": started[2 + i].process.pid for i in range(2)}
            tasks = [
                asyncio.create_task(
                    subscriber(base_urls[int(n[4])], token, after, got, record, done)
                )
                for n, got in subscribers.items()
            ]
            following = tasks + [
                asyncio.create_task(run_follower(base_urls[1], token, record, done))
            ]
            await asyncio.sleep(1)
            tasks = [
                asyncio.create_task(reader(base_urls, record, stop, n)) for n in range(args.readers)
            ]
            tasks += [
                asyncio.create_task(triggers(client, base_urls, token, record, stop)),
                asyncio.create_task(own_commits(engine, record, stop)),
                asyncio.create_task(memory(pids, record, stop)),
            ]
            load = [os.getloadavg()]
            await asyncio.sleep(args.minutes * 60)
            record.window = time.monotonic() - record.started
            load.append(os.getloadavg())
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            for slug in FEEDS:
                await ask(
                    client,
                    base_urls[0],
                    token,
                    "mutation ($s: String!) { pauseFeed(slug: $s) { feed { slug } } }",
                    s=slug,
                )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # the runs under way end
                async with engine.connect() as connection:
                    open_runs = await connection.scalar(
                        select(RUN.c.id).where(RUN.c.status.in_(["queued", "running"])).limit(1)
                    )
                if open_runs is None:
                    break
                await asyncio.sleep(0.5)
            async with engine.connect() as connection:
                end = (await connection.execute(changes.LATEST)).first()
            last = changes.cursor(end.version, end.id)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # the last changes reach the subscribers
                if all(got and got[-1]["cursor"] == last for got in subscribers.values()):
                    break
                await asyncio.sleep(0.2)
            done.set()
            await asyncio.gather(*following, return_exceptions=True)
        async with engine.connect() as connection:
            position = changes.position(after)
            rows = await connection.execute(
                select(CHANGE.c.version, CHANGE.c.id)
                .where(CHANGE.c.version.is_not(None))
                .order_by(CHANGE.c.version, CHANGE.c.id)
            )
            log = [changes.cursor(v, i) for v, i in rows if (v, i) > position]
            runs = dict(
                (
                    await connection.execute(
                        select(RUN.c.status, func.count()).group_by(RUN.c.status)
                    )
                ).all()
            )
        for got in subscribers.values():
            for change in got:
                if change["version"] in record.commits:
                    record.arrivals.append(change["at"] - record.commits[change["version"]])
        for process in started:
            process.stop()
        (work / "subscribers.json").write_text(json.dumps({"log": log, **subscribers}))
        result = report(record, subscribers, log, runs, load)
        result |= {
            "minutes": args.minutes,
            "readers": args.readers,
            "items_per_feed": args.items,
            "answer_cache": not args.uncached,
        }
        return result
    finally:
        for process in started:
            process.stop()
        feeds.server.shutdown()
        await engine.dispose()
        await drop_postgres(args.admin_url, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--readers", type=int, default=4, help="closed-loop read clients")
    parser.add_argument("--subscribers", type=int, default=2, help="per API process")
    parser.add_argument("--items", type=int, default=400, help="items per feed")
    parser.add_argument("--uncached", action="store_true", help="no answer cache in the APIs")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--work", help="where the processes' logs go")
    args = parser.parse_args()
    result = asyncio.run(main(args))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"fleet-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2))
    print(table(result))
    print(json.dumps({k: v for k, v in result.items() if k != "per_minute"}, indent=2))
    print(f"written to {out}")
