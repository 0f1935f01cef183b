"""A synthetic alliance of any size, for the benchmarks and the scale tests (not shipped).

Each member gets `organisations` organisations; each organisation a person holding one post
there; members pair up in partnerships and meet at events, so every relation of the graph has
rows. Rows go in with multi-row INSERTs, a few statements per table however large the graph.
"""

from dataclasses import dataclass

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store import names, versions
from store.registry import (
    ALLIANCE,
    EVENT,
    MEMBER,
    ORGANISATION,
    PARTICIPANT,
    PARTNERSHIP,
    PARTY,
    PERIOD,
    PERSON,
    POST,
)


@dataclass
class Synthetic:
    alliance_id: int
    member_ids: list[int]
    organisation_ids: list[int]
    person_ids: list[int]


def _named(slug: str, name: str, lang: str = "en") -> dict:
    return {"slug": slug, **names.columns([], lang, name=name)}


async def _insert(connection: AsyncConnection, table: Table, rows: list[dict]) -> list[int]:
    if not rows:
        return []
    result = await connection.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [row.id for row in result]


async def fill(
    engine: AsyncEngine, members: int, organisations: int = 5, prefix: str = "syn"
) -> Synthetic:
    """Add an alliance `<prefix>` with `members` members and their graph, in one transaction
    that raises the data version, as every writer of the graph does."""
    async with engine.begin() as conn:
        [alliance_id] = await _insert(conn, ALLIANCE, [_named(prefix, f"{prefix} alliance")])
        member_ids = await _insert(
            conn,
            MEMBER,
            [
                {
                    **_named(f"{prefix}-m{i}", f"Member {i:05d}", "de"),
                    "kind": "city",
                    "country": "DE" if i % 2 else "CN",
                    "population": 10_000 + i,
                }
                for i in range(members)
            ],
        )
        await _insert(
            conn,
            PERIOD,
            [
                {
                    "member_id": m,
                    "alliance_id": alliance_id,
                    "status": "member",
                    "start_date": f"{2016 + i % 8}-0{1 + i % 9}",
                }
                for i, m in enumerate(member_ids)
            ],
        )
        organisation_ids = await _insert(
            conn,
            ORGANISATION,
            [
                {
                    **_named(f"{prefix}-m{i}-o{j}", f"Organisation {i:05d}-{j}", "de"),
                    "kind": "company",
                    "member_id": m,
                    "sectors": ["industry"],
                }
                for i, m in enumerate(member_ids)
                for j in range(organisations)
            ],
        )
        person_ids = await _insert(
            conn,
            PERSON,
            [_named(f"{prefix}-p{k}", f"Person {k:06d}") for k in range(len(organisation_ids))],
        )
        await _insert(
            conn,
            POST,
            [
                {
                    "person_id": p,
                    "organisation_id": o,
                    "label": "Geschäftsführer",
                    "role": "managing_director",
                }
                for p, o in zip(person_ids, organisation_ids, strict=True)
            ],
        )
        pairs = list(
            zip(member_ids[::2], member_ids[1::2], strict=False)
        )  # an odd one out stays single
        partnership_ids = await _insert(
            conn,
            PARTNERSHIP,
            [
                {
                    "slug": f"{prefix}-partnership-{k}",
                    "kind": "cooperation_agreement",
                    "status": "active",
                    "title": f"Partnership {k}",
                    "start_date": f"{2017 + k % 7}",
                }
                for k in range(len(pairs))
            ],
        )
        await _insert(
            conn,
            PARTY,
            [
                {"partnership_id": pid, "member_id": m, "role": "party"}
                for pid, pair in zip(partnership_ids, pairs, strict=True)
                for m in pair
            ],
        )
        event_ids = await _insert(
            conn,
            EVENT,
            [
                {
                    "slug": f"{prefix}-event-{k}",
                    "kind": "meeting",
                    "status": "held",
                    "title": f"Meeting {k}",
                    "start_date": f"2019-0{1 + k % 9}-1{k % 10}",
                    "partnership_id": pid,
                }
                for k, pid in enumerate(partnership_ids)
            ],
        )
        await _insert(
            conn,
            PARTICIPANT,
            [
                {"event_id": eid, "member_id": m, "role": "delegation"}
                for eid, pair in zip(event_ids, pairs, strict=True)
                for m in pair
            ],
        )
        # As every commit that changes the graph does: its change rows get their version.
        await versions.bump(conn)
    return Synthetic(alliance_id, member_ids, organisation_ids, person_ids)
