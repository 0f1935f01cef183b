"""A synthetic alliance of any size, for benchmarks and scale tests.

Each member gets `organisations` organisations; each organisation a person holding one post
there; members pair up in partnerships and meet at events, so every relation of the graph has
rows. Rows go in with multi-row INSERTs, a few statements per table however large the graph.
"""

from dataclasses import dataclass

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from . import names, tables


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
    """Add an alliance `<prefix>` with `members` members and their graph, in one transaction."""
    t = {
        cls.__name__: cls.__table__
        for cls in (
            tables.Alliance,
            tables.Member,
            tables.MembershipPeriod,
            tables.Organisation,
            tables.Person,
            tables.Post,
            tables.Partnership,
            tables.PartnershipParty,
            tables.Event,
            tables.EventParticipant,
        )
    }
    async with engine.begin() as conn:
        [alliance_id] = await _insert(conn, t["Alliance"], [_named(prefix, f"{prefix} alliance")])
        member_ids = await _insert(
            conn,
            t["Member"],
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
            t["MembershipPeriod"],
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
            t["Organisation"],
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
            t["Person"],
            [_named(f"{prefix}-p{k}", f"Person {k:06d}") for k in range(len(organisation_ids))],
        )
        await _insert(
            conn,
            t["Post"],
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
            t["Partnership"],
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
            t["PartnershipParty"],
            [
                {"partnership_id": pid, "member_id": m, "role": "party"}
                for pid, pair in zip(partnership_ids, pairs, strict=True)
                for m in pair
            ],
        )
        event_ids = await _insert(
            conn,
            t["Event"],
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
            t["EventParticipant"],
            [
                {"event_id": eid, "member_id": m, "role": "delegation"}
                for eid, pair in zip(event_ids, pairs, strict=True)
                for m in pair
            ],
        )
    return Synthetic(alliance_id, member_ids, organisation_ids, person_ids)
