"""Counts grouped by a field, matching the lists they summarise (docs/api.md, "Counts").

Each count is asked in the same request as the list it counts, with the same filter, and must
equal what the list holds group by group: a dashboard's numbers match the list it links to.
"""

from collections import Counter

import pytest

from tests import synthetic

from ..conftest import Client

MEMBERS = """
query Members($by: [MemberGroup!]!, $filter: MemberFilter) {
  memberCounts(by: $by, filter: $filter) { country kind status count }
  members(filter: $filter, first: 100) {
    totalCount pageInfo { hasNextPage } nodes { country kind status }
  }
}
"""

ORGANISATIONS = """
query Organisations($by: [OrganisationGroup!]!, $filter: OrganisationFilter) {
  organisationCounts(by: $by, filter: $filter) { kind country count }
  organisations(filter: $filter, first: 100) {
    totalCount pageInfo { hasNextPage } nodes { kind member { country } }
  }
}
"""

EVENTS = """
query Events($by: [DatedGroup!]!, $filter: EventFilter) {
  eventCounts(by: $by, filter: $filter) { year kind status count }
  events(filter: $filter, first: 100) {
    totalCount pageInfo { hasNextPage } nodes { startDate kind status }
  }
}
"""

PARTNERSHIPS = """
query Partnerships($by: [DatedGroup!]!) {
  partnershipCounts(by: $by) { year kind status count }
  partnerships(first: 100) { totalCount pageInfo { hasNextPage } nodes { startDate kind status } }
}
"""

MEMBER_COUNTS = """
query Counts($by: [MemberGroup!]!) { memberCounts(by: $by) { count } }
"""

ALL_FIELDS = ("country", "kind", "status", "year")


def whole(connection: dict) -> list[dict]:
    """The list's nodes, which must be all of it (one page, as long as its total) and not
    empty, or there would be nothing to compare the counts with."""
    assert not connection["pageInfo"]["hasNextPage"], "more than a page: use a narrower filter"
    assert 0 < len(connection["nodes"]) == connection["totalCount"], connection
    return connection["nodes"]


def assert_counts_match(counts: list[dict], nodes: list[dict], by: list[str]) -> None:
    """Group by group, the counts are what the list holds; fields not grouped by are null."""
    fields = [group.lower() for group in by]
    counted = {tuple(row[field] for field in fields): row["count"] for row in counts}
    listed = Counter(tuple(node[field] for field in fields) for node in nodes)
    assert counted == dict(listed)
    assert len(counted) == len(counts), f"a group is counted twice: {counts}"
    for row in counts:
        assert all(row.get(f) is None for f in ALL_FIELDS if f not in fields), row


def year(node: dict) -> dict:
    """An event or partnership as the counts group it: by the year it began."""
    start = node["startDate"]
    return node | {"year": int(start[:4]) if start else None}


@pytest.mark.parametrize(
    ("by", "filter_"),
    [
        (["COUNTRY", "STATUS"], None),
        (["KIND"], {"country": {"eq": "DE"}}),
        (["COUNTRY", "KIND", "STATUS"], {"not": {"kind": {"eq": "CITY"}}}),
        (["STATUS"], {"membership": {"status": {"eq": "MEMBER"}}}),
        (["COUNTRY"], {"search": "kaiser"}),
        (["KIND", "COUNTRY"], {"hasOrganisation": {}}),
        (["COUNTRY"], {"or": [{"country": {"eq": "CN"}}, {"kind": {"eq": "REGION"}}]}),
    ],
    ids=["all", "german", "not-cities", "members", "search", "with-organisations", "or"],
)
async def test_member_counts_match_the_members_list_under_the_same_filter(client, by, filter_):
    # when
    data = await client.data(MEMBERS, {"by": by, "filter": filter_})

    # then
    assert_counts_match(data["memberCounts"], whole(data["members"]), by)


async def test_member_counts_and_the_members_list_agree_on_nobody(client):
    # when
    data = await client.data(MEMBERS, {"by": ["KIND"], "filter": {"search": "no such place"}})

    # then
    assert (data["memberCounts"], data["members"]["nodes"]) == ([], [])


@pytest.mark.parametrize(
    ("by", "filter_"),
    [
        (["KIND"], None),
        (["COUNTRY"], None),
        (["KIND", "COUNTRY"], {"member": {"country": {"eq": "DE"}}}),
        (["KIND"], {"not": {"kind": {"eq": "COMPANY"}}}),
    ],
    ids=["by-kind", "by-country", "german-homes", "not-companies"],
)
async def test_organisation_counts_match_the_organisations_list(client, by, filter_):
    # when
    data = await client.data(ORGANISATIONS, {"by": by, "filter": filter_})

    # then: an organisation's country is its home member's
    nodes = [
        {"kind": node["kind"], "country": (node["member"] or {}).get("country")}
        for node in whole(data["organisations"])
    ]
    assert_counts_match(data["organisationCounts"], nodes, by)


@pytest.mark.parametrize(
    ("by", "filter_"),
    [
        (["YEAR", "STATUS"], None),
        (["KIND"], None),
        (["YEAR", "KIND", "STATUS"], {"status": {"eq": "REQUESTED"}}),
    ],
    ids=["by-year-and-status", "by-kind", "requested"],
)
async def test_event_counts_match_the_events_list(client, by, filter_):
    # when
    data = await client.data(EVENTS, {"by": by, "filter": filter_})

    # then: an event is counted in the year it began, an undated one under null
    nodes = [year(node) for node in whole(data["events"])]
    assert_counts_match(data["eventCounts"], nodes, by)


@pytest.fixture
async def synthetic_client(databases) -> Client:
    """A hub with partnerships, begun in several years (the seed has none)."""
    database = await databases.create()
    await synthetic.fill(database.engine, members=30, organisations=1)
    return Client(database, database.settings())


@pytest.mark.parametrize("by", [["YEAR", "STATUS"], ["KIND", "YEAR"]], ids=["year-status", "kind"])
async def test_partnership_counts_match_the_partnerships_list(synthetic_client, by):
    # when
    data = await synthetic_client.data(PARTNERSHIPS, {"by": by})

    # then
    nodes = [year(node) for node in whole(data["partnerships"])]
    assert_counts_match(data["partnershipCounts"], nodes, by)


async def test_counting_by_nothing_is_refused(client):
    errors = await client.errors(MEMBER_COUNTS, {"by": []})
    assert errors[0]["extensions"]["code"] == "INVALID_ARGUMENT"
