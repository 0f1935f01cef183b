"""Typed filters with and/or/not, across relations, on the seeded ISA."""

import pytest

MEMBERS = """
query Members($filter: MemberFilter) {
  members(filter: $filter, first: 100) { totalCount nodes { slug } }
}
"""
ORGANISATIONS = """
query Organisations($filter: OrganisationFilter) {
  organisations(filter: $filter, first: 100) { nodes { slug } }
}
"""
EVENTS = """
query Events($filter: EventFilter) { events(filter: $filter, first: 100) { nodes { slug } } }
"""
PEOPLE = """
query People($filter: PersonFilter) { people(filter: $filter, first: 100) { nodes { slug } } }
"""
NEW_MEMBERS = {"kaiserslautern", "hildesheim", "goettingen", "ludwigshafen", "rhein-kreis-neuss"}


async def _slugs(client, query, filter_) -> set[str]:
    data = await client.data(query, {"filter": filter_})
    return {n["slug"] for n in next(iter(data.values()))["nodes"]}


async def test_members_by_country_and_kind(client):
    chinese_districts = await _slugs(
        client, MEMBERS, {"country": {"eq": "cn"}, "kind": {"eq": "DISTRICT"}}
    )
    assert chinese_districts == {"shunyi", "huanyan", "baoan", "nansha"}


async def test_members_of_the_alliance_joined_on_a_day(client):
    joined = await _slugs(
        client,
        MEMBERS,
        {
            "membership": {
                "alliance": "isa",
                "status": {"eq": "MEMBER"},
                "startDate": {"eq": "2018-04-23"},
            }
        },
    )
    assert joined == NEW_MEMBERS


async def test_partial_date_bounds_cover_their_whole_period(client):
    # "2016-04-25" lies inside 2016 and inside April 2016, and before 2017; "2016-08" is a
    # whole month of 2016, and not in April.
    in_2016 = await _slugs(client, MEMBERS, {"membership": {"startDate": {"eq": "2016"}}})
    in_april = await _slugs(client, MEMBERS, {"membership": {"startDate": {"eq": "2016-04"}}})
    in_august = await _slugs(client, MEMBERS, {"membership": {"startDate": {"eq": "2016-08"}}})
    up_to_2016 = await _slugs(client, MEMBERS, {"membership": {"startDate": {"lte": "2016"}}})
    after_2016 = await _slugs(client, MEMBERS, {"membership": {"startDate": {"gt": "2016"}}})
    assert "aachen" in in_april and len(in_april) == 12  # Aachen and the eleven founders
    assert in_august == {"nanchang", "maanshan", "baoan"}
    assert in_2016 == up_to_2016 == in_april | in_august
    assert after_2016 == NEW_MEMBERS | {"maoming", "deyang", "nansha"}


async def test_search_covers_every_name_in_every_language(client):
    assert await _slugs(client, MEMBERS, {"search": "凯泽斯"}) == {"kaiserslautern"}
    assert await _slugs(client, MEMBERS, {"search": "KOLN"}) == {"koeln"}  # no umlaut, any case
    assert await _slugs(client, MEMBERS, {"search": "Nuremberg"}) == {"nuernberg"}
    assert await _slugs(client, MEMBERS, {"search": "100%_"}) == set()  # wildcards are literal


async def test_and_or_not(client):
    either = await _slugs(
        client, MEMBERS, {"or": [{"slug": {"eq": "aachen"}}, {"slug": {"eq": "mainz"}}]}
    )
    assert either == {"aachen", "mainz"}
    german_not_new = await _slugs(
        client,
        MEMBERS,
        {
            "and": [{"country": {"eq": "DE"}}, {"membership": {"alliance": "isa"}}],
            "not": {"membership": {"startDate": {"eq": "2018-04-23"}}},
        },
    )
    assert len(german_not_new) == 12 and not german_not_new & NEW_MEMBERS


async def test_relation_filters(client):
    with_utility = await _slugs(client, MEMBERS, {"hasOrganisation": {"kind": {"eq": "UTILITY"}}})
    assert with_utility == {"kaiserslautern"}
    network = await _slugs(client, MEMBERS, {"parent": {"slug": {"eq": "drei-gewinnt"}}})
    assert network == {"ruesselsheim-am-main", "raunheim", "kelsterbach"}
    in_wfk = await _slugs(client, ORGANISATIONS, {"parent": {"slug": {"eq": "wfk-kaiserslautern"}}})
    assert in_wfk == {"wfk-internationalisierungsbuero"}
    energy = await _slugs(
        client, ORGANISATIONS, {"sector": "energy", "member": {"country": {"eq": "DE"}}}
    )
    assert energy == {"swk-kaiserslautern"}
    heads = await _slugs(
        client, PEOPLE, {"holdsPost": {"organisation": {"slug": {"startsWith": "wfk"}}}}
    )
    assert heads == {"stefan-weiler", "nico-au"}


