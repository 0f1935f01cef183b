"""`alliance-feed/1`: the schema, the items of a real-looking feed, and every way a feed breaks."""

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from sync.errors import FeedFormatError
from sync.formats import _check, alliance_feed, csv, parser_for, popolo
from sync.items import Item, ItemError, checked
from tests.factories import member

FIXTURES = Path(__file__).parent / "fixtures"
FEED = FIXTURES / "kaiserslautern.alliance-feed.json"
T = "2026-11-20T10:00:00Z"


def read(body: bytes) -> tuple[list[Item], list[ItemError], alliance_feed.AllianceFeed]:
    parsed = alliance_feed.parse(io.BytesIO(body))
    entries = list(checked(parsed))
    return (
        [e for e in entries if isinstance(e, Item)],
        [e for e in entries if isinstance(e, ItemError)],
        parsed,
    )


def feed(*items, **envelope) -> bytes:
    document = {"format": "alliance-feed/1", **envelope, "items": list(items)}
    return json.dumps(document, ensure_ascii=False).encode()


def only_error(*items) -> ItemError:
    _, errors, _ = read(feed(*items))
    assert len(errors) == 1, errors
    return errors[0]


# --- the interface --------------------------------------------------------------------------


def test_parser_for_names_each_format():
    assert parser_for("alliance-feed/1") is alliance_feed.parse
    assert parser_for("popolo") is popolo.parse
    assert parser_for("csv") is csv.parse


def test_parser_for_refuses_an_unknown_format():
    with pytest.raises(FeedFormatError, match=r"unknown feed format 'atom'.*alliance-feed/1"):
        parser_for("atom")


def test_a_parsed_feed_is_read_once():
    parsed = alliance_feed.parse(io.BytesIO(feed(member())))
    assert len(list(parsed)) == 1
    with pytest.raises(RuntimeError, match="only once"):
        list(parsed)


# --- the schema -----------------------------------------------------------------------------


def test_the_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(_check.SCHEMA)
    assert _check.SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


CONDITIONS = {"if", "then", "else", "allOf", "anyOf", "oneOf"}  # restate, never add, properties


