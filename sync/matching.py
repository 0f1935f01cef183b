"""Finding records the hub already has by one of their keys: an identifier or a slug.

Both uses go through here: a reference (`slug:isa`, `wikidata:Q64`, see `sync.mapping`) and a
new item looking for its record before it makes one (`sync.apply`, docs/feeds.md, "Matching
records the hub already has"). A batch asks for all its keys at once (`Keys.ask`, one query for
its identifiers and one per table for its slugs) and then looks each up in what came back, kept
current as the batch makes records, so that an item finds what an earlier item of its batch
made.

The rule for soft-deleted records: **a look-up by key finds a record whether or not it is
soft-deleted.** A deleted record keeps its slug and identifiers, and both are unique keys, so
no other record can ever take them: a look-up that skipped it would make an item a twin under
`<slug>-2` and leave a reference waiting for ever. Finding it, an item brings the record back
(apply clears `deleted_at`), and a reference names it as it is (a reference never revives).
"""

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from store.registry import IDENTIFIER, RECORD_TABLES

SLUGGED = tuple(t for t, table in RECORD_TABLES.items() if "slug" in table.c)  # not posts
_MORE_SLUGS = 20  # candidates `<base>-n` asked at once when the ones asked are taken


class Keys:
    """The identifiers and slugs of one batch: asked of the store together, then looked up
    one by one. A key not asked before is asked on its own when it is looked up. A record is
    its id, which a record the batch makes has before it is written (`sync.writes.Ids`)."""

    def __init__(self, connection: AsyncConnection):
        self.connection = connection
        self._identifiers: dict[tuple[str, str, str], int] = {}  # (type, scheme, value) → record
        self._values: set[str] = set()  # identifier values asked
        self._slugs: dict[str, dict[str, int]] = {t: {} for t in SLUGGED}  # type → slug → record
        self._asked: dict[str, set[str]] = {t: set() for t in SLUGGED}

    async def ask(
        self, values: Iterable[str] = (), slugs: dict[str, Iterable[str]] | None = None
    ) -> None:
        """Read the records holding identifiers of these `values`, whatever their scheme
        (through `ix_identifier_value`), and the records of each type with these slugs."""
        new = set(values) - self._values
        if new:
            self._values |= new
            rows = await self.connection.execute(
                select(
                    IDENTIFIER.c.entity_type,
                    IDENTIFIER.c.entity_id,
                    IDENTIFIER.c.scheme,
                    IDENTIFIER.c.value,
                ).where(IDENTIFIER.c.value.in_(new))
            )
            for row in rows:
                self._identifiers[(row.entity_type, row.scheme, row.value)] = row.entity_id
        for entity_type, wanted in (slugs or {}).items():
            asked = self._asked[entity_type]
            new = set(wanted) - asked
            if not new:
                continue
            asked |= new
            table = RECORD_TABLES[entity_type]
            rows = await self.connection.execute(
                select(table.c.id, table.c.slug).where(table.c.slug.in_(new))
            )
            self._slugs[entity_type].update((row.slug, row.id) for row in rows)

    async def by_identifier(
        self, scheme: str, value: str, types: tuple[str, ...]
    ) -> tuple[str, int] | None:
        """The (type, record) of the first of `types` holding the identifier, if any."""
        await self.ask(values=[value])
        for entity_type in types:
            found = self._identifiers.get((entity_type, scheme, value))
            if found is not None:
                return entity_type, found
        return None

    async def by_slug(self, slug: str, types: tuple[str, ...]) -> tuple[str, int] | None:
        """The (type, record) of the first of `types` with that slug, if any."""
        slugged = [t for t in types if t in self._slugs]
        await self.ask(slugs={t: [slug] for t in slugged})
        for entity_type in slugged:
            found = self._slugs[entity_type].get(slug)
            if found is not None:
                return entity_type, found
        return None

    async def free_slug(self, entity_type: str, base: str) -> str:
        """`base`, or the first of `base-2`, `base-3`, ... that no record of the type has."""
        taken, asked = self._slugs[entity_type], self._asked[entity_type]
        for n in range(1, 1_000_000):
            candidate = _numbered(base, n)
            if candidate not in asked:
                more = [_numbered(base, k) for k in range(n, n + _MORE_SLUGS)]
                await self.ask(slugs={entity_type: more})
            if candidate not in taken:
                return candidate
        raise AssertionError(f"no free slug after {base}-999999")

    async def ask_free_slugs(self, bases: dict[str, dict[str, int]]) -> None:
        """Ask at once, for each type, slugs enough to find `count` free ones from each
        `base` (`{type: {base: count}}`): the bases and their first numbers, then further
        numbers for the bases whose candidates were all taken, until none is."""
        windows = {t: {base: (1, count + 1) for base, count in b.items()} for t, b in bases.items()}
        while windows:
            await self.ask(
                slugs={
                    t: [_numbered(base, k) for base, (lo, hi) in w.items() for k in range(lo, hi)]
                    for t, w in windows.items()
                }
            )
            windows = {
                t: {
                    base: (hi, hi + _MORE_SLUGS)
                    for base, (lo, hi) in w.items()
                    if sum(_numbered(base, k) not in self._slugs[t] for k in range(lo, hi))
                    < bases[t][base]
                }
                for t, w in windows.items()
            }
            windows = {t: w for t, w in windows.items() if w}

    def made(self, entity_type: str, record: int, slug: str | None, identifiers) -> None:
        """A record the batch makes, with its slug and its identifiers `(scheme, value)`."""
        if slug is not None:
            self._slugs[entity_type][slug] = record
        self.gave(entity_type, record, identifiers)

    def gave(self, entity_type: str, record: int, identifiers) -> None:
        """Identifiers `(scheme, value)` the batch gives a record."""
        for scheme, value in identifiers:
            self._identifiers[(entity_type, scheme, value)] = record

    async def holder(self, entity_type: str, scheme: str, value: str) -> int | None:
        """The record of the type holding the identifier, or None."""
        await self.ask(values=[value])
        return self._identifiers.get((entity_type, scheme, value))


def _numbered(base: str, n: int) -> str:
    return base if n == 1 else f"{base}-{n}"
