"""Query limits, measured in time linear in the document, and the cache of parsed documents."""

import sys
import threading
import tracemalloc

import pytest
from graphql import parse

from server.config import Settings
from server.graph.documents import held_bytes
from server.graph.limits import Limits
from tests.bombs import fragment_bomb
from tests.readme import readme_query

from ..conftest import Client

DEEP = '{ member(slug: "kaiserslautern") { ' + "parent { " * 14 + "slug" + " }" * 15 + " }"
ALIASES = "{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"


def figures(client: Client, query: str, **limits) -> dict:
    """The figures of each operation of `query`, under the client's settings or `limits`."""
    settings = client.settings.model_copy(update=limits)
    measured = Limits(settings).measure(client.schema._schema, parse(query))
    return {(op.name.value if op.name else None): vars(found) for op, found in measured}


# --- the limits --------------------------------------------------------------------------------


async def test_too_deep_and_too_many_aliases_are_refused_every_time(client):
    for _ in range(2):  # the second time the document comes from the cache
        [deep] = await client.errors(DEEP)
        assert "exceeds maximum operation depth of 12" in deep["message"]
        assert deep["extensions"] == {"code": "QUERY_TOO_DEEP"}
        [aliases] = await client.errors(ALIASES)
        assert "more than 30 aliases" in aliases["message"]
        assert aliases["extensions"] == {"code": "TOO_MANY_ALIASES"}


def test_the_cost_counts_each_field_once_per_item_of_the_pages_above_it(client):
    # the README's: member, de, zh, organisations, and 10 times (nodes, name, posts, label,
    # person, name)
    found = figures(client, readme_query())
    assert found == {"Kaiserslautern": {"depth": 5, "aliases": 2, "cost": 4 + 10 * 6}}
    # the page given, the largest page for a variable, the default page without either
    query = """
        query Given { members(first: 3) { nodes { organisations(last: 2) { nodes { slug } } } } }
        query Variable($n: Int) { members(first: $n) { totalCount } }
        query Default { members { totalCount } }
        query Ids { nodes(ids: ["a", "b"]) { id } }
        query IdsVariable($ids: [ID!]!) { nodes(ids: $ids) { id } }
    """
    costs = {name: found["cost"] for name, found in figures(client, query).items()}
    assert costs == {
        "Given": 1 + 3 * (2 + 2 * 2),
        "Variable": 1 + 100,
        "Default": 1 + 20,
        "Ids": 1 + 2,
        "IdsVariable": 1 + 100,
    }


def test_fragments_count_as_often_as_they_are_spread(client):
    # given: a fragment with two aliases, spread by two fields and by a fragment spread twice
    query = """
        query Shared { a: member(slug: "x") { ...Names } b: member(slug: "y") { ...Twice } }
        fragment Twice on Member { ...Names ...Names }
        fragment Names on Member { de: name(lang: "de") zh: name(lang: "zh") }
    """

    # when
    found = figures(client, query)

    # then: the aliases a and b, and Names' two aliases three times over
    assert found == {"Shared": {"depth": 1, "aliases": 2 + 3 * 2, "cost": 2 + 3 * 2}}


def test_a_fragment_spread_twice_per_level_is_summed_once_per_fragment(client):
    # given: 2**1000 spreads; summing them one by one would never end
    bomb = fragment_bomb(1000)
    found = {}

    # when: measured with limits too high to cap the figures
    thread = threading.Thread(
        target=lambda: found.update(figures(client, bomb, max_cost=2**1001)), daemon=True
    )
    thread.start()
    thread.join(timeout=10.0)

    # then
    assert not thread.is_alive(), "the 1000-level fragment bomb is still being measured"
    assert found == {"Bomb": {"depth": 0, "aliases": 0, "cost": 2**1000}}


def test_figures_are_capped_just_above_the_limits(client):
    found = figures(client, fragment_bomb(60, bottom="a: __typename"))

    assert found == {"Bomb": {"depth": 0, "aliases": 31, "cost": 50_001}}


