"""Applying items: idempotent, newest wins, tombstones, references, matching, locks, sources."""

import datetime as dt

import pytest
from sqlalchemy import insert, select, update

from store import feeds, seed, tables
from store.registry import FEED, FEED_ITEM
from sync import config
from sync.apply import Applier, content_hash, slugify
from sync.items import Item, ItemError
from tests import factories

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def member(item_id="kl", name="Kaiserslautern", *, at: dt.datetime = T0, **data) -> Item:
    """The city as the applier gets it from a feed, its item updated `at`."""
    return factories.item(factories.member(item_id, name, updated_at=at, **data))


def organisation(item_id="wfk", home="kl", **data) -> Item:
    """WFK, an agency of the member `home`."""
    kind = "economic_development_agency"
    return factories.item(factories.organisation(item_id, home, "WFK", kind=kind, **data))


class Hub:
    """A database with a feed, and a helper to apply items in one run after another."""

    def __init__(self, database, feed: feeds.Feed):
        self.database, self.feed, self.run = database, feed, 0

    async def apply(self, *entries) -> Applier:
        self.run += 1
        applier = Applier(self.feed, self.run)
        async with self.database.engine.begin() as connection:
            await applier.load(connection)
            issues = await applier.apply(connection, entries)
            issues += await applier.retry_pending(connection)
        applier.issues = issues
        return applier

    async def rows(self, statement):
        async with self.database.engine.connect() as connection:
            return (await connection.execute(statement)).all()


@pytest.fixture
async def hub(databases) -> Hub:
    database = await databases.create()
    await seed.seed(database.engine)
    await config.save(
        database.engine,
        config.spec(slug="kl", url="https://kl.example/feed.json", format="alliance-feed/1"),
    )
    # Run ids are only referenced by sources; these tests need no run rows.
    async with database.engine.connect() as connection:
        row = (await connection.execute(select(FEED).where(FEED.c.slug == "kl"))).one()
    return Hub(database, feeds.Feed.model_validate(dict(row._mapping)))


async def test_same_items_twice_change_nothing_the_second_time(hub):
    first = await hub.apply(member(), organisation())
    second = await hub.apply(member(), organisation())
    assert (first.counts.created, first.counts.updated) == (2, 0)
    assert (second.counts.created, second.counts.updated, second.counts.unchanged) == (0, 0, 2)
    names = await hub.rows(
        select(tables.Organisation.slug).where(tables.Organisation.name == "WFK")
    )
    assert len(names) == 1


async def test_a_changed_item_updates_its_record_and_an_older_copy_is_ignored(hub):
    await hub.apply(member(population=99_000))
    newer = member(population=100_000, at=T0 + dt.timedelta(days=1))
    older = member(population=1, at=T0 - dt.timedelta(days=1))
    applied = await hub.apply(newer, older)
    assert (applied.counts.updated, applied.counts.unchanged) == (1, 1)
    [(population,)] = await hub.rows(
        select(tables.Member.population).where(tables.Member.slug == "kaiserslautern-2")
    )
    assert population == 100_000


async def test_tombstone_soft_deletes_and_keeps_the_record(hub):
    await hub.apply(organisation(home="slug:kaiserslautern"))
    gone = await hub.apply(Item("organisation", "wfk", {}, updated_at=T0, deleted=True))
    assert gone.counts.deleted == 1
    [(deleted_at,)] = await hub.rows(
        select(tables.Organisation.deleted_at).where(tables.Organisation.slug == "wfk")
    )
    assert deleted_at is not None


async def test_references_by_item_id_slug_and_identifier(hub):
    async with hub.database.engine.begin() as connection:
        mainz = await connection.scalar(
            select(tables.Member.id).where(tables.Member.slug == "mainz")
        )
        await connection.execute(
            insert(tables.Identifier).values(
                entity_type="member", entity_id=mainz, scheme="wikidata", value="Q1720"
            )
        )
    applied = await hub.apply(
        organisation("a", home="slug:kaiserslautern"),
        organisation("b", home="wikidata:Q1720"),
    )
    assert applied.counts.created == 2 and not applied.issues
    homes = dict(
        await hub.rows(
            select(tables.Organisation.slug, tables.Member.slug)
            .join(tables.Member, tables.Member.id == tables.Organisation.member_id)
            .where(tables.Organisation.slug.in_(["wfk", "wfk-2"]))
        )
    )
    assert homes == {"wfk": "kaiserslautern", "wfk-2": "mainz"}


