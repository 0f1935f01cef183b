"""Counts grouped by a field, matching the lists they summarise."""

MEMBER_COUNTS = """
query Counts($by: [MemberGroup!]!, $filter: MemberFilter) {
  memberCounts(by: $by, filter: $filter) { country kind status count }
}
"""


async def test_members_by_country_and_status(client):
    data = await client.data(MEMBER_COUNTS, {"by": ["COUNTRY", "STATUS"]})
    counts = {(c["country"], c["status"]): c["count"] for c in data["memberCounts"]}
    # 17 German members and the 3 towns of "Drei gewinnt" (no membership of their own);
    # 11 Chinese members and the 3 places that asked for visits.
    assert counts == {("CN", None): 3, ("CN", "MEMBER"): 11, ("DE", None): 3, ("DE", "MEMBER"): 17}
    assert all(c["kind"] is None for c in data["memberCounts"])


async def test_counts_take_the_lists_filter(client):
    data = await client.data(MEMBER_COUNTS, {"by": ["KIND"], "filter": {"country": {"eq": "DE"}}})
    assert {c["kind"]: c["count"] for c in data["memberCounts"]} == {
        "CITY": 16,
        "CITY_NETWORK": 1,
        "REGION": 3,
    }


async def test_organisations_by_kind_and_events_by_year(client):
    data = await client.data("""{
      organisationCounts(by: [COUNTRY]) { country count }
      eventCounts(by: [YEAR, STATUS]) { year status count }
      partnershipCounts(by: [YEAR]) { year count }
    }""")
    assert data["organisationCounts"] == [{"country": "DE", "count": 5}]
    assert {(e["year"], e["status"]): e["count"] for e in data["eventCounts"]} == {
        (2018, "HELD"): 1,
        (None, "REQUESTED"): 3,
    }
    assert data["partnershipCounts"] == []


async def test_counting_by_nothing_is_refused(client):
    errors = await client.errors(MEMBER_COUNTS, {"by": []})
    assert errors[0]["extensions"]["code"] == "INVALID_ARGUMENT"
