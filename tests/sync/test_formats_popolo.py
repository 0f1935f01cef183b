"""Popolo JSON: a messy file mapped to items, what is quarantined, and what is fatal."""

import io
import json
from pathlib import Path

import pytest

from sync.errors import FeedFormatError
from sync.formats import _check, popolo
from sync.items import Item, ItemError

MESSY = Path(__file__).parent / "fixtures" / "messy.popolo.json"


def read_messy(**options) -> tuple[dict[str, Item], dict[str, ItemError], popolo.Popolo]:
    with MESSY.open("rb") as stream:
        parsed = popolo.parse(stream, **options)
        entries = list(parsed)
    items = {e.id: e for e in entries if isinstance(e, Item)}
    errors = {e.position: e for e in entries if isinstance(e, ItemError)}
    assert len(items) + len(errors) == len(entries), "an id occurs twice"
    return items, errors, parsed


def read(document) -> list[Item | ItemError]:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return list(popolo.parse(io.BytesIO(body)))


@pytest.fixture(scope="module")
def messy():
    return read_messy()


def test_each_record_becomes_an_item_of_its_type(messy):
    items, _, parsed = messy
    assert {(i.type, i.id) for i in items.values()} == {
        ("person", "ocd-person/0f1c2a"),
        ("person", "person(42)"),
        ("person", '"nico-au"'),
        ("person", "ocd-person/mustermann"),
        ("member", "ocd-organization/stadt-kaiserslautern"),
        ("organisation", '"Q123"'),
        ("organisation", "org(7)/beispiel"),
        ("member", "city-network/drei-gewinnt"),
        ("post", "membership|ocd-person/0f1c2a|post/wfk-gf||"),
        ("post", "m-weichel"),
        ("post", "m-au"),
        ("post", "m-dates"),
        ("event", "event/accession-2018"),
        ("event", "event/visit-request"),
        ("member", "ocd-division/country:de/state:rp/county:kaiserslautern"),
    }
    assert parsed.meta.format == "popolo" and parsed.meta.complete is True


def test_a_city_organization_becomes_a_member(messy):
    items, _, _ = messy
    city = items["ocd-organization/stadt-kaiserslautern"]
    assert city.position == "organizations[0]"
    assert city.data == {
        "name": "Stadt Kaiserslautern",
        "names": [
            {"value": "Stadt Kaiserslautern", "lang": "und", "kind": "official"},
            {"value": "凯泽斯劳滕", "lang": "zh-Hans", "kind": "alias"},
            {"value": "Kaiserslauten", "lang": "de", "kind": "alias"},
            {"value": "Kaiserslautern (alt)", "lang": "de", "kind": "former"},
        ],
        "kind": "city",
        "country": "DE",  # from the OCD division of its area_id
        "identifiers": [{"scheme": "wikidata", "value": "Q3832"}],  # those without scheme dropped
        "sources": [{"url": "https://www.kaiserslautern.de/", "note": "Website"}],  # from links
    }


def test_an_agency_with_a_quoted_id_and_a_city_parent(messy):
    items, _, _ = messy
    wfk = items['"Q123"']
    assert wfk.data["kind"] == "economic_development_agency"
    assert wfk.data["member"] == "ocd-organization/stadt-kaiserslautern"  # parent is a member
    assert "parent" not in wfk.data
    assert {"value": "WFK", "lang": "de", "kind": "short"} in wfk.data["names"]
    assert wfk.data["sources"] == [{"url": "https://feeds.example.org/wfk/press/2018-04-23"}]


def test_dates_keep_the_date_part_of_a_timestamp(messy):
    items, _, _ = messy
    assert items["org(7)/beispiel"].data["founded_on"] == "2016-04-25"
    dates = items["m-dates"].data
    assert (dates["start_date"], dates["end_date"]) == ("2016", "2017-03-31")
    assert items["event/accession-2018"].data["start_date"] == "2018-04-23"


