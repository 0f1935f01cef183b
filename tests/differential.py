"""Both read paths compared: every query the suite sends through the test client is answered by
the resolvers and, where the compiler plans it, by its one statement; the answers must be equal
as parsed JSON, key order included. The tally is printed at the end of the run."""

from collections import Counter
from typing import Any

import orjson

from server.graph.compiled import Compiled, Compiler
from server.graph.reader import Reader
from store.enums import Role

TALLY: Counter[str] = Counter()
FALLBACKS: Counter[str] = Counter()


def ordered(value: Any) -> Any:
    """A JSON value with its objects as lists of pairs, so key order counts in a comparison."""
    if isinstance(value, dict):
        return [(k, ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [ordered(v) for v in value]
    return value


async def compare(
    compiler: Compiler,
    engine,
    query: str,
    variables: dict | None,
    data: Any,
    corpus: str,
    role: Role = Role.READER,
) -> str | None:
    """Checks the compiled answer of a query the resolvers answered with `data` (no errors).

    `corpus` says where the query comes from (the suite's tests, or generated), for the tally.
    Returns why the compiler left it to the resolvers, or None when both answered alike.
    """
    plan = compiler.prepare(query, None, variables or {}, role)
    if not isinstance(plan, Compiled):
        TALLY[f"{corpus}: left to the resolvers"] += 1
        FALLBACKS[plan.reason] += 1
        return plan.reason
    reader = Reader(engine)
    try:
        text = await compiler.run(plan, reader)
    finally:
        await reader.close()
    if text is None:
        TALLY[f"{corpus}: left to the resolvers"] += 1
        reason = compiler.plans[plan.key].reason if plan.key in compiler.plans else "lookup"
        FALLBACKS[reason] += 1
        return reason
    compiled = orjson.loads(text)
    assert ordered(compiled) == ordered(data), (
        f"the compiled answer differs for\n{query}\nvariables {variables}\n"
        f"resolvers: {orjson.dumps(data).decode()[:3000]}\ncompiled:  {text[:3000]}\n"
        f"SQL: {plan.sql[:4000]}"
    )
    TALLY[f"{corpus}: compared, equal"] += 1
    return None
