"""Whole runs against a real HTTP server on loopback that misbehaves on purpose: the fault table
of docs/feeds.md ("What a run guarantees"), fault by fault, and the run record each leaves."""

import asyncio
import datetime as dt
import itertools
import json
import time

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, insert, select, update

from server.web import demo
from store import feeds, seed, tables, versions
from store.registry import FEED, ISSUE, MEMBER, RUN
from store.tables import as_utc, utcnow
from sync import config, leases, ledger, runs
from tests.factories import document, member, organisation

from .feedserver import FeedServer, drip, late, respond, sequence

CITIES_ITEMS = [member(f"c{i}", f"Stadt {i}") for i in range(10)]
CITIES = document(*CITIES_ITEMS)


@pytest.fixture
async def database(databases):
    return await databases.create()


async def add_feed(database, server, slug="cities", path="/feed", **fields):
    spec = config.spec(
        slug=slug,
        url=server.url(path),
        format="alliance-feed/1",
        allow_private=True,
        deadline=fields.pop("deadline", 5.0),
        **fields,
    )
    await config.save(database.engine, spec)


async def scalar(database, statement):
    async with database.engine.connect() as connection:
        return await connection.scalar(statement)


async def members(database) -> int:
    return await scalar(
        database,
        select(func.count()).select_from(tables.Member).where(tables.Member.deleted_at.is_(None)),
    )


async def feed_row(database, slug):
    async with database.engine.connect() as connection:
        return (await connection.execute(select(FEED).where(FEED.c.slug == slug))).one()


async def rows(database, statement) -> list:
    async with database.engine.connect() as connection:
        return (await connection.execute(statement)).all()


def taken_over(database, body: bytes):
    """Answers `body`, once another worker ("other") has taken the feed's lease."""

    async def handler(request, writer) -> None:
        async with database.engine.begin() as connection:
            await connection.execute(
                update(FEED).values(
                    lease_owner="other",
                    lease_epoch=FEED.c.lease_epoch + 1,
                    lease_until=utcnow() + leases.TTL,
                )
            )
        await respond(200, body)(request, writer)

    return handler


async def run_row(database, run_id):
    async with database.engine.connect() as connection:
        return (await connection.execute(select(RUN).where(RUN.c.id == run_id))).one()


async def test_a_feed_is_applied_and_its_run_recorded(database, server, client):
    server.route("/feed", respond(200, CITIES, {"ETag": '"v1"'}))
    await add_feed(database, server)
    labels = {"feed": "cities", "status": "succeeded"}
    before = REGISTRY.get_sample_value("alliance_sync_runs_total", labels) or 0
    outcome = await runs.run(database.engine, "cities", client)
    assert REGISTRY.get_sample_value("alliance_sync_runs_total", labels) == before + 1
    assert outcome.status == "succeeded", outcome.error
    assert (outcome.counts.seen, outcome.counts.created) == (10, 10)
    assert await members(database) == 10
    row = await run_row(database, outcome.run_id)
    assert (row.status, row.http_status, row.created) == ("succeeded", 200, 10)
    assert row.cursor_after == "c1"
    assert row.bytes == len(CITIES) and row.finished_at is not None
    feed = await feed_row(database, "cities")
    assert (feed.etag, feed.cursor, feed.lease_owner) == ('"v1"', "c1", None)