def test_a_city_network_and_a_county_area(messy):
    items, _, _ = messy
    network = items["city-network/drei-gewinnt"].data
    assert (network["kind"], network["country"]) == ("city_network", "DE")
    county = items["ocd-division/country:de/state:rp/county:kaiserslautern"]
    assert (county.type, county.data["kind"], county.data["country"]) == (
        "member",
        "district",
        "DE",
    )
    assert county.position == "areas[0]"  # the country area, areas[1], is left out


def test_persons_are_cleaned(messy):
    items, _, _ = messy
    weiler = items["ocd-person/0f1c2a"].data
    assert weiler == {
        "name": "Stefan Weiler",
        "sort_name": "Weiler, Stefan",
        "description": "Managing director of WFK & head of the delegation.",  # HTML stripped
    }  # the empty contact detail, identifiers, email and image are gone
    weichel = items["person(42)"].data
    assert weichel["sort_name"] == "Weichel, Klaus"  # from family_name, given_name
    assert weichel["names"] == [
        {"value": "克劳斯·魏歇尔", "lang": "zh-Hans", "kind": "transliteration"}
    ]  # the other name equal to `name` is not repeated
    au = items['"nico-au"'].data
    assert au["name"] == "Nico Au"
    assert au["contact_details"] == [{"type": "voice", "value": "+49 631 0000000", "label": "Büro"}]
    mustermann = items["ocd-person/mustermann"]
    assert mustermann.data["honorific_prefix"] == "Dr."
    assert mustermann.data["description"] == "Test person,\ntwo lines."  # script dropped
    assert mustermann.updated_at.isoformat() == "2026-11-20T10:00:00+01:00"


def test_memberships_become_posts(messy):
    items, _, _ = messy
    weiler = items["membership|ocd-person/0f1c2a|post/wfk-gf||"]  # no id: made from its parts
    assert weiler.data == {
        "person": "ocd-person/0f1c2a",
        "organisation": '"Q123"',  # from the post
        "label": "Geschäftsführer",
        "role": "managing_director",
    }
    assert items["m-weichel"].data == {
        "person": "person(42)",
        "member": "ocd-organization/stadt-kaiserslautern",  # the organization is a city
        "label": "Oberbürgermeister",
        "role": "Oberbürgermeister",
    }
    assert items["m-au"].data == {
        "person": '"nico-au"',  # given as member: {"@type": "Person"}
        "organisation": '"Q123"',
        "label": "Projektleiter Internationalisierungsbüro",
    }


def test_events(messy):
    items, _, _ = messy
    accession = items["event/accession-2018"].data
    assert accession == {
        "kind": "accession_ceremony",
        "title": "Accession ceremony",
        "start_date": "2018-04-23",
        "status": "held",  # no status given, started in the past
        "place": "Hannover Messe",
        "participants": [{"party": '"Q123"', "role": "organiser"}],
    }
    visit = items["event/visit-request"].data
    assert visit == {
        "kind": "delegation_visit",
        "title": "Delegation visit request",
        "status": "requested",
    }


def test_what_makes_no_sense_is_quarantined(messy):
    _, errors, _ = messy
    found = {p: (e.item_type, e.item_id, e.message) for p, e in errors.items()}
    assert found == {
        "persons[4]": ("person", "p-nameless", "data: needs name or names"),
        "organizations[3]": ("organisation", None, "organization has no id"),
        "organizations[4]": (
            "organisation",
            "org/muster-ag",
            "dissolution_date: '2016-13' is not on the calendar: month must be in 1..12",
        ),
        "organizations[6]": (
            "member",
            "district/nowhere",
            "cannot tell the country of district 'Nowhere District': give `country` (ISO 3166-1 "
            "alpha-2), an OCD division id, or an `area_id` of an area with one",
        ),
        "memberships[3]": (
            "post",
            "m-ghost",
            "person_id 'ocd-person/ghost' is not a person in this file",
        ),
        "memberships[4]": (
            "post",
            "m-org",
            "membership of an organization: only memberships of persons become posts",
        ),
        "memberships[5]": (
            "post",
            "m-bad-date",
            "start_date: '2018-02-30' is not on the calendar: day is out of range for month",
        ),
        "memberships[7]": (
            "post",
            "m-unknown-post",
            "post_id 'post/none' is not a post in this file",
        ),
        "events[2]": ("event", "event/nameless", "event has no name"),
    }
    assert all(e.snippet and len(e.snippet) <= 200 for e in errors.values())


