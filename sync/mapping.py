"""From a feed item's `data` to the columns of its record, references resolved.

References name another record by the feed's own item id (`kaiserslautern`), by identifier
(`wikidata:Q64`) or by slug (`slug:kaiserslautern`); `References` resolves them against what
this feed already made, then by identifier or slug through `sync.matching` (which finds a
soft-deleted record too, and says why), from what the batch asked for at once (`Named` collects
what an item names before that). One that cannot be resolved yet raises `Unresolved`,
and the item waits for the next run. A bare reference is never taken for a slug, but when it
is one the message says how to write it (`slug:isa`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from store import names

from .errors import SyncError
from .matching import Keys

PARTIES = ("member", "organisation")
ACTORS = ("member", "organisation", "person")


class Unresolved(SyncError):
    """A reference that names no record the hub knows yet."""

    def __init__(self, ref: str, message: str):
        super().__init__(f"reference {ref!r} {message}")
        self.ref = ref


def _no_item(ref: str, wanted: tuple[str, ...], on_hub: str | None) -> str:
    """Why a bare reference failed, and how to name the hub's `on_hub` of that slug, if any."""
    if on_hub is not None:
        return f"names no item of this feed; to name the hub's {on_hub} write `slug:{ref}`"
    return (
        f"names no {' or '.join(wanted)} item of this feed yet; a record of the hub is named "
        "`slug:<its slug>` or by an identifier, `<scheme>:<value>`"
    )


class References:
    """Resolves the references of one batch of one feed: by the feed's own items first
    (`items`, the batch's `sync.known.Known`), then by slug or identifier (`keys`)."""

    def __init__(self, items, keys: Keys):
        self.items = items
        self.keys = keys

    async def resolve(self, ref: str, wanted: tuple[str, ...]) -> tuple[str, int]:
        return await self.lookup(ref, wanted)

    async def one(self, ref: str | None, wanted: str) -> int | None:
        return None if ref is None else (await self.resolve(ref, (wanted,)))[1]

    async def lookup(self, ref: str, wanted: tuple[str, ...]) -> tuple[str, int]:
        """The (type, record) a reference names."""
        for entity_type in wanted:
            found = await self.items.live(entity_type, ref)
            if found is not None:
                return entity_type, found
        scheme, sep, value = ref.partition(":")
        if not sep:
            on_hub = await self.keys.by_slug(ref, wanted)
            raise Unresolved(ref, _no_item(ref, wanted, on_hub[0] if on_hub else None))
        if scheme == "slug":
            found = await self.keys.by_slug(value, wanted)
        else:
            found = await self.keys.by_identifier(scheme, value, wanted)
        if found is None:
            raise Unresolved(ref, f"names no {' or '.join(wanted)} known yet")
        return found


class Named:
    """Stands in for `References` to learn what an item names before any of it is looked
    up: the mappers are the one place that knows where references sit in an item, so an
    item is mapped once with this to collect them, and the batch asks for all at once."""

    def __init__(self) -> None:
        self.found: list[tuple[str, tuple[str, ...]]] = []

    async def resolve(self, ref: str, wanted: tuple[str, ...]) -> tuple[str, int]:
        self.found.append((ref, wanted))
        return wanted[0], 0

    async def one(self, ref: str | None, wanted: str) -> int | None:
        return None if ref is None else (await self.resolve(ref, (wanted,)))[1]


@dataclass
class Mapped:
    """The columns the item gives, and the rows that hang from its record (periods, parties,
    participants) when it gives them. A key the item leaves out is left alone: several sources
    may speak of one record, and silence is not a correction. An explicit null clears."""

    columns: dict[str, Any]
    children: list[dict[str, Any]] | None = None


# Columns a new record needs when its item does not say.
DEFAULTS: dict[str, dict[str, Any]] = {
    "organisation": {"kind": "other"},
    "partnership": {"kind": "other", "status": "active"},
    "event": {"kind": "other", "status": "held"},
}