async def test_second_run_unchanged_304_and_200_with_the_same_content(database, server, client):
    server.route("/feed", respond(200, CITIES))  # no ETag: a full answer every time
    await add_feed(database, server)
    await runs.run(database.engine, "cities", client)
    again = await runs.run(database.engine, "cities", client)
    assert (again.status, again.counts.unchanged, again.counts.updated) == ("succeeded", 10, 0)
    server.route("/feed", respond(304))
    not_modified = await runs.run(database.engine, "cities", client)
    assert not_modified.status == "not_modified"
    assert await members(database) == 10


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (respond(503), "503"),
        (respond(429, b"", {"Retry-After": "0"}), "429"),
        (drip(0.5), "deadline"),
        (respond(200, CITIES[: len(CITIES) // 2]), "truncated"),
        (respond(200, b'{"format": "alliance-feed/1", "items": [}'), "JSON"),
        (respond(200, b"\xef\xbb\xbf" + CITIES), "byte order mark"),
        (respond(200, json.dumps({"format": "other/2", "items": []}).encode()), "format"),
        (respond(200, CITIES.replace(b"Stadt 1", b"Stadt \xe41")), "UTF-8"),
    ],
    ids=["5xx", "429", "drip", "truncated", "malformed", "bom", "wrong-format", "encoding"],
)
async def test_a_broken_feed_fails_and_changes_nothing(database, server, client, handler, reason):
    server.route("/feed", handler)
    await add_feed(database, server, deadline=2.0)
    await add_feed(database, server, slug="healthy", path="/healthy")
    server.route("/healthy", respond(200, document(member("h", "Heile Stadt"))))
    started = time.monotonic()
    broken, healthy = await asyncio.gather(
        runs.run(database.engine, "cities", client),
        runs.run(database.engine, "healthy", client),
    )
    assert broken.status == "failed" and reason in broken.error, broken.error
    assert time.monotonic() - started < 2.0 + 3.0  # within its deadline (+ retries' waits)
    assert healthy.status == "succeeded"  # other feeds unaffected
    assert await members(database) == 1  # only the healthy feed's member
    feed = await feed_row(database, "cities")
    assert feed.consecutive_failures == 1 and feed.next_eligible_at is not None
    assert feed.cursor is None and feed.lease_owner is None


async def test_invalid_items_are_quarantined_and_the_rest_applied(database, server, client):
    bad = member("bad", "Irgendwo") | {"data": {"kind": "village", "country": "DE", "names": []}}
    orphan = {
        "type": "organisation",
        "id": "o",
        "updated_at": "2026-11-20T10:00:00Z",
        "data": {
            "kind": "company",
            "member": "nowhere",
            "names": [{"value": "Firma", "lang": "de", "kind": "official"}],
        },
    }
    good = [member(f"g{i}", f"Gutstadt {i}") for i in range(5)]
    server.route("/feed", respond(200, document(*good, bad, orphan)))
    await add_feed(database, server)
    outcome = await runs.run(database.engine, "cities", client)
    assert outcome.status == "partial"
    assert (outcome.counts.created, outcome.counts.quarantined) == (5, 2)
    async with database.engine.connect() as connection:
        issues = (await connection.execute(select(ISSUE))).all()
    assert {i.item_id for i in issues} == {"bad", "o"}
    assert all(i.message for i in issues)


async def test_too_many_bad_items_fail_the_run(database, server, client):
    bad = [member(f"b{i}", "X") | {"data": {"kind": "village"}} for i in range(3)]
    server.route("/feed", respond(200, document(member("a", "Astadt"), *bad)))
    await add_feed(database, server)
    outcome = await runs.run(database.engine, "cities", client)
    assert outcome.status == "failed" and "3 of 4 items are bad" in outcome.error
    feed = await feed_row(database, "cities")
    assert feed.cursor is None  # the cursor stays where it was


async def test_same_item_twice_and_older_after_newer(database, server, client):
    newer = member("a", "Neu") | {"updated_at": "2026-11-21T10:00:00Z"}
    older = member("a", "Alt") | {"updated_at": "2026-11-19T10:00:00Z"}
    server.route("/feed", respond(200, document(newer, older, newer)))
    await add_feed(database, server)
    outcome = await runs.run(database.engine, "cities", client)
    assert outcome.counts.created == 1 and await members(database) == 1
    assert await scalar(database, select(tables.Member.name)) == "Neu"


async def test_a_snapshot_that_suddenly_shrinks_deletes_nothing(database, server, client):
    server.route("/feed", sequence(respond(200, CITIES), respond(200, document())))
    await add_feed(database, server)
    await runs.run(database.engine, "cities", client)
    emptied = await runs.run(database.engine, "cities", client)
    assert emptied.status == "failed" and "failsafe" in emptied.error
    assert await members(database) == 10


async def test_a_snapshot_sweeps_what_it_no_longer_lists_within_its_share(database, server, client):
    fewer = document(*(member(f"c{i}", f"Stadt {i}") for i in range(9)))
    server.route("/feed", sequence(respond(200, CITIES), respond(200, fewer)))
    await add_feed(database, server)
    await runs.run(database.engine, "cities", client)
    swept = await runs.run(database.engine, "cities", client)
    assert swept.status == "succeeded" and swept.counts.deleted == 1
    assert await members(database) == 9


async def test_a_snapshot_keeps_the_record_of_an_item_it_quarantined(database, server, client):
    # given: a snapshot of ten cities, then the same feed with one of them no longer valid
    broken = [member(f"c{i}", f"Stadt {i}") for i in range(10)]
    broken[3]["data"]["kind"] = "village"
    server.route("/feed", sequence(respond(200, CITIES), respond(200, document(*broken))))
    await add_feed(database, server)
    await runs.run(database.engine, "cities", client)

    # when: the second run quarantines it
    second = await runs.run(database.engine, "cities", client)

    # then: the feed still lists it, so its record stays as it last was, swept by no one
    assert (second.status, second.counts.quarantined, second.counts.deleted) == ("partial", 1, 0)
    assert await members(database) == 10


def _mixed(batches: int) -> bytes:
    """`batches` whole batches of every kind the feed makes at once: members with identifiers,
    organisations naming them, people and their posts."""
    entries = []
    for n in range(batches * runs.BATCH // 5):
        i = f"{batches}-{n}"  # each feed's own records: nothing of one matches another's
        entries.append(
            member(
                f"m{i}",
                f"Gemeinde {i}",
                identifiers=[{"scheme": "ags", "value": f"{batches}{n:07}"}],
            )
        )
        entries.append(organisation(f"o{i}", f"m{i}", f"Werk {i}"))
        entries.append(organisation(f"o{i}b", f"m{i}", f"Zweigwerk {i}"))
        entries.append(
            {
                "type": "person",
                "id": f"p{i}",
                "updated_at": "2026-11-20T10:00:00Z",
                "data": {"name": f"Person {i}", "sort_name": f"{i}, Person"},
            }
        )
        entries.append(
            {
                "type": "post",
                "id": f"post{i}",
                "updated_at": "2026-11-20T10:00:00Z",
                "data": {"person": f"p{i}", "organisation": f"o{i}", "label": "Leitung"},
            }
        )
    return document(*entries)


async def test_a_batch_is_a_few_statements_per_table_whatever_its_size(database, server, client):
    # given: first syncs of one and of three whole batches of every kind of item
    counts = []
    for batches in (1, 3):
        server.route(f"/mixed{batches}", respond(200, _mixed(batches)))
        await add_feed(database, server, slug=f"mixed{batches}", path=f"/mixed{batches}")
        before = database.statements.count
        outcome = await runs.run(database.engine, f"mixed{batches}", client)
        assert (outcome.status, outcome.counts.created) == ("succeeded", batches * runs.BATCH), (
            outcome
        )
        counts.append(database.statements.count - before)

    # then: each batch more costs the same few statements, however many items it holds
    per_batch = (counts[1] - counts[0]) / 2
    print(f"statements: {counts} for 1 and 3 batches; {per_batch} per batch of {runs.BATCH}")
    assert per_batch <= 30, counts


async def test_oversize_body_is_refused(database, server, client):
    server.route("/feed", respond(200, CITIES))
    await add_feed(database, server, max_bytes=100)
    outcome = await runs.run(database.engine, "cities", client)
    assert outcome.status == "failed" and "100 bytes" in outcome.error
    assert await members(database) == 0


async def test_one_run_per_feed_at_a_time(database, server, client):
    # given: a feed that answers after a second, so four runs started together are all under
    # way while the first of them waits for its answer
    server.route("/feed", late(1.0, respond(200, CITIES)))
    await add_feed(database, server)

    # when: four workers run it at once
    outcomes = await asyncio.gather(
        *(runs.run(database.engine, "cities", client, owner=f"w{i}") for i in range(4))
    )

    # then: every run went ahead or was skipped, naming who held the lease
    async with database.engine.connect() as connection:
        recorded = (await connection.execute(select(RUN).order_by(RUN.c.started_at))).all()
    assert sorted(o.run_id for o in outcomes) == sorted(r.id for r in recorded)
    ran = [r for r in recorded if r.status != "skipped_locked"]
    skipped = [r for r in recorded if r.status == "skipped_locked"]
    assert ran and {r.status for r in ran} == {"succeeded"}, recorded
    assert all(r.error.startswith("held by w") for r in skipped), [r.error for r in skipped]

    # and: the runs that went ahead ran one after another, each under an epoch of its own,
    # only they fetched, and the records were written once
    for earlier, later in itertools.pairwise(ran):
        assert as_utc(earlier.finished_at) <= as_utc(later.started_at), (earlier, later)
        assert earlier.lease_epoch < later.lease_epoch
    assert server.count("/feed") == len(ran)
    assert sum(r.created for r in ran) == 10 and await members(database) == 10


async def test_a_run_that_loses_its_lease_mid_run_commits_nothing(database, server, client):
    # given: a feed applied once; its next answer renames every city, and while that run
    # waits for it another worker takes the feed's lease over (as when a run stalls past
    # `lease_until`)
    renamed = document(*(member(f"c{i}", f"Neustadt {i}") for i in range(10)), cursor="c2")
    server.route("/feed", sequence(respond(200, CITIES), taken_over(database, renamed)))
    await add_feed(database, server)
    assert (await runs.run(database.engine, "cities", client)).status == "succeeded"
    names = select(tables.Member.name).order_by(tables.Member.name)
    before = await rows(database, names)
    succeeded = {"feed": "cities", "status": "succeeded"}
    counted = REGISTRY.get_sample_value("alliance_sync_runs_total", succeeded)

    # when
    outcome = await runs.run(database.engine, "cities", client, owner="me")

    # then: the run failed, saying why, and wrote no record ("every commit of the run checks
    # it, so a run that lost its lease can never write": docs/feeds.md, "What a run guarantees")
    assert outcome.status == "failed" and "passed to another worker" in outcome.error
    row = await run_row(database, outcome.run_id)
    assert (row.status, row.created, row.updated, row.deleted) == ("failed", 0, 0, 0)
    assert await rows(database, names) == before
    assert REGISTRY.get_sample_value("alliance_sync_runs_total", succeeded) == counted

    # and: the feed is where the first run left it, and the lease stays with its new holder
    feed = await feed_row(database, "cities")
    assert (feed.cursor, feed.lease_owner, feed.lease_epoch) == ("c1", "other", row.lease_epoch + 1)


async def test_the_reaper_marks_runs_of_dead_processes_abandoned(database, server):
    await add_feed(database, server)
    feed_id = await scalar(database, select(FEED.c.id))
    async with database.engine.begin() as connection:
        await connection.execute(
            insert(RUN).values(
                feed_id=feed_id,
                trigger="schedule",
                owner="dead:1",
                status="running",
                heartbeat_at=utcnow() - dt.timedelta(minutes=10),
            )
        )
    assert await ledger.reap(database.engine) == 1
    assert await scalar(database, select(RUN.c.status)) == "abandoned"


async def test_dry_run_reports_and_writes_nothing(database, server, client):
    server.route("/feed", respond(200, CITIES))
    await add_feed(database, server)
    outcome = await runs.run(database.engine, "cities", client, dry_run=True)
    assert (outcome.status, outcome.counts.created) == ("succeeded", 10)
    assert await members(database) == 0
    assert await scalar(database, select(func.count()).select_from(RUN)) == 0


async def test_a_dry_run_that_fails_part_way_reports_it_and_leaves_nothing(
    database, server, client
):
    # given: a feed whose second page is missing, after a first page that applies
    server.route("/feed", respond(200, document(*CITIES_ITEMS, next_page=server.url("/gone"))))
    await add_feed(database, server)
    labels = {"feed": "cities", "status": "failed"}
    before = REGISTRY.get_sample_value("alliance_sync_runs_total", labels) or 0

    # when
    outcome = await runs.run(database.engine, "cities", client, dry_run=True)

    # then: it ends as a real run would, and the store, the feed and the metrics are untouched
    assert (outcome.status, outcome.run_id, outcome.counts.created) == ("failed", None, 10)
    assert "HTTP 404" in outcome.error
    assert await members(database) == 0
    assert await scalar(database, select(func.count()).select_from(RUN)) == 0
    feed = await feed_row(database, "cities")
    assert (feed.consecutive_failures, feed.next_eligible_at, feed.lease_owner) == (0, None, None)
    assert (REGISTRY.get_sample_value("alliance_sync_runs_total", labels) or 0) == before


async def test_backoff_grows_with_failures_and_is_capped():
    assert ledger.backoff(1) == dt.timedelta(minutes=1)
    assert ledger.backoff(3) == dt.timedelta(minutes=4)
    assert ledger.backoff(30) == ledger.BACKOFF_MAX


async def test_a_large_feed_cut_off_near_its_end_changes_nothing(database, server, client):
    whole = document(*(member(f"c{i}", f"Stadt {i}") for i in range(runs.BATCH * 2 + 100)))
    server.route("/feed", respond(200, whole[:-300]))
    await add_feed(database, server)
    outcome = await runs.run(database.engine, "cities", client)
    assert outcome.status == "failed" and "truncated" in outcome.error
    assert await members(database) == 0  # no batch was committed before the cut was found


async def test_next_pages_are_followed_and_one_snapshot_spans_them(database, server, client):
    page_two = document(member("c2", "Stadt 2"))
    first = json.loads(document(member("c1", "Stadt 1")))
    first["next"] = server.url("/feed?page=2")
    server.route(
        "/feed", sequence(respond(200, json.dumps(first).encode()), respond(200, page_two))
    )
    await add_feed(database, server)
    outcome = await runs.run(database.engine, "cities", client)
    assert (outcome.status, outcome.counts.created) == ("succeeded", 2)
    assert server.count("/feed") == 2


async def test_an_incremental_feed_is_asked_for_what_came_since_its_cursor(
    database, server, client
):
    server.route(
        "/feed",
        sequence(
            respond(200, document(member("a", "A"), cursor="2026-11-25")),
            respond(200, document(member("b", "B"), cursor="2026-11-26")),
        ),
    )
    await add_feed(database, server, mode="incremental")
    await runs.run(database.engine, "cities", client)
    second = await runs.run(database.engine, "cities", client)
    assert server.requests[-1].path == "/feed?since=2026-11-25"
    assert second.counts.created == 1 and await members(database) == 2  # nothing swept
    assert (await feed_row(database, "cities")).cursor == "2026-11-26"


@pytest.mark.parametrize("elsewhere", ["port", "ipv6", "name"])
async def test_a_next_page_on_another_origin_fails_the_run_and_is_never_asked(
    database, server, client, elsewhere
):
    async with FeedServer(host="::1" if elsewhere == "ipv6" else "127.0.0.1") as other:
        if elsewhere == "name":  # the feed's own server and port, by another name
            other, page = server, server.url("/page?token=s3cret", host="localhost")
        else:
            page = other.url("/page?token=s3cret")
        server.route("/feed", respond(200, document(member("c1", "Stadt 1"), next_page=page)))
        other.route("/page", respond(200, document(member("c2", "Stadt 2"))))
        await add_feed(database, server, headers={"X-Feed-Token": "s3"})

        outcome = await runs.run(database.engine, "cities", client)

        assert outcome.status == "failed"
        shown = page.replace("?token=s3cret", "?…")
        assert f"next page {shown}" in outcome.error, outcome.error
        assert "allow_cross_host_redirects is off" in outcome.error
        assert "s3cret" not in outcome.error
        assert other.count("/page") == 0


async def test_a_next_page_on_another_origin_when_allowed_goes_without_the_feeds_secret(
    database, server, client, monkeypatch
):
    monkeypatch.setenv("CITIES_TOKEN", "s3")
    async with FeedServer() as other:
        page = other.url("/page")
        server.route("/feed", respond(200, document(member("c1", "Stadt 1"), next_page=page)))
        other.route("/page", respond(200, document(member("c2", "Stadt 2"))))
        await add_feed(
            database,
            server,
            headers={"X-Feed-Token": "env:CITIES_TOKEN"},
            allow_cross_host_redirects=True,
        )

        outcome = await runs.run(database.engine, "cities", client)

        assert (outcome.status, outcome.counts.created) == ("succeeded", 2), outcome.error
        assert server.requests[0].headers["x-feed-token"] == "s3"
        [asked] = other.requests
        assert "x-feed-token" not in asked.headers


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
    ],
)
@pytest.mark.parametrize("allow_link_local", [False, True])
async def test_a_feed_allowed_private_addresses_reaches_metadata_only_when_told_so(
    database, url, allow_link_local
):
    # Nothing can be served at these addresses here: httpx's MockTransport stands in for the
    # network, and tells whether a request was sent at all.
    sent = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        # A body still to be read, as from the network: sync.fetch reads the raw bytes itself.
        return httpx.Response(200, stream=httpx.ByteStream(document(member("m", "Metastadt"))))

    fields = {"allow_link_local": True} if allow_link_local else {}
    spec = config.spec(slug="meta", url=url, format="alliance-feed/1", allow_private=True, **fields)
    await config.save(database.engine, spec)
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        outcome = await runs.run(database.engine, "meta", client)

    if allow_link_local:
        assert (outcome.status, len(sent)) == ("succeeded", 1), outcome.error
    else:
        assert outcome.status == "failed" and "metadata" in outcome.error
        assert "allow_link_local is off" in outcome.error
        assert sent == []


