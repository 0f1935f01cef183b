"""Subscriptions over graphql-transport-ws against `alliance serve`: changes committed by
another process pushed as they commit, from a cursor without a gap, runs followed to their end;
and what the socket refuses (bad keys, roles, origins, too many connections or operations, idle
connections) with its code and reason."""

import asyncio
import base64
import json
import os
import socket
import struct
import time

import httpx
import pytest
from sqlalchemy import update
from websockets.exceptions import InvalidStatus

from store import versions
from store.registry import MEMBER
from tests import factories
from tests.e2e.test_rest_of_http import sample
from tests.sync.feedserver import FeedServer, respond

from .server_process import clean_env, make_key, run_cli, start
from .sockets import Socket

PEPPER = "the socket tests' pepper, 32 chars"
ALLOWED = "https://atlas.example.org"
IDLE = 3.0

MEMBERS = """
subscription ($after: String) {
  changes(types: [MEMBER], after: $after) {
    action entityType version cursor
    node { ... on Member { slug population } }
  }
}
"""
RUNS = """
subscription ($run: Int) {
  syncRuns(run: $run) { id feed status itemsSeen created quarantined }
}
"""


class Hub:
    def __init__(self, server, database, tokens: dict[str, str], feeds: FeedServer):
        self.server, self.database, self.tokens, self.feeds = server, database, tokens, feeds
        self.base_url = server.base_url

    def socket(self, **options):
        return Socket.opened(self.base_url, **options)

    async def commit(self, slug: str, population: int) -> None:
        """A change committed by this process, not the hub's: as `alliance sync` commits."""
        async with self.database.engine.begin() as connection:
            await connection.execute(
                update(MEMBER).where(MEMBER.c.slug == slug).values(population=population)
            )
            await versions.bump(connection)

    async def commit_all(self, population: int) -> None:
        """Every member changed in one commit."""
        async with self.database.engine.begin() as connection:
            await connection.execute(update(MEMBER).values(population=population))
            await versions.bump(connection)

    async def ask(self, query: str, token: str | None = None, **variables) -> dict:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture(scope="module")
async def hub(databases, tmp_path_factory):
    from store import seed

    database = await databases.create()
    await seed.seed(database.engine)
    work = tmp_path_factory.mktemp("sockets")
    env = clean_env(
        DATABASE_URL=database.url,
        ALLIANCE_KEY_PEPPER=PEPPER,
        ALLIANCE_CORS_ORIGINS=f'["{ALLOWED}"]',
        ALLIANCE_SUBSCRIPTIONS_PER_CONNECTION="3",
        ALLIANCE_CONNECTIONS_PER_KEY="3",
        ALLIANCE_SOCKET_IDLE_SECONDS=str(IDLE),
        ALLIANCE_SOCKET_SEND_SECONDS="1",
        ALLIANCE_LOG_FORMAT="json",
    )
    tokens = {}
    for role in ("operator", "reader", "partner"):
        tokens[role] = make_key(f"{role}-1", role, env=env, cwd=work)
    async with FeedServer() as feeds:
        cities = factories.cities("partner", 30)
        feeds.route("/feed", respond(200, factories.document(*cities, publisher="partner")))
        server = await start([], env, work, work / "server.log")
        try:
            hub = Hub(server, database, tokens, feeds)
            hub.cli = lambda *args: run_cli(*args, env=env, cwd=work)
            yield hub
        finally:
            server.stop()


async def test_a_change_committed_by_another_process_is_pushed_as_it_commits(hub):
    async with hub.socket() as socket:
        assert (await socket.init())["type"] == "connection_ack"
        await socket.subscribe("m", MEMBERS)
        await asyncio.sleep(0.3)  # subscribed before the commit: from now on
        started = time.monotonic()
        await hub.commit("kaiserslautern", 100_001)
        data = await socket.next("m")
        took = time.monotonic() - started
    change = data["changes"]
    assert change["action"] == "UPDATED" and change["entityType"] == "MEMBER"
    assert change["node"] == {"slug": "kaiserslautern", "population": 100_001}
    assert took < 5, took  # pushed, not found by a later poll of the client


async def test_from_a_cursor_every_change_after_it_comes_once_in_order_then_the_new_ones(hub):
    await hub.commit("kaiserslautern", 1)
    first = await hub.ask("{ changes(first: 100, types: [MEMBER]) { pageInfo { endCursor } } }")
    cursor = first["changes"]["pageInfo"]["endCursor"]
    while True:  # the newest cursor of the log
        page = await hub.ask(
            "query ($after: String) { changes(after: $after, first: 100) "
            "{ pageInfo { endCursor hasNextPage } } }",
            after=cursor,
        )
        cursor = page["changes"]["pageInfo"]["endCursor"] or cursor
        if not page["changes"]["pageInfo"]["hasNextPage"]:
            break
    for population in (2, 3, 4):  # committed while nobody listens
        await hub.commit("kaiserslautern", population)
    async with hub.socket() as socket:
        await socket.init()
        await socket.subscribe("m", MEMBERS, after=cursor)
        seen = [await socket.next("m") for _ in range(3)]
        await hub.commit("kaiserslautern", 5)
        seen.append(await socket.next("m"))
        await hub.commit("kaiserslautern", 6)
        seen.append(await socket.next("m"))
    versions_seen = [d["changes"]["version"] for d in seen]
    assert versions_seen == sorted(versions_seen) and len(set(versions_seen)) == 5
    # The node is the record as it is when pushed: the backlog's all show the newest value then.
    assert [d["changes"]["node"]["population"] for d in seen[3:]] == [5, 6]


