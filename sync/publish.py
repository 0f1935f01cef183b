"""The hub's own graph as an `alliance-feed/1` feed (docs/feeds.md, "The hub's own feed"), so
that another hub can mirror it like any partner's.

Every live record is an item whose id is `<type>-<id>`, stable for as long as the record lives,
and references name those ids. A snapshot is read in pages of records by type, in the order
references need them (alliances first); each page says the change-log position of the first
page as its `cursor`, so a mirror that asks `?since=` that cursor next time gets whatever
changed while it paged. An incremental read (`since`) pages the change log: each record changed
after the cursor once, as it is now, or as a tombstone once deleted; its `cursor` is the
position after the page. Identifiers go with their records except the hub's own `feed:` keys
(what the hub's partner feeds call a record is not the mirror's business); people's contact
details do not go, since the feed is public.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import not_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from store import changes
from store.registry import CHILD_TABLES, IDENTIFIER, RECORD_TABLES
from store.tables import as_utc

ORDER = ("alliance", "member", "organisation", "person", "post", "partnership", "event")
PAGE = 500
# What each type's `data` takes straight from its columns, when they are not null.
PLAIN = {
    "alliance": ("founded_on", "website"),
    "member": ("kind", "country", "latitude", "longitude", "population"),
    "organisation": ("kind", "description", "website", "sectors"),
    "person": ("sort_name", "honorific_prefix"),
    "post": ("label", "role", "start_date", "end_date"),
    "partnership": ("kind", "status", "title", "description", "start_date", "end_date"),
    "event": ("kind", "status", "title", "description", "start_date", "end_date", "place"),
}
# References among the columns: `<key>_id` → `<key>`, to a record of the named type.
REFERENCES = {
    "member": {"parent": "member"},
    "organisation": {"member": "member", "parent": "organisation"},
    "post": {"person": "person", "organisation": "organisation", "member": "member"},
    "event": {"partnership": "partnership"},
}
PARTIES = ("member", "organisation")


def item_id(entity_type: str, pk: int) -> str:
    return f"{entity_type}-{pk}"


@dataclass
class Page:
    items: list[dict[str, Any]]
    cursor: str | None  # where an incremental read goes on from
    complete: bool  # a snapshot's pages, or only changes
    next: dict[str, str] | None = None  # the query of the next page


def _timestamp(moment: dt.datetime) -> str:
    return as_utc(moment).isoformat()


def _actor(row: Any, kinds: Iterable[str], prefix: str = "") -> str | None:
    for kind in kinds:
        value = row._mapping[f"{prefix}{kind}_id"]
        if value is not None:
            return item_id(kind, value)
    return None


async def _identifiers(
    connection: AsyncConnection, entity_type: str, ids: list[int]
) -> dict[int, list[dict[str, str]]]:
    found: dict[int, list[dict[str, str]]] = defaultdict(list)
    rows = await connection.execute(
        select(IDENTIFIER.c.entity_id, IDENTIFIER.c.scheme, IDENTIFIER.c.value)
        .where(
            IDENTIFIER.c.entity_type == entity_type,
            IDENTIFIER.c.entity_id.in_(ids),
            not_(IDENTIFIER.c.scheme.startswith("feed:")),
        )
        .order_by(IDENTIFIER.c.entity_id, IDENTIFIER.c.scheme, IDENTIFIER.c.value)
    )
    for row in rows:
        found[row.entity_id].append({"scheme": row.scheme, "value": row.value})
    return found


async def _children(
    connection: AsyncConnection, entity_type: str, ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    if entity_type not in CHILD_TABLES:
        return {}
    table, parent = CHILD_TABLES[entity_type]
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = await connection.execute(
        select(table)
        .where(table.c[parent].in_(ids), table.c.deleted_at.is_(None))
        .order_by(table.c.id)
    )
    for row in rows:
        if entity_type == "member":
            child = {"alliance": item_id("alliance", row.alliance_id), "status": row.status}
            child |= {k: row._mapping[k] for k in ("start_date", "end_date") if row._mapping[k]}
        elif entity_type == "partnership":
            child = {"party": _actor(row, PARTIES)}
        else:
            person = row.person_id
            child = {"person": item_id("person", person)} if person else {}
            child |= {} if person else {"party": _actor(row, PARTIES)}
            principal = _actor(row, ("member", "organisation", "person"), "on_behalf_of_")
            if principal:
                child["on_behalf_of"] = principal
        if entity_type != "member" and row.role:
            child["role"] = row.role
        found[row._mapping[parent]].append(child)
    return found


CHILD_KEY = {"member": "memberships", "partnership": "parties", "event": "participants"}


async def items(connection: AsyncConnection, entity_type: str, ids: list[int]) -> list[dict]:
    """The items of the live records of `entity_type` among `ids`, in the order of `ids`."""
    table = RECORD_TABLES[entity_type]
    rows = {
        row.id: row
        for row in await connection.execute(
            select(table).where(table.c.id.in_(ids), table.c.deleted_at.is_(None))
        )
    }
    identifiers = await _identifiers(connection, entity_type, list(rows))
    children = await _children(connection, entity_type, list(rows))
    made = []
    for pk in ids:
        row = rows.get(pk)
        if row is None:
            continue
        columns = row._mapping
        data: dict[str, Any] = {
            name: columns[name] for name in PLAIN[entity_type] if columns[name] is not None
        }
        if "names" in columns:
            data |= {"names": columns["names"], "default_lang": columns["default_lang"]}
        if "slug" in columns:
            data["slug"] = columns["slug"]
        for key, kind in REFERENCES.get(entity_type, {}).items():
            if columns[f"{key}_id"] is not None:
                data[key] = item_id(kind, columns[f"{key}_id"])
        if entity_type in CHILD_KEY:
            data[CHILD_KEY[entity_type]] = children.get(pk, [])
        if identifiers.get(pk):
            data["identifiers"] = identifiers[pk]
        made.append(
            {
                "type": entity_type,
                "id": item_id(entity_type, pk),
                "updated_at": _timestamp(columns["updated_at"]),
                "data": data,
            }
        )
    return made


async def _position(connection: AsyncConnection) -> str | None:
    last = (await connection.execute(changes.LATEST)).first()
    return None if last is None else changes.cursor(last.version, last.id)


async def snapshot(
    connection: AsyncConnection,
    as_of: str | None,
    after: tuple[str, int] | None,
    size: int = PAGE,
) -> Page:
    """One page of every live record, from `after` (a type and an id) on."""
    cursor = as_of if as_of is not None else await _position(connection)
    start = ORDER.index(after[0]) if after else 0
    found: list[dict] = []
    for entity_type in ORDER[start:]:
        table = RECORD_TABLES[entity_type]
        query = select(table.c.id).where(table.c.deleted_at.is_(None)).order_by(table.c.id)
        if after and entity_type == after[0]:
            query = query.where(table.c.id > after[1])
        ids = list((await connection.execute(query.limit(size - len(found)))).scalars())
        found += await items(connection, entity_type, ids)
        if len(found) >= size:
            last_type, last_id = found[-1]["type"], ids[-1]
            more = {"as_of": cursor or "", "after": f"{last_type}-{last_id}"}
            return Page(found, cursor, True, more)
    return Page(found, cursor, True)


async def since(connection: AsyncConnection, position: changes.Position, size: int = PAGE) -> Page:
    """The records changed after `position`, each once, as they are now or as tombstones."""
    rows = (await connection.execute(changes.page(position, size + 1))).all()
    shown = rows[:size]
    periods, _ = CHILD_TABLES["member"]
    period_ids = [row.entity_id for row in shown if row.entity_type == "membership_period"]
    member_of = {}
    if period_ids:
        found = await connection.execute(
            select(periods.c.id, periods.c.member_id).where(periods.c.id.in_(period_ids))
        )
        member_of = dict(found.all())
    wanted: dict[tuple[str, int], dt.datetime] = {}
    for row in shown:  # a period's change is its member's
        key = (row.entity_type, row.entity_id)
        if row.entity_type == "membership_period":
            key = ("member", member_of[row.entity_id])
        wanted.pop(key, None)  # once, where it last changed
        wanted[key] = row.changed_at
    by_type: dict[str, list[int]] = defaultdict(list)
    for entity_type, pk in wanted:
        by_type[entity_type].append(pk)
    found: list[dict] = []
    for entity_type in ORDER:
        ids = by_type.get(entity_type, [])
        if not ids:
            continue
        live = await items(connection, entity_type, ids)
        present = {item["id"] for item in live}
        found += live
        found += [
            {
                "type": entity_type,
                "id": item_id(entity_type, pk),
                "updated_at": _timestamp(wanted[(entity_type, pk)]),
                "deleted": True,
            }
            for pk in ids
            if item_id(entity_type, pk) not in present
        ]
    cursor = changes.cursor(shown[-1].version, shown[-1].id) if shown else None
    more = {"since": cursor} if len(rows) > size and cursor else None
    return Page(found, cursor or changes.cursor(*position), False, more)


def parse_after(value: str) -> tuple[str, int] | None:
    entity_type, _, pk = value.rpartition("-")
    if entity_type in ORDER and pk.isdigit() and len(pk) <= 18:
        return entity_type, int(pk)
    return None
