"""The feed formats: each turns a binary stream into `Item`s and `ItemError`s, one at a time.

A parser is called with the stream (binary, seekable, positioned at 0) and, for some formats,
options from the feed's configuration; it returns a `Parsed`. Iterating the `Parsed` (once)
streams the body, never holding it whole, yields every record as an `Item` or, when the record
is unusable, an `ItemError` (the rest goes on), and fills `meta`. The JSON formats read the
stream twice: a quick check of the whole body, or an index of what records refer to.

A feed that is unusable as a whole raises `sync.errors.FeedFormatError` naming the place. A
body that is not UTF-8, not well-formed or cut short is refused before the first item; a few
envelope problems (such as a missing `format` after `items`) show only at the end, so the
items are the feed's truth only once iteration has ended without an error.

Every format yields items in the shape of `alliance-feed/1` (`sync/schema/`), checked by
`_check`, so the apply step sees one shape whatever the format. A format may leave an item's
check for the applier to run (`Item.check`; `sync.items.checked` runs every one).

- `alliance-feed/1`: `alliance_feed.parse(stream, *, prescan=True)`
- `popolo`: `popolo.parse(stream, *, lang="und")`
- `csv`: `csv.parse(stream, *, item_type, columns=None, id_column="id")`
"""

from collections.abc import Callable, Iterator
from typing import Protocol

from store.registry import FEED_FORMATS

from ..errors import FeedFormatError
from ..items import FeedMeta, Item, ItemError


class Parsed(Protocol):
    meta: FeedMeta

    def __iter__(self) -> Iterator[Item | ItemError]: ...


def parser_for(format_name: str) -> Callable[..., Parsed]:
    """The parse function of a format by its configured name."""
    from . import alliance_feed, csv, popolo

    parsers: dict[str, Callable[..., Parsed]] = {
        "alliance-feed/1": alliance_feed.parse,
        "popolo": popolo.parse,
        "csv": csv.parse,
    }
    try:
        return parsers[format_name]
    except KeyError:
        raise FeedFormatError(
            f"unknown feed format {format_name!r}; known formats: {', '.join(FEED_FORMATS)}"
        ) from None
