"""What one batch of a run writes, queued while its items are decided and then sent at once, a
few statements per table whatever the batch's size (docs/architecture.md, "The walk of a feed
item").

A new record's id is taken from its table's sequence when the item is decided (`Ids`), so an
item later in the batch can name it before it is written. Rows of one table go as one statement:
a multi-row insert (every row with every column, a column the item leaves out at its default),
an update as one compiled statement executed for many rows. The order of `send` is the order
the rows need: records in the order of `RECORD_TABLES` (an organisation names a member), then
what hangs from them, a record's old children retired before its new ones go in. The batch sends
what it queued before it decides an item whose key or record it has queued writes for
(`touched`), so that no statement writes one row twice.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, func, insert, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from store import feeds
from store.registry import CHILD_TABLES, FEED_ITEM, IDENTIFIER, RECORD_TABLES, SOURCE
from store.tables import utcnow


def _defaults(table) -> dict[str, Any]:
    """Each column's default; a function where the default is made by one (`created_at`)."""
    return {
        column.name: None if column.default is None else column.default.arg
        for column in table.c
        if not column.primary_key
    }


_DEFAULTS = {entity_type: _defaults(table) for entity_type, table in RECORD_TABLES.items()}


_ID_TABLES = {**RECORD_TABLES, "membership_period": CHILD_TABLES["member"][0]}


class _Unnested:
    """One table's multi-row insert on PostgreSQL: each column's values as one array,
    unnested into rows. Its text is the same whatever the number of rows, so the driver
    prepares it once per connection; a VALUES list would be a new statement of thousands of
    parameters, parsed and planned again, for every batch."""

    def __init__(self, table, names: tuple[str, ...], dialect):
        self.columns = [table.c[name] for name in names]
        quote = dialect.identifier_preparer.quote
        arrays = ", ".join(
            f"${i}::{column.type.compile(dialect=dialect)}[]"
            for i, column in enumerate(self.columns, start=1)
        )
        self.sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
            f"SELECT * FROM unnest({arrays})"
        )
        self.processors = [column.type.bind_processor(dialect) for column in self.columns]

    def arrays(self, rows: list[dict]) -> tuple[list, ...]:
        out = []
        for column, process in zip(self.columns, self.processors, strict=True):
            values = [row[column.name] for row in rows]
            out.append([process(v) for v in values] if process else values)
        return tuple(out)


_UNNESTED: dict[tuple[str, tuple[str, ...]], _Unnested] = {}


async def insert_rows(connection: AsyncConnection, table, rows: list[dict]) -> None:
    """`rows` (each with the same keys) into `table`, as one statement. A column the rows
    leave out gets its default made in Python (`created_at`), as the ORM's insert would. No
    rows, no statement: an empty list would insert one row of defaults on SQLite, and fail
    on PostgreSQL (an item saying `memberships: []` has no periods to insert)."""
    if not rows:
        return
    if connection.dialect.name != "postgresql":
        await connection.execute(insert(table), rows)
        return
    made = {
        name: default(None) if callable(default) else default
        for name, default in _defaults(table).items()
        if name not in rows[0] and default is not None
    }
    if made:
        rows = [row | made for row in rows]
    names = tuple(rows[0])
    shape = _UNNESTED.get((table.name, names))
    if shape is None:
        shape = _UNNESTED[(table.name, names)] = _Unnested(table, names, connection.dialect)
    await connection.exec_driver_sql(shape.sql, shape.arrays(rows))


