"""Applying a feed's items to the store, batch by batch, idempotently.

Each item is keyed by (feed, item type, item id) in `feed_item`, which remembers what record it
became, the hash of its content and the `updated_at` the feed gave it. So an item seen before
with the same content is skipped, an older copy never overwrites a newer one, a tombstone
soft-deletes its record, and running the same feed twice changes nothing. A new item first
looks for its record by identifier or slug, so a feed that speaks of a place the hub already
knows updates it instead of adding a twin. Fields an operator locked are left alone; every
record carries a source naming the feed, the item and the run. Two runs that create the same
record at once (two feeds, two workers) both succeed: the unique keys on slugs and identifiers
make the later one apply its batch again, and it then finds the record or the next free slug.

A batch is applied as a set (docs/architecture.md, "The walk of a feed item"): what it looks
up is asked for at once, one query per kind of key over all its items (`sync.known`,
`sync.matching`); its items are then decided one after another, in feed order, against what
came back, kept current as they go; and what they write is sent at once, a few statements per
table (`sync.writes`). The run holds nothing per item of the feed between batches: what it must
know of earlier items is read per batch, and the items a snapshot no longer lists are the
`feed_item` rows this run did not mark seen (`last_seen_run_id`).

The caller owns the transactions: `Applier.apply` works on the connection it is given, and the
run commits it together with its progress (see `sync.runs`).
"""

import dataclasses
import hashlib
import itertools
import logging
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from store import feeds
from store.registry import FEED_ITEM, LOCKED, RECORD_TABLES
from store.tables import as_utc, utcnow

from .items import Item, ItemError
from .known import Known, State
from .mapping import DEFAULTS, Mapped, References, Unresolved, mapped
from .matching import SLUGGED, Keys
from .writes import Ids, Writes

log = logging.getLogger("alliance.sync.apply")

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# PostgreSQL's unique_violation and deadlock_detected: what a batch meets when another run
# creates the same record at the same time (see `Applier.apply`).
COLLISIONS = {"23505", "40P01"}
TRIES = 3
BATCHES = 0x616C6C69616E6365  # the advisory lock every batch holds on PostgreSQL ("alliance")
RETRIED = 500  # waiting items tried again per batch


@dataclass
class Counts:
    """What became of the items of one run. `seen` counts the items the feed sent in this
    run; items of earlier runs that resolve in it are counted where they went (`created`,
    `updated`), never in `seen`."""

    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0  # this run's items set aside, each with a `sync_issue` row saying why
    waiting: int = 0  # of those, the ones still waiting for a reference (see `waiting()`)

    def columns(self) -> dict[str, int]:
        """As a run's record (`sync_run`) and the API's runs name them."""
        return {
            "items_seen": self.seen,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "quarantined": self.quarantined,
        }

    @property
    def invalid(self) -> int:
        """Items the feed got wrong (unreadable or invalid): the ones that can fail a run."""
        return self.quarantined - self.waiting


async def _take_turn(connection: AsyncConnection, alone: bool) -> None:
    """On PostgreSQL every batch holds the lock `BATCHES` shared, and a batch applied again
    after a collision holds it alone: it waits for every batch in flight to commit and keeps
    new ones out, so it cannot collide (or deadlock) with them again. SQLite lets one writer
    at a time in anyway."""
    if connection.dialect.name == "postgresql":
        lock = func.pg_advisory_xact_lock if alone else func.pg_advisory_xact_lock_shared
        await connection.execute(select(lock(BATCHES)))


def content_hash(item: Item) -> str:
    body = {"type": item.type, "data": item.data, "deleted": item.deleted}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower().translate(_UMLAUTS))
    ascii_only = folded.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:100]