def _undocumented(node, path="#"):
    if isinstance(node, dict):
        for group in ("properties", "patternProperties", "$defs"):
            for name, schema in (node.get(group) or {}).items():
                if isinstance(schema, dict) and not schema.get("description"):
                    yield f"{path}/{group}/{name}"
        for key, value in node.items():
            if key not in CONDITIONS:
                yield from _undocumented(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _undocumented(value, f"{path}/{index}")


def test_every_property_and_definition_of_the_schema_is_described():
    assert list(_undocumented(_check.SCHEMA)) == []


def test_the_schema_vocabularies_are_the_stores():
    from store import enums

    defs = _check.SCHEMA["$defs"]
    assert defs["item"]["properties"]["type"]["enum"] == list(_check.ITEM_TYPES)
    pairs = [
        (defs["member_data"]["properties"]["kind"], enums.MemberKind),
        (defs["organisation_data"]["properties"]["kind"], enums.OrganisationKind),
        (defs["partnership_data"]["properties"]["kind"], enums.PartnershipKind),
        (defs["partnership_data"]["properties"]["status"], enums.PartnershipStatus),
        (defs["event_data"]["properties"]["kind"], enums.EventKind),
        (defs["event_data"]["properties"]["status"], enums.EventStatus),
        (defs["membership"]["properties"]["status"], enums.MembershipStatus),
        (defs["name"]["properties"]["kind"], enums.NameKind),
    ]
    for schema, vocabulary in pairs:
        assert schema["enum"] == [v.value for v in vocabulary]


SAMPLES = [
    member(),
    {**member(), "data": {"kind": "city", "country": "DE", "name": "Kaiserslautern"}},
    member(names=[{"value": "凯泽斯劳滕", "lang": "zh-Hans", "kind": "official"}]),
    member(**{"x-note": "extension"}),
    member(kind="town"),
    member(country="de"),
    member(latitude=91),
    member(population=-1),
    member(nmes=[]),
    member(identifiers=[{"scheme": "wikidata", "value": "3832"}]),
    member(identifiers=[{"scheme": "ags", "value": "07312000"}]),
    {"type": "member", "id": "kl", "updated_at": T},
    {"type": "member", "id": "kl", "updated_at": T, "deleted": True},
    {"type": "member", "id": "", "updated_at": T, "deleted": True},
    {"type": "village", "id": "x", "updated_at": T, "data": {}},
    {
        "type": "post",
        "id": "p",
        "updated_at": T,
        "data": {"person": "a", "organisation": "b", "member": "c", "label": "x"},
    },
    {
        "type": "post",
        "id": "p",
        "updated_at": T,
        "data": {"person": "a", "member": "c", "label": "x"},
    },
    {
        "type": "event",
        "id": "e",
        "updated_at": T,
        "data": {
            "kind": "meeting",
            "status": "held",
            "title": "t",
            "participants": [{"role": "x"}],
        },
    },
    {
        "type": "partnership",
        "id": "p",
        "updated_at": "2026-11-20T10:00:00",
        "data": {"kind": "trade", "status": "active", "title": "t"},
    },
]


@pytest.mark.parametrize("raw", SAMPLES, ids=lambda raw: json.dumps(raw)[:60])
def test_the_fast_check_agrees_with_the_reference_validator(raw):
    reference = Draft202012Validator({"$defs": _check.SCHEMA["$defs"], "$ref": "#/$defs/item"})
    assert (_check.item_problems(raw) is None) == reference.is_valid(raw)


def test_an_item_whose_own_fields_are_right_leaves_the_check_of_its_data_for_later():
    good, bad = member("a"), member("b", kind="village")
    body = feed(good, bad, {**member("c"), "extra": 1})
    entries = list(alliance_feed.parse(io.BytesIO(body)))
    assert [type(e) for e in entries] == [Item, Item, ItemError]  # `extra` is refused at once
    assert entries[0].check() is None
    late = entries[1].check()
    assert (late.position, late.item_id, late.stage) == ("items[1]", "b", "validate")
    assert "village" in late.message
    assert [type(e) for e in checked(entries)] == [Item, ItemError, ItemError]


# --- a good feed ----------------------------------------------------------------------------


def test_the_kaiserslautern_feed():
    with FEED.open("rb") as stream:
        parsed = alliance_feed.parse(stream)
        entries = list(checked(parsed))
    items = [e for e in entries if isinstance(e, Item)]
    assert [(i.type, i.id) for i in items] == [
        ("alliance", "isa"),
        ("member", "kaiserslautern"),
        ("organisation", "wfk"),
        ("organisation", "swk"),
        ("organisation", "empolis"),
        ("organisation", "science-alliance"),
        ("person", "stefan-weiler"),
        ("person", "klaus-weichel"),
        ("person", "nico-au"),
        ("post", "weiler-wfk"),
        ("post", "weichel-ob"),
        ("event", "accession-2018-04-23"),
        ("event", "visit-shunyi-2018"),
        ("organisation", "old-co"),
        ("organisation", "wfk"),
    ]
    kaiserslautern = items[1]
    assert kaiserslautern.position == "items[1]"
    assert kaiserslautern.updated_at == dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)
    assert kaiserslautern.data["names"][1] == {
        "value": "凯泽斯劳滕",
        "lang": "zh-Hans",
        "kind": "official",
    }
    assert kaiserslautern.data["memberships"] == [
        {"alliance": "isa", "status": "member", "start_date": "2018-04-23"}
    ]
    weichel = items[10]
    assert weichel.data == {
        "person": "klaus-weichel",
        "member": "kaiserslautern",
        "label": "Oberbürgermeister",
        "role": "lord_mayor",
    }
    assert items[11].data["participants"][1] == {
        "person": "stefan-weiler",
        "role": "head_of_delegation",
        "on_behalf_of": "klaus-weichel",
    }


