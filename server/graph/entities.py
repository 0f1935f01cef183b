"""What the records of every area share: rows made objects, global ids, names, keys, sources.

A type of an area is `Entity, Named, FromRow` as its record is: the interfaces carry the fields
docs/api.md describes under Records, Names, and Identifiers and sources.
"""

import dataclasses
import datetime as dt
from typing import Annotated, Any, ClassVar, Self

import strawberry
from sqlalchemy import FromClause, and_, select

from store import enums
from store import names as name_rules
from store.registry import FEED, IDENTIFIER, SOURCE

from . import ids
from .arguments import Lang
from .joins import about
from .relations import relation

NameKind = strawberry.enum(enums.NameKind, description="What kind of name a name is.")

IDENTIFIERS = select(IDENTIFIER)
# A source a sync run wrote is shown with the publisher its feed declares (the seed's have none).
SOURCES = select(SOURCE, FEED.c.publisher.label("feed_publisher")).select_from(
    SOURCE.outerjoin(FEED, and_(FEED.c.slug == SOURCE.c.feed, SOURCE.c.run_id.is_not(None)))
)


class FromRow:
    """Makes a GraphQL object from a row of its `table`, taking the columns its dataclass
    declares."""

    table: ClassVar[FromClause]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        columns = cls.__dict__.get("_columns")
        if columns is None:
            columns = tuple(f.name for f in dataclasses.fields(cls) if f.init)
            cls._columns = columns
        mapping = row._mapping
        return cls(**{name: mapping[name] for name in columns})


@strawberry.type(description="A name in one language.")
class Name:
    value: str = strawberry.field(description="The name as written.")
    lang: str = strawberry.field(
        description="BCP 47 language tag: de, en, zh-Hans, zh-Latn-pinyin."
    )
    kind: NameKind = strawberry.field(
        description="Official, short, alias, former or transliteration."
    )


@strawberry.type(description="An external key: a Wikidata QID, an official code, a feed's item id.")
class Identifier:
    scheme: str = strawberry.field(description="wikidata, ags, gbt2260, geonames or feed:<slug>.")
    value: str = strawberry.field(description="The key within its scheme: Q3832, 07312000.")


@strawberry.type(description="Who publishes a feed, as the feed declares itself.")
class Publisher:
    id: str = strawberry.field(description="Its stable identifier: `wfk-kaiserslautern`.")
    name: str | None = strawberry.field(description="Its name.")
    url: str | None = strawberry.field(description="Its public web site.")


@strawberry.type(description="Where a fact came from: a feed of the hub, or a cited document.")
class Source:
    feed: str | None = strawberry.field(description="Slug of the feed, or `seed`.")
    item_id: str | None = strawberry.field(description="The item's id in that feed.")
    url: str | None = strawberry.field(
        description="Where to read the document cited; never the address of a feed."
    )
    note: str | None = strawberry.field(description="What the source is, in words.")
    retrieved_at: dt.datetime | None = strawberry.field(description="When the hub read it.")
    run_id: int | None = strawberry.field(description="The sync run that brought it.")
    feed_publisher: strawberry.Private[dict[str, Any] | None]

    @strawberry.field(description="Who publishes the feed; null for the seed and silent feeds.")
    def publisher(self) -> Publisher | None:
        declared = self.feed_publisher
        if declared is None:
            return None
        return Publisher(id=declared["id"], name=declared.get("name"), url=declared.get("url"))


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.Private[int]

    @strawberry.field(name="id", description="Global id, stable across syncs.")
    def global_id(self) -> strawberry.ID:
        return strawberry.ID(ids.encode(type(self).__name__, self.id))


@strawberry.interface(description="A record of the graph with its external keys and sources.")
class Entity(Node):
    entity_type = ""  # the `entity_type` that identifiers and sources use for this type

    created_at: dt.datetime = strawberry.field(description="When the hub first stored it.")
    updated_at: dt.datetime = strawberry.field(description="When the hub last changed it.")

    identifiers = relation(
        list[Identifier], "External keys of this record.", about(IDENTIFIERS, "scheme")
    )
    sources = relation(
        list[Source], "Which feed or document said this, when, in which run.", about(SOURCES)
    )


def display_name(record: Any, lang: str | None) -> str:
    """A named record's name in `lang` by the fallback chain, or its own name."""
    if lang is None:
        return record.name
    return name_rules.resolve(record.names, lang, record.default_lang) or record.name


@strawberry.interface(description="A record with names in several languages.")
class Named:
    slug: str = strawberry.field(description="Stable, lowercase ASCII, unique for its type.")
    default_lang: str = strawberry.field(description="The language of the record's own name.")
    name: strawberry.Private[str]
    names: strawberry.Private[list[dict[str, str]]]
    sort_key: strawberry.Private[str]  # what NAME orders by; cursors carry it

    @strawberry.field(
        name="name",
        description=(
            "The name in `lang` if known, else in the record's own language, else English, "
            "else any. A BCP 47 tag; `zh` finds `zh-Hans`."
        ),
    )
    def localized_name(self, lang: Lang = None) -> str:
        return display_name(self, lang)

    @strawberry.field(name="names", description="Every name, in every language, of every kind.")
    def all_names(
        self,
        lang: Annotated[
            str | None, strawberry.argument(description="Only names in this exact language.")
        ] = None,
        kind: Annotated[
            NameKind | None, strawberry.argument(description="Only names of this kind.")
        ] = None,
    ) -> list[Name]:
        wanted = kind.value if kind is not None else None
        return [
            Name(value=n["value"], lang=n["lang"], kind=n["kind"])
            for n in self.names
            if (lang is None or n["lang"] == lang) and (wanted is None or n["kind"] == wanted)
        ]