def _named(data: dict[str, Any]) -> dict[str, Any]:
    if "names" not in data and "name" not in data:
        return {}
    lang = data.get("default_lang") or _first_lang(data) or "en"
    return names.columns(
        data.get("names") or [], lang, name=data.get("name"), sort_name=data.get("sort_name")
    )


def _first_lang(data: dict[str, Any]) -> str | None:
    official = [n for n in data.get("names") or [] if n.get("kind") == "official"]
    return (official or data.get("names") or [{}])[0].get("lang")


def _plain(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: data[key] for key in keys if key in data}


async def _refs(data: dict[str, Any], refs: References, **wanted: str) -> dict[str, Any]:
    """`parent="member"` → `parent_id`, for the references the item gives."""
    return {
        f"{key}_id": await refs.one(data[key], kind) for key, kind in wanted.items() if key in data
    }


async def _alliance(data, refs: References) -> Mapped:
    return Mapped({**_named(data), **_plain(data, "founded_on", "website")})


async def _member(data, refs: References) -> Mapped:
    columns = {
        **_named(data),
        **_plain(data, "kind", "latitude", "longitude", "population"),
        **await _refs(data, refs, parent="member"),
    }
    if "country" in data:
        columns["country"] = data["country"].upper()
    if "memberships" not in data:
        return Mapped(columns)
    periods = [
        {
            "alliance_id": await refs.one(period["alliance"], "alliance"),
            "status": period["status"],
            "start_date": period.get("start_date"),
            "end_date": period.get("end_date"),
        }
        for period in data["memberships"] or []
    ]
    return Mapped(columns, periods)


async def _organisation(data, refs: References) -> Mapped:
    columns = {
        **_named(data),
        **_plain(data, "kind", "description", "website", "sectors"),
        **await _refs(data, refs, member="member", parent="organisation"),
    }
    return Mapped(columns)


async def _person(data, refs: References) -> Mapped:
    columns = _plain(data, "sort_name", "honorific_prefix", "contact_details")
    return Mapped({**_named(data), **columns})


async def _post(data, refs: References) -> Mapped:
    return Mapped(
        {
            **_plain(data, "label", "role", "start_date", "end_date"),
            **await _refs(
                data, refs, person="person", organisation="organisation", member="member"
            ),
        }
    )


async def _actor(refs: References, ref: str | None, wanted, prefix: str = "") -> dict:
    found = {f"{prefix}{kind}_id": None for kind in wanted}
    if ref is not None:
        kind, entity_id = await refs.resolve(ref, wanted)
        found[f"{prefix}{kind}_id"] = entity_id
    return found


async def _partnership(data, refs: References) -> Mapped:
    columns = _plain(data, "kind", "status", "title", "description", "start_date", "end_date")
    if "parties" not in data:
        return Mapped(columns)
    parties = [
        {"role": party.get("role"), **await _actor(refs, party["party"], PARTIES)}
        for party in data["parties"] or []
    ]
    return Mapped(columns, parties)


async def _event(data, refs: References) -> Mapped:
    columns = {
        **_plain(data, "kind", "status", "title", "description", "start_date", "end_date", "place"),
        **await _refs(data, refs, partnership="partnership"),
    }
    if "participants" not in data:
        return Mapped(columns)
    participants = []
    for participant in data["participants"] or []:
        who = participant.get("party") or participant.get("person")
        participants.append(
            {
                "role": participant.get("role"),
                **await _actor(refs, who, ACTORS),
                **await _actor(refs, participant.get("on_behalf_of"), ACTORS, "on_behalf_of_"),
            }
        )
    return Mapped(columns, participants)


MAPPERS: dict[str, Callable[[dict, References], Any]] = {
    "alliance": _alliance,
    "member": _member,
    "organisation": _organisation,
    "person": _person,
    "post": _post,
    "partnership": _partnership,
    "event": _event,
}


async def mapped(item_type: str, data: dict[str, Any], refs: References) -> Mapped:
    return await MAPPERS[item_type](data, refs)