class Applier:
    """Applies the items of one run of one feed. Load it once, then apply batch by batch."""

    def __init__(self, feed: feeds.Feed, run_id: int):
        self.feed = feed
        self.run_id = run_id
        self.counts = Counts()
        self.locked: dict[tuple[str, int], set[str]] = {}
        # This run's items waiting for a reference, and why: few, and asked for at the end.
        self._waiting: dict[tuple[str, str], str] = {}

    async def load(self, connection: AsyncConnection) -> None:
        """The fields operators locked (a handful; read once per run)."""
        for row in await connection.execute(select(LOCKED)):
            self.locked.setdefault((row.entity_type, row.entity_id), set()).add(row.field)

    async def apply(
        self, connection: AsyncConnection, entries: Iterable[Item | ItemError]
    ) -> list[ItemError]:
        """Apply one batch, in a savepoint. When another run creates the same record at the
        same time (on PostgreSQL: one waits for the other's commit, then meets its slug or
        identifier, or the two deadlock), the batch is rolled back and applied again, alone,
        and then finds what the other run made."""
        entries = list(entries)
        counts, waiting = dataclasses.replace(self.counts), dict(self._waiting)
        for attempt in itertools.count(1):
            try:
                async with connection.begin_nested():
                    await _take_turn(connection, alone=attempt > 1)
                    return await self._apply(connection, entries, retried=False)
            except DBAPIError as exc:
                if attempt == TRIES or getattr(exc.orig, "sqlstate", None) not in COLLISIONS:
                    raise
                log.info("feed %s: a batch met another run's writes (%s)", self.feed.slug, exc.orig)
            self.counts, self._waiting = dataclasses.replace(counts), dict(waiting)

    async def _apply(
        self, connection: AsyncConnection, entries: list[Item | ItemError], retried: bool
    ) -> list[ItemError]:
        batch = _Batch(self, connection)
        entries = await batch.checked(entries)
        await batch.ask([e for e in entries if isinstance(e, Item)])
        issues = [e for e in entries if isinstance(e, ItemError)]
        await batch.still_listed(issues)
        for entry in entries:
            if isinstance(entry, ItemError):
                self.counts.seen += 1
                self.counts.quarantined += 1
                continue
            if not retried:
                self.counts.seen += 1
            await batch.apply_one(entry, retried)
        await batch.writes.send()
        return issues

    async def retry_pending(
        self, connection: AsyncConnection, listed_only: bool = False
    ) -> list[ItemError]:
        """Try again every item waiting for a reference: of this run (it may name an item
        that came later in the feed) and of earlier runs (what it names may exist now). One
        that resolves is applied and counted like any other. With `listed_only` (a complete
        snapshot), an earlier run's item this run did not list is gone from the feed: it is
        left as it is. Read and applied `RETRIED` at a time. Returns `waiting()`."""
        after = 0
        while True:
            query = (
                select(FEED_ITEM)
                .where(
                    FEED_ITEM.c.feed_id == self.feed.id,
                    FEED_ITEM.c.pending.is_not(None),
                    FEED_ITEM.c.id > after,
                )
                .order_by(FEED_ITEM.c.id)
                .limit(RETRIED)
            )
            if listed_only:
                query = query.where(FEED_ITEM.c.last_seen_run_id == self.run_id)
            rows = (await connection.execute(query)).all()
            if not rows:
                return self.waiting()
            after = rows[-1].id
            items = [
                Item(row.item_type, row.item_id, row.pending["data"], as_utc(row.source_updated_at))
                for row in rows
                if row.pending is not None  # a JSON null, written before pending was SQL NULL
            ]
            await self._apply(connection, items, retried=True)

    def waiting(self) -> list[ItemError]:
        """The items of this run that wait for a reference, as `resolve` issues; sets
        `counts.waiting`.

        Only this run's: an item an earlier run left waiting, and this run did not list,
        keeps the reason stored with it (`feed_item.pending`, and that run's `sync_issue`)
        and counts against no later run."""
        found = [
            ItemError(None, reason, item_id, item_type, stage="resolve")
            for (item_type, item_id), reason in self._waiting.items()
        ]
        self.counts.quarantined += len(found) - self.counts.waiting  # once, however often asked
        self.counts.waiting = len(found)
        return found

    def _gone(self):
        """The feed's items whose records are live and that this run did not list."""
        return (
            FEED_ITEM.c.feed_id == self.feed.id,
            FEED_ITEM.c.entity_id.is_not(None),
            FEED_ITEM.c.deleted_at.is_(None),
            or_(
                FEED_ITEM.c.last_seen_run_id.is_(None),
                FEED_ITEM.c.last_seen_run_id != self.run_id,
            ),
        )

    async def sweepable(self, connection: AsyncConnection) -> tuple[int, int]:
        """(items a snapshot no longer lists, items with a live record), counted in SQL."""
        live = await connection.scalar(
            select(func.count()).where(
                FEED_ITEM.c.feed_id == self.feed.id,
                FEED_ITEM.c.entity_id.is_not(None),
                FEED_ITEM.c.deleted_at.is_(None),
            )
        )
        gone = await connection.scalar(select(func.count()).where(*self._gone()))
        return gone, live

    async def sweep(self, connection: AsyncConnection) -> int:
        """Soft-delete the records of items a complete snapshot no longer lists: one
        statement per item type it had, and one for their `feed_item` rows."""
        now = utcnow()
        types = await connection.scalars(
            select(FEED_ITEM.c.item_type).where(*self._gone()).distinct()
        )
        for item_type in list(types):
            table = RECORD_TABLES[item_type]
            records = select(FEED_ITEM.c.entity_id).where(
                *self._gone(), FEED_ITEM.c.item_type == item_type
            )
            await connection.execute(
                update(table).where(table.c.id.in_(records)).values(deleted_at=now)
            )
        swept = await connection.execute(
            update(FEED_ITEM).where(*self._gone()).values(deleted_at=now)
        )
        self.counts.deleted += swept.rowcount
        return swept.rowcount