# ---- references that wait, and what a run is judged on ------------------------------------------


async def test_a_record_swept_by_a_snapshot_comes_back_when_the_feed_lists_it_again(
    database, server, client
):
    # given: a snapshot feed listing an alliance, a city with its names, identifier and
    # membership, and a company in the city; then only the alliance (the city and the company
    # are swept); then all of them again, with the same content, over two pages, and with new
    # companies in the city before it on the first page and on the second page
    alliance = {
        "type": "alliance",
        "id": "bund",
        "updated_at": "2026-11-20T10:00:00Z",
        "data": {"names": [{"value": "Städtebund", "lang": "de", "kind": "official"}]},
    }
    city = member(
        "kl",
        "Kaiserslautern",
        names=[
            {"value": "Kaiserslautern", "lang": "de", "kind": "official"},
            {"value": "凯泽斯劳滕", "lang": "zh-Hans", "kind": "official"},
        ],
        identifiers=[{"scheme": "wikidata", "value": "Q3832"}],
        memberships=[{"alliance": "bund", "status": "member", "start_date": "2018-04-23"}],
    )
    company = organisation("wfk", "kl", "WFK")
    first_page = json.loads(
        document(organisation("neu", "kl", "Neugründung"), city, company, complete=True)
    )
    first_page["next"] = server.url("/page2")
    server.route(
        "/feed",
        sequence(
            respond(200, document(alliance, city, company)),
            respond(200, document(alliance)),
            respond(200, json.dumps(first_page).encode()),
        ),
    )
    server.route("/page2", respond(200, document(alliance, organisation("spaet", "kl", "Später"))))
    await add_feed(database, server, max_delete_share=1.0)
    assert (await runs.run(database.engine, "cities", client)).counts.created == 3
    swept = await runs.run(database.engine, "cities", client)
    assert (swept.status, swept.counts.deleted) == ("succeeded", 2)
    kl = await scalar(database, select(tables.Member.id))

    # when
    back = await runs.run(database.engine, "cities", client)

    # then: the city and the company are back, as they were, and the new companies are in it
    async with database.engine.connect() as connection:
        issues = (await connection.execute(select(ISSUE))).all()
    assert not issues, [(i.item_id, i.message) for i in issues]
    assert back.status == "succeeded"
    counts = back.counts
    assert (counts.created, counts.updated, counts.unchanged, counts.quarantined) == (2, 2, 1, 0)
    async with database.engine.connect() as connection:
        (record,) = (await connection.execute(select(MEMBER))).all()
        identifiers = (
            await connection.execute(
                select(tables.Identifier.scheme, tables.Identifier.value).where(
                    tables.Identifier.entity_id == kl, tables.Identifier.entity_type == "member"
                )
            )
        ).all()
        periods = (
            await connection.execute(
                select(tables.MembershipPeriod.status, tables.Alliance.slug)
                .join(tables.Alliance)
                .where(
                    tables.MembershipPeriod.member_id == kl,
                    tables.MembershipPeriod.deleted_at.is_(None),
                )
            )
        ).all()
        sources = await connection.scalar(
            select(func.count())
            .select_from(tables.Source)
            .where(tables.Source.entity_type == "member", tables.Source.entity_id == kl)
        )
        companies = (
            await connection.execute(
                select(
                    tables.Organisation.name,
                    tables.Organisation.member_id,
                    tables.Organisation.deleted_at,
                ).order_by(tables.Organisation.name)
            )
        ).all()
    assert (record.id, record.deleted_at, record.name) == (kl, None, "Kaiserslautern")
    assert [n["value"] for n in record.names] == ["Kaiserslautern", "凯泽斯劳滕"]
    assert sorted(identifiers) == [("feed:cities", "kl"), ("wikidata", "Q3832")]
    assert periods == [("member", "staedtebund")]
    assert sources == 1
    assert companies == [("Neugründung", kl, None), ("Später", kl, None), ("WFK", kl, None)]