async def test_a_reference_to_a_later_item_of_the_same_feed_is_resolved_in_the_run(hub):
    applied = await hub.apply(organisation(home="kl"), member())
    assert applied.counts.created == 2 and applied.counts.quarantined == 0
    assert applied.issues == []


async def test_an_unknown_reference_waits_and_is_resolved_by_a_later_run(hub):
    waiting = await hub.apply(organisation(home="nowhere"))
    assert waiting.counts.quarantined == 1 and waiting.counts.created == 0
    assert waiting.issues[0].stage == "resolve" and "nowhere" in waiting.issues[0].message
    # The feed's next run brings the member the organisation named, under that id.
    resolved = await hub.apply(member("nowhere", "Neustadt"))
    assert resolved.counts.created == 2 and resolved.counts.quarantined == 0


async def test_a_new_item_with_a_known_identifier_updates_that_record(hub):
    async with hub.database.engine.begin() as connection:
        kl = await connection.scalar(
            select(tables.Member.id).where(tables.Member.slug == "kaiserslautern")
        )
        await connection.execute(
            insert(tables.Identifier).values(
                entity_type="member", entity_id=kl, scheme="wikidata", value="Q3832"
            )
        )
    applied = await hub.apply(
        member(identifiers=[{"scheme": "wikidata", "value": "Q3832"}], population=100_000)
    )
    assert (applied.counts.created, applied.counts.updated) == (0, 1)
    [(population,)] = await hub.rows(select(tables.Member.population).where(tables.Member.id == kl))
    assert population == 100_000


async def test_locked_fields_are_left_alone(hub):
    await hub.apply(member(population=1))
    [(kl,)] = await hub.rows(
        select(tables.Member.id).where(tables.Member.slug == "kaiserslautern-2")
    )
    async with hub.database.engine.begin() as connection:
        await connection.execute(
            insert(feeds.LockedField).values(entity_type="member", entity_id=kl, field="population")
        )
    await hub.apply(member(population=2, latitude=49.44))
    [(population, latitude)] = await hub.rows(
        select(tables.Member.population, tables.Member.latitude).where(tables.Member.id == kl)
    )
    assert (population, latitude) == (1, 49.44)


async def test_every_record_names_the_feed_the_item_and_the_run(hub):
    await hub.apply(
        member(
            memberships=[{"alliance": "slug:isa", "status": "member", "start_date": "2018-04-23"}]
        )
    )
    rows = await hub.rows(
        select(
            tables.Source.entity_type,
            tables.Source.feed,
            tables.Source.item_id,
            tables.Source.run_id,
        ).where(tables.Source.feed == "kl")
    )
    assert sorted(rows) == [("member", "kl", "kl", 1), ("membership_period", "kl", "kl", 1)]


async def test_bad_items_are_counted_and_reported(hub):
    bad = ItemError("items[3]", "kind: 'village' is not one of ...", "x", "member")
    applied = await hub.apply(member(), bad)
    assert applied.counts.quarantined == 1 and applied.counts.created == 1
    assert applied.issues[0].position == "items[3]"


async def test_the_check_a_format_leaves_runs_only_for_content_not_applied_before(hub):
    asked = []

    def with_check(item: Item, verdict: ItemError | None) -> Item:
        def check():
            asked.append((item.id, item.data.get("population")))
            return verdict

        item.check = check
        return item

    refused = ItemError("items[0]", "data.population: -1 is less than 0", "kl", "member")
    first = await hub.apply(with_check(member(population=1), None))
    assert first.counts.created == 1 and asked == [("kl", 1)]
    # The same content again: what the hub applied was checked then; the check is not run.
    again = await hub.apply(with_check(member(population=1), refused))
    assert again.counts.unchanged == 1 and again.counts.quarantined == 0
    assert asked == [("kl", 1)]
    # New content is checked, and what the check refuses is set aside, the record left alone.
    later = T0 + dt.timedelta(days=1)
    changed = await hub.apply(with_check(member(population=-1, at=later), refused))
    assert changed.counts.quarantined == 1 and changed.counts.updated == 0
    assert changed.issues == [refused] and asked == [("kl", 1), ("kl", -1)]
    made = select(FEED_ITEM.c.entity_id).where(FEED_ITEM.c.item_id == "kl").scalar_subquery()
    [(population,)] = await hub.rows(
        select(tables.Member.population).where(tables.Member.id == made)
    )
    assert population == 1


