"""What the API says a synced fact came from: the feed's slug and its publisher, never the
address the hub fetched it from, whose query string may hold a partner's key.

A real run of the Kaiserslautern fixture over loopback, into the seeded ISA, then the API's
`sources` of every record of every type, read as an anonymous client reads them.
"""

import json
from pathlib import Path

from sqlalchemy import select

from server.config import Settings
from server.graph.context import Context
from server.graph.reader import Reader
from server.graph.schema import build_schema
from store import seed, tables
from store.enums import Role
from store.keys import Caller
from sync import config, runs

from .feedserver import respond

FIXTURE = (Path(__file__).parent / "fixtures" / "kaiserslautern.alliance-feed.json").read_bytes()
SECRET = "k3y-0f-the-partner"
PUBLISHER = {
    "id": "wfk-kaiserslautern",
    "name": "WFK Kaiserslautern",
    "url": "https://feeds.example.org/wfk",
}
EVERY_SOURCE = """
fragment Sources on Entity { sources { feed itemId url note runId } }
{
  alliances { nodes { ...Sources } }
  members(first: 100) { nodes { ...Sources memberships { ...Sources } } }
  organisations(first: 100) { nodes { ...Sources posts { ...Sources } } }
  people(first: 100) { nodes { ...Sources } }
  partnerships(first: 100) { nodes { ...Sources } }
  events(first: 100) { nodes { ...Sources } }
}
"""
PUBLISHERS = EVERY_SOURCE.replace("runId }", "runId publisher { id name url } }")


async def _synced(databases, server, client):
    """The seeded ISA after one run of the fixture, fetched with a key in its query string."""
    database = await databases.create()
    await seed.seed(database.engine)
    server.route("/feed", respond(200, FIXTURE))
    url = server.url("/feed") + f"?api_key={SECRET}&region=eu"
    spec = config.spec(slug="wfk", url=url, format="alliance-feed/1", allow_private=True)
    await config.save(database.engine, spec)
    outcome = await runs.run(database.engine, "wfk", client)
    # The fixture holds a few bad items on purpose; the rest is applied.
    assert outcome.status in ("succeeded", "partial"), outcome.error
    assert outcome.counts.created >= 10, outcome.counts
    assert server.requests[-1].path.endswith(f"api_key={SECRET}&region=eu")  # it was sent
    return database, server.url("/")


async def _answer(database, query: str) -> dict:
    settings = Settings(database_url=database.url)
    reader = Reader(database.engine)
    try:
        result = await build_schema(settings).execute(
            query,
            context_value=Context(
                reader=reader, settings=settings, caller=Caller("tests", Role.READER)
            ),
        )
    finally:
        await reader.close()
    assert result.errors is None, [e.formatted for e in result.errors]
    return result.data


def _sources(answer) -> list[dict]:
    """Every source in the answer, wherever it sits."""
    if isinstance(answer, list):
        return [s for item in answer for s in _sources(item)]
    if not isinstance(answer, dict):
        return []
    return list(answer.get("sources", [])) + [
        s for key, value in answer.items() if key != "sources" for s in _sources(value)
    ]


async def test_no_sources_answer_shows_the_feed_url_or_its_secret(databases, server, client):
    database, address = await _synced(databases, server, client)

    answer = await _answer(database, EVERY_SOURCE)

    text = json.dumps(answer)
    assert SECRET not in text and "api_key" not in text
    assert address.rstrip("/") not in text and "127.0.0.1" not in text
    synced = [s for s in _sources(answer) if s["feed"] == "wfk"]
    assert len(synced) >= 10  # every record of the feed, periods and posts included
    assert all(s["url"] is None for s in synced)
    async with database.engine.connect() as connection:
        stored = await connection.scalars(
            select(tables.Source.url).where(tables.Source.run_id.is_not(None))
        )
        assert set(stored) == {None}  # not kept where a later API could show it


async def test_sources_show_the_publisher_and_documents_keep_their_urls(databases, server, client):
    database, _ = await _synced(databases, server, client)

    sources = _sources(await _answer(database, PUBLISHERS))

    synced = [s for s in sources if s["feed"] == "wfk"]
    assert synced and all(s["publisher"] == PUBLISHER for s in synced)
    cited = [s for s in sources if s["feed"] == "seed"]
    assert all(s["publisher"] is None for s in cited)
    # The documents the seed cites are public and stay readable.
    assert any(s["url"] and s["url"].startswith("https://www.agit.de/") for s in cited)
