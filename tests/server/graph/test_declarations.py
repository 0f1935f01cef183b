"""Each area declares what its fields mean, as data a query compiler could read: every filter
field has its match, and every join names columns its tables have."""

from strawberry.types.base import StrawberryObjectDefinition

from server.config import Settings
from server.graph import filtering, joins, relations
from server.graph.schema import build_schema
from store.registry import MEMBER, POST

COMBINATORS = {"and_", "or_", "not_"}


def _classes(schema) -> list[tuple[StrawberryObjectDefinition, type]]:
    found = []
    for name in schema._schema.type_map:
        definition = schema.get_type_by_name(name)
        if isinstance(definition, StrawberryObjectDefinition):
            found.append((definition, definition.origin))
    return found


def _columns_named(join) -> list[tuple[object, str]]:
    """The (table, column) pairs a join names."""
    if isinstance(join, joins.One):
        return [(join.table, "id")]
    if isinstance(join, joins.Many):
        return [(join.table, join.key), *((join.table, name) for name in join.order)]
    if isinstance(join, joins.Linked):
        return [(join.link, join.near), (join.link, join.far), (join.table, "id")]
    return []


def test_every_filter_field_declares_what_it_matches():
    schema = build_schema(Settings())
    filters = [(d, c) for d, c in _classes(schema) if d.is_input and d.name.endswith("Filter")]
    assert len(filters) >= 9
    for definition, cls in filters:
        fields = {f.python_name for f in definition.fields} - COMBINATORS
        assert fields == set(cls.matches), f"{definition.name}: fields and matches differ"
        for match in cls.matches.values():
            if isinstance(match, filtering.Reaches):
                for table, column in _columns_named(match.join):
                    assert column in table.c, f"{definition.name}: {table.name}.{column}"


def test_every_relation_names_columns_its_tables_have():
    schema = build_schema(Settings())
    seen = 0
    for definition, cls in _classes(schema):
        for name, relation in relations.relations_of(cls).items():
            seen += 1
            for table, column in _columns_named(relation.join):
                assert column in table.c, f"{definition.name}.{name}: {table.name}.{column}"
            if isinstance(relation.join, joins.One):
                assert relation.join.key in cls.table.c, f"{definition.name}.{name}"
    assert seen >= 20


def test_a_relation_is_readable_as_its_declaration():
    from server.graph.members.types import Member

    found = relations.relations_of(Member)
    assert found["posts"].join == joins.many(POST, "member_id")
    assert found["parent"].join == joins.one(MEMBER, "parent_id")
    assert found["constituents"].join == joins.many(MEMBER, "parent_id", "sort_key")


def test_a_listing_reads_the_table_its_type_is_read_from():
    from server.graph.events.listing import EVENTS
    from server.graph.members.listing import ALLIANCES, MEMBERS
    from server.graph.organisations.listing import ORGANISATIONS
    from server.graph.partnerships.listing import PARTNERSHIPS
    from server.graph.people.listing import PEOPLE

    build_schema(Settings())  # every area imported, so the lazy types resolve
    for listing in (ALLIANCES, MEMBERS, ORGANISATIONS, PEOPLE, PARTNERSHIPS, EVENTS):
        assert listing.build.__self__.table is listing.table, listing.table.name
