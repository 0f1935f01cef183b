"""What one batch of a run reads of the store before it decides its items: each look-up one
query over all the batch's keys (docs/architecture.md, "The walk of a feed item").

`Known` holds, for one batch, the `feed_item` rows of the feed's items it names (its own and the
ones it refers to by item id), the sources this feed gave records for those items, and the live
posts of the people its posts name. It is kept current as the batch decides its items, so that
an item sees what an earlier item of the batch did, and is dropped with the batch: a run holds
nothing per item of the feed in memory. A key not asked for before is asked on its own when it is
looked up (the batch asks for all it can foresee first).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from store import feeds
from store.registry import FEED_ITEM, POST, SOURCE
from store.tables import as_utc

POST_KEY = ("person_id", "organisation_id", "member_id", "label")


@dataclass
class State:
    """What `feed_item` holds for one item of the feed (`stored`: whether it has a row)."""

    stored: bool = False
    row_id: int | None = None
    entity: int | None = None
    content_hash: str | None = None
    source_updated_at: dt.datetime | None = None
    deleted: bool = False
    pending: dict[str, Any] | None = None
    seen_run: int | None = None

    @property
    def live(self) -> int | None:
        return self.entity if self.entity is not None and not self.deleted else None


def state_of(row) -> State:
    return State(
        True,
        row.id,
        row.entity_id,
        row.content_hash,
        as_utc(row.source_updated_at),
        row.deleted_at is not None,
        row.pending,
        row.last_seen_run_id,
    )


class Known:
    """The feed items, sources and posts one batch reads, by key (see the module)."""

    def __init__(self, connection: AsyncConnection, feed: feeds.Feed):
        self.connection = connection
        self.feed = feed
        self.states: dict[tuple[str, str], State] = {}
        self._items: set[tuple[str, str]] = set()  # item keys asked
        self._sources: set[tuple[str, int, str]] = set()  # (type, record, item id)
        self._sourced: set[str] = set()  # item ids whose sources were asked
        self._posts: dict[tuple, int] = {}  # POST_KEY's values → live post
        self._holders: set[int] = set()  # people whose posts were asked
        # Records the batch makes, `(type, id)`: a person it makes holds no post it does not
        # make, so there is nothing of it to ask.
        self.made: set[tuple[str, int]] = set()

    async def ask(
        self,
        items: Iterable[tuple[str, str]] = (),
        sources: Iterable[str] = (),
        holders: Iterable[int] = (),
    ) -> None:
        """Read the feed's items of these keys `(type, id)`, the sources it gave for items
        of these ids, and the live posts of these people."""
        if new := set(items) - self._items:
            self._items |= new
            ids: dict[str, set[str]] = defaultdict(set)
            for item_type, item_id in new:
                ids[item_type].add(item_id)
            # By type and id, so that every part of `uq_feed_item_key` bounds the look-up.
            rows = await self.connection.execute(
                select(FEED_ITEM).where(
                    FEED_ITEM.c.feed_id == self.feed.id,
                    or_(
                        *(
                            and_(FEED_ITEM.c.item_type == t, FEED_ITEM.c.item_id.in_(sorted(i)))
                            for t, i in sorted(ids.items())
                        )
                    ),
                )
            )
            for row in rows:
                self.states.setdefault((row.item_type, row.item_id), state_of(row))
        if new := set(sources) - self._sourced:
            self._sourced |= new
            rows = await self.connection.execute(
                select(SOURCE.c.entity_type, SOURCE.c.entity_id, SOURCE.c.item_id).where(
                    SOURCE.c.feed == self.feed.slug,
                    SOURCE.c.item_id.in_(new),
                    SOURCE.c.entity_type != "membership_period",
                )
            )
            self._sources.update(tuple(row) for row in rows)
        if new := set(holders) - self._holders - {None}:
            self._holders |= new
            rows = await self.connection.execute(
                select(POST.c.id, *(POST.c[k] for k in POST_KEY)).where(
                    POST.c.person_id.in_(new), POST.c.deleted_at.is_(None)
                )
            )
            for row in rows:
                self._posts.setdefault(tuple(row)[1:], row.id)

    async def state(self, key: tuple[str, str]) -> State:
        """The item's state, a new one if the feed never sent it."""
        await self.ask(items=[key])
        return self.states.setdefault(key, State())

    async def live(self, item_type: str, item_id: str) -> int | None:
        """The live record this feed's item became, if any."""
        await self.ask(items=[(item_type, item_id)])
        state = self.states.get((item_type, item_id))
        return None if state is None else state.live

    async def has_source(self, entity_type: str, record: int, item_id: str) -> bool:
        await self.ask(sources=[item_id])
        return (entity_type, record, item_id) in self._sources

    def sourced(self, entity_type: str, record: int, item_id: str) -> None:
        self._sources.add((entity_type, record, item_id))

    async def post(self, columns: dict) -> int | None:
        """The live post of that person in that organisation or member under that label."""
        key = tuple(columns.get(k) for k in POST_KEY)
        if key[0] is None:
            return None
        if ("person", key[0]) not in self.made:
            await self.ask(holders=[key[0]])
        return self._posts.get(key)

    def posted(self, record: int, columns: dict | None) -> None:
        """A post the batch made, changed (`columns`) or deleted (`None`): it is found by
        its new key, or no longer."""
        for key in [k for k, found in self._posts.items() if found == record]:
            del self._posts[key]
        if columns is not None and all(k in columns for k in POST_KEY[:1] + POST_KEY[3:]):
            self._posts[tuple(columns.get(k) for k in POST_KEY)] = record
