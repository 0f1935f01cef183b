"""The schema is the documentation: every type, field, argument and enum value says what it is."""

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
)

from server.config import Settings
from server.graph.schema import build_schema

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def _undocumented() -> list[str]:
    schema = build_schema(Settings())._schema
    missing = []
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN:
            continue
        if not type_.description:
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(type_, GraphQLEnumType) and name.endswith("Field"):
            continue  # order fields are named for the field they order by
        assert not isinstance(type_, GraphQLUnionType) or type_.description
    return missing


def test_every_type_field_and_argument_has_a_description():
    missing = _undocumented()
    assert not missing, f"{len(missing)} without a description: {missing}"