async def test_the_demo_feeds_apply_to_the_seeded_hub_with_every_reference_resolved(
    database, server, client
):
    await seed.seed(database.engine)
    for slug, (file_name, format_, options) in demo.FEEDS.items():
        server.route(f"/{file_name}", respond(200, (demo.FILES / file_name).read_bytes()))
        await config.save(
            database.engine,
            config.spec(
                slug=slug,
                url=server.url(f"/{file_name}"),
                format=format_,
                options=options,
                allow_private=True,
            ),
        )
        outcome = await runs.run(database.engine, slug, client)
        async with database.engine.connect() as connection:
            issues = (await connection.execute(select(ISSUE))).all()
        assert not issues, [(i.item_id, i.message) for i in issues]
        assert outcome.status == "succeeded" and outcome.counts.seen > 0, outcome


async def issues_of(database, run_id) -> list:
    table = ISSUE
    async with database.engine.connect() as connection:
        return (
            await connection.execute(
                select(table).where(table.c.run_id == run_id).order_by(table.c.item_id)
            )
        ).all()


async def test_a_run_whose_only_item_waits_for_a_reference_is_partial_and_says_why(
    database, server, client
):
    server.route("/feed", respond(200, document(organisation("o", "nowhere"))))
    await add_feed(database, server)
    outcome = await runs.run(database.engine, "cities", client)
    row = await run_row(database, outcome.run_id)
    assert (outcome.status, row.status, row.error) == ("partial", "partial", None), outcome.error
    assert (row.items_seen, row.quarantined) == (1, 1)
    [issue] = await issues_of(database, outcome.run_id)
    assert (issue.item_type, issue.item_id, issue.stage) == ("organisation", "o", "resolve")
    assert "'nowhere'" in issue.message
    assert (await feed_row(database, "cities")).cursor == "c1"  # the run finished