def test_the_envelope_fills_meta_even_after_the_items():
    with FEED.open("rb") as stream:
        parsed = alliance_feed.parse(stream)
        list(parsed)
    meta = parsed.meta
    assert meta.format == "alliance-feed/1"
    assert meta.publisher == {
        "id": "wfk-kaiserslautern",
        "name": "WFK Kaiserslautern",
        "url": "https://feeds.example.org/wfk",
    }
    assert meta.generated_at == dt.datetime(2026, 11, 25, 8, tzinfo=dt.UTC)
    assert meta.complete is True
    assert meta.cursor == "2026-11-25T08:00:00Z"  # after `items` in the file
    assert meta.next is None


def test_a_tombstone_needs_no_data():
    with FEED.open("rb") as stream:
        items = [e for e in checked(alliance_feed.parse(stream)) if isinstance(e, Item)]
    old = next(i for i in items if i.id == "old-co")
    assert old.deleted is True
    assert old.data == {}
    assert old.updated_at == dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC)


def test_a_duplicate_is_yielded_again_in_feed_order():
    with FEED.open("rb") as stream:
        items = [e for e in checked(alliance_feed.parse(stream)) if isinstance(e, Item)]
    first, second = [i for i in items if (i.type, i.id) == ("organisation", "wfk")]
    assert (first.position, second.position) == ("items[2]", "items[16]")
    assert second.updated_at > first.updated_at
    assert second.data["description"] == "Led the city's accession to the ISA."


def test_the_bad_items_of_the_feed_are_quarantined_with_their_place():
    with FEED.open("rb") as stream:
        errors = [e for e in checked(alliance_feed.parse(stream)) if isinstance(e, ItemError)]
    assert [(e.position, e.item_type, e.item_id) for e in errors] == [
        ("items[11]", "post", "au-wfk"),
        ("items[14]", "member", "huanyan"),
    ]
    date, kind = errors
    assert "data.start_date" in date.message and "2018-02-30" in date.message
    assert "not on the calendar" in date.message
    assert "data.kind" in kind.message and "'town' is not one of" in kind.message
    assert date.stage == kind.stage == "validate"
    assert date.snippet.startswith('{"type": "post", "id": "au-wfk"')
    assert len(date.snippet) <= 200


def test_an_extension_key_is_accepted():
    with FEED.open("rb") as stream:
        items = {i.id: i for i in checked(alliance_feed.parse(stream)) if isinstance(i, Item)}
    assert items["science-alliance"].data["x-internal-code"] == "SA-1"


def test_numbers_are_plain_python_numbers():
    items, _, _ = read(feed(member(latitude=49.44, longitude=7.77, population=99845)))
    assert items[0].data["latitude"] == 49.44 and isinstance(items[0].data["latitude"], float)
    assert items[0].data["population"] == 99845


