"""The reads measured, each in the hub's dialect and in PostGraphile's, and the check of their
answers: the same records, in the same order, on both sides.

PostGraphile reads the hub's tables as they are: `allMembers`, `organisationsByMemberId`,
`postsByOrganisationId`, `personByPersonId`; enums as their stored text (`company`), `posts` as
a connection. It applies no `deleted_at` or membership filter; in the synthetic data nothing is
deleted and every member is in the alliance, so both sides hold the same records.
"""

from dataclasses import dataclass

from nested_members import ORGANISATIONS, nested_query

# The hub orders members and organisations by name: its `sort_key`, ties to the id.
BY_NAME = "orderBy: [SORT_KEY_ASC, ROW_ID_ASC]"


@dataclass(frozen=True)
class Read:
    name: str
    hub: str
    peer: str
    objects: int  # records in one answer: members, organisations, posts, persons
    edges: int = 0  # edges with a cursor in one answer


def peer_nested(first: int, edges: bool) -> str:
    """`nested_members.nested_query` in PostGraphile's words."""

    def items(fields: str) -> str:
        return f"edges {{ cursor node {{ {fields} }} }}" if edges else f"nodes {{ {fields} }}"

    organisation = (
        "slug name kind postsByOrganisationId(orderBy: [ROW_ID_ASC]) "
        "{ nodes { label personByPersonId { slug name } } }"
    )
    member = (
        f"slug name organisationsByMemberId(first: {ORGANISATIONS}, {BY_NAME}) "
        f"{{ {items(organisation)} }}"
    )
    return f"query Page {{ allMembers(first: {first}, {BY_NAME}) {{ {items(member)} }} }}"


CITIES_HUB = (
    "query Cities { alliance { members(filter: {kind: {eq: CITY}, country: {eq: DE}}, "
    "orderBy: [{field: POPULATION, direction: DESC}], first: 20) { nodes { slug name population "
    f"organisations(first: {ORGANISATIONS}) {{ nodes {{ slug name kind }} }} }} }} }} }}"
)
CITIES_PEER = (
    'query Cities { allMembers(condition: {kind: "city", country: "DE"}, '
    "orderBy: [POPULATION_DESC, ROW_ID_ASC], first: 20) { nodes { slug name population "
    f"organisationsByMemberId(first: {ORGANISATIONS}, {BY_NAME}) "
    "{ nodes { slug name kind } } } } }"
)

# Per member of the nested page: itself, 5 organisations, a post in each and its person.
NESTED = 1 + 3 * ORGANISATIONS

READS = [
    Read("nodes, first: 50", nested_query(50, edges=False), peer_nested(50, False), 50 * NESTED),
    Read("nodes, first: 10", nested_query(10, edges=False), peer_nested(10, False), 10 * NESTED),
    Read(
        "edges, first: 50",
        nested_query(50, edges=True),
        peer_nested(50, True),
        50 * NESTED,
        edges=50 * (1 + ORGANISATIONS),
    ),
    Read("DE cities by population, 20", CITIES_HUB, CITIES_PEER, 20 * (1 + ORGANISATIONS)),
    Read("{ __typename }", "{ __typename }", "{ __typename }", 0),
]


def records(answer: dict) -> tuple[list[str], int]:
    """The records of an answer in document order (by slug, posts by label), and its edges."""
    found, edges = [], 0

    def walk(value) -> None:
        nonlocal edges
        if isinstance(value, dict):
            if "slug" in value:
                found.append(value["slug"])
            elif "label" in value:
                found.append(f"post {value['label']}")
            edges += "cursor" in value
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(answer.get("data"))
    return found, edges


def check(read: Read, side: str, answer: dict) -> list[str]:
    """Fails loudly unless one side's answer holds what the data implies; its records."""
    if answer.get("errors"):
        raise SystemExit(f"{read.name}, {side}: the query answered with errors: {answer['errors']}")
    if read.objects == 0 and answer != {"data": {"__typename": "Query"}}:
        raise SystemExit(f"{read.name}, {side}: unexpected answer {answer}")
    found, edges = records(answer)
    if len(found) != read.objects or edges != read.edges:
        raise SystemExit(
            f"{read.name}, {side}: {len(found)} records and {edges} edges, "
            f"expected {read.objects} and {read.edges}"
        )
    return found


def same_records(read: Read, hub: list[str], peer: list[str]) -> None:
    if hub != peer:
        first = next(i for i, (a, b) in enumerate(zip(hub, peer, strict=True)) if a != b)
        raise SystemExit(
            f"{read.name}: the hub and PostGraphile differ at record {first}: "
            f"{hub[first]!r} and {peer[first]!r}"
        )