class Ids:
    """New records' ids (and membership periods', each of which gets a source naming it),
    taken from each table's sequence a batch's worth at a time. On
    SQLite, which has none, from the largest id in the table: a batch's transaction holds
    the database's one write lock from its first statement (the lease's UPDATE) on."""

    def __init__(self, connection: AsyncConnection):
        self.connection = connection
        self._free: dict[str, list[int]] = defaultdict(list)
        self._last: dict[str, int] = {}  # SQLite: the largest id handed out

    async def reserve(self, wanted: dict[str, int]) -> None:
        """Take `count` ids of each kind at once: on PostgreSQL in one statement, whatever
        the kinds (a batch makes members, organisations, people and posts)."""
        wanted = {entity_type: count for entity_type, count in wanted.items() if count > 0}
        if self.connection.dialect.name != "postgresql" or len(wanted) < 2:
            for entity_type, count in wanted.items():
                await self._take(entity_type, count)
            return
        taken = union_all(*(_next_ids(entity_type, count) for entity_type, count in wanted.items()))
        found: dict[str, list[int]] = defaultdict(list)
        for entity_type, record in await self.connection.execute(taken):
            found[entity_type].append(record)
        for entity_type, ids in found.items():
            self._free[entity_type] = sorted(ids, reverse=True) + self._free[entity_type]

    async def next(self, entity_type: str) -> int:
        if not self._free[entity_type]:
            await self._take(entity_type, 1)
        return self._free[entity_type].pop()

    async def _take(self, entity_type: str, count: int) -> None:
        table = _ID_TABLES[entity_type]
        if self.connection.dialect.name == "postgresql":
            taken = await self.connection.execute(_next_ids(entity_type, count))
            ids = [record for _, record in taken]
        else:
            last = self._last.get(entity_type)
            if last is None:
                last = await self.connection.scalar(select(func.max(table.c.id))) or 0
            ids = list(range(last + 1, last + count + 1))
            self._last[entity_type] = ids[-1]
        self._free[entity_type] = sorted(ids, reverse=True) + self._free[entity_type]


def _next_ids(entity_type: str, count: int):
    """(kind, id) for `count` new ids of a kind, from its table's sequence (PostgreSQL)."""
    sequence = func.pg_get_serial_sequence(_ID_TABLES[entity_type].name, "id")
    return select(
        literal(entity_type).label("kind"), func.nextval(sequence).label("id")
    ).select_from(func.generate_series(1, count))


_FEED_ITEM_KEY = (
    FEED_ITEM.c.feed_id == bindparam("k_feed"),
    FEED_ITEM.c.item_type == bindparam("k_type"),
    FEED_ITEM.c.item_id == bindparam("k_item"),
)
_SOURCE_KEY = (
    SOURCE.c.entity_type == bindparam("k_type"),
    SOURCE.c.entity_id == bindparam("k_entity"),
    SOURCE.c.feed == bindparam("k_feed"),
    SOURCE.c.item_id == bindparam("k_item"),
)