async def test_sweep_removes_what_a_snapshot_no_longer_lists(hub):
    await hub.apply(member(), organisation())
    later = await hub.apply(member())
    async with hub.database.engine.begin() as connection:
        assert await later.sweep(connection) == 1
    [(deleted_at,)] = await hub.rows(
        select(tables.Organisation.deleted_at).where(tables.Organisation.slug == "wfk")
    )
    assert deleted_at is not None


def test_content_hash_ignores_key_order_and_slugify_folds():
    a = Item("member", "x", {"a": 1, "b": [1, 2]})
    b = Item("member", "x", {"b": [1, 2], "a": 1})
    assert content_hash(a) == content_hash(b)
    assert slugify("Köln Straße") == "koeln-strasse"
    assert slugify("凯泽斯劳滕") == ""


async def test_a_post_the_hub_knows_is_matched_by_who_holds_what_where(hub):
    post = Item(
        "post",
        "weiler-wfk",
        {
            "person": "slug:stefan-weiler",
            "organisation": "slug:wfk-kaiserslautern",
            "label": "Geschäftsführer",
            "role": "managing_director",
        },
        updated_at=T0,
    )
    applied = await hub.apply(post)
    assert (applied.counts.created, applied.counts.updated) == (0, 1)
    held = await hub.rows(
        select(tables.Post.id)
        .join(tables.Person, tables.Person.id == tables.Post.person_id)
        .where(tables.Person.slug == "stefan-weiler", tables.Post.deleted_at.is_(None))
    )
    assert len(held) == 1


async def test_an_identifier_of_scheme_slug_names_a_hub_record(hub):
    person = Item(
        "person",
        "p1",
        {"name": "Nico Au", "identifiers": [{"scheme": "slug", "value": "nico-au"}]},
        updated_at=T0,
    )
    applied = await hub.apply(person)
    assert (applied.counts.created, applied.counts.updated) == (0, 1)
    schemes = await hub.rows(
        select(tables.Identifier.scheme).where(tables.Identifier.entity_type == "person")
    )
    assert schemes == [("feed:kl",)]


async def test_what_an_item_leaves_out_is_left_alone_and_an_explicit_null_clears(hub):
    await hub.apply(member(population=99_000, latitude=49.44))
    silent = Item(
        "member", "kl", {"kind": "city", "country": "DE"}, updated_at=T0 + dt.timedelta(1)
    )
    cleared = Item("member", "kl", {"latitude": None}, updated_at=T0 + dt.timedelta(2))
    await hub.apply(silent)
    [(name, population)] = await hub.rows(
        select(tables.Member.name, tables.Member.population).where(
            tables.Member.slug == "kaiserslautern-2"
        )
    )
    assert (name, population) == ("Kaiserslautern", 99_000)
    await hub.apply(cleared)
    [(latitude, population)] = await hub.rows(
        select(tables.Member.latitude, tables.Member.population).where(
            tables.Member.slug == "kaiserslautern-2"
        )
    )
    assert (latitude, population) == (None, 99_000)


async def test_an_item_sent_again_after_its_tombstone_brings_its_record_back(hub):
    await hub.apply(organisation(home="slug:kaiserslautern"))
    await hub.apply(Item("organisation", "wfk", {}, updated_at=T0, deleted=True))
    back = await hub.apply(organisation(home="slug:kaiserslautern", description="wieder da"))
    assert (back.counts.created, back.counts.updated) == (0, 1)
    rows = await hub.rows(
        select(tables.Organisation.slug, tables.Organisation.deleted_at).where(
            tables.Organisation.description == "wieder da"
        )
    )
    assert rows == [("wfk", None)]


async def tombstoned(hub, item: Item) -> None:
    await hub.apply(Item(item.type, item.id, {}, updated_at=T0, deleted=True))


async def swept(hub, item: Item) -> None:
    later = await hub.apply()
    async with hub.database.engine.begin() as connection:
        await later.sweep(connection)