class _Batch:
    """One batch: what it looks up, its items decided one by one, what they write."""

    def __init__(self, applier: Applier, connection: AsyncConnection):
        self.applier = applier
        self.feed = applier.feed
        self.run_id = applier.run_id
        self.counts = applier.counts
        self.known = Known(connection, self.feed)
        self.keys = Keys(connection)
        self.ids = Ids(connection)
        self.writes = Writes(connection, self.feed, self.run_id, self.ids)
        self.refs = References(self.known, self.keys)
        self._digests: dict[int, str] = {}
        self._mapped: dict[int, Mapped] = {}

    def _digest(self, item: Item) -> str:
        digest = self._digests.get(id(item))
        if digest is None:
            digest = self._digests[id(item)] = content_hash(item)
        return digest

    def _map(self, item: Item) -> Mapped:
        found = self._mapped.get(id(item))
        if found is None:
            found = self._mapped[id(item)] = mapped(item.type, item.data)
        return found

    async def still_listed(self, issues: list[ItemError]) -> None:
        """Mark seen the earlier items of the feed that these quarantined entries are new
        versions of: the feed still lists them, so a snapshot's sweep must not delete their
        records; they keep what their last good version gave."""
        keys = [(i.item_type, i.item_id) for i in issues if i.item_type and i.item_id]
        await self.known.ask(items=keys)
        for key in keys:
            if (state := self.known.states.get(key)) is not None:
                self._seen(state)

    def _seen(self, state: State) -> None:
        """Mark the feed's stored item seen by this run, once: the sweep spares its record."""
        if state.row_id is not None and state.seen_run != self.run_id:
            self.writes.seen(state.row_id)
            state.seen_run = self.run_id

    async def checked(self, entries: list[Item | ItemError]) -> list[Item | ItemError]:
        """The entries with the check each item's format left for later run (`Item.check`),
        except for an item whose content is what the hub applied from it last: an unchanged
        re-sync costs no schema check."""
        items = [e for e in entries if isinstance(e, Item)]
        await self.known.ask(items=[(i.type, i.id) for i in items])
        return [self._checked(e) if isinstance(e, Item) else e for e in entries]

    def _checked(self, item: Item) -> Item | ItemError:
        state = self.known.states.get((item.type, item.id))
        if item.check is None or (state is not None and _applied(item, state, self._digest(item))):
            return item
        return item.checked()

    async def ask(self, items: list[Item]) -> None:
        """Ask at once for what the batch's items will look up: their `feed_item` rows; for
        the items that changed, their sources, the items, identifiers and slugs they name, the
        free slugs and the ids of the records they make, and the posts of the people their
        posts name."""
        await self.known.ask(items=[(i.type, i.id) for i in items])
        changed = []
        for item in items:
            state = self.known.states.get((item.type, item.id), State())
            if not _unchanged(item, state, self._digest(item)) and not item.deleted:
                changed.append((item, state, self._map(item)))
        named_items, values, slugs = set(), set(), defaultdict(set)
        for item, _, record in changed:
            values.add(item.id)
            identifiers = item.data.get("identifiers") or []
            values.update(i["value"] for i in identifiers)
            if item.type in SLUGGED:
                slugs[item.type].update(filter(None, [item.data.get("slug")]))
                slugs[item.type].update(i["value"] for i in identifiers if i["scheme"] == "slug")
            for named in record.refs():
                ref, wanted = named.ref, named.wanted
                named_items.update((entity_type, ref) for entity_type in wanted)
                scheme, sep, value = ref.partition(":")
                for entity_type in set(wanted) & set(SLUGGED):
                    slugs[entity_type].add(value if scheme == "slug" else ref)
                if sep and scheme != "slug":
                    values.add(value)
        sourced = [item.id for item, state, _ in changed if state.entity is not None]
        await self.known.ask(items=named_items, sources=sourced)
        await self.keys.ask(values, slugs)
        new = [(item, record) for item, state, record in changed if state.entity is None]
        await self.ids.reserve(Counter(item.type for item, _ in new))
        bases: dict[str, Counter] = defaultdict(Counter)
        for item, record in new:
            if item.type in SLUGGED:
                bases[item.type][_slug_base(item, record.columns)] += 1
        await self.keys.ask_free_slugs(bases)
        holders = [
            await self._found(ref.ref, ref.wanted)
            for item, _, record in changed
            if item.type == "post"
            for ref in record.refs()
            if ref.wanted == ("person",)
        ]
        await self.known.ask(holders=holders)

    async def _found(self, ref: str, wanted: tuple[str, ...]) -> int | None:
        try:
            return (await self.refs.lookup(ref, wanted))[1]
        except Unresolved:
            return None

    async def apply_one(self, item: Item, retried: bool) -> None:
        key = (item.type, item.id)
        if key in self.writes.touched:
            await self.writes.send()  # the item came twice: its first copy is written first
        state = await self.known.state(key)
        listed = not retried or state.seen_run == self.run_id
        await self._decide(item, state, listed)
        if listed:
            if state.pending is not None:
                self.applier._waiting[key] = state.pending["reason"]
            else:
                self.applier._waiting.pop(key, None)

    async def _decide(self, item: Item, state: State, listed: bool) -> None:
        updated_at = as_utc(item.updated_at)
        digest = self._digest(item)
        if _unchanged(item, state, digest):
            self.counts.unchanged += 1
            if listed:
                self._seen(state)
            return
        if item.deleted:
            await self._tombstone(item, state, digest, updated_at, listed)
            return
        try:
            record = await self._map(item).resolved(self.refs)
        except Unresolved as exc:
            pending = {"data": item.data, "reason": str(exc)}
            self._remember(item, state, state.entity, None, updated_at, pending, listed)
            return
        # A record deleted by a tombstone or a sweep comes back when its item does.
        entity = state.entity
        if entity is None:
            entity = await self._match(item, record.columns)
        if entity is not None and entity in self.writes.touched:
            await self.writes.send()  # another item of the batch wrote this record
        new = entity is None
        if new:
            entity = await self._create(item, record.columns)
            self.counts.created += 1
        else:
            self._update(item.type, entity, record.columns)
            self.counts.updated += 1
        if record.children is not None:
            self.writes.replace_children(item.type, item.id, entity, record.children, new)
        await self._identifiers(item, entity)
        known = not new and await self.known.has_source(item.type, entity, item.id)
        self.writes.source(item.type, entity, item.id, known)
        self.known.sourced(item.type, entity, item.id)
        self._remember(item, state, entity, digest, updated_at, None, listed)

    async def _match(self, item: Item, columns: dict) -> int | None:
        """The record a new item speaks of: by one of its identifiers, by its slug (an
        identifier of scheme `slug` too), both by `sync.matching`'s rule (a soft-deleted
        record is found, and `_update` brings it back), or for a post by who holds which post
        where. A post has no key: several deleted posts may share a holder, so only a live one
        is taken."""
        types = (item.type,)
        identifiers = item.data.get("identifiers") or []
        for ident in identifiers:
            found = await self.keys.by_identifier(ident["scheme"], ident["value"], types)
            if found is not None:
                return found[1]
        slugs = [item.data.get("slug")] + [i["value"] for i in identifiers if i["scheme"] == "slug"]
        for slug in filter(None, slugs):
            found = await self.keys.by_slug(slug, types)
            if found is not None:
                return found[1]
        if item.type == "post":
            return await self.known.post(columns)
        return None

    async def _create(self, item: Item, columns: dict) -> int:
        record = await self.ids.next(item.type)
        self.known.made.add((item.type, record))
        values = {**DEFAULTS.get(item.type, {}), **columns}
        slug = None
        if item.type in SLUGGED:
            slug = values["slug"] = await self.keys.free_slug(item.type, _slug_base(item, columns))
        self.writes.create(item.type, record, values)
        self.keys.made(item.type, record, slug, ())
        if item.type == "post":
            self.known.posted(record, values)
        return record

    def _update(self, item_type: str, entity: int, columns: dict) -> None:
        locked = self.applier.locked.get((item_type, entity), set())
        values = {k: v for k, v in columns.items() if k not in locked}
        values |= {"updated_at": utcnow(), "deleted_at": None}
        self.writes.update(item_type, entity, values)
        if item_type == "post":
            self.known.posted(entity, values)

    async def _identifiers(self, item: Item, entity: int) -> None:
        wanted = [("feed:" + self.feed.slug, item.id)] + [
            (i["scheme"], i["value"])
            for i in item.data.get("identifiers") or []
            if i["scheme"] != "slug"  # names a hub record; its slug is its own column
        ]
        free = [  # a key held by another record stays with it
            pair
            for pair in dict.fromkeys(wanted)
            if await self.keys.holder(item.type, *pair) is None
        ]
        self.writes.identifiers(item.type, entity, free)
        self.keys.gave(item.type, entity, free)

    async def _tombstone(self, item: Item, state: State, digest, updated_at, listed) -> None:
        if state.live is not None:
            if state.entity in self.writes.touched:
                await self.writes.send()
            self.writes.update(item.type, state.entity, {"deleted_at": utcnow()})
            if item.type == "post":
                self.known.posted(state.entity, None)
            self.counts.deleted += 1
        else:
            self.counts.unchanged += 1
        self._remember(item, state, state.entity, digest, updated_at, None, listed)

    def _remember(self, item, state: State, entity, digest, updated_at, pending, listed) -> None:
        seen_run = self.run_id if listed else state.seen_run
        values = {
            "entity_type": item.type if entity is not None else None,
            "entity_id": entity,
            "content_hash": digest,
            "source_updated_at": updated_at,
            "last_seen_run_id": seen_run,
            "deleted_at": utcnow() if item.deleted else None,
            "pending": pending,
        }
        self.writes.feed_item((item.type, item.id), values, state.stored)
        state.stored, state.entity, state.content_hash = True, entity, digest
        state.source_updated_at, state.pending = updated_at, pending
        state.deleted, state.seen_run = item.deleted, seen_run


def _unchanged(item: Item, state: State, digest: str) -> bool:
    """An older copy than the feed last sent (the newer one stays), or the same content as
    it, still applied. An item a snapshot swept is unchanged but gone: listed again, its
    record comes back."""
    updated_at = as_utc(item.updated_at)
    if state.source_updated_at and updated_at and updated_at < state.source_updated_at:
        return True
    return _applied(item, state, digest)


def _applied(item: Item, state: State, digest: str) -> bool:
    """The item's content is what the hub last applied from it (and checked then)."""
    return digest == state.content_hash and state.pending is None and state.deleted == item.deleted


def _slug_base(item: Item, columns: dict) -> str:
    base = item.data.get("slug") or slugify(columns.get("name") or columns.get("title") or "")
    return base or slugify(item.id) or item.type