class Writes:
    """The queued writes of one batch (see the module)."""

    def __init__(self, connection: AsyncConnection, feed: feeds.Feed, run_id: int, ids: Ids):
        self.connection = connection
        self.ids = ids
        self.feed = feed
        self.run_id = run_id
        self.touched: set[Any] = set()  # item keys and records with writes queued
        self._clear()

    def _clear(self) -> None:
        self._creates: dict[str, list[dict]] = defaultdict(list)
        self._updates: dict[tuple[str, frozenset], list[tuple[int, dict]]] = defaultdict(list)
        self._retire: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self._children: dict[str, list[tuple[str, int, dict]]] = defaultdict(list)
        self._identifiers: list[tuple[str, int, str, str]] = []
        self._sources: list[tuple[str, int, str]] = []  # to insert
        self._retrieved: list[tuple[str, int, str]] = []  # to mark retrieved again
        self._new_items: list[dict] = []
        self._changed_items: list[dict] = []
        self._seen: list[int] = []
        self.touched.clear()

    def create(self, entity_type: str, record: int, values: dict) -> None:
        defaults = {
            name: default(None) if callable(default) else default
            for name, default in _DEFAULTS[entity_type].items()
        }
        self._creates[entity_type].append(defaults | values | {"id": record})
        self.touched.add(record)

    def update(self, entity_type: str, record: int, values: dict) -> None:
        self._updates[(entity_type, frozenset(values))].append((record, values))
        self.touched.add(record)

    def replace_children(
        self, item_type: str, item_id: str, record: int, rows: list[dict], new: bool
    ) -> None:
        """The feed says all of a record's periods, parties or participants."""
        if not new:
            self._retire[item_type].append((item_id, record))
        self._children[item_type] += [(item_id, record, row) for row in rows]

    def identifiers(self, entity_type: str, record: int, pairs) -> None:
        self._identifiers += [(entity_type, record, scheme, value) for scheme, value in pairs]

    def source(self, entity_type: str, record: int, item_id: str, known: bool) -> None:
        """A source naming the feed, the item and the run: one the feed gave before is
        marked retrieved by this run, else a new one is made."""
        (self._retrieved if known else self._sources).append((entity_type, record, item_id))

    def feed_item(self, key: tuple[str, str], values: dict, stored: bool) -> None:
        """What the item became."""
        row = values | {"k_feed": self.feed.id, "k_type": key[0], "k_item": key[1]}
        (self._changed_items if stored else self._new_items).append(row)
        self.touched.add(key)

    def seen(self, row_id: int) -> None:
        """An item listed again unchanged: its row says this run saw it."""
        self._seen.append(row_id)

    async def send(self) -> None:
        """Everything queued, in the order the rows need."""
        for entity_type in RECORD_TABLES:
            if rows := self._creates.get(entity_type):
                await insert_rows(self.connection, RECORD_TABLES[entity_type], rows)
        now = utcnow()
        for (entity_type, _), queued in self._updates.items():
            table = RECORD_TABLES[entity_type]
            await self.connection.execute(
                update(table).where(table.c.id == bindparam("k_entity")),
                [values | {"k_entity": record} for record, values in queued],
            )
        for item_type, retired in self._retire.items():
            await self._retire_children(item_type, retired, now)
        for item_type, rows in self._children.items():
            await self._insert_children(item_type, rows)
        if self._identifiers:
            await insert_rows(
                self.connection,
                IDENTIFIER,
                [
                    {"entity_type": t, "entity_id": r, "scheme": s, "value": v}
                    for t, r, s, v in self._identifiers
                ],
            )
        await self._send_sources(now)
        if self._new_items:
            await insert_rows(
                self.connection,
                FEED_ITEM,
                [
                    {
                        **{k: v for k, v in row.items() if not k.startswith("k_")},
                        "feed_id": row["k_feed"],
                        "item_type": row["k_type"],
                        "item_id": row["k_item"],
                    }
                    for row in self._new_items
                ],
            )
        if self._changed_items:
            await self.connection.execute(
                update(FEED_ITEM).where(*_FEED_ITEM_KEY), self._changed_items
            )
        if self._seen:
            await self.connection.execute(
                update(FEED_ITEM)
                .where(FEED_ITEM.c.id.in_(self._seen))
                .values(last_seen_run_id=self.run_id)
            )
        self._clear()

    async def _retire_children(self, item_type: str, retired, now) -> None:
        table, parent = CHILD_TABLES[item_type]
        if item_type == "member":
            # Periods are facts of their source; only this feed's own are replaced.
            owned = select(SOURCE.c.entity_id).where(
                SOURCE.c.entity_type == "membership_period",
                SOURCE.c.feed == self.feed.slug,
                SOURCE.c.item_id.in_([item_id for item_id, _ in retired]),
            )
            mine = table.c.id.in_(owned)
        else:
            mine = table.c[parent].in_([record for _, record in retired])
        await self.connection.execute(
            update(table).where(mine, table.c.deleted_at.is_(None)).values(deleted_at=now)
        )

    async def _insert_children(self, item_type: str, rows) -> None:
        table, parent = CHILD_TABLES[item_type]
        values = [row | {parent: record} for _, record, row in rows]
        if item_type != "member":
            await insert_rows(self.connection, table, values)
            return
        # A period is a fact of its source: each gets one naming the feed's item.
        await self.ids.reserve({"membership_period": len(values)})
        for row in values:
            row["id"] = await self.ids.next("membership_period")
        await insert_rows(self.connection, table, values)
        self._sources += [
            ("membership_period", row["id"], item_id)
            for (item_id, _, _), row in zip(rows, values, strict=True)
        ]

    async def _send_sources(self, now) -> None:
        # No URL: a feed's may hold a partner's key, and sources are shown to anyone.
        values = {"retrieved_at": now, "run_id": self.run_id}
        if self._retrieved:
            await self.connection.execute(
                update(SOURCE).where(*_SOURCE_KEY),
                [
                    values | {"k_type": t, "k_entity": r, "k_feed": self.feed.slug, "k_item": i}
                    for t, r, i in self._retrieved
                ],
            )
        if self._sources:
            feed = self.feed.slug
            await insert_rows(
                self.connection,
                SOURCE,
                [
                    values | {"entity_type": t, "entity_id": r, "feed": feed, "item_id": i}
                    for t, r, i in self._sources
                ],
            )