def test_fragments_nested_thousands_deep_and_fragment_cycles_are_measured(client):
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(5_000))
    nested = f"query Chain {{ ...F0 }} {chain} fragment F5000 on Query {{ __typename }}"
    cycle = "query Cycle { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"

    assert figures(client, nested) == {"Chain": {"depth": 0, "aliases": 0, "cost": 1}}
    assert figures(client, cycle) == {"Cycle": {"depth": 0, "aliases": 0, "cost": 0}}


async def test_a_refused_document_never_reaches_the_standard_rules(client):
    # given: a bomb whose last fragment asks for a field that does not exist
    bomb = fragment_bomb(60, bottom="nope")

    # when
    errors = await client.errors(bomb)

    # then: the cost limit alone answers; the rule that would find `nope` did not run
    assert [error["extensions"]["code"] for error in errors] == ["QUERY_TOO_COSTLY"]
    assert "'Bomb' costs more than 50000" in errors[0]["message"]


async def test_the_readme_query_and_a_cycle_pass_the_limits_to_validation(client):
    assert (await client.data(readme_query()))["member"]["de"] == "Kaiserslautern"
    [cycle] = await client.errors(
        "query Cycle { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    )
    assert "Cannot spread fragment 'A' within itself via 'B'" in cycle["message"]


# --- the document cache ------------------------------------------------------------------------


async def test_a_repeated_query_is_parsed_and_validated_once(client):
    documents = client.schema.documents
    query = "{ alliance { slug foundedOn } }"
    await client.data(query)
    hits = documents.hits

    await client.data(query)
    await client.data(query)

    assert documents.hits == hits + 2
    assert documents.entries[query].valid


def large_document(number: int, size: int) -> str:
    """A distinct document of `size` characters and more, most of them a comment."""
    return f"# {'x' * size}\nquery Large{number} {{ __typename }}"


async def test_the_document_cache_holds_no_more_than_its_bytes(seeded):
    # given: a hub whose document cache may take 1 MiB
    client = Client(seeded, seeded.settings(document_cache_bytes=1 << 20))
    documents = client.schema.documents

    # when: 300 distinct documents of 20 KB (about 43 KB in memory) are sent
    for number in range(300):
        await client.data(large_document(number, 20_000))

    # then: the cache is full, and no fuller than its bytes
    assert documents.bytes <= 1 << 20
    assert documents.bytes == sum(entry.size for entry in documents.entries.values())
    assert 20 <= len(documents) < 30
    # the newest stay, the oldest went
    assert large_document(299, 20_000) in documents.entries
    assert large_document(0, 20_000) not in documents.entries


async def test_a_document_over_a_sixteenth_of_the_cache_is_not_kept(seeded):
    client = Client(seeded, seeded.settings(document_cache_bytes=1 << 20))
    documents = client.schema.documents
    small, large = large_document(1, 1_000), large_document(2, 40_000)  # 5 KB and 83 KB

    await client.data(small)
    await client.data(large)

    assert list(documents.entries) == [small]


SHAPES = {
    "names": "{ " + "a " * 4_990 + "}",
    "introspection names": "{ " + "__typename " * 4_990 + "}",
    "long names": "{ " + " ".join("n" * 1_000 + str(i) for i in range(900)) + " }",
    "long strings": "{ " + " ".join(f'f(s: "{"x" * 1_000}")' for _ in range(800)) + " }",
    "integers": "{ f(" + " ".join(f"a{i}: 1" for i in range(1_600)) + ") }",
    "lists": "{ f(a: [" + "1 " * 4_990 + "]) }",
    "objects": "{ f(a: [" + "{} " * 2_490 + "]) }",
}


@pytest.mark.parametrize("text", SHAPES.values(), ids=SHAPES.keys())
def test_the_bytes_of_a_document_are_no_fewer_than_the_memory_it_takes(text):
    tracemalloc.start()
    try:
        document = parse(text, max_tokens=Settings().max_tokens)
        taken, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert held_bytes(text, document) >= sys.getsizeof(text) + taken
