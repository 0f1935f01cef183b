"""Argument values, checked once a request is valid and before any of it runs: text the
databases can take, and inputs small and shallow enough for their SQL.

PostgreSQL cannot store or compare text holding U+0000, and no driver can encode half a
surrogate pair. A filter nested a dozen levels deep overflows SQLite's parser, an `or` of a
thousand branches its expression depth, and an `in` of forty thousand values asyncpg's
parameters. Each of these reached the database and came back as "Unexpected error." with a
traceback in the log. One walk over the operation's arguments (literals and variables alike,
nested input objects and lists included, each fragment once) refuses them first with
INVALID_ARGUMENT, naming the argument, the place inside it and the variable it came from.
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from .errors import InvalidArgument

# Input objects inside one another. Every level of a relation filter is a subquery, and SQLite's
# parser stack overflows at nine nested subqueries; `membership` adds one more of its own.
MAX_DEPTH = 6
# List items and fields in one argument: keeps an `or` well inside SQLite's expression depth of
# 1000 and an `in` inside asyncpg's 32767 parameters.
MAX_VALUES = 1000

_UNFIT = re.compile("[\x00\ud800-\udfff]")


def unfit(text: str) -> str | None:
    """What in `text` no database of the hub can take, in words; None when it can take it all."""
    found = _UNFIT.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "U+0000 (NUL)"
    return f"U+{ord(found.group()):04X}, half of a surrogate pair"


def _arguments(
    document: DocumentNode, operation: OperationDefinitionNode
) -> Iterator[tuple[str, ArgumentNode]]:
    """Every argument the operation gives, with the name of its field; each fragment once."""
    fragments = {
        d.name.value: d.selection_set
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    visited: set[str] = set()
    pending: list[SelectionSetNode] = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            for directive in selection.directives or ():
                for argument in directive.arguments or ():
                    yield f"@{directive.name.value}", argument
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    yield selection.name.value, argument
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in visited and name in fragments:
                    visited.add(name)
                    pending.append(fragments[name])


def _plain(value: Any) -> Any:
    """A literal's value as a variable would hold it: dicts, lists and strings."""
    if isinstance(value, ObjectValueNode):
        return {f.name.value: f.value for f in value.fields}
    if isinstance(value, ListValueNode):
        return value.values
    if isinstance(value, StringValueNode):
        return value.value
    return value


def _problem(
    value: ValueNode, variables: Mapping[str, Any], defaults: Mapping[str, ValueNode | None]
) -> tuple[str, str, str | None] | None:
    """The first problem of one argument's value: what, where inside it, from which variable."""
    pending: list[tuple[Any, str, int, str | None]] = [(value, "", 0, None)]
    counted = 1
    while pending:
        value, path, depth, variable = pending.pop()
        if isinstance(value, VariableNode):
            name = value.name.value
            given = variables[name] if name in variables else defaults.get(name)
            pending.append((given, path, depth, name))
            continue
        value = _plain(value)
        if isinstance(value, dict):
            if depth == MAX_DEPTH:
                return f"nests input objects too deep: at most {MAX_DEPTH} levels", path, variable
            inner = [
                (v, f"{path}.{k}" if path else k, depth + 1, variable) for k, v in value.items()
            ]
        elif isinstance(value, list | tuple):
            inner = [(v, f"{path}[{i}]", depth, variable) for i, v in enumerate(value)]
        else:
            problem = unfit(value) if isinstance(value, str) else None
            if problem is not None:
                return f"holds {problem}, which the hub cannot store or search for", path, variable
            continue
        counted += len(inner)
        if counted > MAX_VALUES:
            return f"holds more than {MAX_VALUES} values (list items and fields)", "", variable
        pending.extend(reversed(inner))
    return None


def refusal(
    document: DocumentNode, operation_name: str | None, variables: Mapping[str, Any]
) -> GraphQLError | None:
    """INVALID_ARGUMENT for the first argument value the hub cannot take, or None."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None  # graphql-core says why when it executes
    defaults = {
        d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
    }
    for field, argument in _arguments(document, operation):
        found = _problem(argument.value, variables, defaults)
        if found is not None:
            problem, path, variable = found
            name = argument.name.value
            place = f"`{field}({name}:)`" + (f" at `{path}`" if path else "")
            place += f" (from `${variable}`)" if variable else ""
            error = InvalidArgument(f"{place} {problem}", field=name)
            return GraphQLError(str(error), argument, original_error=error)
    return None


class CheckArgumentValues(SchemaExtension):
    """Answers a request whose argument values the hub cannot take before it executes."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        error = refusal(context.graphql_document, context.operation_name, context.variables or {})
        if error is not None:
            context.result = ExecutionResult(data=None, errors=[error])
        yield
