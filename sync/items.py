"""What every format turns a feed into: items, item errors, and the feed's own metadata."""

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Item:
    """One record of a feed, in the shape of `alliance-feed/1`'s items (docs/feeds.md).

    `data` holds the record's fields as `alliance-feed/1` names them; references inside it
    are strings: an item id of the same feed, `scheme:value` for an identifier, or
    `slug:<slug>`. `position` says where the item was in the feed, for messages.

    A format may leave the check of `data` for later (`check`: it returns the item's error,
    or None): the applier runs it only when the item's content differs from what its feed last
    sent and the hub applied, which was checked then, so an unchanged item costs no schema
    check (docs/feeds.md, "What a run guarantees", 6).
    """

    type: str
    id: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: dt.datetime | None = None
    deleted: bool = False
    position: str = ""
    check: "Callable[[], ItemError | None] | None" = field(default=None, repr=False, compare=False)

    def checked(self) -> "Item | ItemError":
        """The item, or the error the check its format left (if any) finds in it."""
        return (self.check is not None and self.check()) or self


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


def checked(entries: Iterable[Item | ItemError]) -> Iterator[Item | ItemError]:
    """The entries with every check a format left for later run (`Item.check`): a feed's
    whole verdict, for a reader that does not apply it."""
    for entry in entries:
        yield entry.checked() if isinstance(entry, Item) else entry
