"""The tables of the alliance graph (docs/domain.md), as SQLModel classes.

Names are a JSON list on the record they name (they are never keys, and every read of a record
wants them); identifiers and sources have tables of their own because they are looked up and
grow. Closed vocabularies are text columns with CHECK constraints, so a migration never has to
alter a database enum type. Dates that may be partial are text (see `store.partial_date`).
Every entity is soft-deleted through `deleted_at`: a removed record disappears from the API but
stays for history.
"""

import datetime as dt
from enum import Enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from . import enums

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every time the hub stores is UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment and moment.tzinfo is None else moment


def one_of(column: str, vocabulary: type[Enum]) -> CheckConstraint:
    values = ", ".join(f"'{item.value}'" for item in vocabulary)
    return CheckConstraint(f"{column} IN ({values})", name=f"{column}_vocabulary")


def exactly_one(name: str, *columns: str) -> CheckConstraint:
    """CHECK that exactly one of `columns` is set (portable: no boolean arithmetic)."""
    count = " + ".join(f"(CASE WHEN {c} IS NOT NULL THEN 1 ELSE 0 END)" for c in columns)
    return CheckConstraint(f"{count} = 1", name=name)


def at_most_one(name: str, *columns: str) -> CheckConstraint:
    count = " + ".join(f"(CASE WHEN {c} IS NOT NULL THEN 1 ELSE 0 END)" for c in columns)
    return CheckConstraint(f"{count} <= 1", name=name)


def timestamp_field(**kwargs: Any) -> Any:
    return Field(sa_type=DateTime(timezone=True), **kwargs)


class Record(SQLModel):
    """Columns every entity has."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: dt.datetime = timestamp_field(default_factory=utcnow)
    updated_at: dt.datetime = timestamp_field(default_factory=utcnow)
    deleted_at: dt.datetime | None = timestamp_field(default=None)


class NamedRecord(Record):
    """An entity with multilingual names.

    `name` is the record's own display name (in `default_lang`), `names` every variant as
    `{value, lang, kind}`; `sort_key` and `search_text` are derived from them by
    `store.names.derive` whenever names change, so ordering and search stay plain SQL.
    """

    slug: str = Field(sa_type=String(120), unique=True)
    name: str
    names: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    default_lang: str = Field(default="en", sa_type=String(35))
    sort_key: str = Field(default="", index=True)
    search_text: str = ""


class Alliance(NamedRecord, table=True):
    __tablename__ = "alliance"

    founded_on: str | None = Field(default=None, sa_type=String(10))
    website: str | None = None


class Member(NamedRecord, table=True):
    """A city, district, region or city network. A member of an alliance is a Member with a
    membership period in it; places that only appear as partners have none."""

    __tablename__ = "member"
    __table_args__ = (
        one_of("kind", enums.MemberKind),
        CheckConstraint("length(country) = 2", name="country_alpha2"),
    )

    kind: str = Field(sa_type=String(20), index=True)
    country: str = Field(sa_type=String(2), index=True)
    latitude: float | None = None
    longitude: float | None = None
    population: int | None = None
    parent_id: int | None = Field(default=None, foreign_key="member.id", index=True)


class MembershipPeriod(Record, table=True):
    """What one source said about a member's status in an alliance for a period."""

    __tablename__ = "membership_period"
    __table_args__ = (one_of("status", enums.MembershipStatus),)

    member_id: int = Field(foreign_key="member.id", index=True)
    alliance_id: int = Field(foreign_key="alliance.id", index=True)
    status: str = Field(sa_type=String(20))
    start_date: str | None = Field(default=None, sa_type=String(10))
    end_date: str | None = Field(default=None, sa_type=String(10))


class Organisation(NamedRecord, table=True):
    __tablename__ = "organisation"
    __table_args__ = (one_of("kind", enums.OrganisationKind),)

    kind: str = Field(sa_type=String(40), index=True)
    description: str | None = None
    sectors: list[str] = Field(default_factory=list, sa_type=JSON)
    website: str | None = None
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)


class AllianceSecretariat(SQLModel, table=True):
    """An organisation that serves as a secretariat of an alliance."""

    __tablename__ = "alliance_secretariat"

    alliance_id: int = Field(foreign_key="alliance.id", primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)


class Person(NamedRecord, table=True):
    __tablename__ = "person"

    sort_name: str | None = None
    honorific_prefix: str | None = None
    # Restricted: served only to partners and operators once keys exist (docs/api.md).
    contact_details: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)