async def test_too_many_bad_items_fail_the_run_and_their_reasons_stay(database, server, client):
    invalid = [member(f"b{i}", "X") | {"data": {"kind": "village"}} for i in range(3)]
    server.route(
        "/feed",
        respond(200, document(member("a", "Astadt"), *invalid, organisation("o", "nowhere"))),
    )
    await add_feed(database, server)
    outcome = await runs.run(database.engine, "cities", client)
    assert outcome.status == "failed" and "3 of 5 items are bad" in outcome.error, outcome.error
    row = await run_row(database, outcome.run_id)
    assert (row.status, row.items_seen, row.quarantined) == ("failed", 5, 4)
    found = {(i.item_id, i.stage) for i in await issues_of(database, outcome.run_id)}
    assert found == {("b0", "validate"), ("b1", "validate"), ("b2", "validate"), ("o", "resolve")}


async def test_a_fetch_that_fails_after_a_batch_keeps_the_reasons_and_the_status(
    database, server, client
):
    first = json.loads(document(member("a", "Astadt"), organisation("o", "nowhere")))
    first["next"] = server.url("/feed?page=2")
    server.route(
        "/feed",
        sequence(respond(200, json.dumps(first).encode()), respond(500, b"", {"Retry-After": "0"})),
    )
    await add_feed(database, server)
    outcome = await runs.run(database.engine, "cities", client)
    assert outcome.status == "failed" and "HTTP 500" in outcome.error, outcome.error
    row = await run_row(database, outcome.run_id)
    assert (row.http_status, row.items_seen, row.created, row.quarantined) == (500, 2, 1, 1)
    [issue] = await issues_of(database, outcome.run_id)
    assert (issue.item_id, issue.stage) == ("o", "resolve") and "'nowhere'" in issue.message


