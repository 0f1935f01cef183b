"""A least-recently-used cache bounded in entries and in bytes, for what the server keeps for
reuse: parsed documents (`documents.py`) and whole answers (`server/web/answers.py`)."""

from collections import OrderedDict
from typing import Generic, Protocol, TypeVar


class Weighed(Protocol):
    size: int  # about the bytes the value keeps alive


K = TypeVar("K")
V = TypeVar("V", bound=Weighed)


class BoundedCache(Generic[K, V]):
    """Values by key; past `max_entries` or `max_bytes`, the least recently used go first."""

    def __init__(self, max_entries: int, max_bytes: int):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        # A larger value is not kept: a few of them must not push out all the others.
        self.max_entry_bytes = max_bytes // 16
        self.entries: OrderedDict[K, V] = OrderedDict()
        self.bytes = 0
        self.hits = 0

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: K) -> V | None:
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
            self.hits += 1
        return value

    def put(self, key: K, value: V) -> None:
        if value.size > self.max_entry_bytes:
            return
        if (old := self.entries.pop(key, None)) is not None:
            self.bytes -= old.size
        while self.entries and (
            len(self.entries) >= self.max_entries or self.bytes + value.size > self.max_bytes
        ):
            _, dropped = self.entries.popitem(last=False)
            self.bytes -= dropped.size
        self.entries[key] = value
        self.bytes += value.size

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0
