"""Benchmark: how long the hub takes to answer small documents whose work grows faster than
their size, through the real schema (parse, limits, validation), in-process.

The fragment bombs, by levels n: each level's fragment spreads the next one twice (2**n
spreads), alone or with a field, an alias or a selection in each fragment, or through inline
fragments. Then documents within the token limit that graphql-core's
OverlappingFieldsCanBeMergedRule compares pairwise, by size k: the same field k times, and k
fragments spread side by side. Last, documents people write. For each: the time to answer (one
run, in a fresh process, after a warm-up request), the steps that rule took (its budget is set
in server.graph.limits) and what came back (a code, or "valid": the documents are parsed and
validated, not executed, so no database is needed).

Each document runs in a child process of its own, stopped (by its pid) after `--timeout` s, so
the script also measures a hub that never answers. See bench/README.md.
"""

import argparse
import asyncio
import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path

from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

LEVELS = (16, 18, 20, 30, 60)
SIZES = (100, 200, 400)


def bomb(levels: int, body: str = "", spread: str = "...F{next} ...F{next}") -> str:
    fragments = " ".join(
        f"fragment F{level} on Query {{ {body} {spread.format(next=level + 1)} }}"
        for level in range(levels)
    )
    return f"query Bomb {{ ...F0 }} {fragments} fragment F{levels} on Query {{ __typename }}"


BOMBS: dict[str, Callable[[int], str]] = {
    "spread twice": bomb,
    "+ a field": lambda n: bomb(n, "__typename"),
    "+ an alias": lambda n: bomb(n, "a: __typename"),
    "+ a selection": lambda n: bomb(n, '__type(name: "Query") { name }'),
    "inline, twice": lambda n: bomb(
        n, spread="... on Query {{ ...F{next} }} ... on Query {{ ...F{next} }}"
    ),
}

PAIRWISE: dict[str, Callable[[int], str]] = {
    "same field k times": lambda k: "{ " + "__typename " * k + "}",
    "same field, selection": lambda k: "{ " + '__type(name: "Query") { name } ' * k + "}",
    "k fragments side by side": lambda k: (
        "query { "
        + " ".join(f"...A{i}" for i in range(k))
        + " } "
        + " ".join(f"fragment A{i} on Query {{ __typename }}" for i in range(k))
    ),
}


def typical() -> dict[str, str]:
    from graphql import get_introspection_query
    from nested_members import nested_query

    from tests.readme import readme_query

    return {
        "README query": readme_query(),
        "bench page (edges, 100)": nested_query(100, edges=True),
        "GraphiQL introspection": get_introspection_query(),
    }


class _Unexecuted(SchemaExtension):
    """Ends each request after validation: the documents are parsed and checked, not run."""

    def on_execute(self):
        self.execution_context.result = ExecutionResult(data=None, errors=None)
        yield


def _answer(document: str, results) -> None:
    """In the child: the time to answer, the rule's steps, and what came back."""
    from graphql.validation.rules import overlapping_fields_can_be_merged as rule

    from server.config import Settings
    from server.graph.schema import build_schema

    steps = []
    spend = rule.spend_complexity_budget

    def counted(context, cost):
        steps.append(cost)
        spend(context, cost)

    rule.spend_complexity_budget = counted
    schema = build_schema(Settings())
    schema.extensions = (*schema.extensions, _Unexecuted)
    asyncio.run(schema.execute("{ __typename }"))  # the first request pays for imports
    steps.clear()
    # One run: a second would be answered from a cache (Strawberry's validation cache took
    # documents that differ only in comments for the same).
    start = time.perf_counter()
    result = asyncio.run(schema.execute(document))
    seconds = time.perf_counter() - start
    errors = result.errors or []
    said = (errors[0].extensions or {}).get("code") or errors[0].message if errors else "valid"
    results.put((seconds, sum(steps), said))


def answer(document: str, timeout: float) -> tuple[float, int, str] | None:
    """Seconds, rule steps and what came back; None if the child did not answer in time."""
    results = multiprocessing.Queue()
    child = multiprocessing.Process(target=_answer, args=(document, results))
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.kill()
        child.join()
        return None
    if child.exitcode != 0:
        raise SystemExit(f"the child measuring a document failed ({child.exitcode})")
    return results.get()


def row(name: str, size: int | str, document: str, timeout: float) -> bool:
    found = answer(document, timeout)
    if found is None:
        print(f"{name:<26}{size:>6}  {'> ' + format(timeout, '.0f') + ' s':>11}", flush=True)
        return False
    seconds, steps, said = found
    print(f"{name:<26}{size:>6}  {seconds * 1000:>8.1f} ms  {steps:>7}  {said[:40]}", flush=True)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per document")
    args = parser.parse_args()
    print(f"{'document':<26}{'n / k':>6}  {'time':>11}  {'steps':>7}  answer")
    for shapes, sizes in ((BOMBS, LEVELS), (PAIRWISE, SIZES)):
        for name, make in shapes.items():
            # A row stops at its first timeout: the larger documents would take longer still.
            all(row(name, size, make(size), args.timeout) for size in sizes)
    for name, document in typical().items():
        row(name, "-", document, args.timeout)


if __name__ == "__main__":
    main()