async def test_a_refused_sweep_keeps_the_reasons_of_the_run(database, server, client):
    shrunk = document(member("c0", "Stadt 0"), organisation("o", "nowhere"))
    server.route("/feed", sequence(respond(200, CITIES), respond(200, shrunk)))
    await add_feed(database, server)
    await runs.run(database.engine, "cities", client)
    refused = await runs.run(database.engine, "cities", client)
    assert refused.status == "failed" and "failsafe" in refused.error, refused.error
    assert (await run_row(database, refused.run_id)).quarantined == 1
    [issue] = await issues_of(database, refused.run_id)
    assert (issue.item_id, issue.stage) == ("o", "resolve")
    assert await members(database) == 10


async def test_items_left_waiting_by_earlier_runs_do_not_count_against_a_later_run(
    database, server, client
):
    # given: an incremental feed whose first run left 30 items waiting: 10 for a member the
    # feed sends later, 20 for one that never comes
    waiting = [organisation(f"o{i:02}", "m1" if i < 10 else "nowhere") for i in range(30)]
    server.route(
        "/feed",
        sequence(
            respond(200, document(*waiting, cursor="c1")),
            respond(200, document(member("m1", "Einsstadt"), cursor="c2")),
        ),
    )
    await add_feed(database, server, mode="incremental")
    first = await runs.run(database.engine, "cities", client)
    assert (first.status, first.counts.seen, first.counts.quarantined) == ("partial", 30, 30)
    assert len(await issues_of(database, first.run_id)) == 30

    # when: the next run sends one valid item
    second = await runs.run(database.engine, "cities", client)

    # then: it is judged on that item alone: it succeeded, and the 10 items waiting for it are
    # applied and counted; the 20 others still wait, with the reason the first run stored
    row = await run_row(database, second.run_id)
    assert (second.status, row.status) == ("succeeded", "succeeded"), second.error
    assert (row.items_seen, row.quarantined, row.quarantined / row.items_seen) == (1, 0, 0.0)
    assert row.created == 11
    assert await issues_of(database, second.run_id) == []
    async with database.engine.connect() as connection:
        items = (await connection.execute(select(feeds.FeedItem.pending))).scalars().all()
    reasons = [pending["reason"] for pending in items if pending is not None]  # JSON null too
    assert len(reasons) == 20 and all("'nowhere'" in reason for reason in reasons), reasons


