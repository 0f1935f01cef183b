"""What every parser shares: the one-pass iteration and the snippet of a bad item."""

import json
from collections.abc import Iterator
from typing import Any

from ..items import FeedMeta, Item, ItemError

SNIPPET_CHARS = 200


class OnePass:
    """A parsed feed: iterate it once for its items and item errors; `meta` fills meanwhile.

    Subclasses implement `_read()`. A second iteration raises, because the stream has been
    consumed and a silently empty second pass would look like an empty feed.
    """

    def __init__(self, meta: FeedMeta):
        self.meta = meta
        self._started = False

    def __iter__(self) -> Iterator[Item | ItemError]:
        if self._started:
            raise RuntimeError("a parsed feed can be iterated only once")
        self._started = True
        return self._read()

    def _read(self) -> Iterator[Item | ItemError]:
        raise NotImplementedError


def snippet(value: Any) -> str:
    """At most SNIPPET_CHARS characters of `value`, as JSON unless it is already text."""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(value) <= SNIPPET_CHARS else value[: SNIPPET_CHARS - 1] + "…"


def text_of(value: Any) -> str | None:
    """`value` when it is a string, for naming an item in an error; else None."""
    return value if isinstance(value, str) else None