async def test_a_subscriber_that_joins_late_gets_no_old_changes(hub):
    await hub.commit("kaiserslautern", 7)
    async with hub.socket() as socket:
        await socket.init()
        await socket.subscribe("m", MEMBERS)
        await asyncio.sleep(0.3)
        await hub.commit("kaiserslautern", 8)
        assert (await socket.next("m"))["changes"]["node"]["population"] == 8


async def test_an_operator_follows_a_run_from_its_start_to_its_end(hub):
    operator = hub.tokens["operator"]
    await hub.ask(
        'mutation ($url: String!) { createFeed(slug: "partner", settings: {url: $url, '
        'allowPrivate: true, schedule: "1d"}) { feed { slug } } }',
        token=operator,
        url=hub.feeds.url("/feed"),
    )
    async with hub.socket() as socket:
        assert (await socket.init(operator))["type"] == "connection_ack"
        await socket.subscribe("all", 'subscription { syncRuns(feed: "partner") { id status } }')
        triggered = await hub.ask(
            'mutation { triggerSync(feed: "partner") { run { id } } }',
            token=operator,
        )
        run_id = triggered["triggerSync"]["run"]["id"]
        await socket.subscribe("one", RUNS, run=run_id)
        pushed: dict[str, list] = {"one": [], "all": []}
        while True:
            message = await socket.receive(timeout=60)
            if message["type"] == "complete" and message["id"] == "one":
                break
            assert message["type"] == "next", message
            pushed[message["id"]].append(message["payload"]["data"]["syncRuns"])
    one, every = pushed["one"], pushed["all"]
    assert {s["id"] for s in one} == {run_id}
    assert one[-1]["status"] == "SUCCEEDED"
    assert one[-1]["created"] == 30 and one[-1]["itemsSeen"] == 30
    assert all(s["status"] in ("QUEUED", "RUNNING") for s in one[:-1]), one
    # The feed's follower saw the run start and end too.
    assert every[0] == {"id": run_id, "status": "QUEUED"}
    assert every[-1] == {"id": run_id, "status": "SUCCEEDED"}


async def test_a_reader_may_follow_changes_but_not_runs(hub):
    async with hub.socket() as socket:
        assert (await socket.init(hub.tokens["reader"]))["type"] == "connection_ack"
        await socket.subscribe("runs", RUNS)
        refused = await socket.receive()
    assert refused["type"] == "error" and refused["id"] == "runs"
    assert refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_bad_cursor_or_feed_is_a_coded_error(hub):
    async with hub.socket() as socket:
        await socket.init(hub.tokens["operator"])
        await socket.subscribe("c", MEMBERS, after="not-a-cursor")
        bad_cursor = await socket.receive()
        await socket.subscribe("f", 'subscription { syncRuns(feed: "nowhere") { id } }')
        bad_feed = await socket.receive()
    for message, code in ((bad_cursor, "INVALID_CURSOR"), (bad_feed, "NOT_FOUND")):
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == code


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"authorization": "Bearer ahk_000000000000_" + "x" * 43}, "unknown or revoked"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "Authorization: Bearer"),
        ({"headers": {"Authorization": "Bearer nonsense"}}, "unknown or revoked"),
    ],
)
async def test_a_connection_with_a_bad_key_is_closed_with_the_reason(hub, payload, reason):
    async with hub.socket() as socket:
        await socket.send({"type": "connection_init", "payload": payload})
        code, said = await socket.closed()
    assert code == 4403 and reason in said


@pytest.mark.parametrize(
    "message",
    [
        {"type": "connection_init", "payload": ["not", "an", "object"]},
        {"type": "subscribe", "id": "1"},
        {"type": "no-such-type"},
    ],
)
async def test_a_message_out_of_the_protocol_closes_the_connection_with_4400(hub, message):
    async with hub.socket() as socket:
        if message["type"] == "subscribe":
            await socket.init()
        await socket.send(message)
        code, _ = await socket.closed()
    assert code == 4400


async def test_the_key_may_come_in_the_handshake_header(hub):
    headers = {"authorization": f"Bearer {hub.tokens['operator']}"}
    async with hub.socket(headers=headers) as socket:
        assert (await socket.init())["type"] == "connection_ack"
        await socket.subscribe("r", 'subscription { syncRuns(feed: "partner") { id } }')
        await socket.send({"type": "complete", "id": "r"})


