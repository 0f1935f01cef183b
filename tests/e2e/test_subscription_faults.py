"""Subscriptions across API processes on one database, and their faults: a change committed
through one process reaches a subscriber of another; a killed listening connection (PostgreSQL)
and a killed API process cost the subscribers a delay, never a change: a client that
reconnects with the cursor of the last change it got (to the same process or another) gets
every change of the log once and in order."""

import asyncio
import json
import time

import httpx
import pytest
from sqlalchemy import select, text

from store.registry import CHANGE
from tests import factories
from tests.conftest import ON_POSTGRES
from tests.sync.feedserver import FeedServer, respond

from .server_process import clean_env, make_key, start
from .sockets import Socket

PEPPER = "the fault tests' pepper, 32 chars!"
FOLLOW = """
subscription ($after: String) {
  changes(after: $after) { cursor version entityType action }
}
"""


class Fleet:
    def __init__(self, database, token, feeds, servers):
        self.database, self.token, self.feeds, self.servers = database, token, feeds, servers

    async def ask(self, server, query: str, **variables) -> dict:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"authorization": f"Bearer {self.token}"},
            )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]

    async def add_feed(self, slug: str, count: int) -> None:
        document = factories.document(*factories.cities(slug, count), publisher=slug)
        self.feeds.route(f"/{slug}", respond(200, document))
        await self.ask(
            self.servers[0],
            "mutation ($slug: String!, $url: String!) { createFeed(slug: $slug, settings: "
            '{url: $url, allowPrivate: true, schedule: "1d"}) { feed { slug } } }',
            slug=slug,
            url=self.feeds.url(f"/{slug}"),
        )

    async def sync(self, slug: str) -> int:
        """Run the feed through the first process (the one with a scheduler); its run."""
        done = await self.ask(
            self.servers[0],
            "mutation ($f: String!) { triggerSync(feed: $f) { run { id } } }",
            f=slug,
        )
        return done["triggerSync"]["run"]["id"]

    async def log(self) -> list[tuple[int, str]]:
        async with self.database.engine.connect() as connection:
            rows = await connection.execute(
                select(CHANGE.c.version, CHANGE.c.id)
                .where(CHANGE.c.version.is_not(None))
                .order_by(CHANGE.c.version, CHANGE.c.id)
            )
            return [tuple(r) for r in rows]


@pytest.fixture
async def fleet(databases, tmp_path):
    database = await databases.create()
    env = clean_env(
        DATABASE_URL=database.url, ALLIANCE_KEY_PEPPER=PEPPER, ALLIANCE_LOG_FORMAT="json"
    )
    token = make_key("ops", "operator", env=env, cwd=tmp_path)
    servers = []
    async with FeedServer() as feeds:
        try:
            servers.append(await start([], env, tmp_path, tmp_path / "a.log"))
            servers.append(await start(["--no-scheduler"], env, tmp_path, tmp_path / "b.log"))
            yield Fleet(database, token, feeds, servers)
        finally:
            for server in servers:
                server.stop()


async def collect(socket: Socket, into: list, count: int, timeout: float = 60) -> None:
    """Changes pushed to subscription "c" until `into` holds `count`."""
    async with asyncio.timeout(timeout):
        while len(into) < count:
            into.append((await socket.next("c", timeout=timeout))["changes"])


async def test_a_change_committed_through_one_process_reaches_a_subscriber_of_another(fleet):
    await fleet.add_feed("east", 25)
    async with Socket.opened(fleet.servers[1].base_url) as socket:
        await socket.init(fleet.token)
        await socket.subscribe("c", FOLLOW)
        await asyncio.sleep(0.3)
        await fleet.sync("east")  # run by the first process's scheduler
        got: list = []
        await collect(socket, got, 25)
    assert {c["entityType"] for c in got} >= {"MEMBER"}
    assert sum(c["action"] == "CREATED" and c["entityType"] == "MEMBER" for c in got) == 25


async def test_a_subscriber_whose_process_is_killed_reconnects_elsewhere_and_misses_nothing(
    fleet,
):
    await fleet.add_feed("west", 1500)  # three batches, so the kill comes mid-run
    got: list = []
    async with Socket.opened(fleet.servers[1].base_url) as socket:
        await socket.init(fleet.token)
        await socket.subscribe("c", FOLLOW, after=None)
        await asyncio.sleep(0.3)
        run = await fleet.sync("west")
        await collect(socket, got, 10)
        fleet.servers[1].process.kill()  # SIGKILL: no goodbye to the client
        with pytest.raises(Exception):  # noqa: B017 - the connection is gone, however it says so
            await collect(socket, got, len(got) + 10_000, timeout=10)
    # Reconnect to the other process with the last cursor received.
    async with Socket.opened(fleet.servers[0].base_url) as socket:
        await socket.init(fleet.token)
        await socket.subscribe("c", FOLLOW, after=got[-1]["cursor"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = await fleet.ask(
                fleet.servers[0], "{ syncRuns(first: 1) { nodes { id status } } }"
            )
            if runs["syncRuns"]["nodes"][0]["status"] not in ("QUEUED", "RUNNING"):
                break
            await asyncio.sleep(0.2)
        log = await fleet.log()
        start = log.index(next(p for p in log if p[0] == got[0]["version"]))
        await collect(socket, got, len(log) - start)
    assert runs["syncRuns"]["nodes"][0] == {"id": run, "status": "SUCCEEDED"}
    cursors = [c["cursor"] for c in got]
    assert len(cursors) == len(set(cursors)), "a change came twice"
    versions = [c["version"] for c in got]
    assert versions == sorted(versions)
    assert len(got) == len(log) - start  # every change from the first one received on


@pytest.mark.skipif(not ON_POSTGRES, reason="the listening connection is PostgreSQL's")
async def test_a_killed_listening_connection_is_made_again_and_the_subscribers_miss_nothing(
    fleet,
):
    await fleet.add_feed("north", 20)
    await fleet.add_feed("south", 20)
    async with Socket.opened(fleet.servers[1].base_url) as socket:
        await socket.init(fleet.token)
        await socket.subscribe("c", FOLLOW)
        await asyncio.sleep(0.3)
        async with fleet.database.engine.connect() as connection:
            killed = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'alliance data version listener' "
                    "AND datname = current_database()"
                )
            )
        assert killed == 2  # one per API process
        await fleet.sync("north")  # committed while the listeners may be down
        got: list = []
        await collect(socket, got, 20)
        await fleet.sync("south")
        await collect(socket, got, 40)
    assert len({c["cursor"] for c in got}) == 40
    lines = [
        json.loads(line) for line in fleet.servers[1].log().splitlines() if line.startswith("{")
    ]
    assert any("listener down" in line["msg"] for line in lines)
