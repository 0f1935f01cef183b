"""An operator's day through GraphQL alone, against `alliance serve` with its scheduler: add a
feed, try it dry, run it, read the run and what it quarantined, lock a field, run again and see
the lock hold; and what the operator API refuses to other keys."""

import asyncio
import time

import httpx
import pytest

from tests import factories
from tests.sync.feedserver import FeedServer, respond

from .server_process import clean_env, make_key

PEPPER = "the operator tests' pepper, 32 chars"
ENDED = {"SUCCEEDED", "PARTIAL", "FAILED", "NOT_MODIFIED", "SKIPPED_LOCKED", "ABANDONED"}


def feed_document(population: int, latitude: float) -> bytes:
    cities = factories.cities("partner", 3)
    cities[0]["data"] |= {"population": population, "latitude": latitude}
    refused = factories.member("bad", "Nirgendwo", kind="village")  # not a kind of member
    return factories.document(*cities, refused, publisher="partner")


class Operator:
    def __init__(self, client: httpx.AsyncClient, token: str):
        self.client, self.token = client, token

    async def ask(self, query: str, **variables) -> dict:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"authorization": f"Bearer {self.token}"},
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]

    async def ended(self, run_id: int, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = await self.ask(
                "query ($feed: String) { syncRuns(feed: $feed, first: 5) { nodes "
                "{ id status created updated unchanged quarantined error triggeredBy } } }",
                feed="partner",
            )
            found = next(r for r in runs["syncRuns"]["nodes"] if r["id"] == run_id)
            if found["status"] in ENDED:
                return found
            await asyncio.sleep(0.3)
        raise AssertionError(f"run {run_id} did not end within {timeout} s")


@pytest.fixture
async def day(databases, tmp_path, start_hub):
    database = await databases.create()
    await database.engine.dispose()
    env = clean_env(DATABASE_URL=database.url, ALLIANCE_KEY_PEPPER=PEPPER)
    tokens = {}
    for role in ("operator", "partner", "reader"):
        tokens[role] = make_key(f"{role}-1", role, env=env, cwd=tmp_path)
    async with FeedServer() as server:
        server.route("/feed", respond(200, feed_document(100_000, 49.44)))
        hub = await start_hub([], env, tmp_path)
        async with httpx.AsyncClient(base_url=hub.base_url, timeout=60.0) as client:
            yield (
                server,
                Operator(client, tokens["operator"]),
                [Operator(client, tokens[role]) for role in ("partner", "reader")],
            )


CREATE = """
mutation ($url: String!) {
  createFeed(slug: "partner", settings: {url: $url, allowPrivate: true, schedule: "1d"}) {
    feed { slug format state enabled headerNames }
    errors { field code message }
  }
}"""
TRIGGER = """
mutation ($dry: Boolean!) {
  triggerSync(feed: "partner", dryRun: $dry) {
    run { id status triggeredBy }
    dryRun { status created quarantined }
    errors { code }
  }
}"""
CITY = '{ member(slug: "partner-stadt-0") { id population latitude } }'


async def test_an_operators_day_through_graphql_alone(day):
    server, operator, _ = day

    # a feed added
    created = await operator.ask(CREATE, url=server.url("/feed"))
    assert created["createFeed"] == {
        "feed": {
            "slug": "partner",
            "format": "ALLIANCE_FEED",
            "state": "ENABLED",
            "enabled": True,
            "headerNames": [],
        },
        "errors": [],
    }

    # a dry run says what would change, and leaves no run and no record
    dry = (await operator.ask(TRIGGER, dry=True))["triggerSync"]
    assert dry == {
        "run": None,
        "dryRun": {"status": "PARTIAL", "created": 3, "quarantined": 1},
        "errors": [],
    }
    assert (await operator.ask("{ syncRuns { nodes { id } } }"))["syncRuns"]["nodes"] == []

    # a real run is queued at once, and a scheduler runs it
    queued = (await operator.ask(TRIGGER, dry=False))["triggerSync"]
    assert queued["run"]["status"] == "QUEUED" and queued["errors"] == []
    assert queued["run"]["triggeredBy"] == "operator-1"
    first = await operator.ended(queued["run"]["id"])
    assert (first["status"], first["created"], first["quarantined"]) == ("PARTIAL", 3, 1)

    # what it quarantined, and why
    issues = await operator.ask(
        "query ($run: Int) { syncIssues(run: $run) "
        "{ nodes { itemType itemId stage message record } } }",
        run=first["id"],
    )
    [issue] = issues["syncIssues"]["nodes"]
    assert (issue["itemType"], issue["itemId"], issue["record"]) == ("member", "bad", None)
    assert "village" in issue["message"]

    # a field locked: the next run changes the rest of the record but not it
    city = (await operator.ask(CITY))["member"]
    assert city["population"] == 100_000
    locked = await operator.ask(
        'mutation ($id: ID!) { lockField(record: $id, field: "population") '
        "{ lock { record field lockedBy } errors { code } } }",
        id=city["id"],
    )
    assert locked["lockField"] == {
        "lock": {"record": city["id"], "field": "population", "lockedBy": "operator-1"},
        "errors": [],
    }
    server.route("/feed", respond(200, feed_document(250_000, 49.45)))
    again = (await operator.ask(TRIGGER, dry=False))["triggerSync"]["run"]
    second = await operator.ended(again["id"])
    assert (second["status"], second["updated"]) == ("PARTIAL", 1)
    assert (await operator.ask(CITY))["member"] == {
        "id": city["id"],
        "population": 100_000,
        "latitude": 49.45,
    }

    # the feed as the operator now reads it
    feed = await operator.ask('{ feed(slug: "partner") { state lastSuccessAt runs { id } } }')
    assert [r["id"] for r in feed["feed"]["runs"]] == [second["id"], first["id"]]

    # an item refused once its record exists names that record
    cities = factories.cities("partner", 6)  # one refused of six is within the feed's bad share
    cities[0]["data"]["kind"] = "village"
    server.route("/feed", respond(200, factories.document(*cities, publisher="partner")))
    third = await operator.ended(
        (await operator.ask(TRIGGER, dry=False))["triggerSync"]["run"]["id"]
    )
    assert (third["status"], third["quarantined"]) == ("PARTIAL", 1), third
    refused = await operator.ask(
        "query ($run: Int) { syncIssues(run: $run) { nodes { itemId record } } }", run=third["id"]
    )
    assert refused["syncIssues"]["nodes"] == [{"itemId": "partner-0", "record": city["id"]}]
    assert (await operator.ask(CITY))["member"]["id"] == city["id"]  # kept, as it last was


async def test_mutations_refuse_what_they_cannot_do_with_typed_errors(day):
    server, operator, _ = day
    await operator.ask(CREATE, url=server.url("/feed"))

    again = (await operator.ask(CREATE, url=server.url("/feed")))["createFeed"]
    assert again["feed"] is None and [e["code"] for e in again["errors"]] == ["FEED_EXISTS"]
    wrong = await operator.ask(
        'mutation { createFeed(slug: "Bad Slug", settings: {url: "ftp://x", schedule: "often"}) '
        "{ feed { slug } errors { field code } } }"
    )
    fields = {e["field"]: e["code"] for e in wrong["createFeed"]["errors"]}
    assert fields == {"slug": "INVALID_VALUE", "url": "INVALID_VALUE", "schedule": "INVALID_VALUE"}
    unknown = await operator.ask('mutation { pauseFeed(slug: "nope") { errors { field code } } }')
    assert unknown["pauseFeed"]["errors"] == [{"field": "slug", "code": "NOT_FOUND"}]
    paused = await operator.ask('mutation { pauseFeed(slug: "partner") { feed { state } } }')
    assert paused["pauseFeed"]["feed"] == {"state": "PAUSED"}
    first = (await operator.ask(TRIGGER, dry=False))["triggerSync"]
    second = (await operator.ask(TRIGGER, dry=False))["triggerSync"]
    if first["run"]["status"] == "QUEUED":  # not yet taken by the scheduler
        assert second["errors"] == [{"code": "RUN_UNDER_WAY"}]
    unlocked = await operator.ask(
        'mutation { unlockField(record: "TWVtYmVyOjE", field: "id") { errors { field code } } }'
    )
    assert unlocked["unlockField"]["errors"][0]["code"] in ("NOT_FOUND", "INVALID_FIELD")
    for query, wanted in (
        ('{ syncRuns(after: "bm90IGEgY3Vyc29y") { nodes { id } } }', "INVALID_CURSOR"),
        ('{ syncIssues(after: "U3luY1J1bjox") { nodes { id } } }', "INVALID_CURSOR"),  # a run's
        ("{ syncRuns(first: 101) { nodes { id } } }", "PAGE_SIZE"),
        ('{ feed(slug: "nope") { slug } }', "NOT_FOUND"),
    ):
        refused = await operator.client.post(
            "/graphql",
            json={"query": query},
            headers={"authorization": f"Bearer {operator.token}"},
        )
        assert refused.json()["errors"][0]["extensions"]["code"] == wanted, query
    deleted = await operator.ask(
        'mutation { deleteFeed(slug: "partner") { slug errors { code } } }'
    )
    assert deleted["deleteFeed"] == {"slug": "partner", "errors": []}
    assert (await operator.ask("{ feeds { slug } }"))["feeds"] == []


async def test_only_operator_keys_reach_the_operator_api(day):
    """Partner and reader keys, and no key, are refused its queries and mutations alike."""
    server, operator, others = day
    for query in (
        "{ feeds { slug } }",
        "{ syncRuns { nodes { id } } }",
        'mutation { pauseFeed(slug: "x") { errors { code } } }',
    ):
        for who in (*others, None):
            headers = {"authorization": f"Bearer {who.token}"} if who else {}
            response = await operator.client.post(
                "/graphql", json={"query": query}, headers=headers
            )
            assert response.status_code == 403, (query, response.text)
            assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
