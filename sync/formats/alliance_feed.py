"""`alliance-feed/1`: the hub's native JSON feed (docs/feeds.md; schema in `sync/schema/`).

The body is read as a stream of ijson events, so a feed of any size is never held in memory.
First a quick pass with ijson's C parser checks that the whole body is UTF-8, well-formed and
complete JSON (`prescan=False` skips it); then one streaming pass yields the items. The
top-level keys may come in any order: envelope keys (`format`, `publisher`, `generated_at`,
`complete`, `cursor`, `next`) fill `meta` when they are met, which for keys after `items` is
only once every item has been yielded. Each item is built by ijson's C builder, then checked
on its own against the schema, its dates against the calendar and its `updated_at` as an
instant; a bad item becomes an `ItemError` and the next one is read. An item whose own fields
(`type`, `id`, `updated_at`, no other key) are right leaves the check of its `data` to the
applier (`Item.check`), which skips it when the content is what the hub already applied;
`sync.items.checked` runs it for a reader that applies nothing.

Fatal problems raise `FeedFormatError` naming the place: a byte order mark, a body that is not
UTF-8, malformed or truncated JSON (byte, line and column) -- all before any item; a top level
that is not an object, a `format` other than `alliance-feed/1`, a bad envelope value, a
second `items` -- when they are met, so before the items when they come first; a missing
`format` or `items` -- at the end. A consumer must therefore still treat the items as the
feed's truth only once iteration has ended without an error.

The same `type` and `id` may occur twice in one feed; both are yielded, in feed order, and the
apply step decides (the newer `updated_at` wins there).
"""

import functools
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

from ..errors import FeedFormatError
from ..items import FeedMeta, Item, ItemError
from . import _check, _json
from ._base import OnePass, snippet, text_of

FORMAT = "alliance-feed/1"
ENVELOPE = ("format", "publisher", "generated_at", "complete", "cursor", "next")


def parse(stream: BinaryIO, *, prescan: bool = True) -> "AllianceFeed":
    """Read `stream` (binary, seekable) as an `alliance-feed/1` document. With `prescan`, the
    whole body is checked to be complete, well-formed JSON before the first item."""
    return AllianceFeed(stream, prescan)


class AllianceFeed(OnePass):
    def __init__(self, stream: BinaryIO, prescan: bool = True):
        super().__init__(FeedMeta())
        self._stream = stream
        self._prescan = prescan

    def _read(self) -> Iterator[Item | ItemError]:
        """One loop over the events: those inside `items` go to ijson's C object builder,
        the top-level keys are handled here."""
        start = _json.skip_bom(self._stream, allow_utf8_bom=False)
        if self._prescan:
            _json.prescan(self._stream, start)
        built = ijson.utils.sendable_list()
        builder = _json.items_builder(built, "items.item")
        seen: set[str] = set()
        index = 0
        try:
            events = _json.object_events(self._stream)
            for event in events:
                if event[0]:  # inside the value of `items`
                    builder.send(event)
                    if built:
                        for raw in built:
                            yield item(raw, f"items[{index}]")
                            index += 1
                        built.clear()
                elif event[1] == "map_key":
                    self._top_level_key(event[2], events, seen, builder)
        except ijson.JSONError as exc:
            raise _json.located(self._stream, exc, start) from None
        if "format" not in seen:
            raise FeedFormatError(
                f"wrong format: the document has no `format`; expected {FORMAT!r}"
            )
        if "items" not in seen:
            raise FeedFormatError("items: the document has no `items` array")

    def _top_level_key(
        self, key: str, events: Iterator[_json.Event], seen: set[str], builder: Any
    ) -> None:
        if key in seen:
            raise FeedFormatError(f"top level: the key {key!r} occurs twice")
        seen.add(key)
        first = next(events)
        if key == "items":
            if first[1] != "start_array":
                raise FeedFormatError(f"items: expected an array, found {_json.kind(first[1])}")
            builder.send(first)
        elif key in ENVELOPE:
            self._envelope(key, _json.value(events, first))
        else:
            _json.value(events, first)  # another key: skipped

    def _envelope(self, key: str, value: Any) -> None:
        if key == "format" and value != FORMAT:
            raise FeedFormatError(f"wrong format: `format` is {value!r}, expected {FORMAT!r}")
        problem = _check.envelope_checker(key).problems(value, key)
        if problem:
            raise FeedFormatError(f"envelope: {problem}")
        if key == "generated_at":
            try:
                value = _check.timestamp(value)
            except ValueError as exc:
                raise FeedFormatError(f"envelope: generated_at: {exc}") from None
        setattr(self.meta, key, value)


def item(raw: Any, position: str) -> Item | ItemError:
    """One raw item of the feed: an Item, or an ItemError saying what is wrong. An item whose
    own fields are right is an Item whose `check` checks its `data` (see `Item`); any other is
    checked whole at once."""
    if not isinstance(raw, dict):
        found = _json.kind_of(raw)
        return ItemError(
            position, f"expected an object, found {found}", stage="parse", snippet=snippet(raw)
        )
    later = raw.get("deleted") is not True and _check.shell_valid(raw)
    if not later and (problem := _check.item_problems(raw)):
        return _error(raw, position, problem)
    made = _item(raw, position)
    if isinstance(made, ItemError):
        return made
    if later:
        made.check = functools.partial(_checked, raw, position)
        return made
    return _checked(raw, position, schema=False) or made


def _checked(raw: dict, position: str, schema: bool = True) -> ItemError | None:
    """What is wrong with a raw item whose own fields are right, as its ItemError (the
    schema's verdict unless `schema` is false, then its dates); None when it is right."""
    problem = (schema and _check.item_problems(raw)) or _check.date_problems(raw.get("data") or {})
    return None if problem is None else _error(raw, position, problem)


def _error(raw: dict, position: str, message: str) -> ItemError:
    item_id, item_type = text_of(raw.get("id")), text_of(raw.get("type"))
    return ItemError(position, message, item_id, item_type, "validate", snippet(raw))


def _item(raw: dict, position: str) -> Item | ItemError:
    try:
        updated_at = _check.timestamp(raw["updated_at"])
    except ValueError as exc:
        return _error(raw, position, f"updated_at: not a real instant: {exc}")
    return Item(
        type=raw["type"],
        id=raw["id"],
        data=raw.get("data") or {},
        updated_at=updated_at,
        deleted=raw.get("deleted", False),
        position=position,
    )
