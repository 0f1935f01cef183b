"""Persisted queries (docs/api.md, "Persisted queries"): a client sends the sha256 of a document
instead of its text, as Apollo's automatic persisted queries do, and the hub finds the text.

`ALLIANCE_PERSISTED_QUERIES` says how:
- `automatic` (the default): a hash the process does not know is answered
  `PERSISTED_QUERY_NOT_FOUND`; the client sends it again with its text, which must have that
  hash, and the process keeps it (bounded in bytes) for the next time. Text without a hash runs
  as always.
- `allowlist`: only the operations registered with `alliance queries add` run, sent by hash or
  as text; anything else is refused, 403 `OPERATION_NOT_ALLOWED`, before it is parsed. Each
  request reads the registered text from the database, so a removal holds at once everywhere.
- `off`: a hash is refused, `PERSISTED_QUERY_NOT_SUPPORTED`.
"""

import sys
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from server.config import Settings
from server.graph.bounded import BoundedCache
from store import persisted

from .refusals import BadRequest

HASH_CHARS = set("0123456789abcdef")


@dataclass(frozen=True)
class _Text:
    text: str

    @property
    def size(self) -> int:
        return sys.getsizeof(self.text) + 200


class PersistedQueries:
    def __init__(self, settings: Settings, engine: AsyncEngine):
        self.mode = settings.persisted_queries
        self.engine = engine
        self.kept: BoundedCache[str, _Text] = BoundedCache(10_000, settings.document_cache_bytes)

    async def resolve(self, params: dict[str, Any]) -> None:
        """Give `params` its `query`, from its hash where it sends one; or refuse it."""
        sha = _hash(params)
        query = params.get("query")
        if sha is not None and query is not None:
            if not isinstance(query, str) or persisted.digest(query) != sha:
                raise BadRequest(
                    "the query's sha256 is not the one sent", code="PERSISTED_QUERY_HASH_MISMATCH"
                )
        if self.mode == "allowlist":
            wanted = sha or persisted.digest(query or "")
            async with self.engine.connect() as connection:
                found = await persisted.text_of(connection, wanted)
            if found is None:
                raise BadRequest(
                    "this hub runs only registered operations", 403, code="OPERATION_NOT_ALLOWED"
                )
            params["query"] = found
            return
        if sha is None:
            return
        if self.mode == "off":
            raise BadRequest(
                "this hub takes no persisted queries", code="PERSISTED_QUERY_NOT_SUPPORTED"
            )
        if query is None:
            kept = self.kept.get(sha)
            if kept is None:  # Apollo's clients look for this message and code
                raise BadRequest("PersistedQueryNotFound", code="PERSISTED_QUERY_NOT_FOUND")
            params["query"] = kept.text
            return
        self.kept.put(sha, _Text(query))


def _hash(params: dict[str, Any]) -> str | None:
    asked = (params.get("extensions") or {}).get("persistedQuery")
    if asked is None:
        return None
    if not isinstance(asked, dict) or asked.get("version") != 1:
        raise BadRequest("persistedQuery must be {version: 1, sha256Hash: ...}")
    sha = asked.get("sha256Hash")
    if not isinstance(sha, str) or len(sha) != 64 or not set(sha) <= HASH_CHARS:
        raise BadRequest("sha256Hash must be 64 lowercase hexadecimal digits")
    return sha