async def test_events_by_participant_status_and_date(client):
    in_china = await _slugs(
        client,
        EVENTS,
        {
            "status": {"eq": "REQUESTED"},
            "participant": {"member": {"country": {"eq": "CN"}}},
        },
    )
    assert in_china == {"visit-request-shunyi", "visit-request-beijing", "visit-request-huanyan"}
    weiler = await _slugs(
        client, EVENTS, {"participant": {"person": {"slug": {"eq": "stefan-weiler"}}}}
    )
    assert weiler == {"isa-accession-2018-04-23"}
    undated = await _slugs(client, EVENTS, {"startDate": {"isNull": True}})
    assert len(undated) == 3


@pytest.mark.parametrize(
    ("filter_", "needle"),
    [
        ({"kind": {"eq": "VILLAGE"}}, "VILLAGE"),
        ({"country": {"eq": "Germany"}}, "country code"),
        ({"country": {"eq": "DE\n"}}, "country code"),
        ({"membership": {"startDate": {"gte": "2018-13"}}}, "not on the calendar"),
        ({"membership": {"startDate": {"gte": "April 2018"}}}, "YYYY"),
        ({"colour": {"eq": "red"}}, "colour"),
    ],
)
async def test_bad_filter_values_get_clear_errors(client, filter_, needle):
    errors = await client.errors(MEMBERS, {"filter": filter_})
    assert needle in errors[0]["message"]


EVERY_LIST = """
query Lists(
  $members: MemberFilter, $organisations: OrganisationFilter, $people: PersonFilter,
  $partnerships: PartnershipFilter, $events: EventFilter
) {
  members(filter: $members) { totalCount }
  organisations(filter: $organisations) { totalCount }
  people(filter: $people) { totalCount }
  partnerships(filter: $partnerships) { totalCount }
  events(filter: $events) { totalCount }
  memberCounts(by: [KIND], filter: $members) { count }
  alliance { members(filter: $members) { totalCount } }
}
"""
EVERY_ROW = {"and": []}
NO_ROW = {"or": []}


def _totals(data) -> dict[str, int]:
    found = {name: data[name]["totalCount"] for name in ("members", "organisations", "people")}
    found |= {name: data[name]["totalCount"] for name in ("partnerships", "events")}
    found["memberCounts"] = sum(c["count"] for c in data["memberCounts"])
    found["alliance.members"] = data["alliance"]["members"]["totalCount"]
    return found


async def _totals_for(client, filter_) -> dict[str, int]:
    names = ("members", "organisations", "people", "partnerships", "events")
    return _totals(await client.data(EVERY_LIST, dict.fromkeys(names, filter_)))


@pytest.mark.parametrize(
    ("filter_", "matches"),
    [
        ({"and": []}, "all"),
        ({"or": []}, "none"),
        ({"not": {}}, "none"),
        ({"not": {"and": []}}, "none"),
        ({"not": {"or": []}}, "all"),
        ({"or": [{}]}, "all"),
        ({"and": [{}, {"or": []}]}, "none"),
        ({"or": [{"or": []}, {"and": []}]}, "all"),
        ({"not": {"not": {}}}, "all"),
    ],
    ids=repr,
)
async def test_empty_and_or_not_follow_logic_in_every_list(client, filter_, matches):
    every = await _totals_for(client, None)
    assert every["members"] == 40 and every["events"] == 4 and every["alliance.members"] == 34

    found = await _totals_for(client, filter_)

    assert found == (every if matches == "all" else dict.fromkeys(every, 0))


async def test_empty_logic_inside_relation_filters(client):
    no_home = await _slugs(client, MEMBERS, {"hasOrganisation": {"or": []}})
    any_home = await _slugs(client, MEMBERS, {"hasOrganisation": {"and": []}})
    no_parent = await _slugs(client, MEMBERS, {"parent": {"not": {}}})

    assert no_home == set() and no_parent == set()
    assert any_home == {"kaiserslautern"}
