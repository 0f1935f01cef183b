"""Two hubs on loopback: the second mirrors the first from its `/feeds/alliance.json`, as it
would any partner's feed (server/web/federation.py, sync/publish.py). After creates, updates
and deletes in the first, the second holds the same graph."""

import asyncio
import json

import httpx
import pytest
from sqlalchemy import func, select

from store import seed
from store.registry import FEED, IDENTIFIER, RECORD_TABLES, SOURCE
from tests import factories
from tests.sync.feedserver import FeedServer, respond

from .server_process import ALLIANCE, clean_env

TYPES = ("alliance", "member", "organisation", "person", "post", "partnership", "event")


async def alliance(*args: str, env: dict, cwd) -> str:
    process = await asyncio.create_subprocess_exec(
        str(ALLIANCE), *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, output.decode()
    return output.decode()


async def graph(database) -> dict:
    """Live records per type, and every live member's slug with its names."""
    found = {}
    async with database.engine.connect() as connection:
        for kind in TYPES:
            table = RECORD_TABLES[kind]
            found[kind] = await connection.scalar(
                select(func.count()).select_from(table).where(table.c.deleted_at.is_(None))
            )
        member = RECORD_TABLES["member"]
        rows = await connection.execute(
            select(member.c.slug, member.c.names, member.c.population).where(
                member.c.deleted_at.is_(None)
            )
        )
        found["members"] = {slug: (names, population) for slug, names, population in rows}
        keys = await connection.execute(
            select(member.c.slug, IDENTIFIER.c.scheme, IDENTIFIER.c.value)
            .join(IDENTIFIER, IDENTIFIER.c.entity_id == member.c.id)
            .where(IDENTIFIER.c.entity_type == "member", ~IDENTIFIER.c.scheme.startswith("feed:"))
        )
        found["identifiers"] = sorted(map(tuple, keys))
    return found


async def sources_of(database, slug: str) -> list[tuple]:
    member = RECORD_TABLES["member"]
    async with database.engine.connect() as connection:
        rows = await connection.execute(
            select(SOURCE.c.feed, FEED.c.publisher)
            .join(member, member.c.id == SOURCE.c.entity_id)
            .join(FEED, FEED.c.slug == SOURCE.c.feed)
            .where(SOURCE.c.entity_type == "member", member.c.slug == slug)
        )
        return [(feed, publisher["name"]) for feed, publisher in rows]


@pytest.fixture
async def hubs(databases, tmp_path, start_hub):
    first, second = await databases.create(), await databases.create()
    await seed.seed(first.engine)
    for database in (first, second):
        await database.engine.dispose()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env_a = clean_env(DATABASE_URL=first.url)
    env_b = clean_env(DATABASE_URL=second.url)
    hub = await start_hub(["--no-scheduler"], env_a, tmp_path / "a")
    return first, second, hub, env_a, env_b


async def test_a_second_hub_mirrors_the_first_through_creates_updates_and_deletes(hubs, tmp_path):
    first, second, hub, env_a, env_b = hubs
    a, b = tmp_path / "a", tmp_path / "b"
    url = f"{hub.base_url}/feeds/alliance.json"
    await alliance(
        "feeds", "add", "hub-a", url, "--mode", "incremental", "--allow-private",
        env=env_b, cwd=b,
    )  # fmt: skip

    # a partner feed of the first hub adds ten cities
    cities = factories.cities("partner", 10)
    cities[3]["data"]["identifiers"] = [{"scheme": "wikidata", "value": "Q64"}]
    async with FeedServer() as server:
        server.route("/feed", respond(200, factories.document(*cities)))
        await alliance("feeds", "add", "partner", server.url("/feed"), "--allow-private",
                       env=env_a, cwd=a)  # fmt: skip
        await alliance("sync", "partner", env=env_a, cwd=a)
        await alliance("sync", "hub-a", env=env_b, cwd=b)
        assert await graph(second) == await graph(first)

        # then it renames one, gives another a population, and drops the last
        changed = [
            factories.member("partner-0", "Partnerstadt Null"),
            cities[1] | {"data": cities[1]["data"] | {"population": 12_345}},
            *cities[2:9],
        ]
        server.route("/feed", respond(200, factories.document(*changed, cursor="c2")))
        await alliance("sync", "partner", env=env_a, cwd=a)
        said = await alliance("sync", "hub-a", env=env_b, cwd=b)

    mirrored, original = await graph(second), await graph(first)
    assert mirrored == original
    assert original["member"] == 49  # the seed's 40 and nine of the ten
    assert original["members"]["partner-stadt-0"][0][0]["value"] == "Partnerstadt Null"
    assert original["members"]["partner-stadt-1"][1] == 12_345
    assert "partner-stadt-9" not in mirrored["members"]
    assert ("partner-stadt-3", "wikidata", "Q64") in mirrored["identifiers"]
    assert await sources_of(second, "kaiserslautern") == [("hub-a", "Alliance Hub")]
    assert "succeeded" in said  # the second run read only what changed, with a tombstone

    feed = httpx.get(url).json()
    assert feed["format"] == "alliance-feed/1" and feed["publisher"]["name"] == "Alliance Hub"
    again = httpx.get(url, headers={"if-none-match": httpx.get(url).headers["etag"]})
    assert again.status_code == 304
    since = httpx.get(url, params={"since": feed["cursor"]}).json()
    assert since["items"] == [] and since["complete"] is False
    for hostile in ({"since": "nonsense"}, {"as_of": "<script>"}, {"after": "member-x"}):
        refused = httpx.get(url, params=hostile)
        assert refused.status_code == 400, hostile
        assert refused.json()["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    assert json.dumps(feed).count('"contact_details"') == 0
