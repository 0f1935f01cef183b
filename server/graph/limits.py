"""What one operation may ask for, checked before validation (docs/api.md, Limits).

Three figures bound an operation, its fragments expanded: its depth (fields with selections,
nested), its aliases, and its cost: the fields it may resolve, each counted once per item of
every page above it (`first`/`last`; the default page size when neither is given, the largest
page for a variable; for `nodes(ids:)`, its ids). A fragment spread twice counts twice, so 1.4 KB
can ask for 2**30 fields; the figures are still computed in time linear in the document: each
selection set, and so each fragment, is summed once from its own selections and the sums of the
sets it contains, capped just above the limits so the numbers stay small.

The check runs before graphql-core's rules, and a refused document never reaches them: they and
the execution's field collection handle fragments spread many times well, but not every rule is
linear in the document (below, and bench/README.md).

`documents` runs the check, from its cache of parsed documents.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    IntValueNode,
    ListValueNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
)
from graphql.validation.rules import overlapping_fields_can_be_merged

from server.config import Settings

# Ids `nodes(ids:)` takes at once; a variable's list is counted as this many.
MAX_NODES = 100

# The standard rule that is not linear: fields that share a response name are compared in pairs,
# and so are fragments spread side by side. graphql-core stops it past a budget of steps, which
# it lets users set here; its default, 500,000, took 2 to 4 s on our machines. The README's
# query, the bench's page and GraphiQL's introspection take no step; the same field 100 times
# takes 9,900 (bench/costly_queries.py).
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = 20_000


@dataclass(frozen=True)
class Figures:
    """What a selection set asks for, everything it contains included."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


NOTHING = Figures()


class Limits:
    """The depth, alias and cost limits of the settings."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def measure(
        self, schema: GraphQLSchema, document: DocumentNode
    ) -> list[tuple[OperationDefinitionNode, Figures]]:
        walk = _Walk(schema, document, self.settings)
        return [
            (definition, walk.operation(definition))
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
        ]

    def check(self, schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
        return [
            error
            for operation, figures in self.measure(schema, document)
            for error in self._refusals(operation, figures)
        ]

    def _refusals(
        self, operation: OperationDefinitionNode, figures: Figures
    ) -> Iterator[GraphQLError]:
        settings = self.settings
        name = operation.name.value if operation.name else "anonymous"
        if figures.depth > settings.max_query_depth:
            yield _refused(
                "QUERY_TOO_DEEP",
                f"'{name}' exceeds maximum operation depth of {settings.max_query_depth}",
                operation,
            )
        if figures.aliases > settings.max_aliases:
            yield _refused(
                "TOO_MANY_ALIASES",
                f"'{name}' has more than {settings.max_aliases} aliases"
                " (a fragment's count as often as it is spread)",
                operation,
            )
        if figures.cost > settings.max_cost:
            yield _refused(
                "QUERY_TOO_COSTLY",
                f"'{name}' costs more than {settings.max_cost}: it may resolve that many fields,"
                " each counted once per item of every page above it (`first` or `last`;"
                f" {settings.default_page_size} without them, {settings.max_page_size}"
                " for a variable)",
                operation,
            )


def _refused(code: str, message: str, operation: OperationDefinitionNode) -> GraphQLError:
    return GraphQLError(message, operation, extensions={"code": code})


class _Walk:
    """The figures of one document's selection sets, each summed once."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, settings: Settings):
        self.schema = schema
        self.settings = settings
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.summed: dict[int, Figures] = {}  # by the id of the selection set
        self.caps = (settings.max_aliases + 1, settings.max_cost + 1)

    def operation(self, operation: OperationDefinitionNode) -> Figures:
        return self.figures(operation.selection_set, self.schema.get_root_type(operation.operation))

    def figures(self, root: SelectionSetNode, root_type: GraphQLNamedType | None) -> Figures:
        # Depth first with a stack, not recursion: documents may nest thousands of fragments.
        # A set is summed when met again on the stack, after everything it contains. A set
        # that contains itself (a fragment cycle, refused by validation) counts nothing there.
        stack = [(root, root_type)]
        opened: set[int] = set()
        while stack:
            selection_set, type_ = stack[-1]
            key = id(selection_set)
            if key in self.summed:
                stack.pop()
            elif key in opened:
                self.summed[key] = self._sum(selection_set, type_)
                opened.discard(key)
                stack.pop()
            else:
                opened.add(key)
                stack.extend(
                    (inner, inner_type)
                    for _, inner, inner_type in self._parts(selection_set, type_)
                    if inner is not None and id(inner) not in opened
                )
        return self.summed[id(root)]

    def _sum(self, selection_set: SelectionSetNode, type_: GraphQLNamedType | None) -> Figures:
        depth = aliases = cost = 0
        for selection, inner_set, _ in self._parts(selection_set, type_):
            inner = self.summed.get(id(inner_set), NOTHING) if inner_set else NOTHING
            if isinstance(selection, FieldNode):
                aliases += (selection.alias is not None) + inner.aliases
                cost += 1 + self._items(selection, type_) * inner.cost
                # Introspection is left out of the depth: graphql-core limits its nesting.
                if inner_set and not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + inner.depth)
            else:  # a fragment: its selections are this set's
                depth = max(depth, inner.depth)
                aliases += inner.aliases
                cost += inner.cost
        alias_cap, cost_cap = self.caps
        return Figures(depth, min(aliases, alias_cap), min(cost, cost_cap))

    def _parts(
        self, selection_set: SelectionSetNode, type_: GraphQLNamedType | None
    ) -> Iterator[tuple[SelectionNode, SelectionSetNode | None, GraphQLNamedType | None]]:
        """Each selection, the set it opens (None for a leaf) and the type that set is on."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                definition = _field(type_, selection.name.value)
                inner_type = get_named_type(definition.type) if definition else None
                yield selection, selection.selection_set, inner_type
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is None:  # unknown: validation says so
                    yield selection, None, None
                else:
                    yield selection, fragment.selection_set, self._type(fragment.type_condition)
            else:  # an inline fragment
                condition = selection.type_condition
                inner_type = self._type(condition) if condition else type_
                yield selection, selection.selection_set, inner_type

    def _type(self, condition: NamedTypeNode) -> GraphQLNamedType | None:
        return self.schema.get_type(condition.name.value)

    def _items(self, field: FieldNode, type_: GraphQLNamedType | None) -> int:
        """How many times the field's selections are resolved: once per item of its page."""
        definition = _field(type_, field.name.value)
        if definition is None:
            return 1
        given = {argument.name.value: argument.value for argument in field.arguments or ()}
        if "first" in definition.args:
            sizes = [self._page_size(given[name]) for name in ("first", "last") if name in given]
            return max(sizes, default=self.settings.default_page_size)
        ids = given.get("ids") if "ids" in definition.args else None
        if isinstance(ids, ListValueNode):
            return len(ids.values)
        return MAX_NODES if isinstance(ids, VariableNode) else 1

    def _page_size(self, value: ValueNode) -> int:
        # Larger pages are refused when resolving, so the largest page bounds any value.
        largest = self.settings.max_page_size
        if isinstance(value, IntValueNode):
            return min(max(int(value.value), 0), largest)
        return largest


def _field(type_: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
        return type_.fields.get(name)
    return None