async def test_a_browser_page_of_another_origin_is_refused_and_a_listed_one_let_in(hub):
    with pytest.raises(InvalidStatus) as refused:
        async with hub.socket(origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with hub.socket(origin=ALLOWED) as socket:
        assert (await socket.init())["type"] == "connection_ack"


async def test_operations_per_connection_and_connections_per_key_are_capped(hub):
    token = hub.tokens["reader"]
    async with hub.socket() as socket:
        await socket.init(token)
        for n in range(3):
            await socket.subscribe(str(n), MEMBERS)
        await socket.subscribe("over", MEMBERS)
        over = await socket.receive()
        assert over["type"] == "error" and over["id"] == "over"
        assert "limit" in over["payload"][0]["message"]
        async with hub.socket() as second, hub.socket() as third, hub.socket() as fourth:
            assert (await second.init(token))["type"] == "connection_ack"
            assert (await third.init(token))["type"] == "connection_ack"
            await fourth.send(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            )
            code, reason = await fourth.closed()
    assert code == 4429 and "3 connections" in reason
    async with hub.socket() as again:  # the count goes down as connections close
        assert (await again.init(token))["type"] == "connection_ack"


async def test_an_idle_connection_is_closed(hub):
    async with hub.socket() as socket:
        await socket.init()
        started = time.monotonic()
        code, reason = await socket.closed(timeout=IDLE * 3)
    assert code == 1000 and reason == "idle"
    assert IDLE <= time.monotonic() - started < IDLE * 3


async def test_a_subscription_over_http_is_a_coded_error(hub):
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=10) as client:
        response = await client.post("/graphql", json={"query": MEMBERS})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "WEBSOCKET_REQUIRED" and "WebSocket" in error["message"]


async def test_a_key_revoked_while_its_connection_is_open_closes_the_connection(hub):
    async with hub.socket() as socket:
        assert (await socket.init(hub.tokens["partner"]))["type"] == "connection_ack"
        await socket.subscribe("m", MEMBERS)
        revoked = hub.cli("keys", "revoke", "partner-1")
        assert revoked.returncode == 0, revoked.stderr
        code, reason = await socket.closed(timeout=IDLE * 2)
    assert code == 4403 and "revoked" in reason


class Stalled:
    """A WebSocket client that subscribes and then never reads: its receive buffer is a few KiB,
    so the hub's writes to it soon wait on TCP."""

    @classmethod
    async def subscribed(cls, base_url: str, query: str) -> "Stalled":
        host, port = base_url.removeprefix("http://").split(":")
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=raw)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
            ).encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        stalled = cls()
        stalled.reader, stalled.writer = reader, writer
        stalled.send({"type": "connection_init", "payload": {}})
        ack = await asyncio.wait_for(reader.read(64), 10)
        assert b"connection_ack" in ack, ack
        stalled.send({"type": "subscribe", "id": "s", "payload": {"query": query}})
        return stalled

    def send(self, message: dict) -> None:
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        head = bytes([0x81])  # a final text frame
        if len(payload) < 126:
            head += bytes([0x80 | len(payload)])
        else:
            head += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(head + mask + masked)

    async def cut_off(self, timeout: float = 10.0) -> bool:
        """Whether the hub ended the TCP connection: reading on meets its end, or a reset."""
        try:
            async with asyncio.timeout(timeout):
                while await self.reader.read(1 << 16):
                    pass
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self.writer.transport.abort()


NODE = (
    "node { ... on Member { slug name names { value lang } identifiers { scheme value } "
    "sources { feed itemId url note retrievedAt } } }"
)
# Each change some KiB long: the stalled client's few KiB of buffer fill within a few commits.
WIDE = (
    "subscription { changes(types: [MEMBER]) { cursor version action changedAt "
    + " ".join(f"n{i}: {NODE}" for i in range(12))
    + " } }"
)


async def open_sockets(hub) -> float:
    async with httpx.AsyncClient(base_url=hub.base_url, timeout=10) as client:
        metrics = (await client.get("/metrics")).text
    return sample(metrics, "alliance_socket_connections")


async def test_a_client_that_stops_reading_is_dropped_and_holds_up_no_other(hub):
    """Dropped either as too slow to take a message or, not answering pings, as idle: whichever
    comes first. The client reading beside it gets every change meanwhile."""
    stalled = await Stalled.subscribed(hub.base_url, WIDE)
    try:
        async with hub.socket() as reading:
            await reading.init()
            await reading.subscribe("w", MEMBERS)
            await asyncio.sleep(0.3)
            assert await open_sockets(hub) == 2
            got, population = 0, 0
            deadline = time.monotonic() + 30
            while await open_sockets(hub) > 1:
                assert time.monotonic() < deadline, "the stalled client was never dropped"
                population += 1
                await hub.commit_all(population)
                while True:  # this client keeps up, whatever the stalled one does
                    try:
                        await reading.next("w", timeout=0.05)
                        got += 1
                    except TimeoutError:
                        break
            await hub.commit("kaiserslautern", 424242)  # the others go on
            while True:
                data = await reading.next("w")
                if data["changes"]["node"]["population"] == 424242:
                    break
        assert await stalled.cut_off()  # its connection is gone, not left waiting on TCP
    finally:
        stalled.close()
    assert got > 0
