"""Feed items and feed documents for the tests, in the shape of `alliance-feed/1` (docs/feeds.md).

`member` and `organisation` build an item as a feed carries it (`type`, `id`, `updated_at`,
`data`); keyword arguments add or replace fields of its `data`. `document` wraps items in a
feed's envelope. `item` reads one of them as the format does, for the tests that hand items to
the applier themselves.
"""

import datetime as dt
import json

from sync.formats import alliance_feed
from sync.items import Item

UPDATED_AT = "2026-11-20T10:00:00Z"
GENERATED_AT = "2026-11-25T08:00:00Z"


def _instant(moment: str | dt.datetime) -> str:
    if isinstance(moment, str):
        return moment
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _names(name: str, kind: str = "official") -> list[dict]:
    return [{"value": name, "lang": "de", "kind": kind}]


def member(
    item_id: str = "kl",
    name: str = "Kaiserslautern",
    *,
    updated_at: str | dt.datetime = UPDATED_AT,
    **data,
) -> dict:
    """A German city named `name` in German."""
    body = {"kind": "city", "country": "DE", "names": _names(name)}
    return {
        "type": "member",
        "id": item_id,
        "updated_at": _instant(updated_at),
        "data": {**body, **data},
    }


def organisation(
    item_id: str = "wfk",
    home: str = "kl",
    name: str | None = None,
    *,
    updated_at: str | dt.datetime = UPDATED_AT,
    **data,
) -> dict:
    """A company of the member `home` (an item id of the feed, or `slug:...`)."""
    body = {"kind": "company", "member": home, "names": _names(name or f"Firma {item_id}")}
    return {
        "type": "organisation",
        "id": item_id,
        "updated_at": _instant(updated_at),
        "data": {**body, **data},
    }


def cities(prefix: str, count: int) -> list[dict]:
    """`count` cities of the feed `prefix`; names (and so slugs) differ from every other feed's."""
    return [member(f"{prefix}-{i}", f"{prefix.title()} Stadt {i}") for i in range(count)]


def document(
    *items: dict,
    publisher: str = "test",
    complete: bool = True,
    cursor: str = "c1",
    next_page: str | None = None,
) -> bytes:
    """A whole `alliance-feed/1` page listing `items`."""
    return json.dumps(
        {
            "format": "alliance-feed/1",
            "publisher": {"id": publisher, "name": publisher.title()},
            "generated_at": GENERATED_AT,
            "complete": complete,
            "cursor": cursor,
            "next": next_page,
            "items": list(items),
        }
    ).encode()


def item(entry: dict) -> Item:
    """`entry` read as `alliance-feed/1` reads an item, checked against its schema."""
    read = alliance_feed.item(entry, "items[0]")
    assert isinstance(read, Item), read
    return read
