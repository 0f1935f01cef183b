"""Which role an operation needs (docs/api.md, "Keys and roles").

A field that not every caller may read names the least role that may, in its metadata
(`needs(Role.PARTNER)`). A document needs the highest role any field it selects needs, found
once when it is first validated and kept with it (`documents.Entry`); an operation of a caller
whose role falls short is refused whole, before either read path runs, so the resolvers and the
compiled reads cannot differ in what they let through. A field is counted wherever the document
names it, also under a `@skip` or `@include` whose variables might leave it out: what a key may
ask does not depend on the variables it sends.
"""

from dataclasses import dataclass

from graphql import DocumentNode, FieldNode, GraphQLError, GraphQLSchema, TypeInfo, visit
from graphql.language import Visitor
from graphql.utilities import TypeInfoVisitor

from store.enums import Role

NEEDS = "needs"  # the keys in a field's metadata
LIVE = "live"


def needs(role: Role) -> dict[str, Role]:
    """The metadata of a field only `role` and the roles above it may read."""
    return {NEEDS: role}


# The operator API reads and changes the sync's own state (feeds, runs, issues, locks), which
# the data version does not follow: an answer that reads it is never kept (`server.web.answers`).
OPERATOR_ONLY = {NEEDS: Role.OPERATOR, LIVE: True}


@dataclass(frozen=True)
class Needs:
    role: Role = Role.READER  # the least role that may run the document
    live: bool = False  # whether it reads what the data version does not follow


class _Needs(Visitor):
    def __init__(self, type_info: TypeInfo):
        super().__init__()
        self.type_info = type_info
        self.role = Role.READER
        self.live = False

    def enter_field(self, node: FieldNode, *_args) -> None:
        field = self.type_info.get_field_def()
        declared = field.extensions.get("strawberry-definition") if field else None
        if declared is None:
            return
        needed = declared.metadata.get(NEEDS)
        if needed is not None and not self.role.may(needed):
            self.role = needed
        self.live = self.live or declared.metadata.get(LIVE, False)


def needed(schema: GraphQLSchema, document: DocumentNode) -> Needs:
    """What a valid `document` needs: the least role that may run all of it, and whether its
    answers may be kept."""
    type_info = TypeInfo(schema)
    found = _Needs(type_info)
    visit(document, TypeInfoVisitor(type_info, found))
    return Needs(found.role, found.live)


def refusal(needed: Role, role: Role) -> GraphQLError | None:
    """The error refusing a caller of `role` an operation that needs `needed`, if it must."""
    if role.may(needed):
        return None
    return GraphQLError(
        f"this operation needs a key of the {needed.value} role; the caller's is {role.value}",
        extensions={"code": "FORBIDDEN"},
    )
