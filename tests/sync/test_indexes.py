"""Every look-up a sync run sends finds its rows through an index leading with its columns.

Two real runs of a feed (one creating its records, one changing them and sweeping one) go into
a store grown like a hub's, every statement they send with a WHERE is caught as it goes to the
database, and its plan is asked for: `EXPLAIN` on PostgreSQL, once the tables are analysed and
large enough that the planner scans a table rather than use an index of no help;
`EXPLAIN QUERY PLAN` on SQLite.
"""

import contextlib
import re
from collections.abc import Iterator

from sqlalchemy import UniqueConstraint, event, insert, select

from store import tables
from store.registry import FEED, FEED_ITEM, IDENTIFIER, PERIOD, RECORD_TABLES, RUN, SOURCE
from sync import config, runs
from tests.conftest import ON_POSTGRES
from tests.factories import document, member, organisation
from tests.synthetic import fill

from .feedserver import respond, sequence

# Members of the synthetic alliance: with their organisations, people, posts, partnerships and
# events, 17,000 records on PostgreSQL, and so 34,000 identifiers, 18,000 sources and 17,000
# feed items of another feed.
MEMBERS = 1_000 if ON_POSTGRES else 20
RUNS = 5_000 if ON_POSTGRES else 20  # of `bulk`, hourly for seven months
SMALL = {"feed", "alliance"}  # a hub has tens of each: scanning them costs nothing

# A fragment of each look-up the sync sends, who sends it, and the indexes that may answer it.
NEEDS = [
    ("FROM identifier WHERE identifier.value", "sync.matching.Keys.ask", {"ix_identifier_value"}),
    ("UPDATE membership_period", "sync.writes.Writes._retire_children", {"ix_source_feed_item"}),
    ("FROM source WHERE source.feed", "sync.known.Known.ask", {"ix_source_feed_item"}),
    (
        "UPDATE partnership_party",
        "sync.writes.Writes._retire_children",
        {"ix_partnership_party_partnership_id"},
    ),
    (
        "UPDATE event_participant",
        "sync.writes.Writes._retire_children",
        {"ix_event_participant_event_id"},
    ),
    ("FROM post WHERE", "sync.known.Known.ask", {"ix_post_person_id"}),
    (
        "FROM feed_item WHERE",
        "sync.known.Known.ask, Applier.retry_pending, Applier.sweep",
        {"uq_feed_item_key", "ix_feed_item_waiting"},
    ),
    *(
        (f"WHERE {table}.slug IN", "sync.matching.Keys.ask", {f"uq_{table}_slug"})
        for table in ("member", "organisation", "person", "partnership", "event")
    ),
]


def _items(revision: str) -> list[dict]:
    """A feed of every item type; a record of the synthetic alliance known by its identifier."""
    known = member(
        "known", f"Bekannt {revision}", identifiers=[{"scheme": "wikidata", "value": "Q900007"}]
    )
    return [
        member(
            "kl",
            f"Kaiserslautern {revision}",
            identifiers=[{"scheme": "wikidata", "value": "Q3832"}],
            memberships=[{"alliance": "slug:syn", "status": "member"}],
        ),
        known,
        organisation("wfk", "kl", f"WFK {revision}"),
        _item("person", "weiler", name=f"Stefan Weiler {revision}"),
        _item("post", "weiler-wfk", person="weiler", organisation="wfk", label=f"GF {revision}"),
        _item(
            "partnership",
            "kl-known",
            kind="twinning",
            status="active",
            title=f"Partnerschaft {revision}",
            parties=[{"party": "kl"}, {"party": "known"}],
        ),
        _item(
            "event",
            "visit",
            kind="meeting",
            status="held",
            title=f"Besuch {revision}",
            partnership="kl-known",
            participants=[{"party": "kl"}, {"person": "weiler"}],
        ),
    ]


def _item(item_type: str, item_id: str, **data) -> dict:
    return {"type": item_type, "id": item_id, "updated_at": "2026-11-20T10:00:00Z", "data": data}