# --- bad items ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"type": "member", "id": "kl", "data": member()["data"]}, "'updated_at' is a required"),
        ({**member(), "updated_at": "2026-11-20T10:00:00"}, "updated_at"),
        ({**member(), "updated_at": "2026-02-30T10:00:00Z"}, "updated_at"),
        ({**member(), "deleted": "yes"}, "deleted: 'yes' is not of type 'boolean'"),
        ({**member(), "type": "village"}, "type: 'village' is not one of"),
        ({**member(), "id": "  "}, "id: '  ' does not match"),
        ({**member(), "id": 42}, "id: 42 is not of type 'string'"),
        ({"type": "member", "id": "kl", "updated_at": T}, "'data' is a required property"),
        (member(kind="town"), "data.kind: 'town' is not one of"),
        (member(country="Deutschland"), "data.country: 'Deutschland' does not match"),
        (member(latitude=91), "data.latitude: 91 is greater than the maximum of 90"),
        (member(population=1.5), "data.population: 1.5 is not of type 'integer'"),
        (member(nmes=[]), "data: unknown field 'nmes' (known: name, names, default_lang, kind"),
        (member(names=[{"value": "KL", "lang": "de"}]), "data.names[0]: 'kind' is a required"),
        (
            member(names=[{"value": "KL", "lang": "Deutsch!", "kind": "short"}]),
            "data.names[0].lang",
        ),
        (
            member(identifiers=[{"scheme": "wikidata", "value": "3832"}]),
            "data.identifiers[0].value",
        ),
        (
            member(
                memberships=[{"alliance": "isa", "status": "member", "start_date": "2018-4-23"}]
            ),
            "data.memberships[0].start_date: '2018-4-23' does not match",
        ),
        (
            member(
                memberships=[{"alliance": "isa", "status": "member", "start_date": "2018-02-30"}]
            ),
            "data.memberships[0].start_date: '2018-02-30' is not on the calendar",
        ),
        (
            member(
                memberships=[
                    {
                        "alliance": "isa",
                        "status": "member",
                        "start_date": "2018-04",
                        "end_date": "2017",
                    }
                ]
            ),
            "data.memberships[0].end_date: '2017' is before start_date '2018-04'",
        ),
        (
            {
                "type": "post",
                "id": "p",
                "updated_at": T,
                "data": {"person": "a", "organisation": "wfk", "member": "kl", "label": "x"},
            },
            "data: has organisation and member; give exactly one of organisation, member",
        ),
        (
            {"type": "post", "id": "p", "updated_at": T, "data": {"person": "a", "label": "x"}},
            "data: needs exactly one of organisation, member",
        ),
        (
            {"type": "organisation", "id": "o", "updated_at": T, "data": {"kind": "company"}},
            "data: needs name or names",
        ),
        (
            {
                "type": "event",
                "id": "e",
                "updated_at": T,
                "data": {
                    "kind": "meeting",
                    "status": "held",
                    "title": "t",
                    "participants": [{"role": "x"}],
                },
            },
            "data.participants[0]: needs exactly one of party, person",
        ),
        (
            {
                "type": "event",
                "id": "e",
                "updated_at": T,
                "data": {"kind": "meeting", "status": "done", "title": "t"},
            },
            "data.status: 'done' is not one of",
        ),
        (
            {
                "type": "partnership",
                "id": "p",
                "updated_at": T,
                "data": {
                    "kind": "trade",
                    "status": "active",
                    "title": "t",
                    "start_date": "2019",
                    "end_date": "2018-12-31",
                },
            },
            "data.end_date: '2018-12-31' is before start_date '2019'",
        ),
        (
            {
                "type": "organisation",
                "id": "o",
                "updated_at": T,
                "data": {"kind": "company", "name": "X", "website": "ftp://x"},
            },
            "data.website: 'ftp://x' does not match",
        ),
    ],
)
def test_a_bad_item_is_an_item_error_that_says_why(raw, expected):
    error = only_error(raw)
    assert expected in error.message
    assert error.position == "items[0]"
    assert error.item_id == (raw.get("id") if isinstance(raw.get("id"), str) else None)
    assert error.snippet and len(error.snippet) <= 200


def test_an_item_that_is_not_an_object():
    error = only_error("kaiserslautern")
    assert (error.position, error.stage) == ("items[0]", "parse")
    assert error.message == "expected an object, found a string"


def test_a_snippet_is_cut_at_200_characters():
    error = only_error(member(kind="town", description="x" * 500))
    assert len(error.snippet) == 200 and error.snippet.endswith("…")


def test_valid_items_after_bad_ones_still_come():
    items, errors, _ = read(
        feed(member("a", kind="town"), "junk", member("b"), member("c", country=""))
    )
    assert [i.id for i in items] == ["b"]
    assert [i.position for i in items] == ["items[2]"]
    assert [e.position for e in errors] == ["items[0]", "items[1]", "items[3]"]


def test_an_end_of_period_in_the_same_year_is_not_before_its_start():
    items, errors, _ = read(
        feed(
            member(
                memberships=[
                    {
                        "alliance": "isa",
                        "status": "observer",
                        "start_date": "2017-06",
                        "end_date": "2017",
                    },
                ]
            )
        )
    )
    assert errors == [] and len(items) == 1


# --- fatal errors ---------------------------------------------------------------------------


def fatal(body: bytes) -> str:
    with pytest.raises(FeedFormatError) as caught:
        read(body)
    return str(caught.value)


