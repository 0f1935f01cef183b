"""From a feed item's `data` to the columns of its record, references resolved.

References name another record by the feed's own item id (`kaiserslautern`), by identifier
(`wikidata:Q64`) or by slug (`slug:kaiserslautern`). An item is mapped once, its references
left as `Ref`s, so that the batch can ask for all of them at once; `Mapped.resolved` then
puts in the ids, through `References`: against what this feed already made, then by
identifier or slug through `sync.matching` (which finds a soft-deleted record too, and says
why). One that cannot be resolved yet raises `Unresolved`,
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


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference where a mapped row will hold the id it names: the item is mapped once,
    the batch asks for every `Ref` of its items at once, and `Mapped.resolved` puts the ids
    in. An actor (`prefix` set: a party, a participant) may name one of several types; its
    row gets `<prefix><type>_id` for each, the one it names set."""

    ref: str
    wanted: tuple[str, ...]
    prefix: str | None = None


@dataclass
class Mapped:
    """The columns the item gives, and the rows that hang from its record (periods, parties,
    participants) when it gives them. A key the item leaves out is left alone: several sources
    may speak of one record, and silence is not a correction. An explicit null clears.
    Until `resolved`, references are `Ref`s."""

    columns: dict[str, Any]
    children: list[dict[str, Any]] | None = None

    def refs(self) -> list[Ref]:
        """The references of the item, in the order they are resolved."""
        rows = [self.columns, *(self.children or ())]
        return [value for row in rows for value in row.values() if type(value) is Ref]

    async def resolved(self, refs: References) -> "Mapped":
        """The same rows with the ids the references name; `Unresolved` for the first that
        names nothing known yet."""
        if not self.refs():
            return self
        children = self.children
        if children is not None:
            children = [await _resolved(row, refs) for row in children]
        return Mapped(await _resolved(self.columns, refs), children)


async def _resolved(row: dict[str, Any], refs: References) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if type(value) is not Ref:
            out[key] = value
        elif value.prefix is None:
            out[key] = (await refs.lookup(value.ref, value.wanted))[1]
        else:
            kind, entity_id = await refs.lookup(value.ref, value.wanted)
            found = {f"{value.prefix}{k}_id": None for k in value.wanted}
            found[f"{value.prefix}{kind}_id"] = entity_id
            out.update(found)
    return out


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


def _refs(data: dict[str, Any], **wanted: str) -> dict[str, Any]:
    """`parent="member"` → `parent_id`, for the references the item gives."""
    return {f"{key}_id": _one(data[key], kind) for key, kind in wanted.items() if key in data}


def _one(ref: str | None, wanted: str) -> Ref | None:
    return None if ref is None else Ref(ref, (wanted,))


def _alliance(data) -> Mapped:
    return Mapped({**_named(data), **_plain(data, "founded_on", "website")})


def _member(data) -> Mapped:
    columns = {
        **_named(data),
        **_plain(data, "kind", "latitude", "longitude", "population"),
        **_refs(data, parent="member"),
    }
    if "country" in data:
        columns["country"] = data["country"].upper()
    if "memberships" not in data:
        return Mapped(columns)
    periods = [
        {
            "alliance_id": _one(period["alliance"], "alliance"),
            "status": period["status"],
            "start_date": period.get("start_date"),
            "end_date": period.get("end_date"),
        }
        for period in data["memberships"] or []
    ]
    return Mapped(columns, periods)


def _organisation(data) -> Mapped:
    columns = {
        **_named(data),
        **_plain(data, "kind", "description", "website", "sectors"),
        **_refs(data, member="member", parent="organisation"),
    }
    return Mapped(columns)


def _person(data) -> Mapped:
    columns = _plain(data, "sort_name", "honorific_prefix", "contact_details")
    return Mapped({**_named(data), **columns})


def _post(data) -> Mapped:
    return Mapped(
        {
            **_plain(data, "label", "role", "start_date", "end_date"),
            **_refs(data, person="person", organisation="organisation", member="member"),
        }
    )


def _actor(ref: str | None, wanted: tuple[str, ...], prefix: str = "") -> dict:
    if ref is None:
        return {f"{prefix}{kind}_id": None for kind in wanted}
    return {f"{prefix}*": Ref(ref, wanted, prefix)}  # `_resolved` names the columns


def _partnership(data) -> Mapped:
    columns = _plain(data, "kind", "status", "title", "description", "start_date", "end_date")
    if "parties" not in data:
        return Mapped(columns)
    parties = [
        {"role": party.get("role"), **_actor(party["party"], PARTIES)}
        for party in data["parties"] or []
    ]
    return Mapped(columns, parties)


def _event(data) -> Mapped:
    columns = {
        **_plain(data, "kind", "status", "title", "description", "start_date", "end_date", "place"),
        **_refs(data, partnership="partnership"),
    }
    if "participants" not in data:
        return Mapped(columns)
    participants = [
        {
            "role": participant.get("role"),
            **_actor(participant.get("party") or participant.get("person"), ACTORS),
            **_actor(participant.get("on_behalf_of"), ACTORS, "on_behalf_of_"),
        }
        for participant in data["participants"] or []
    ]
    return Mapped(columns, participants)


MAPPERS: dict[str, Callable[[dict], Mapped]] = {
    "alliance": _alliance,
    "member": _member,
    "organisation": _organisation,
    "person": _person,
    "post": _post,
    "partnership": _partnership,
    "event": _event,
}


def mapped(item_type: str, data: dict[str, Any]) -> Mapped:
    """The item's rows, its references still `Ref`s (see `Mapped.resolved`)."""
    return MAPPERS[item_type](data)
