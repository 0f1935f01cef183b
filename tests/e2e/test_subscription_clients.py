"""The subscriptions driven by clients people use: graphql-ws, the protocol's reference client
(from the npm registry, run by Node; installed by `make test` into tests/e2e/clients), and gql
with its websockets transport, against `alliance serve`."""

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy import update
from websockets.exceptions import ConnectionClosed

from store import seed, versions
from store.registry import MEMBER

from .server_process import clean_env, make_key, start
from .sockets import ws_url

PEPPER = "the client tests' pepper, 32 chars"
CLIENTS = Path(__file__).parent / "clients"
FOLLOW = """
subscription {
  changes(types: [MEMBER]) { action version node { ... on Member { slug population } } }
}
"""


@pytest.fixture(scope="module")
async def served(databases, tmp_path_factory):
    database = await databases.create()
    await seed.seed(database.engine)
    work = tmp_path_factory.mktemp("clients")
    env = clean_env(
        DATABASE_URL=database.url, ALLIANCE_KEY_PEPPER=PEPPER, ALLIANCE_ANONYMOUS_READS="false"
    )
    token = make_key("partner-app", "reader", env=env, cwd=work)
    server = await start(["--no-scheduler"], env, work, work / "server.log")
    try:
        yield server, database, token
    finally:
        server.stop()


async def commit(database, slug: str, population: int) -> None:
    async with database.engine.begin() as connection:
        await connection.execute(
            update(MEMBER).where(MEMBER.c.slug == slug).values(population=population)
        )
        await versions.bump(connection)


async def test_gql_follows_the_changes_with_its_websockets_transport(served):
    server, database, token = served
    transport = WebsocketsTransport(
        url=ws_url(server.base_url),
        init_payload={"authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    got = []
    async with Client(transport=transport) as session:

        async def follow():
            async for result in session.subscribe(gql(FOLLOW)):
                got.append(result["changes"])
                if len(got) == 2:
                    return

        following = asyncio.create_task(follow())
        await asyncio.sleep(0.5)
        await commit(database, "kaiserslautern", 11)
        await commit(database, "aachen", 12)
        await asyncio.wait_for(following, 20)
    assert [c["node"] for c in got] == [
        {"slug": "kaiserslautern", "population": 11},
        {"slug": "aachen", "population": 12},
    ]
    assert got[0]["version"] < got[1]["version"]


async def test_gql_without_a_key_is_refused_where_the_hub_wants_one(served):
    server, _, _ = served
    transport = WebsocketsTransport(
        url=ws_url(server.base_url), subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL]
    )
    with pytest.raises(Exception) as refused:  # noqa: B017 - gql names the close its own way
        async with Client(transport=transport) as session:
            async for _ in session.subscribe(gql(FOLLOW)):
                break
    closed = refused.value
    while closed is not None and not isinstance(closed, ConnectionClosed):
        closed = closed.__cause__ or closed.__context__
    assert closed is not None and closed.rcvd.code == 4403, refused.value
    assert "API key" in closed.rcvd.reason


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
@pytest.mark.skipif(
    not (CLIENTS / "node_modules" / ".complete").exists(),
    reason="graphql-ws is not installed (`make test` installs it with npm)",
)
async def test_graphql_ws_the_reference_client_follows_the_changes(served):
    server, database, token = served
    process = await asyncio.create_subprocess_exec(
        "node",
        str(CLIENTS / "subscribe.mjs"),
        ws_url(server.base_url),
        token,
        "2",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), 20))
        assert ready == {"ready": True}
        await asyncio.sleep(1.0)  # connected and subscribed
        await commit(database, "kaiserslautern", 21)
        await commit(database, "aachen", 22)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, (out, err)
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert [line["data"]["changes"]["node"] for line in lines] == [
        {"slug": "kaiserslautern", "population": 21},
        {"slug": "aachen", "population": 22},
    ]
