"""CSV feeds: a German export with BOM and `;`, the defaults, bad rows and unusable files."""

import datetime as dt
import io
from pathlib import Path

import pytest

from sync.errors import ConfigError, FeedFormatError
from sync.formats import _check, csv
from sync.items import Item, ItemError

STAEDTE = Path(__file__).parent / "fixtures" / "staedte.csv"
GERMAN_COLUMNS = {
    "Stadt": "name",
    "Land": "country",
    "Art": "kind",
    "QID": "identifiers.wikidata",
    "Name (zh)": "names.zh-Hans",
    "Einwohner": "population",
    "Breite": "latitude",
    "Länge": "longitude",
    "ISA-Status": "memberships.isa.status",
    "ISA seit": "memberships.isa.start_date",
    "Quelle": "sources.url",
}


def read(text: str | bytes, item_type: str = "member", **options) -> list[Item | ItemError]:
    body = text.encode() if isinstance(text, str) else text
    return list(csv.parse(io.BytesIO(body), item_type=item_type, **options))


@pytest.fixture(scope="module")
def staedte():
    with STAEDTE.open("rb") as stream:
        parsed = csv.parse(
            stream, item_type="member", columns=GERMAN_COLUMNS, id_column="Schlüssel"
        )
        entries = list(parsed)
    return entries, parsed


def test_the_german_file_reads_with_its_column_map(staedte):
    entries, parsed = staedte
    items = [e for e in entries if isinstance(e, Item)]
    assert [(i.id, i.position) for i in items] == [
        ("aachen", "line 2"),
        ("kaiserslautern", "line 3"),
        ("musterstadt", "line 4"),
        ("goettingen", "line 12"),  # after a row of two lines, bad rows and a blank line
    ]
    assert items[1].data == {
        "name": "Kaiserslautern",
        "names": [
            {"value": "Kaiserslautern", "lang": "en", "kind": "official"},
            {"value": "凯泽斯劳滕", "lang": "zh-Hans", "kind": "official"},
        ],
        "country": "DE",  # given as `de`
        "kind": "city",
        "identifiers": [{"scheme": "wikidata", "value": "Q3832"}],
        "memberships": [{"alliance": "isa", "status": "member", "start_date": "2018-04-23"}],
    }
    assert parsed.ignored_columns == ["Bemerkung"]
    assert parsed.meta.format == "csv" and parsed.meta.complete is True


def test_numbers_with_a_decimal_comma(staedte):
    entries, _ = staedte
    muster = next(e for e in entries if getattr(e, "id", None) == "musterstadt")
    assert (muster.data["population"], muster.data["latitude"], muster.data["longitude"]) == (
        12345,
        49.5,
        7.75,
    )
    assert muster.data["memberships"] == [
        {"alliance": "isa", "status": "observer", "start_date": "2017"}
    ]


def test_the_bad_rows_of_the_file(staedte):
    entries, _ = staedte
    errors = [
        (e.position, e.item_id, e.stage, e.message) for e in entries if isinstance(e, ItemError)
    ]
    assert errors == [
        ("line 6", "kurz", "parse", "expected 13 fields as in the header, found 4"),
        ("line 7", None, "validate", "no id: the column 'Schlüssel' is empty"),
        (
            "line 9",
            "falschland",
            "validate",
            "data.country: 'Deutschland' does not match '^[A-Z]{2}$' (The country, as an "
            "upper-case ISO 3166-1 alpha-2 code such as `DE` or `CN`.)",
        ),
        (
            "line 10",
            "falschdatum",
            "validate",
            "data.memberships[0].start_date: '2018-02-30' is not on the calendar: "
            "day is out of range for month",
        ),
        ("line 11", "viele", "validate", "population: 'viele' is not a whole number"),
    ]
    snippets = [e.snippet for e in entries if isinstance(e, ItemError)]
    assert snippets[0] == "kurz;Kurzstadt;DE;city"


def test_every_item_fits_the_alliance_feed_schema(staedte):
    entries, _ = staedte
    for item in (e for e in entries if isinstance(e, Item)):
        raw = {
            "type": item.type,
            "id": item.id,
            "updated_at": "2026-11-20T10:00:00Z",
            "data": item.data,
        }
        assert _check.item_problems(raw) is None


def test_columns_named_like_fields_map_to_themselves():
    entries = read(
        "id,Name,country,kind,names.zh-Hans,names.de.alias,identifiers.wikidata,parent,default_lang\r\n"
        "kl,Kaiserslautern,DE,city,凯泽斯劳滕,Kaiserslauten|K'lautern,Q3832,,de\r\n"
    )
    assert entries[0].data == {
        "name": "Kaiserslautern",
        "names": [
            {"value": "Kaiserslautern", "lang": "de", "kind": "official"},  # its default_lang
            {"value": "凯泽斯劳滕", "lang": "zh-Hans", "kind": "official"},
            {"value": "Kaiserslauten", "lang": "de", "kind": "alias"},
            {"value": "K'lautern", "lang": "de", "kind": "alias"},
        ],
        "country": "DE",
        "kind": "city",
        "identifiers": [{"scheme": "wikidata", "value": "Q3832"}],
        "default_lang": "de",
    }


def test_a_person_keeps_name_as_name():
    entries = read(
        'id,name,sort_name,honorific_prefix\nweiler,Stefan Weiler,"Weiler, Stefan",\n',
        item_type="person",
    )
    assert entries[0].data == {"name": "Stefan Weiler", "sort_name": "Weiler, Stefan"}