class Post(Record, table=True):
    """A position a person holds in an organisation or for a member."""

    __tablename__ = "post"
    __table_args__ = (exactly_one("one_holder_body", "organisation_id", "member_id"),)

    person_id: int = Field(foreign_key="person.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    label: str
    role: str | None = None
    start_date: str | None = Field(default=None, sa_type=String(10))
    end_date: str | None = Field(default=None, sa_type=String(10))


class Partnership(Record, table=True):
    __tablename__ = "partnership"
    __table_args__ = (
        one_of("kind", enums.PartnershipKind),
        one_of("status", enums.PartnershipStatus),
    )

    slug: str = Field(sa_type=String(120), unique=True)
    kind: str = Field(sa_type=String(30), index=True)
    status: str = Field(sa_type=String(20), index=True)
    title: str
    description: str | None = None
    start_date: str | None = Field(default=None, sa_type=String(10), index=True)
    end_date: str | None = Field(default=None, sa_type=String(10))


class PartnershipParty(Record, table=True):
    """A member or organisation taking part in a partnership, in a role."""

    __tablename__ = "partnership_party"
    __table_args__ = (exactly_one("one_party", "member_id", "organisation_id"),)

    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    role: str | None = None


class Event(Record, table=True):
    __tablename__ = "event"
    __table_args__ = (
        one_of("kind", enums.EventKind),
        one_of("status", enums.EventStatus),
    )

    slug: str = Field(sa_type=String(120), unique=True)
    kind: str = Field(sa_type=String(30), index=True)
    status: str = Field(sa_type=String(20), index=True)
    title: str
    description: str | None = None
    start_date: str | None = Field(default=None, sa_type=String(10), index=True)
    end_date: str | None = Field(default=None, sa_type=String(10))
    place: str | None = None
    partnership_id: int | None = Field(default=None, foreign_key="partnership.id", index=True)


class EventParticipant(Record, table=True):
    """A member, organisation or person at an event, in a role, maybe on behalf of another."""

    __tablename__ = "event_participant"
    __table_args__ = (
        exactly_one("one_participant", "member_id", "organisation_id", "person_id"),
        at_most_one(
            "one_principal",
            "on_behalf_of_member_id",
            "on_behalf_of_organisation_id",
            "on_behalf_of_person_id",
        ),
    )

    event_id: int = Field(foreign_key="event.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    role: str | None = None
    on_behalf_of_member_id: int | None = Field(default=None, foreign_key="member.id")
    on_behalf_of_organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    on_behalf_of_person_id: int | None = Field(default=None, foreign_key="person.id")


class Identifier(SQLModel, table=True):
    """An external key of an entity: `wikidata:Q3832`, `ags:07312000`, `feed:wfk:kl`.

    Unique per entity type, so an identifier names one record and can resolve references.
    """

    __tablename__ = "identifier"
    __table_args__ = (
        one_of("entity_type", enums.EntityType),
        UniqueConstraint("entity_type", "scheme", "value", name="uq_identifier_key"),
        Index("ix_identifier_entity", "entity_type", "entity_id"),
        # `sync.apply.Applier._identifiers`: an updated record's identifiers by type and value,
        # whatever their scheme (the key above puts the scheme first). With `scheme` the look-up
        # reads the index alone; without it SQLite's planner takes the key instead.
        Index("ix_identifier_value", "value", "entity_type", "scheme"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(sa_type=String(20))
    entity_id: int
    scheme: str = Field(sa_type=String(40))
    value: str


class Source(SQLModel, table=True):
    """Where a fact about an entity came from: a feed item in a run, or a cited document."""

    __tablename__ = "source"
    __table_args__ = (
        one_of("entity_type", enums.EntityType),
        Index("ix_source_entity", "entity_type", "entity_id"),
        # `sync.apply.Applier._retire_children`: the periods a member's item gave, found by
        # their sources (feed, item and type) when the item changes.
        Index("ix_source_feed_item", "feed", "item_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(sa_type=String(20))
    entity_id: int
    feed: str | None = Field(default=None, sa_type=String(120))
    item_id: str | None = None
    url: str | None = None
    note: str | None = None
    retrieved_at: dt.datetime | None = timestamp_field(default=None)
    run_id: int | None = None


class DataVersion(SQLModel, table=True):
    """One row: a number every commit that changes the graph raises (`store.versions`), so a
    reader can tell whether an answer it keeps still holds (docs/api.md, "Caching")."""

    __tablename__ = "data_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0, sa_type=BigInteger)


class Change(SQLModel, table=True):
    """One record created, updated or deleted, in the change log partners page (docs/api.md,
    "Changes"). Rows are written by triggers on the record tables, in the transaction of the
    write (migration 0011), and given their commit's data version by `store.versions.bump`:
    the version is taken under the data version row's lock, so (version, id) is commit order.
    """

    __tablename__ = "change"
    __table_args__ = (
        one_of("action", enums.ChangeAction),
        Index("ix_change_order", "version", "id"),
        Index(
            "ix_change_unversioned",
            "id",
            postgresql_where=text("version IS NULL"),
            sqlite_where=text("version IS NULL"),
        ),
    )

    # SQLite numbers rows itself only for an INTEGER PRIMARY KEY.
    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite")
    )
    version: int | None = Field(default=None, sa_type=BigInteger)  # None until committed
    entity_type: str = Field(sa_type=String(20))
    entity_id: int
    action: str = Field(sa_type=String(10))
    changed_at: dt.datetime = timestamp_field(default_factory=utcnow)