def test_items_after_a_bad_one_still_come():
    entries = read(
        {
            "organizations": [
                {"name": "no id"},
                {"id": "a", "name": "A", "founding_date": "2016-02-30"},
                {"id": "b", "name": "B"},
            ]
        }
    )
    assert [type(e).__name__ for e in entries] == ["ItemError", "ItemError", "Item"]
    assert entries[2].id == "b" and entries[2].data["kind"] == "other"


def test_every_item_fits_the_alliance_feed_schema(messy):
    items, _, _ = messy
    for item in items.values():
        raw = {
            "type": item.type,
            "id": item.id,
            "updated_at": "2026-11-20T10:00:00Z",
            "data": item.data,
        }
        assert _check.item_problems(raw) is None, (item.id, _check.item_problems(raw))


def test_the_language_of_a_file_can_be_given():
    items, _, _ = read_messy(lang="de")
    city = items["ocd-organization/stadt-kaiserslautern"].data
    assert city["default_lang"] == "de"
    assert city["names"][0] == {"value": "Stadt Kaiserslautern", "lang": "de", "kind": "official"}


def test_memberships_may_come_before_the_persons_they_name():
    entries = read(
        {
            "memberships": [
                {"id": "m", "person_id": "p", "organization_id": "o", "role": "Leiterin"}
            ],
            "organizations": [{"id": "o", "name": "O", "classification": "company"}],
            "persons": [{"id": "p", "name": "P"}],
        }
    )
    assert [(e.type, e.id) for e in entries] == [
        ("post", "m"),
        ("organisation", "o"),
        ("person", "p"),
    ]
    assert entries[0].data["organisation"] == "o"


def test_numeric_ids_become_strings():
    entries = read({"persons": [{"id": 42, "name": "P"}]})
    assert entries[0].id == "42"


def test_a_utf8_byte_order_mark_is_skipped():
    entries = read(b"\xef\xbb\xbf" + json.dumps({"persons": [{"id": "p", "name": "P"}]}).encode())
    assert [e.id for e in entries] == ["p"]


TRUNCATED = b'{"persons": [{"id": "p", "name": "P"}, {"id": "q"'
MALFORMED = b'{"persons": [{"id": "p", "name": P}]}'


@pytest.mark.parametrize(
    "body, expected",
    [
        (TRUNCATED, f"truncated JSON: the body ends at byte {len(TRUNCATED)}"),
        (MALFORMED, f"malformed JSON at byte {MALFORMED.index(b'P}')} (line 1, column 34)"),
        ('{"persons": [{"id": "p", "name": "Müller"}]}'.encode("latin-1"), "not UTF-8 at byte 35"),
        (b"[]", "top level: expected a JSON object, found an array"),
        (b'{"persons": {"p": {}}}', "persons: expected an array, found an object"),
        (b'{"format": "alliance-feed/1", "items": []}', "none of persons, organizations"),
        ('{"persons": []}'.encode("utf-16"), "UTF-16 byte order mark"),
    ],
)
def test_a_file_unusable_as_a_whole_raises_before_any_item(body, expected):
    entries = iter(popolo.parse(io.BytesIO(body)))
    with pytest.raises(FeedFormatError) as caught:
        next(entries)  # the first pass reads the whole file before the first item
    assert expected in str(caught.value)


def test_null_arrays_count_as_missing():
    assert read({"persons": None, "organizations": [{"id": "o", "name": "O"}]})[0].id == "o"