async def test_a_complete_snapshot_leaves_alone_the_waiting_items_it_no_longer_lists(
    database, server, client
):
    # given: a snapshot whose first run left 30 organisations waiting for the member m1
    cities = [member(f"c{i}", f"Stadt {i}") for i in range(10)]
    waiting = [organisation(f"o{i:02}", "m1") for i in range(30)]
    server.route(
        "/feed",
        sequence(
            respond(200, document(*cities, *waiting)),
            respond(200, document(*cities, member("m1", "Einsstadt"))),
        ),
    )
    await add_feed(database, server, max_bad_share=1.0)  # the first run is judged elsewhere
    first = await runs.run(database.engine, "cities", client)
    assert (first.status, first.counts.quarantined) == ("partial", 30), first.error

    # when: the next snapshot brings m1 but no longer lists the organisations
    second = await runs.run(database.engine, "cities", client)

    # then: they are gone from the feed: not made now only to be swept as unlisted at once
    assert second.status == "succeeded", second.error
    assert (second.counts.created, second.counts.deleted) == (1, 0)
    organisations = select(func.count()).select_from(tables.Organisation)
    assert await scalar(database, organisations) == 0


# ---- the HTTP status of a failed fetch -----------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 429, 404])
async def test_a_feed_that_answers_an_error_every_time_fails_with_that_status(
    database, server, client, status
):
    server.route("/feed", respond(status, b"", {"Retry-After": "0"}))
    await add_feed(database, server)
    outcome = await runs.run(database.engine, "cities", client)
    assert outcome.status == "failed" and f"HTTP {status}" in outcome.error, outcome.error
    row = await run_row(database, outcome.run_id)
    assert (outcome.http_status, row.http_status) == (status, status)