def test_truncated_json_says_where_the_body_ends():
    body = feed(member("a"), member("b"))[:-30]
    message = fatal(body)
    assert message.startswith("truncated JSON")
    assert f"byte {len(body)}" in message and "line 1" in message


def test_malformed_json_names_byte_line_and_column():
    body = b'{"format": "alliance-feed/1",\n "items": [{"type": "member", "id": x}]}'
    message = fatal(body)
    offset = body.index(b"x}")
    column = offset - body.index(b"\n")
    assert f"malformed JSON at byte {offset} (line 2, column {column})" in message
    assert "invalid char" in message and '"id": x' in message


def test_malformed_json_deep_in_a_large_feed_is_found_exactly():
    good = json.dumps(member()).encode()
    body = b'{"format": "alliance-feed/1", "items": [' + b",\n".join([good] * 5000)
    body += b', {"type": "member" "id": "x"}]}'
    message = fatal(body)
    token = body.index(b'"id": "x"')  # yajl notices the error where the token `"id"` ends
    assert f"at byte {token + 3} (line 5000, column " in message
    assert "expect ',' or '}'" in message and '"type": "member" "id"' in message


def test_a_byte_order_mark_is_refused():
    message = fatal(b"\xef\xbb\xbf" + feed(member()))
    assert "byte 0" in message and "remove the byte order mark" in message


def test_utf16_is_refused():
    message = fatal(feed(member()).decode().encode("utf-16"))
    assert "UTF-16 byte order mark" in message and "UTF-8" in message


def test_latin1_is_refused_at_the_first_bad_byte():
    body = feed(member("kl", "Wirtschaftsförderung")).decode().encode("latin-1")
    message = fatal(body)
    offset = body.index("ö".encode("latin-1"))
    assert message.startswith(f"not UTF-8 at byte {offset} (line 1, column {offset + 1})")
    assert "0xF6" in message


def test_the_column_counts_characters_not_bytes():
    text = '{"format": "alliance-feed/1", "items": ["凯泽斯劳滕", x]}'
    message = fatal(text.encode())
    byte, column = text.encode().index(b"x"), text.index("x") + 1
    assert byte == column - 1 + 2 * len("凯泽斯劳滕")  # three bytes a character
    assert f"at byte {byte} (line 1, column {column})" in message


@pytest.mark.parametrize(
    "body, expected",
    [
        (b"", "truncated JSON: the body ends at byte 0"),
        (b"[]", "top level: expected a JSON object, found an array"),
        (b'"alliance-feed/1"', "top level: expected a JSON object, found a string"),
        (b'{"items": []}', "wrong format: the document has no `format`"),
        (b'{"format": "popolo", "items": []}', "wrong format: `format` is 'popolo'"),
        (
            b'{"format": "alliance-feed/2", "items": []}',
            "wrong format: `format` is 'alliance-feed/2'",
        ),
        (b'{"format": "alliance-feed/1"}', "items: the document has no `items` array"),
        (
            b'{"format": "alliance-feed/1", "items": {}}',
            "items: expected an array, found an object",
        ),
        (b'{"format": "alliance-feed/1", "items": null}', "items: expected an array, found null"),
        (
            b'{"format": "alliance-feed/1", "items": [], "items": []}',
            "the key 'items' occurs twice",
        ),
        (
            b'{"format": "alliance-feed/1", "items": [], "complete": "yes"}',
            "envelope: complete: 'yes' is not of type 'boolean'",
        ),
        (b'{"format": "alliance-feed/1", "items": [], "next": "ftp://x"}', "envelope: next"),
        (
            b'{"format": "alliance-feed/1", "items": [], "publisher": {"name": "WFK"}}',
            "envelope: publisher: 'id' is a required property",
        ),
        (
            b'{"format": "alliance-feed/1", "items": [], "generated_at": "yesterday"}',
            "envelope: generated_at: 'yesterday'",
        ),
        (
            b'{"format": "alliance-feed/1", "items": [], "generated_at": "2026-02-30T08:00:00Z"}',
            "envelope: generated_at",
        ),
        (b'{"format": "alliance-feed/1", "items": []} {}', "malformed JSON at byte 43"),
    ],
)
def test_a_feed_unusable_as_a_whole_raises_naming_the_place(body, expected):
    assert expected in fatal(body)