@pytest.mark.parametrize("gone", [tombstoned, swept])
async def test_a_record_gone_comes_back_when_its_item_is_sent_again_unchanged(hub, gone):
    city = member(identifiers=[{"scheme": "wikidata", "value": "Q3832"}])
    await hub.apply(city)
    [(kl,)] = await hub.rows(
        select(tables.Member.id).where(tables.Member.slug == "kaiserslautern-2")
    )
    await gone(hub, city)

    back = await hub.apply(organisation("before", home="kl"), city, organisation(home="kl"))

    assert [(i.item_id, i.message) for i in back.issues] == []
    assert (back.counts.created, back.counts.updated, back.counts.unchanged) == (2, 1, 0)
    assert await hub.rows(
        select(tables.Member.id).where(
            tables.Member.slug.like("kaiserslautern-%"), tables.Member.deleted_at.is_(None)
        )
    ) == [(kl,)]
    homes = await hub.rows(
        select(tables.Organisation.member_id)
        .join(tables.Identifier, tables.Identifier.entity_id == tables.Organisation.id)
        .where(
            tables.Identifier.entity_type == "organisation", tables.Identifier.scheme == "feed:kl"
        )
    )
    assert homes == [(kl,), (kl,)]


def event(*parties: str) -> Item:
    data = {"kind": "meeting", "title": "Treffen", "participants": [{"party": p} for p in parties]}
    return Item("event", "treffen", data, updated_at=T0)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            member(memberships=[{"alliance": "isa", "status": "member"}]),
            "reference 'isa' names no item of this feed; "
            "to name the hub's alliance write `slug:isa`",
        ),
        (
            event("mainz"),
            "reference 'mainz' names no item of this feed; "
            "to name the hub's member write `slug:mainz`",
        ),
        (
            organisation(home="nowhere"),
            "reference 'nowhere' names no member item of this feed yet; a record of the hub "
            "is named `slug:<its slug>` or by an identifier, `<scheme>:<value>`",
        ),
        (
            organisation(home="slug:nowhere"),
            "reference 'slug:nowhere' names no member known yet",
        ),
    ],
    ids=["alliance-of-the-hub", "party-of-the-hub", "nothing-by-that-name", "slug"],
)
async def test_a_reference_that_names_nothing_says_what_it_meant_and_how_to_write_it(
    hub, item, message
):
    applied = await hub.apply(item)
    assert [(i.stage, i.item_id, i.message) for i in applied.issues] == [
        ("resolve", item.id, message)
    ]


# ---- soft-deleted records: found by key, for references and matching alike (sync.matching) ----


async def soft_delete_member(hub, slug: str) -> int:
    async with hub.database.engine.begin() as connection:
        found = await connection.scalar(select(tables.Member.id).where(tables.Member.slug == slug))
        await connection.execute(
            update(tables.Member).where(tables.Member.id == found).values(deleted_at=T0)
        )
        await connection.execute(
            insert(tables.Identifier).values(
                entity_type="member", entity_id=found, scheme="wikidata", value="Q1720"
            )
        )
    return found


async def test_a_reference_names_a_soft_deleted_record_and_leaves_it_deleted(hub):
    mainz = await soft_delete_member(hub, "mainz")

    applied = await hub.apply(
        organisation("a", home="slug:mainz"), organisation("b", home="wikidata:Q1720")
    )

    assert (applied.counts.created, applied.issues) == (2, [])
    homes = await hub.rows(
        select(tables.Organisation.member_id).where(tables.Organisation.slug.in_(["wfk", "wfk-2"]))
    )
    assert homes == [(mainz,), (mainz,)]
    [(deleted_at,)] = await hub.rows(
        select(tables.Member.deleted_at).where(tables.Member.id == mainz)
    )
    assert deleted_at is not None


@pytest.mark.parametrize(
    "key",
    [{"slug": "mainz"}, {"identifiers": [{"scheme": "wikidata", "value": "Q1720"}]}],
    ids=["slug", "identifier"],
)
async def test_an_item_matching_a_soft_deleted_record_brings_it_back(hub, key):
    mainz = await soft_delete_member(hub, "mainz")

    applied = await hub.apply(member("mz", "Mainz", **key))

    assert (applied.counts.created, applied.counts.updated) == (0, 1)
    assert await hub.rows(
        select(tables.Member.id, tables.Member.deleted_at).where(tables.Member.name == "Mainz")
    ) == [(mainz, None)]
