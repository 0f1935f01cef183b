"""The embedded seed data set: the ISA as of 2018-04-23, each fact with its source.

The data lives in `seed/isa-2018-04-23.json`; this module only checks and loads it, in one
transaction, so a failed seed leaves nothing behind; that transaction raises the data version
(`store.versions`).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from . import enums, names, partial_date, tables, versions
from .db import sessionmaker
from .errors import SeedError

DATA = Path(__file__).with_name("seed") / "isa-2018-04-23.json"
SEED_FEED = "seed"


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    already_seeded: bool = False


def named(model: type[tables.NamedRecord], item: dict[str, Any], **columns: Any):
    """A named record with `name`, `sort_key` and `search_text` derived from its names."""
    derived = names.columns(
        item.get("names") or [],
        item.get("default_lang", "en"),
        name=item.get("name"),
        sort_name=item.get("sort_name"),
    )
    return model(slug=item["slug"], **derived, **columns)


def _vocabulary(value: str, vocabulary: type, where: str) -> str:
    if value not in {v.value for v in vocabulary}:
        raise SeedError(f"{where}: {value!r} is not one of {[v.value for v in vocabulary]}")
    return value


def _date(value: str | None) -> str | None:
    return None if value is None else partial_date.parse(value)


class _Loader:
    def __init__(self, session: AsyncSession, data: dict[str, Any]):
        self.session = session
        self.data = data
        self.ids: dict[tuple[str, str], int] = {}
        self.report = SeedReport()

    def ref(self, entity: str, slug: str) -> int:
        try:
            return self.ids[(entity, slug)]
        except KeyError:
            raise SeedError(
                f"the seed refers to {entity} {slug!r}, which it does not define"
            ) from None

    async def add(self, entity: enums.EntityType, record, item: dict[str, Any]) -> int:
        self.session.add(record)
        await self.session.flush()
        if "slug" in item:
            self.ids[(entity.value, item["slug"])] = record.id
        for key in item.get("sources", []):
            source = self.data["sources"].get(key)
            if source is None:
                raise SeedError(f"unknown source {key!r} on {entity.value} {item.get('slug')}")
            self.session.add(
                tables.Source(
                    entity_type=entity.value, entity_id=record.id, feed=SEED_FEED, **source
                )
            )
        for ident in item.get("identifiers", []):
            self.session.add(
                tables.Identifier(entity_type=entity.value, entity_id=record.id, **ident)
            )
        counts = self.report.created
        counts[entity.value] = counts.get(entity.value, 0) + 1
        return record.id

    async def load(self) -> SeedReport:
        for item in self.data["alliances"]:
            alliance = named(tables.Alliance, item, founded_on=_date(item.get("founded_on")))
            await self.add(enums.EntityType.ALLIANCE, alliance, item)
        # Networks first, so their constituents can point at them.
        for item in sorted(self.data["members"], key=lambda m: "parent" in m):
            await self._member(item)
        for item in self.data["organisations"]:
            await self._organisation(item)
        for item in self.data["people"]:
            person = named(tables.Person, item, sort_name=item.get("sort_name"))
            await self.add(enums.EntityType.PERSON, person, item)
        for item in self.data["posts"]:
            await self._post(item)
        for item in self.data["events"]:
            await self._event(item)
        return self.report

    async def _member(self, item: dict[str, Any]) -> None:
        where = f"member {item['slug']}"
        member = named(
            tables.Member,
            item,
            kind=_vocabulary(item["kind"], enums.MemberKind, where),
            country=item["country"],
            parent_id=self.ref("member", item["parent"]) if "parent" in item else None,
        )
        member_id = await self.add(enums.EntityType.MEMBER, member, item)
        for period in item.get("memberships", []):
            row = tables.MembershipPeriod(
                member_id=member_id,
                alliance_id=self.ref("alliance", period["alliance"]),
                status=_vocabulary(period["status"], enums.MembershipStatus, where),
                start_date=_date(period.get("start_date")),
                end_date=_date(period.get("end_date")),
            )
            await self.add(enums.EntityType.MEMBERSHIP_PERIOD, row, period)

    async def _organisation(self, item: dict[str, Any]) -> None:
        where = f"organisation {item['slug']}"
        organisation = named(
            tables.Organisation,
            item,
            kind=_vocabulary(item["kind"], enums.OrganisationKind, where),
            description=item.get("description"),
            sectors=item.get("sectors", []),
            member_id=self.ref("member", item["member"]) if "member" in item else None,
            parent_id=self.ref("organisation", item["parent"]) if "parent" in item else None,
        )
        await self.add(enums.EntityType.ORGANISATION, organisation, item)

    def _parties(self, item: dict[str, Any], prefix: str = "") -> dict[str, int | None]:
        return {
            f"{prefix}{entity}_id": self.ref(entity, item[entity]) if entity in item else None
            for entity in ("member", "organisation", "person")
        }

    async def _post(self, item: dict[str, Any]) -> None:
        holder = self._parties(item)
        post = tables.Post(
            person_id=holder["person_id"],
            organisation_id=holder["organisation_id"],
            member_id=holder["member_id"],
            label=item["label"],
            role=item.get("role"),
            start_date=_date(item.get("start_date")),
            end_date=_date(item.get("end_date")),
        )
        await self.add(enums.EntityType.POST, post, item)

    async def _event(self, item: dict[str, Any]) -> None:
        where = f"event {item['slug']}"
        event = tables.Event(
            slug=item["slug"],
            kind=_vocabulary(item["kind"], enums.EventKind, where),
            status=_vocabulary(item["status"], enums.EventStatus, where),
            title=item["title"],
            description=item.get("description"),
            start_date=_date(item.get("start_date")),
            end_date=_date(item.get("end_date")),
            place=item.get("place"),
        )
        event_id = await self.add(enums.EntityType.EVENT, event, item)
        for participant in item.get("participants", []):
            self.session.add(
                tables.EventParticipant(
                    event_id=event_id,
                    role=participant.get("role"),
                    **self._parties(participant),
                    **self._parties(participant.get("on_behalf_of", {}), "on_behalf_of_"),
                )
            )


async def seed(engine: AsyncEngine, path: Path = DATA) -> SeedReport:
    """Load the seed data set unless its alliance is already there."""
    data = json.loads(path.read_text(encoding="utf-8"))
    async with sessionmaker(engine)() as session, session.begin():
        first = data["alliances"][0]["slug"]
        if await session.scalar(select(tables.Alliance.id).where(tables.Alliance.slug == first)):
            return SeedReport(already_seeded=True)
        report = await _Loader(session, data).load()
        await session.flush()
        await versions.bump(await session.connection())
        return report