def test_a_wrong_format_stops_before_any_item_when_it_comes_first():
    parsed = alliance_feed.parse(
        io.BytesIO(b'{"format": "popolo", "items": [' + json.dumps(member()).encode() + b"]}")
    )
    entries = iter(parsed)
    with pytest.raises(FeedFormatError, match="wrong format"):
        next(entries)


def _in_last_item(body: bytes, old: bytes, new: bytes) -> bytes:
    head, tail = body.rsplit(old, 1)
    return head + new + tail


@pytest.mark.parametrize(
    "cut",
    [
        lambda body: body[:-40],  # truncated
        lambda body: _in_last_item(body, b'"kind": "city",', b'"kind": "city"'),  # malformed
        lambda body: _in_last_item(body, "Ü".encode(), "Ü".encode("latin-1")),  # not UTF-8
    ],
    ids=["truncated", "malformed", "latin-1"],
)
def test_a_body_broken_near_its_end_fails_before_any_item(cut):
    body = cut(feed(*(member(f"c{n}", f"Stadt c{n} Ü") for n in range(3000))))
    entries = iter(alliance_feed.parse(io.BytesIO(body)))
    with pytest.raises(FeedFormatError):
        next(entries)


def test_without_the_prescan_a_truncation_follows_the_items_before_it():
    body = feed(member("a"), member("b"), member("c"))[:-40]
    entries = iter(alliance_feed.parse(io.BytesIO(body), prescan=False))
    seen = []
    with pytest.raises(FeedFormatError, match="truncated JSON"):
        for entry in entries:
            seen.append(entry.id)
    assert seen == ["a", "b"]


def test_a_missing_format_is_known_only_at_the_end():
    entries = iter(alliance_feed.parse(io.BytesIO(json.dumps({"items": [member()]}).encode())))
    assert next(entries).id == "kl"
    with pytest.raises(FeedFormatError, match="no `format`"):
        next(entries)


def test_unknown_top_level_keys_are_skipped():
    body = json.dumps(
        {
            "x-stats": {"count": [1, 2]},
            "format": "alliance-feed/1",
            "items": [member()],
            "comment": "hello",
        }
    ).encode()
    items, errors, _ = read(body)
    assert [i.id for i in items] == ["kl"] and errors == []


# --- size -----------------------------------------------------------------------------------


class ReadSpy(io.FileIO):
    """A file that remembers the largest read, to show the body is never read whole."""

    largest = 0
    total = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.largest, self.total = max(self.largest, len(chunk)), self.total + len(chunk)
        return chunk

    def readinto(self, buffer):
        count = super().readinto(buffer)
        self.largest, self.total = max(self.largest, count or 0), self.total + (count or 0)
        return count


def test_a_feed_of_100000_items_streams(tmp_path):
    path = tmp_path / "big.json"
    with path.open("w", encoding="utf-8") as out:
        out.write('{"format": "alliance-feed/1", "items": [')
        for n in range(100_000):
            item = {
                "type": "organisation",
                "id": f"org-{n}",
                "updated_at": T,
                "data": {"kind": "company", "name": f"Firma {n}", "member": "kaiserslautern"},
            }
            out.write(("," if n else "") + json.dumps(item))
        out.write('], "cursor": "c-100000", "complete": true}')
    stream = ReadSpy(path)
    parsed = alliance_feed.parse(stream)
    count, last = 0, None
    for entry in parsed:
        assert isinstance(entry, Item), entry
        count, last = count + 1, entry
    assert count == 100_000
    assert last.position == "items[99999]" and last.id == "org-99999"
    assert parsed.meta.cursor == "c-100000" and parsed.meta.complete is True
    assert stream.total >= path.stat().st_size  # everything was read, through the spy ...
    assert stream.largest <= 64 * 1024  # ... in chunks, never whole