def test_posts_organisations_and_lists():
    posts = read(
        "id;person;organisation;label;start_date\nweiler-wfk;stefan-weiler;wfk;Geschäftsführer;2016\n",
        item_type="post",
    )
    assert posts[0].data == {
        "person": "stefan-weiler",
        "organisation": "wfk",
        "label": "Geschäftsführer",
        "start_date": "2016",
    }
    organisations = read(
        "id,name,kind,sectors,website\nempolis,Empolis,company,software | AI,https://x.example\n",
        item_type="organisation",
    )
    assert organisations[0].data["sectors"] == ["software", "AI"]


def test_updated_at_and_tombstones():
    entries = read(
        "id,name,kind,updated_at,deleted\n"
        "old-co,,,2026-11-21T09:00:00+01:00,ja\n"
        "new-co,New,company,2026-11-21,nein\n"
        "bad-co,Bad,company,gestern,\n"
        "odd-co,Odd,company,,vielleicht\n",
        item_type="organisation",
    )
    old, new, bad, odd = entries
    assert old.deleted is True and old.data == {}  # a tombstone needs no data
    assert old.updated_at == dt.datetime(2026, 11, 21, 8, tzinfo=dt.UTC)
    assert new.deleted is False and new.updated_at == dt.datetime(2026, 11, 21, tzinfo=dt.UTC)
    assert "updated_at: 'gestern'" in bad.message
    assert odd.message == "deleted: 'vielleicht' is neither true nor false"


def test_quoted_fields_hold_separators_quotes_and_line_breaks():
    entries = read(
        "id;name;kind;description\n"
        'a;"A; GmbH";company;"Sagt ""Hallo""\nund tschüss"\n'
        "b;B;company;\n",
        item_type="organisation",
    )
    assert entries[0].data["name"] == "A; GmbH"
    assert entries[0].data["description"] == 'Sagt "Hallo"\nund tschüss'
    assert entries[1].position == "line 4"


def test_a_stray_quote_spoils_only_its_row():
    entries = read('id,name,kind\na,"A"x,company\nb,B,company\n', item_type="organisation")
    assert isinstance(entries[0], ItemError) and entries[0].position == "line 2"
    assert "not valid CSV" in entries[0].message and entries[0].stage == "parse"
    assert entries[1].id == "b"


def test_the_separator_is_sniffed_from_the_header():
    assert read("id,name,kind,country\nkl,Kaiserslautern,city,DE\n")[0].data["country"] == "DE"
    assert read("id;name;kind;country\nkl;Kaiserslautern, Pfalz;city;DE\n")[0].data["name"] == (
        "Kaiserslautern, Pfalz"
    )


def test_a_byte_order_mark_is_optional():
    body = b"id,name,kind,country\nkl,Kaiserslautern,city,DE\n"
    assert read(b"\xef\xbb\xbf" + body)[0].id == read(body)[0].id == "kl"


@pytest.mark.parametrize(
    "body, options, expected",
    [
        (
            "id,name\nkl,Kaiserslautern\nlu,Ludwigshafen\ngö,Göttingen\n".encode("latin-1"),
            {},
            "line 4: not UTF-8: byte 0xF6 at column 2",
        ),
        (b"", {}, "line 1: the body is empty"),
        (b"\r\n", {}, "line 1: the body is empty"),
        (
            b"name,country\nKL,DE\n",
            {},
            "line 1: the header has no id column 'id' (it has name, country)",
        ),
        (
            b"id,Stadt\nkl,KL\n",
            {"columns": {"Stadt": "name", "Land": "country"}},
            "line 1: the header has no column from the column map 'Land'",
        ),
        (b"id,name,name\nkl,a,b\n", {}, "line 1: the header has the column 'name' twice"),
        (b"id,name\rkl,KL\r", {}, "line 1: the header is not valid CSV: new-line character"),
        (
            b'id,name\nkl,KL\nlu,"Ludwigshafen\nam Rhein\n',
            {},
            "line 3: a quoted field is not closed before the end of the body",
        ),
    ],
)
def test_a_file_unusable_as_a_whole_raises_naming_the_line(body, options, expected):
    with pytest.raises(FeedFormatError) as caught:
        read(body, **options)
    assert expected in str(caught.value)


def test_a_body_that_is_not_utf8_is_refused_before_any_row():
    body = b"id,name,kind,country\nkl,KL,city,DE\n" + "gö,Göttingen,city,DE\n".encode("latin-1")
    entries = iter(csv.parse(io.BytesIO(body), item_type="member"))
    with pytest.raises(FeedFormatError, match="line 3: not UTF-8: byte 0xF6 at column 2"):
        next(entries)


@pytest.mark.parametrize(
    "options, expected",
    [
        ({"item_type": "city"}, "item_type: 'city' is not one of alliance, member"),
        (
            {"item_type": "member", "columns": {"Stadt": "stadt"}},
            "columns: 'Stadt' maps to 'stadt', which is not a field of member items",
        ),
        (
            {"item_type": "member", "columns": {"X": "memberships.isa.since"}},
            "'memberships.isa.since'",
        ),
        (
            {"item_type": "person", "columns": {"X": "memberships.isa.status"}},
            "not a field of person",
        ),
        ({"item_type": "member", "columns": {"X": "names.de.nickname"}}, "'names.de.nickname'"),
        ({"item_type": "event", "columns": {"X": "participants"}}, "'participants'"),
    ],
)
def test_a_column_map_that_cannot_work_is_a_config_error(options, expected):
    with pytest.raises(ConfigError) as caught:
        csv.parse(io.BytesIO(b"id\n"), **options)
    assert expected in str(caught.value)