async def data_version(database) -> int:
    async with database.engine.connect() as connection:
        return await versions.current(connection)


async def test_every_batch_moves_the_data_version_and_a_dry_run_or_a_304_does_not(
    database, server, client, monkeypatch
):
    # given: a feed of 10 items, applied 4 at a time
    monkeypatch.setattr(runs, "BATCH", 4)
    server.route("/feed", respond(200, CITIES))
    await add_feed(database, server)
    start = await data_version(database)

    # when: a dry run, then a real run, then one the feed answers 304
    await runs.run(database.engine, "cities", client, dry_run=True)
    after_dry_run = await data_version(database)
    outcome = await runs.run(database.engine, "cities", client)
    after_run = await data_version(database)
    server.route("/feed", respond(304))
    assert (await runs.run(database.engine, "cities", client)).status == "not_modified"

    # then: only the real run moved it, at least once for each of its three batches
    assert outcome.status == "succeeded"
    assert after_dry_run == start
    assert after_run >= start + 3
    assert await data_version(database) == after_run


async def test_an_item_that_lists_no_periods_or_parties_applies_on_its_first_and_next_runs(
    database, server, client
):
    # an empty list says "none": nothing to insert, and on SQLite no row of defaults either
    empty = [member("c0", "Stadt Null", memberships=[])]
    server.route("/feed", respond(200, document(*empty)))
    await add_feed(database, server)
    first = await runs.run(database.engine, "cities", client)
    server.route("/feed", respond(200, document(member("c0", "Stadt Eins", memberships=[]))))
    second = await runs.run(database.engine, "cities", client)

    assert (first.status, first.counts.created) == ("succeeded", 1), first.error
    assert (second.status, second.counts.updated) == ("succeeded", 1), second.error
    assert await scalar(database, select(func.count()).select_from(tables.MembershipPeriod)) == 0
