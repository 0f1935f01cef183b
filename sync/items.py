"""What every format turns a feed into: items, item errors, and the feed's own metadata."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Item:
    """One record of a feed, in the shape of `alliance-feed/1`'s items (docs/feeds.md).

    `data` holds the record's fields as `alliance-feed/1` names them; references inside it
    are strings: an item id of the same feed, `scheme:value` for an identifier, or
    `slug:<slug>`. `position` says where the item was in the feed, for messages.
    """

    type: str
    id: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: dt.datetime | None = None
    deleted: bool = False
    position: str = ""


@dataclass
class ItemError:
    """An item set aside, with why; the rest of the feed goes on. A format makes one for an
    item it cannot read or validate, the applier for one waiting for a reference (`resolve`);
    each becomes a `sync_issue` row of its run as it is (`sync.ledger.issue_row`)."""

    position: str | None  # None for a waiting item: it is known by its key, not its place
    message: str
    item_id: str | None = None
    item_type: str | None = None
    stage: str = "validate"  # "parse", "validate" or "resolve"
    snippet: str = ""


@dataclass
class FeedMeta:
    """The feed's envelope; filled while the items are read (keys may follow the items)."""

    format: str | None = None
    publisher: dict[str, Any] | None = None
    generated_at: dt.datetime | None = None
    complete: bool | None = None
    cursor: str | None = None
    next: str | None = None
