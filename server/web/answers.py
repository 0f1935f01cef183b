"""Whole answers to queries, kept for reuse until the data version moves, and their ETags
(docs/api.md, "Caching").

An answer is found by a key digested from all that makes it: the query text, the operation
name, the variables as canonical JSON (keys sorted), the client's role, the media type it is
sent in, and the hub itself (its version, its schema and the settings that shape answers); and
by the data version it was read at. Only answers without errors are kept, in a cache bounded in
entries and bytes (`server/graph/bounded.py`); when a newer data version comes, the answers of
older ones can never be asked for again and are dropped at once.

The ETag is `W/"<data version>-<key>"`, so it can be told before anything is read, whether the
answer is kept or not. It is weak: the answer to one key at one data version is always the
same answer, but its bytes are not promised to be (another process of the hub may encode it
differently, and If-None-Match compares weakly anyway).
"""

import hashlib
import importlib.metadata
import sys
from dataclasses import dataclass
from typing import Any

import orjson

from server.config import Settings
from server.graph.bounded import BoundedCache
from store.enums import Role

# What an entry keeps alive besides its body: the key, the entry and the cache's node for it.
ENTRY_BYTES = 400


@dataclass(frozen=True)
class Answer:
    """What is sent again: its media type is the one of the key."""

    body: bytes
    status: int

    @property
    def size(self) -> int:
        return sys.getsizeof(self.body) + ENTRY_BYTES


def fingerprint(settings: Settings, sdl: str) -> bytes:
    """What of the hub shapes an answer, besides the data: a new version of the hub, another
    schema or another default changes every key, and so every ETag."""
    shaping = [
        importlib.metadata.version("alliance-hub"),
        sdl,
        settings.default_alliance,
        settings.default_page_size,
        settings.max_page_size,
    ]
    return hashlib.sha256(orjson.dumps(shaping)).digest()


class Answers:
    def __init__(self, settings: Settings, sdl: str):
        self._hub = fingerprint(settings, sdl)
        self._kept: BoundedCache[tuple[int, str], Answer] = BoundedCache(
            settings.answer_cache_entries, settings.answer_cache_bytes
        )
        self._version = -1  # the newest data version asked about

    def key(self, params: dict[str, Any], media_type: str, role: Role) -> str:
        made_of = [
            params["query"],
            params.get("operationName") or None,
            params.get("variables") or {},  # none and {} run the same
            role,
            media_type,
        ]
        digest = hashlib.sha256(self._hub)
        digest.update(orjson.dumps(made_of, option=orjson.OPT_SORT_KEYS))
        return digest.hexdigest()[:32]

    def _at(self, version: int) -> bool:
        """Whether `version` is the newest known; a newer one drops what older ones kept."""
        if version > self._version:
            self._version = version
            self._kept.clear()
        return version == self._version

    def get(self, key: str, version: int) -> Answer | None:
        return self._kept.get((version, key)) if self._at(version) else None

    def keep(self, key: str, version: int, answer: Answer) -> None:
        if self._at(version):
            self._kept.put((version, key), answer)


def etag(key: str, version: int) -> str:
    return f'W/"{version}-{key}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether the If-None-Match header names `tag`, compared weakly (RFC 9110, 13.1.2). `*` is
    not taken to match: answering in full is always correct."""
    if not if_none_match:
        return False
    opaque = tag.removeprefix("W/")
    return any(part.strip().removeprefix("W/") == opaque for part in if_none_match.split(","))
