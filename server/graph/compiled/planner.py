"""Plans a whole read operation as one SQL statement that builds its `data` (docs/architecture.md,
Compiled reads).

The planner walks the operation as graphql-core would execute it (fields merged by response key,
fragments and `@include`/`@skip` applied, fragments matched by the object's type) and asks each
field's Strawberry declaration what it is: a column of the record's table, a relation following
a join of `joins`, a connection over a `Listing`, a union of `either`, or one of the interface
fields of `entities`. Arguments are converted by Strawberry, and filters, sort keys, cursors and
page windows are made by the same functions the resolvers use, so an argument the resolvers
refuse is refused here too and the operation goes to them (`NotPlanned` for anything else).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)
from graphql.execution.collect_fields import does_fragment_condition_match
from graphql.execution.values import get_argument_values, get_directive_values
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Select,
    Text,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
)
from strawberry.types.arguments import convert_arguments

from server.config import Settings
from store.registry import ALLIANCE

from .. import counting, filtering, ids, pagination
from ..entities import Named, Node
from ..errors import InvalidId
from ..joins import About, Linked, Many, One
from ..limits import MAX_NODES
from ..members.listing import ALLIANCES
from ..nodes import NODE_TYPES
from ..ordering import BY_NAME, sort_keys
from ..pagination import Link, PageArgs, order_terms
from .json import Json, NotPlanned

RANK = "hub_rank"  # a row's place in its page
FETCHED = "hub_fetched"  # how many rows its page fetched (one more than the page, if there is)


def _resolver_of(cls: type, python_name: str) -> Any:
    fields = cls.__strawberry_definition__.fields
    return next(f for f in fields if f.python_name == python_name).base_resolver.wrapped_func


GLOBAL_ID = _resolver_of(Node, "global_id")
LOCALIZED_NAME = _resolver_of(Named, "localized_name")
ALL_NAMES = _resolver_of(Named, "all_names")


@dataclass(frozen=True)
class Plan:
    """A planned operation: its SQL, and whether a lookup by slug may have found nothing (then the
    resolvers answer, with the error they raise)."""

    statement: Select
    lookups: bool


class Planner:
    def __init__(self, schema: Any, json: Json, settings: Settings):
        self.schema = schema
        self.graphql = schema._schema
        self.json = json
        self.settings = settings
        self._scalars = schema.schema_converter.scalar_registry

    def plan(self, document: DocumentNode, operation: OperationDefinitionNode, variables) -> Plan:
        if operation.operation is not OperationType.QUERY:
            raise NotPlanned("only queries are compiled")
        walk = _Walk(self, document, variables)
        root = self.graphql.query_type
        pairs = []
        for key, nodes in walk.collect(root, [operation.selection_set]).items():
            pairs.append((key, walk.root_field(root, key, nodes)))
        data = self.json.text(self.json.object(pairs))
        missing = or_(*walk.missing) if walk.missing else false()
        return Plan(select(data.label("data"), missing.label("missing")), bool(walk.missing))


class _Walk:
    """One planning of one operation with its variables."""

    def __init__(self, planner: Planner, document: DocumentNode, variables: Any):
        self.planner = planner
        self.json = planner.json
        self.graphql = planner.graphql
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.missing: list[ColumnElement[bool]] = []

    # --- the selections, as execution collects them ------------------------------------------

    def collect(
        self, type_: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self._included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if does_fragment_condition_match(self.graphql, selection, type_):
                        visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name in visited or fragment is None:
                        continue
                    visited.add(name)
                    if does_fragment_condition_match(self.graphql, fragment, type_):
                        visit(fragment.selection_set)

        for selection_set in selection_sets:
            visit(selection_set)
        return fields

    def _included(self, node: Any) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip["if"]:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and not include["if"])

    def subfields(self, type_: GraphQLObjectType, nodes: list[FieldNode]):
        return self.collect(type_, [n.selection_set for n in nodes if n.selection_set])

    def arguments(self, field: GraphQLField, node: FieldNode) -> dict[str, Any]:
        raw = get_argument_values(field, node, self.variables)
        declared = field.extensions["strawberry-definition"]
        return convert_arguments(
            raw,
            declared.arguments,
            scalar_registry=self.planner._scalars,
            config=self.planner.schema.config,
        )

    # --- records -----------------------------------------------------------------------------

    def record(
        self, type_: GraphQLObjectType, row: FromClause, fields: dict[str, list[FieldNode]]
    ) -> ColumnElement[Any]:
        """The JSON object of one record of `type_`, read from `row`."""
        pairs = []
        for key, nodes in fields.items():
            name = nodes[0].name.value
            if name == "__typename":
                pairs.append((key, literal(type_.name, Text)))
                continue
            pairs.append((key, self.field(type_, row, type_.fields[name], nodes)))
        return self.json.object(pairs)

    def field(
        self, type_: GraphQLObjectType, row: FromClause, field: GraphQLField, nodes: list[FieldNode]
    ) -> ColumnElement[Any]:
        declared = field.extensions["strawberry-definition"]
        resolver = declared.base_resolver
        function = resolver.wrapped_func if resolver is not None else None
        if function is None:
            return self.column(field, row.c[declared.python_name])
        if function is GLOBAL_ID:
            return self.json.global_id(type_.name, row.c.id)
        if function is LOCALIZED_NAME:
            lang = self.arguments(field, nodes[0]).get("lang")
            return row.c.name if lang is None else self.json.localized_name(row, lang)
        if function is ALL_NAMES:
            return self.names(field, row, nodes)
        if hasattr(function, "relation"):
            return self.relation(type_, field, row, function.relation.join, nodes)
        settings = self.planner.settings
        if hasattr(function, "expression"):
            args = self.arguments(field, nodes[0])
            return self.column(field, function.expression(row, args, settings))
        if hasattr(function, "narrow"):
            args = self.arguments(field, nodes[0])
            narrow = function.narrow

            def among(target: FromClause) -> list[ColumnElement[bool]]:
                return narrow(target, args, settings)

            return self.relation(type_, field, row, function.join, nodes, among)
        if hasattr(function, "joins"):
            return self.either(field, row, function.joins, nodes)
        if hasattr(function, "listing"):
            args = self.arguments(field, nodes[0])
            return self.connection(field, nodes, function.listing, function.link, row, args)
        if type_.name == "Source" and declared.python_name == "publisher":
            return self.publisher(field, row, nodes)
        raise NotPlanned(f"{type_.name}.{nodes[0].name.value}")

    def column(self, field: GraphQLField, column: ColumnElement[Any]) -> ColumnElement[Any]:
        named = get_named_type(field.type)
        if isinstance(named, GraphQLEnumType):
            return func.upper(column)
        if named.name == "DateTime":
            return self.json.time(column)
        if _is_list(field.type):
            return self.json.embedded(column)
        return column

    def names(self, field: GraphQLField, row: FromClause, nodes: list[FieldNode]):
        args = self.arguments(field, nodes[0])
        json = self.json
        if json.name == "postgresql":
            each = func.json_array_elements(row.c.names).table_valued(
                "value", with_ordinality="ordinality"
            )
            order = [each.c.ordinality]
        else:
            each = func.json_each(row.c.names).table_valued("key", "value")
            order = []
        name_type = get_named_type(field.type)
        pairs = []
        for key, found in self.subfields(name_type, nodes).items():
            name = found[0].name.value
            if name == "__typename":
                pairs.append((key, literal(name_type.name, Text)))
                continue
            value = json.member(each.c.value, name)
            pairs.append((key, func.upper(value) if name == "kind" else value))
        conditions = []
        if args.get("lang") is not None:
            conditions.append(json.member(each.c.value, "lang") == args["lang"])
        if args.get("kind") is not None:
            conditions.append(json.member(each.c.value, "kind") == args["kind"].value)
        aggregated = json.aggregate(json.object(pairs), order)
        query = select(json.or_empty(aggregated)).select_from(each)
        return json.nested(query.where(*conditions))

    def publisher(self, field: GraphQLField, row: FromClause, nodes: list[FieldNode]):
        declared = row.c.feed_publisher
        type_ = get_named_type(field.type)
        pairs = []
        for key, found in self.subfields(type_, nodes).items():
            name = found[0].name.value
            value = literal(type_.name, Text) if name == "__typename" else None
            pairs.append((key, value if value is not None else self.json.member(declared, name)))
        return case((self.json.is_object(declared), self.json.object(pairs)), else_=null())

    # --- relations ---------------------------------------------------------------------------

    def _target(self, field: GraphQLField, table: FromClause) -> GraphQLObjectType:
        """The object type a field's rows of `table` become (the member of a union read from
        it)."""
        named = get_named_type(field.type)
        if isinstance(named, GraphQLObjectType):
            return named
        for member in self.graphql.get_possible_types(named):
            origin = member.extensions["strawberry-definition"].origin
            if getattr(origin, "table", None) is table:
                return member
        raise NotPlanned(f"no type of {named.name} is read from {table.name}")

    def one(self, type_: GraphQLObjectType, table: FromClause, condition, nodes):
        target = table.alias()
        fields = self.subfields(type_, nodes)
        query = (
            select(self.record(type_, target, fields))
            .select_from(target)
            .where(target.c.deleted_at.is_(None), condition(target))
        )
        return self.json.nested(query)

    def relation(self, owner: GraphQLObjectType, field: GraphQLField, row, join, nodes, among=None):
        """A relation's record or list; `among` narrows a list's rows further."""
        if isinstance(join, One):
            type_ = self._target(field, join.table)
            key = row.c[join.key]
            return self.one(type_, join.table, lambda t: t.c.id == key, nodes)
        type_ = get_named_type(field.type)
        if isinstance(join, Many):
            target = join.table.alias()
            query = select(target).where(
                target.c.deleted_at.is_(None),
                target.c[join.key] == row.c.id,
                *(among(target) if among else ()),
            )
            order = [*join.order, "id"]
        elif isinstance(join, Linked):
            target = join.table.alias()
            link = join.link.alias()
            query = (
                select(target)
                .select_from(target.join(link, link.c[join.far] == target.c.id))
                .where(target.c.deleted_at.is_(None), link.c[join.near] == row.c.id)
            )
            order = ["id"]
        elif isinstance(join, About):
            target = join.query.subquery()
            entity_type = _origin(owner).entity_type
            query = select(target).where(
                target.c.entity_type == entity_type, target.c.entity_id == row.c.id
            )
            order = [*join.order, "id"]
        else:
            raise NotPlanned(f"a join of kind {type(join).__name__}")
        return self.listed(type_, query, target, order, row, nodes)

    def listed(self, type_, query: Select, target, order: Sequence[str], row, nodes):
        """A short list (no page): every row of `query`, in `order`."""
        query = query.order_by(*(target.c[name] for name in order)).correlate(row)
        rows = self.json.ordered(query).subquery()
        fields = self.subfields(type_, nodes)
        value = self.record(type_, rows, fields)
        return self.json.list_of(value, rows, [rows.c[name] for name in order])

    def either(self, field: GraphQLField, row: FromClause, joins: Sequence[One], nodes):
        whens = []
        for join in joins:
            type_ = self._target(field, join.table)
            key = row.c[join.key]
            found = self.one(type_, join.table, lambda t, key=key: t.c.id == key, nodes)
            whens.append((key.is_not(None), found))
        return case(*whens, else_=null())

    # --- connections -------------------------------------------------------------------------

    def connection(self, field, nodes, listing, link: Link | None, parent, args):
        settings = self.planner.settings
        if listing.keys:
            order = sort_keys(args.get("order_by"), listing.keys, listing.default)
        else:
            order = BY_NAME
        page_args = PageArgs(
            first=args.get("first"),
            after=args.get("after"),
            last=args.get("last"),
            before=args.get("before"),
        )
        table = listing.table.alias()
        win = pagination.window(
            table, order, page_args, settings.default_page_size, settings.max_page_size
        )
        filter_ = args.get("filter")
        type_ = get_named_type(field.type)
        fields = self.subfields(type_, nodes)
        if win.limit == 0:
            return self._empty_page(type_, fields, listing, link, parent, filter_, win)
        wants = _Wants.of(self, type_, fields, win)
        asked = {n[0].name.value for n in fields.values()}
        # Without pageInfo the rows are the page itself, and each list is read off them alone,
        # in the page's order; with it, the lists and pageInfo are aggregated over the rows
        # together, which then carry their rank in the fetch.
        alone = "pageInfo" not in asked
        source, where = _scope(table, listing, link, parent, filter_)
        terms = order_terms(table, order, win.backwards)
        columns = [*table.c]
        if not alone:
            columns.append(func.row_number().over(order_by=terms).label(RANK))
        query = (
            select(*columns)
            .select_from(source)
            .where(*where, *win.conditions)
            .order_by(*terms)
            .limit(win.limit + 1 if wants.more else win.limit)
        )
        if parent is not None:
            query = query.correlate(parent)
        rows = query.subquery()
        if wants.cursors:
            rows = select(rows, func.count().over().label(FETCHED)).subquery()

        def page_order(rows: FromClause) -> list[Any]:
            if alone:
                return order_terms(rows, order, reverse=False)
            return [rows.c[RANK].desc() if win.backwards else rows.c[RANK].asc()]

        if self.json.name == "sqlite" and (win.backwards or wants.cursors):
            # SQLite aggregates in the rows' order: the page's, not the fetch's
            rows = select(rows).order_by(*page_order(rows)).limit(win.limit + 1).subquery()
        order_in_page = page_order(rows)
        node_type = wants.node_type

        def listed(value: ColumnElement[Any]) -> ColumnElement[Any]:
            if alone:
                return self.json.list_of(value, rows, order_in_page)
            aggregated = self.json.aggregate(value, order_in_page)
            if wants.more:
                aggregated = aggregated.filter(rows.c[RANK] <= win.limit)
            return self.json.or_empty(aggregated)

        def cursor_at(rank: Any) -> ColumnElement[Any]:
            return func.max(case((rows.c[RANK] == rank, self.json.cursor(order, rows))))

        pairs = []
        for key, found in fields.items():
            name = found[0].name.value
            if name == "__typename":
                pairs.append((key, literal(type_.name, Text)))
            elif name == "nodes":
                node_fields = self.subfields(node_type, found)
                pairs.append((key, listed(self.record(node_type, rows, node_fields))))
            elif name == "edges":
                edge = self._edge(type_, found, node_type, rows, order)
                pairs.append((key, listed(edge)))
            elif name == "pageInfo":
                more = self.json.boolean(func.count() > win.limit)
                # every row holds how many rows its page fetched
                last = self.json.least(rows.c[FETCHED], win.limit) if wants.cursors else None
                first_cursor = cursor_at(1) if wants.cursors else None
                last_cursor = cursor_at(last) if wants.cursors else None
                info = {
                    "hasNextPage": self._constant(win.before) if win.backwards else more,
                    "hasPreviousPage": more if win.backwards else self._constant(win.after),
                    "startCursor": last_cursor if win.backwards else first_cursor,
                    "endCursor": first_cursor if win.backwards else last_cursor,
                }
                pairs.append((key, self._page_info(type_, found, info)))
            elif name == "totalCount":
                pairs.append((key, self._count(listing, link, parent, filter_)))
            else:
                raise NotPlanned(f"{type_.name}.{name}")
        # Without pageInfo the object is built in place: its lists read the rows themselves (a
        # SELECT of its own, without nodes or edges, would give no row at all).
        if alone:
            return self.json.object(pairs)
        return self.json.nested(select(self.json.object(pairs)).select_from(rows))

    def _edge(self, type_, nodes, node_type, rows, order):
        edge_type = get_named_type(type_.fields["edges"].type)
        pairs = []
        for key, found in self.subfields(edge_type, nodes).items():
            name = found[0].name.value
            if name == "__typename":
                pairs.append((key, literal(edge_type.name, Text)))
            elif name == "cursor":
                pairs.append((key, self.json.cursor(order, rows)))
            else:
                node_fields = self.subfields(node_type, found)
                pairs.append((key, self.record(node_type, rows, node_fields)))
        return self.json.object(pairs)

    def _page_info(self, type_, nodes, info: dict[str, Any]):
        info_type = get_named_type(type_.fields["pageInfo"].type)
        pairs = []
        for key, found in self.subfields(info_type, nodes).items():
            name = found[0].name.value
            value = literal(info_type.name, Text) if name == "__typename" else info[name]
            pairs.append((key, value if value is not None else null()))
        return self.json.object(pairs)

    def _constant(self, value: bool) -> ColumnElement[Any]:
        return self.json.boolean(literal_column("1=1" if value else "1=0"))

    def _count(self, listing, link, parent, filter_) -> ColumnElement[Any]:
        table = listing.table.alias()
        source, where = _scope(table, listing, link, parent, filter_)
        query = select(func.count(table.c.id.distinct())).select_from(source).where(*where)
        return (query.correlate(parent) if parent is not None else query).scalar_subquery()

    def _empty_page(self, type_, fields, listing, link, parent, filter_, win):
        """`first: 0` or `last: 0`: no rows, as the resolvers answer it."""
        pairs = []
        for key, found in fields.items():
            name = found[0].name.value
            if name == "__typename":
                pairs.append((key, literal(type_.name, Text)))
            elif name in ("nodes", "edges"):
                pairs.append((key, self.json.empty_array()))
            elif name == "pageInfo":
                info = {
                    "hasNextPage": self._constant(False),
                    "hasPreviousPage": self._constant(win.after),
                    "startCursor": None,
                    "endCursor": None,
                }
                pairs.append((key, self._page_info(type_, found, info)))
            elif name == "totalCount":
                pairs.append((key, self._count(listing, link, parent, filter_)))
        return self.json.object(pairs)

    # --- the root ----------------------------------------------------------------------------

    def root_field(self, root: GraphQLObjectType, key: str, nodes: list[FieldNode]):
        name = nodes[0].name.value
        if name == "__typename":
            return literal(root.name, Text)
        if name.startswith("__"):
            raise NotPlanned("introspection")
        field = root.fields[name]
        declared = field.extensions["strawberry-definition"]
        args = self.arguments(field, nodes[0])
        function = declared.base_resolver.wrapped_func
        python_name = declared.python_name
        if hasattr(function, "grouping"):
            return self.grouped(field, nodes, function.grouping, args)
        if hasattr(function, "listing") and hasattr(function, "link"):
            return self.connection(field, nodes, function.listing, None, None, args)
        if hasattr(function, "listing"):
            return self.by_slug(field, function.listing.table, args["slug"], nodes)
        if python_name == "alliance":
            slug = args.get("slug") or self.planner.settings.default_alliance
            return self.by_slug(field, ALLIANCE, slug, nodes)
        if python_name == "alliances":
            return self.connection(field, nodes, ALLIANCES, None, None, args)
        if python_name == "node":
            return self.node(nodes, args["id"])
        if python_name == "nodes":
            if len(args["ids"]) > MAX_NODES:
                raise NotPlanned("too many ids: the resolvers refuse them")
            return self.json.array([self.node(nodes, global_id) for global_id in args["ids"]])
        raise NotPlanned(f"Query.{name}")

    def grouped(self, field: GraphQLField, nodes, grouping: counting.Grouping, args):
        """A count field: its grouped rows, each as an object of the groups asked for."""
        others = {k: v for k, v in args.items() if k not in ("filter", "by")}
        columns = grouping.columns(others, self.planner.settings)
        query = counting.statement(grouping, args.get("filter"), args["by"], columns)
        rows = self.json.ordered(query).subquery()
        chosen = list(dict.fromkeys(group.value for group in args["by"]))
        type_ = get_named_type(field.type)
        pairs = []
        for key, found in self.subfields(type_, nodes).items():
            name = found[0].name.value
            if name == "__typename":
                pairs.append((key, literal(type_.name, Text)))
                continue
            counted = type_.fields[name]
            python_name = counted.extensions["strawberry-definition"].python_name
            if python_name == "count":
                pairs.append((key, rows.c.count))
            elif python_name not in chosen:
                pairs.append((key, null()))  # a group not asked for
            else:
                pairs.append((key, self.column(counted, rows.c[python_name])))
        order = [rows.c[name] for name in chosen]
        return self.json.list_of(self.json.object(pairs), rows, order)

    def by_slug(self, field: GraphQLField, table: FromClause, slug: str, nodes):
        type_ = get_named_type(field.type)
        probe = table.alias()
        self.missing.append(
            ~exists(select(probe.c.id).where(probe.c.slug == slug, probe.c.deleted_at.is_(None)))
        )
        return self.one(type_, table, lambda t: t.c.slug == slug, nodes)

    def node(self, nodes: list[FieldNode], global_id: str):
        try:
            type_name, pk = ids.decode(global_id)
        except InvalidId:
            raise NotPlanned("a malformed id: the resolvers refuse it") from None
        cls = NODE_TYPES.get(type_name)
        if cls is None:
            raise NotPlanned("an id of no type: the resolvers refuse it")
        type_ = self.graphql.get_type(type_name)
        return self.one(type_, cls.table, lambda t: t.c.id == pk, nodes)


def _origin(type_: GraphQLObjectType) -> Any:
    return type_.extensions["strawberry-definition"].origin


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _scope(table: FromClause, listing: Any, link: Link | None, parent, filter_):
    """What a connection reads from and the conditions every row of it meets (no page)."""
    where = [table.c.deleted_at.is_(None), *filtering.where(filter_, table)]
    if link is None:
        return table, where
    if link.through is None:
        return table, [*where, table.c[link.parent.name] == parent.c.id]
    # EXISTS rather than a join to the deduplicated pairs: the pairs would be built whole
    # (every membership) for each answer, and the page could not be read off an index.
    pairs = link.link_table.alias()
    held = (
        select(pairs.c[link.through_child])
        .where(
            pairs.c.deleted_at.is_(None),
            pairs.c[link.through_child] == table.c.id,
            pairs.c[link.parent.name] == parent.c.id,
        )
        .correlate_except(pairs)  # the parent may be two SELECTs out (a count's)
        .exists()
    )
    return table, [*where, held]


@dataclass(frozen=True)
class _Wants:
    """What a connection's selection needs of its rows."""

    more: bool  # one row more than the page, to tell whether more follow
    cursors: bool  # how many rows were fetched, to find the page's last
    node_type: GraphQLObjectType

    @classmethod
    def of(cls, walk: _Walk, type_: GraphQLObjectType, fields, win) -> "_Wants":
        more = cursors = False
        for nodes in fields.values():
            if nodes[0].name.value != "pageInfo":
                continue
            info_type = get_named_type(type_.fields["pageInfo"].type)
            asked = {n[0].name.value for n in walk.subfields(info_type, nodes).values()}
            more = more or bool(asked & {"hasNextPage", "hasPreviousPage"})
            cursors = cursors or bool(asked & {"startCursor", "endCursor"})
        node_type = get_named_type(type_.fields["nodes"].type)
        return cls(more or cursors, cursors, node_type)