async def _grow(engine) -> None:
    """The synthetic alliance; for each of its records the feed identifier, source and feed
    item of a feed `bulk` that made it, and a wikidata identifier; the runs of that feed."""
    await config.save(engine, config.spec(slug="bulk", url="https://b.example/f", format="csv"))
    await fill(engine, members=MEMBERS)
    async with engine.begin() as connection:
        bulk = await connection.scalar(select(FEED.c.id).where(FEED.c.slug == "bulk"))
        records = [
            (kind, i)
            for kind, table in RECORD_TABLES.items()
            for i in await connection.scalars(select(table.c.id))
        ]
        item_ids = {record: f"b{n}" for n, record in enumerate(records)}
        await connection.execute(
            insert(IDENTIFIER),
            [
                {"entity_type": kind, "entity_id": i, "scheme": scheme, "value": value}
                for n, (kind, i) in enumerate(records)
                for scheme, value in (("wikidata", f"Q{900_000 + n}"), ("feed:bulk", f"b{n}"))
            ],
        )
        periods = await connection.execute(select(PERIOD.c.id, PERIOD.c.member_id))
        await connection.execute(
            insert(SOURCE),
            [
                {"entity_type": kind, "entity_id": i, "feed": "bulk", "item_id": item_ids[kind, i]}
                for kind, i in records
            ]
            + [
                {
                    "entity_type": "membership_period",
                    "entity_id": period,
                    "feed": "bulk",
                    "item_id": item_ids["member", member_id],
                }
                for period, member_id in periods
            ],
        )
        await connection.execute(
            insert(FEED_ITEM),
            [
                {
                    "feed_id": bulk,
                    "item_type": kind,
                    "item_id": item_ids[kind, i],
                    "entity_type": kind,
                    "entity_id": i,
                }
                for kind, i in records
            ],
        )
        await connection.execute(
            insert(RUN),
            [{"feed_id": bulk, "trigger": "schedule", "owner": "w", "status": "succeeded"}] * RUNS,
        )
        if ON_POSTGRES:  # as autovacuum would; the hub never analyses SQLite, nor does this
            await connection.exec_driver_sql("ANALYZE")


@contextlib.contextmanager
def _caught(engine) -> Iterator[list[tuple[str, tuple]]]:
    """The statements with a WHERE `engine` sends meanwhile, each with its parameters."""
    caught: list[tuple[str, tuple]] = []

    def catch(_connection, _cursor, statement, parameters, _context, executemany) -> None:
        words = statement.split()
        if words[0] in ("SELECT", "UPDATE", "DELETE") and "WHERE" in words and not executemany:
            caught.append((" ".join(words), tuple(parameters)))

    event.listen(engine.sync_engine, "before_cursor_execute", catch)
    try:
        yield caught
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", catch)


async def _plans(engine, statements) -> dict[tuple[str, tuple], str]:
    explain = "EXPLAIN " if ON_POSTGRES else "EXPLAIN QUERY PLAN "
    plans = {}
    async with engine.connect() as connection:
        for statement, parameters in dict.fromkeys(statements):
            rows = await connection.exec_driver_sql(explain + statement, parameters)
            plan = "\n".join(str(row[-1]) for row in rows)
            plans[statement, parameters] = re.sub(r"sqlite_autoindex_(\w+)_1\b", _unique, plan)
    return plans


def _unique(autoindex: re.Match) -> str:
    """SQLite names the index of a unique constraint `sqlite_autoindex_<table>_<n>`; the
    tables the sync looks up have one each, and it is told by its own name here."""
    table = tables.metadata.tables[autoindex[1]]
    [unique] = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
    return unique.name


def _scans(plan: str) -> list[str]:
    """The tables a plan reads whole."""
    if ON_POSTGRES:
        return [
            line.split(" on ")[1].split()[0] for line in plan.splitlines() if "Seq Scan" in line
        ]
    return [line.split()[1] for line in plan.splitlines() if line.startswith("SCAN ")]


async def test_every_look_up_of_a_run_reads_through_an_index(databases, server, client):
    """Without migration 0005, an updated record's identifiers and a member's periods are
    looked up through an index on their type alone."""
    # given a store grown like a hub's, and a feed that first creates its records, then
    # changes them and no longer lists one
    database = await databases.create()
    await _grow(database.engine)
    gone = member("gone", "Verschwunden")
    server.route(
        "/feed",
        sequence(
            respond(200, document(*_items("1"), gone)),
            respond(200, document(*_items("2"))),
        ),
    )
    spec = config.spec(
        slug="kl", url=server.url("/feed"), format="alliance-feed/1", allow_private=True
    )
    await config.save(database.engine, spec)

    # when it runs twice
    with _caught(database.engine) as caught:
        first = await runs.run(database.engine, "kl", client)
        second = await runs.run(database.engine, "kl", client)
    assert (first.status, first.counts.created, first.counts.updated) == ("succeeded", 7, 1)
    assert (second.status, second.counts.updated, second.counts.deleted) == ("succeeded", 7, 1)

    # then no statement it sent reads a grown table whole, and each look-up has its index
    plans = await _plans(database.engine, caught)
    scans = {plan: _scans(plan) for plan in plans.values()}
    assert not {p: s for p, s in scans.items() if set(s) - SMALL}
    unindexed = []
    for fragment, sender, indexes in NEEDS:
        found = [(s, plan) for (s, _), plan in plans.items() if fragment in s]
        assert found, f"the runs sent no statement of {sender} ({fragment!r})"
        unindexed += [
            f"{sender}: {s}\n{plan}" for s, plan in found if not any(i in plan for i in indexes)
        ]
    assert not unindexed, "\n\n".join(unindexed)
