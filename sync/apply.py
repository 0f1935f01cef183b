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

The caller owns the transactions: `Applier.apply` works on the connection it is given, and the
run commits it together with its progress (see `sync.runs`).

Longer than 300 lines because the steps one item goes through, from match to source, read
best together.
"""

import dataclasses
import datetime as dt
import hashlib
import itertools
import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from store import feeds
from store.registry import CHILD_TABLES, FEED_ITEM, IDENTIFIER, LOCKED, RECORD_TABLES, SOURCE
from store.tables import as_utc, utcnow

from . import matching
from .items import Item, ItemError
from .mapping import DEFAULTS, References, Unresolved, mapped

log = logging.getLogger("alliance.sync.apply")

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# PostgreSQL's unique_violation and deadlock_detected: what a batch meets when another run
# creates the same record at the same time (see `Applier.apply`).
COLLISIONS = {"23505", "40P01"}
TRIES = 3
BATCHES = 0x616C6C69616E6365  # the advisory lock every batch holds on PostgreSQL ("alliance")


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

    @property
    def invalid(self) -> int:
        """Items the feed got wrong (unreadable or invalid): the ones that can fail a run."""
        return self.quarantined - self.waiting


@dataclass
class State:
    """What `feed_item` holds for one item of the feed."""

    row_id: int | None = None
    entity_id: int | None = None
    content_hash: str | None = None
    source_updated_at: dt.datetime | None = None
    deleted: bool = False
    pending: dict[str, Any] | None = None


def _state(row) -> State:
    return State(
        row.id,
        row.entity_id,
        row.content_hash,
        as_utc(row.source_updated_at),
        row.deleted_at is not None,
        row.pending,
    )


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


@dataclass
class Applier:
    """Applies the items of one run of one feed. Load it once, then apply batch by batch."""

    feed: feeds.Feed
    run_id: int
    counts: Counts = field(default_factory=Counts)
    seen: set[tuple[str, str]] = field(default_factory=set)
    states: dict[tuple[str, str], State] = field(default_factory=dict)
    locked: dict[tuple[str, int], set[str]] = field(default_factory=dict)
    _live: dict[tuple[str, str], int] | None = None

    async def load(self, connection: AsyncConnection) -> None:
        rows = await connection.execute(
            select(FEED_ITEM).where(FEED_ITEM.c.feed_id == self.feed.id)
        )
        for row in rows:
            self.states[(row.item_type, row.item_id)] = _state(row)
        for row in await connection.execute(select(LOCKED)):
            self.locked.setdefault((row.entity_type, row.entity_id), set()).add(row.field)

    def live_items(self) -> set[tuple[str, str]]:
        return {k for k, s in self.states.items() if s.entity_id is not None and not s.deleted}

    async def apply(
        self, connection: AsyncConnection, entries: Iterable[Item | ItemError]
    ) -> list[ItemError]:
        """Apply one batch, in a savepoint. When another run creates the same record at the
        same time (on PostgreSQL: one waits for the other's commit, then meets its slug or
        identifier, or the two deadlock), the batch is rolled back and applied again, alone,
        and then finds what the other run made."""
        entries = list(entries)
        counts = dataclasses.replace(self.counts)
        for attempt in itertools.count(1):
            try:
                async with connection.begin_nested():
                    await _take_turn(connection, alone=attempt > 1)
                    return await self._apply(connection, entries)
            except DBAPIError as exc:
                if attempt == TRIES or getattr(exc.orig, "sqlstate", None) not in COLLISIONS:
                    raise
                log.info("feed %s: a batch met another run's writes (%s)", self.feed.slug, exc.orig)
            self.counts = dataclasses.replace(counts)
            await self._reread(connection, [e for e in entries if isinstance(e, Item)])

    async def _reread(self, connection: AsyncConnection, items: list[Item]) -> None:
        """What the items' states were before a rolled-back batch: as `feed_item` holds them.
        (`seen` needs nothing: the batch, applied again, adds the same keys.)"""
        keys = {(item.type, item.id) for item in items}
        live = self._by_item()
        for key in keys:
            self.states.pop(key, None)
            live.pop(key, None)
        rows = await connection.execute(
            select(FEED_ITEM).where(
                FEED_ITEM.c.feed_id == self.feed.id,
                FEED_ITEM.c.item_id.in_([item_id for _, item_id in keys]),
            )
        )
        for row in rows:
            key = (row.item_type, row.item_id)
            if key in keys:
                state = self.states[key] = _state(row)
                if state.entity_id is not None and not state.deleted:
                    live[key] = state.entity_id

    async def _apply(
        self, connection: AsyncConnection, entries: list[Item | ItemError]
    ) -> list[ItemError]:
        refs = References(connection, self._by_item())
        issues: list[ItemError] = []
        for entry in entries:
            if isinstance(entry, ItemError):
                self.counts.seen += 1
                self.counts.quarantined += 1
                issues.append(entry)
                continue
            self.counts.seen += 1
            self.seen.add((entry.type, entry.id))
            await self._apply_one(connection, refs, entry)
        return issues

    async def retry_pending(
        self, connection: AsyncConnection, listed_only: bool = False
    ) -> list[ItemError]:
        """Try again every item waiting for a reference: of this run (it may name an item
        that came later in the feed) and of earlier runs (what it names may exist now). One
        that resolves is applied and counted like any other. With `listed_only` (a complete
        snapshot), an earlier run's item this run did not list is gone from the feed: it is
        left as it is. Returns `waiting()`."""
        refs = References(connection, self._by_item())
        for (item_type, item_id), state in list(self.states.items()):
            listed = (item_type, item_id) in self.seen
            if state.pending is not None and (listed or not listed_only):
                item = Item(item_type, item_id, state.pending["data"], state.source_updated_at)
                await self._apply_one(connection, refs, item)
        return self.waiting()

    def waiting(self) -> list[ItemError]:
        """The items of this run that wait for a reference, as `resolve` issues; sets
        `counts.waiting`.

        Only this run's: an item an earlier run left waiting, and this run did not list,
        keeps the reason stored with it (`feed_item.pending`, and that run's `sync_issue`)
        and counts against no later run."""
        found = [
            ItemError(None, state.pending["reason"], item_id, item_type, stage="resolve")
            for (item_type, item_id), state in self.states.items()
            if state.pending is not None and (item_type, item_id) in self.seen
        ]
        self.counts.quarantined += len(found) - self.counts.waiting  # once, however often asked
        self.counts.waiting = len(found)
        return found

    def _by_item(self) -> dict[tuple[str, str], int]:
        """Live records of this feed by item, built once and kept current as items apply
        (rebuilding it for every batch made a large feed's cost grow with its square)."""
        if self._live is None:
            self._live = {
                key: state.entity_id
                for key, state in self.states.items()
                if state.entity_id is not None and not state.deleted
            }
        return self._live

    async def _apply_one(self, connection: AsyncConnection, refs: References, item: Item) -> None:
        key = (item.type, item.id)
        state = self.states.setdefault(key, State())
        updated_at = as_utc(item.updated_at)
        if state.source_updated_at and updated_at and updated_at < state.source_updated_at:
            self.counts.unchanged += 1  # an older copy: the newer one stays
            return
        digest = content_hash(item)
        # An item a snapshot swept is unchanged but gone: listed again, its record comes back.
        if digest == state.content_hash and state.pending is None and state.deleted == item.deleted:
            self.counts.unchanged += 1
            return
        if item.deleted:
            await self._tombstone(connection, item, state, digest, updated_at)
            return
        try:
            record = await mapped(item.type, item.data, refs)
        except Unresolved as exc:
            pending = {"data": item.data, "reason": str(exc)}
            await self._remember(
                connection, item, state, state.entity_id, None, updated_at, pending
            )
            return
        # A record deleted by a tombstone or a sweep comes back when its item does.
        entity_id = state.entity_id or await self._match(connection, item, record.columns)
        new = entity_id is None
        if new:
            entity_id = await self._create(connection, item, record.columns)
            self.counts.created += 1
        else:
            await self._update(connection, item.type, entity_id, record.columns)
            self.counts.updated += 1
        # A new record has no children, identifiers or sources yet: nothing to look up first.
        if record.children is not None:
            await self._replace_children(connection, item, entity_id, record.children, new)
        await self._identifiers(connection, item, entity_id, new)
        await self._source(connection, item.type, entity_id, item.id, new)
        await self._remember(connection, item, state, entity_id, digest, updated_at, None)
        refs.by_item[key] = entity_id

    async def _match(self, connection: AsyncConnection, item: Item, columns: dict) -> int | None:
        """The record a new item speaks of: by one of its identifiers, by its slug (an
        identifier of scheme `slug` too), both by `sync.matching`'s rule (a soft-deleted
        record is found, and `_update` brings it back), or for a post by who holds which post
        where. A post has no key: several deleted posts may share a holder, so only a live one
        is taken."""
        types = (item.type,)
        identifiers = item.data.get("identifiers") or []
        for ident in identifiers:
            found = await matching.by_identifier(connection, ident["scheme"], ident["value"], types)
            if found is not None:
                return found[1]
        slugs = [item.data.get("slug")] + [i["value"] for i in identifiers if i["scheme"] == "slug"]
        for slug in filter(None, slugs):
            found = await matching.by_slug(connection, slug, types)
            if found is not None:
                return found[1]
        if item.type == "post":
            table = RECORD_TABLES["post"]
            keys = ("person_id", "organisation_id", "member_id", "label")
            return await connection.scalar(
                select(table.c.id)
                .where(
                    *(
                        table.c[k].is_(None) if columns.get(k) is None else table.c[k] == columns[k]
                        for k in keys
                    ),
                    table.c.deleted_at.is_(None),
                )
                .limit(1)
            )
        return None

    async def _create(self, connection: AsyncConnection, item: Item, columns: dict) -> int:
        table = RECORD_TABLES[item.type]
        values = {**DEFAULTS.get(item.type, {}), **columns}
        if "slug" in table.c:
            base = item.data.get("slug") or slugify(
                columns.get("name") or columns.get("title") or ""
            )
            values["slug"] = await self._free_slug(
                connection, table, base or slugify(item.id) or item.type
            )
        return await connection.scalar(insert(table).values(values).returning(table.c.id))

    async def _free_slug(self, connection: AsyncConnection, table, base: str) -> str:
        candidate, n = base, 1
        while await connection.scalar(select(table.c.id).where(table.c.slug == candidate)):
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    async def _update(self, connection, item_type: str, entity_id: int, columns: dict) -> None:
        table = RECORD_TABLES[item_type]
        locked = self.locked.get((item_type, entity_id), set())
        values = {k: v for k, v in columns.items() if k not in locked}
        values |= {"updated_at": utcnow(), "deleted_at": None}
        await connection.execute(update(table).where(table.c.id == entity_id).values(values))

    async def _replace_children(self, connection, item: Item, entity_id: int, rows, new) -> None:
        """The feed says all of a record's periods, parties or participants: replace them."""
        table, parent = CHILD_TABLES[item.type]
        if not new:
            await self._retire_children(connection, item, entity_id)
        for row in rows:
            child = await connection.scalar(
                insert(table).values({**row, parent: entity_id}).returning(table.c.id)
            )
            if item.type == "member":
                await self._source(connection, "membership_period", child, item.id, new=True)

    async def _retire_children(self, connection, item: Item, entity_id: int) -> None:
        table, parent = CHILD_TABLES[item.type]
        if item.type == "member":
            # Periods are facts of their source; only this feed's own are replaced.
            owned = select(SOURCE.c.entity_id).where(
                SOURCE.c.entity_type == "membership_period",
                SOURCE.c.feed == self.feed.slug,
                SOURCE.c.item_id == item.id,
            )
            mine = table.c.id.in_(owned)
        else:
            mine = table.c[parent] == entity_id
        await connection.execute(
            update(table).where(mine, table.c.deleted_at.is_(None)).values(deleted_at=utcnow())
        )

    async def _identifiers(self, connection, item: Item, entity_id: int, new: bool) -> None:
        wanted = [("feed:" + self.feed.slug, item.id)] + [
            (i["scheme"], i["value"])
            for i in item.data.get("identifiers") or []
            if i["scheme"] != "slug"  # names a hub record; its slug is its own column
        ]
        # A new record was made because none of its identifiers was known: all are free.
        taken = (
            set()
            if new
            else {
                (row.scheme, row.value)
                for row in await connection.execute(
                    select(IDENTIFIER.c.scheme, IDENTIFIER.c.value).where(
                        IDENTIFIER.c.entity_type == item.type,
                        IDENTIFIER.c.value.in_([value for _, value in wanted]),
                    )
                )
            }
        )
        rows = [  # a key held by another record stays with it
            {"entity_type": item.type, "entity_id": entity_id, "scheme": scheme, "value": value}
            for scheme, value in dict.fromkeys(wanted)
            if (scheme, value) not in taken
        ]
        if rows:
            await connection.execute(insert(IDENTIFIER), rows)

    async def _source(
        self, connection, entity_type: str, entity_id: int, item_id: str, new: bool
    ) -> None:
        # No URL: a feed's may hold a partner's key, and sources are shown to anyone.
        values = {"retrieved_at": utcnow(), "run_id": self.run_id}
        where = (
            SOURCE.c.entity_type == entity_type,
            SOURCE.c.entity_id == entity_id,
            SOURCE.c.feed == self.feed.slug,
            SOURCE.c.item_id == item_id,
        )
        changed = (
            None if new else await connection.execute(update(SOURCE).where(*where).values(values))
        )
        if changed is None or changed.rowcount == 0:
            await connection.execute(
                insert(SOURCE).values(
                    entity_type=entity_type,
                    entity_id=entity_id,
                    feed=self.feed.slug,
                    item_id=item_id,
                    **values,
                )
            )

    async def _tombstone(self, connection, item: Item, state: State, digest, updated_at) -> None:
        if state.entity_id is not None and not state.deleted:
            table = RECORD_TABLES[item.type]
            await connection.execute(
                update(table).where(table.c.id == state.entity_id).values(deleted_at=utcnow())
            )
            self.counts.deleted += 1
        else:
            self.counts.unchanged += 1
        await self._remember(connection, item, state, state.entity_id, digest, updated_at, None)
        state.deleted = True

    async def _remember(self, connection, item, state, entity_id, digest, updated_at, pending):
        values = {
            "entity_type": item.type if entity_id is not None else None,
            "entity_id": entity_id,
            "content_hash": digest,
            "source_updated_at": updated_at,
            "last_seen_run_id": self.run_id,
            "deleted_at": utcnow() if item.deleted else None,
            "pending": pending,
        }
        if state.row_id is None:
            state.row_id = await connection.scalar(
                insert(FEED_ITEM)
                .values(feed_id=self.feed.id, item_type=item.type, item_id=item.id, **values)
                .returning(FEED_ITEM.c.id)
            )
        else:
            await connection.execute(
                update(FEED_ITEM).where(FEED_ITEM.c.id == state.row_id).values(values)
            )
        state.entity_id, state.content_hash = entity_id, digest
        state.source_updated_at, state.pending = updated_at, pending
        state.deleted = item.deleted
        if item.deleted:
            self._by_item().pop((item.type, item.id), None)

    async def sweep(self, connection: AsyncConnection, keys: Iterable[tuple[str, str]]) -> int:
        """Soft-delete the records of items a complete snapshot no longer lists."""
        now = utcnow()
        swept = 0
        for key in keys:
            state = self.states[key]
            table = RECORD_TABLES[key[0]]
            await connection.execute(
                update(table).where(table.c.id == state.entity_id).values(deleted_at=now)
            )
            await connection.execute(
                update(FEED_ITEM).where(FEED_ITEM.c.id == state.row_id).values(deleted_at=now)
            )
            state.deleted = True
            self._by_item().pop(key, None)
            swept += 1
        self.counts.deleted += swept
        return swept
