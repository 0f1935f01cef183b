"""Popolo JSON (popoloproject.com): `persons`, `organizations`, `memberships`, `posts`,
`events` and `areas`, each a top-level array and each optional.

The file is read twice, streaming both times (the stream is seekable): the first pass indexes
what the records refer to (the ids of persons, organizations and areas, the posts), the second
maps each record to an `alliance-feed/1` item. Every array is streamed element by element with
ijson, so only the index and one record are in memory. Because the first pass reads the whole
file, a file that is malformed, truncated or not UTF-8 fails before any item is yielded.

Mapping:
- organizations -> `member` when `classification` says city, municipality, town, district,
  county, region, state, province or city network; else `organisation` (kind from the
  classification where it maps, else `other`). `parent_id`, `area_id`, `founding_date`,
  `dissolution_date`, `identifiers` ([{scheme, identifier}]), `links` and `sources` follow.
- persons -> `person`: name, sort_name (or "family, given"), honorific_prefix, other_names,
  contact_details, identifiers, summary (or biography) as plain text.
- memberships of persons -> `post` (organization from `organization_id` or the post's;
  label from the membership, the post, or the role). Posts themselves are not items.
- events -> `event` (kind from classification, else `other`; status from `status`, else
  `held` when it started before today, else `planned`; `organization_id` as organiser).
- areas -> `member` when their classification names a city or region; other areas are skipped.

Messy files are accepted: unknown keys are ignored, empty strings and nulls dropped, HTML in
texts stripped, ids of any characters kept as given (trimmed), names given only as `name`
used, dates `2016`, `2016-04`, `2016-04-25` or `2016-04-25T00:00:00Z` (the date part kept).
Quarantined as `ItemError`: a record without id, an invalid date, a membership whose person,
organization or post is not in the file, a membership of an organization (not a person), a
record the `alliance-feed/1` schema refuses (such as a member whose country cannot be told).
A UTF-8 byte order mark is skipped (real Popolo files have them); other fatal problems raise
`FeedFormatError` as for `alliance-feed/1`.

Longer than 300 lines because each of Popolo's arrays maps to items in a way of its own.
"""

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, BinaryIO

import ijson

from store import partial_date
from store.errors import InvalidPartialDate

from ..errors import FeedFormatError
from ..items import FeedMeta, Item, ItemError
from . import _check, _json
from ._base import OnePass, snippet

ARRAYS = ("persons", "organizations", "memberships", "posts", "events", "areas")
MEMBER_KINDS = {
    "city": "city",
    "municipality": "city",
    "town": "city",
    "district": "district",
    "county": "district",
    "borough": "district",
    "region": "region",
    "state": "region",
    "province": "region",
    "city network": "city_network",
    "city_network": "city_network",
}
ORGANISATION_KINDS = {
    "company": "company",
    "corporation": "company",
    "business": "company",
    "economic development agency": "economic_development_agency",
    "utility": "utility",
    "research institution": "research_institution",
    "research institute": "research_institution",
    "university": "research_institution",
    "research alliance": "research_alliance",
    "association": "association",
    "ngo": "association",
    "government": "government",
    "executive": "government",
    "legislature": "government",
    "ministry": "government",
    "council": "government",
    "secretariat": "secretariat",
}
EVENT_KINDS = {
    "plenary": "plenary",
    "plenary session": "plenary",
    "accession ceremony": "accession_ceremony",
    "ceremony": "accession_ceremony",
    "delegation visit": "delegation_visit",
    "visit": "delegation_visit",
    "trade fair": "trade_fair",
    "fair": "trade_fair",
    "exhibition": "trade_fair",
    "meeting": "meeting",
    "session": "meeting",
    "sitting": "meeting",
}
EVENT_STATUSES = {
    "requested": "requested",
    "planned": "planned",
    "scheduled": "planned",
    "confirmed": "planned",
    "tentative": "planned",
    "held": "held",
    "passed": "held",
    "completed": "held",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}
SHORT_NAME_NOTES = ("abbreviation", "acronym", "short")
_OCD_COUNTRY = re.compile(r"ocd-division/country:([a-z]{2})(?![a-z])", re.IGNORECASE)


def parse(stream: BinaryIO, *, lang: str = "und") -> "Popolo":
    """Read `stream` as Popolo JSON. `lang` is the language of its names (`und`: unknown)."""
    return Popolo(stream, lang)


class Quarantine(Exception):
    """A record that makes no sense; its message says why."""


@dataclass
class Index:
    """What the first pass learns: which ids exist, and what they will become."""

    persons: set[str] = field(default_factory=set)
    organizations: dict[str, str] = field(default_factory=dict)  # id -> item type
    areas: dict[str, str | None] = field(default_factory=dict)  # member areas: id -> country
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    arrays: set[str] = field(default_factory=set)

    def add(self, array: str, record: dict[str, Any]) -> None:
        self.arrays.add(array)
        record_id = _id(record)
        if record_id is None:
            return
        if array == "persons":
            self.persons.add(record_id)
        elif array == "organizations":
            self.organizations[record_id] = "member" if _member_kind(record) else "organisation"
        elif array == "areas" and _member_kind(record):
            self.areas[record_id] = _country(record, self)
        elif array == "posts":
            self.posts[record_id] = record


class Popolo(OnePass):
    def __init__(self, stream: BinaryIO, lang: str):
        super().__init__(FeedMeta(format="popolo", complete=True))
        self._stream = stream
        self._lang = lang

    def _read(self) -> Iterator[Item | ItemError]:
        index = Index()
        for array, _, record in self._records():
            if isinstance(record, dict):
                index.add(array, _clean(record))
        if not index.arrays:
            raise FeedFormatError(
                f"top level: none of {', '.join(ARRAYS)} is there: not a Popolo file"
            )
        mapper = _Mapper(index, self._lang)
        for array, position, record in self._records():
            if array != "posts":
                mapped = mapper.item(array, f"{array}[{position}]", record)
                if mapped is not None:
                    yield mapped

    def _records(self) -> Iterator[tuple[str, int, Any]]:
        """(array, index, record) for every element of the known top-level arrays."""
        start = _json.skip_bom(self._stream, allow_utf8_bom=True)
        try:
            events = _json.object_events(self._stream)
            for _, event, key in events:
                if event != "map_key":
                    continue
                first = next(events)
                if key in ARRAYS and first[1] == "start_array":
                    position = 0
                    for element in events:
                        if element[1] == "end_array":
                            break
                        yield key, position, _json.value(events, element)
                        position += 1
                elif key in ARRAYS and first[1] != "null":
                    raise FeedFormatError(f"{key}: expected an array, found {_json.kind(first[1])}")
                else:
                    _json.value(events, first)
        except ijson.JSONError as exc:
            raise _json.located(self._stream, exc, start) from None


class _Mapper:
    def __init__(self, index: Index, lang: str):
        self.index = index
        self.lang = lang
        self.today = dt.date.today().isoformat()

    def item(self, array: str, position: str, raw: Any) -> Item | ItemError | None:
        """The item of one record, an ItemError, or None for a record left out on purpose."""
        if not isinstance(raw, dict):
            found = _json.kind_of(raw)
            return ItemError(
                position, f"expected an object, found {found}", stage="parse", snippet=snippet(raw)
            )
        record = _clean(raw)
        if array == "areas" and not _member_kind(record):
            return None  # a country, a constituency: not a member
        record_id = _id(record)
        item_type = self._type(array, record_id)
        if record_id is None and array == "memberships":
            record_id = _membership_id(record)
        try:
            if record_id is None:
                raise Quarantine(f"{array[:-1]} has no id")
            data = getattr(self, f"_{array}")(record)
            updated_at = _updated_at(record.get("updated_at"))
        except Quarantine as exc:
            return ItemError(position, str(exc), record_id, item_type, "validate", snippet(raw))
        problem = _check.data_problems(item_type, data)
        if problem:
            return ItemError(position, problem, record_id, item_type, "validate", snippet(raw))
        return Item(item_type, record_id, data, updated_at, position=position)

    def _type(self, array: str, record_id: str | None) -> str:
        if array == "organizations":
            return self.index.organizations.get(record_id, "organisation")
        types = {"persons": "person", "memberships": "post", "events": "event", "areas": "member"}
        return types[array]

    def _named(self, record: dict[str, Any], *, official: bool = True) -> dict[str, Any]:
        """`name`, `names` and `default_lang`; `name` is also an official name unless not
        `official` (a person's name is their `name`, their other names are `names`)."""
        data: dict[str, Any] = {}
        names = []
        if isinstance(record.get("name"), str):
            data["name"] = _plain(record["name"])
            if official:
                names.append({"value": data["name"], "lang": self.lang, "kind": "official"})
        for other in record.get("other_names") or []:
            name = self._other_name(other)
            if name and name["value"] != data.get("name") and name not in names:
                names.append(name)
        if names:
            data["names"] = names
        if self.lang != "und":
            data["default_lang"] = self.lang
        return data

    def _other_name(self, other: Any) -> dict[str, str] | None:
        if not isinstance(other, dict) or not isinstance(other.get("name"), str):
            return None
        note = str(other.get("note", "")).casefold()
        if "end_date" in other:
            _date(other["end_date"], "other_names.end_date")
            kind = "former"
        elif any(word in note for word in SHORT_NAME_NOTES):
            kind = "short"
        elif "translit" in note:
            kind = "transliteration"
        else:
            kind = "alias"
        lang = other.get("lang") if isinstance(other.get("lang"), str) else self.lang
        return {"value": _plain(other["name"]), "lang": lang, "kind": kind}

    def _common(self, record: dict[str, Any]) -> dict[str, Any]:
        data = {"identifiers": _identifiers(record), "sources": _sources(record)}
        return {key: value for key, value in data.items() if value}

    def _organizations(self, record: dict[str, Any]) -> dict[str, Any]:
        kind = _member_kind(record)
        data = self._named(record)
        parent = _ref(record.get("parent_id"))
        area = _ref(record.get("area_id"))
        if kind:
            data.update(kind=kind, country=self._country_of(record, kind))
            if parent and self.index.organizations.get(parent) == "member":
                data["parent"] = parent
        else:
            classification = str(record.get("classification", "")).casefold()
            data["kind"] = ORGANISATION_KINDS.get(classification, "other")
            if parent and self.index.organizations.get(parent) == "member":
                data["member"] = parent
            elif parent:
                data["parent"] = parent
            if area and area in self.index.areas and "member" not in data:
                data["member"] = area
            for key, target in (
                ("founding_date", "founded_on"),
                ("dissolution_date", "dissolved_on"),
            ):
                if key in record:
                    data[target] = _date(record[key], key)
            description = record.get("description") or record.get("summary")
            if isinstance(description, str) and _plain(description):
                data["description"] = _plain(description)
        return data | self._common(record)

    def _country_of(self, record: dict[str, Any], kind: str) -> str:
        country = _country(record, self.index)
        if country is None:
            raise Quarantine(
                f"cannot tell the country of {kind} {record.get('name', '')!r}: give `country`"
                " (ISO 3166-1 alpha-2), an OCD division id, or an `area_id` of an area with one"
            )
        return country

    def _areas(self, record: dict[str, Any]) -> dict[str, Any]:
        kind = _member_kind(record)
        data = self._named(record) | {"kind": kind, "country": self._country_of(record, kind)}
        parent = _ref(record.get("parent_id"))
        if parent and parent in self.index.areas:
            data["parent"] = parent
        return data | self._common(record)

    def _persons(self, record: dict[str, Any]) -> dict[str, Any]:
        data = self._named(record, official=False)
        sort_name = record.get("sort_name")
        if not sort_name and "family_name" in record and "given_name" in record:
            sort_name = f"{record['family_name']}, {record['given_name']}"
        if isinstance(sort_name, str):
            data["sort_name"] = _plain(sort_name)
        if isinstance(record.get("honorific_prefix"), str):
            data["honorific_prefix"] = _plain(record["honorific_prefix"])
        text = record.get("summary") or record.get("biography")
        if isinstance(text, str) and _plain(text):
            data["description"] = _plain(text)
        contacts = [
            {k: str(v) for k, v in c.items() if k in ("type", "value", "label", "note")}
            for c in record.get("contact_details") or []
            if isinstance(c, dict) and "type" in c and "value" in c
        ]
        if contacts:
            data["contact_details"] = contacts
        return data | self._common(record)

    def _memberships(self, record: dict[str, Any]) -> dict[str, Any]:
        person = _ref(record.get("person_id"))
        member = record.get("member")
        if person is None and isinstance(member, dict):
            member_type = str(member.get("@type") or member.get("type") or "").casefold()
            if member_type == "organization":
                raise Quarantine(
                    "membership of an organization: only memberships of persons become posts"
                )
            person = _ref(member.get("id"))
        if person is None:
            raise Quarantine("membership has no person_id")
        if person not in self.index.persons:
            raise Quarantine(f"person_id {person!r} is not a person in this file")
        post_id = _ref(record.get("post_id"))
        post: dict[str, Any] = {}
        if post_id is not None:
            if post_id not in self.index.posts:
                raise Quarantine(f"post_id {post_id!r} is not a post in this file")
            post = self.index.posts[post_id]
        organization = _ref(record.get("organization_id")) or _ref(post.get("organization_id"))
        if organization is None:
            raise Quarantine("membership names no organization (organization_id or a post's)")
        if organization not in self.index.organizations:
            raise Quarantine(
                f"organization_id {organization!r} is not an organization in this file"
            )
        holder = self.index.organizations[organization]
        role = record.get("role") or post.get("role")
        label = record.get("label") or post.get("label") or role or "member"
        data: dict[str, Any] = {"person": person, holder: organization, "label": _plain(str(label))}
        if isinstance(role, str):
            data["role"] = _plain(role)
        for key in ("start_date", "end_date"):
            if key in record:
                data[key] = _date(record[key], key)
        return data | self._common(record)

    def _events(self, record: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(record.get("name"), str):
            raise Quarantine("event has no name")
        classification = str(record.get("classification", "")).casefold()
        data: dict[str, Any] = {
            "kind": EVENT_KINDS.get(classification, "other"),
            "title": _plain(record["name"]),
        }
        for key in ("start_date", "end_date"):
            if key in record:
                data[key] = _date(record[key], key)
        status = EVENT_STATUSES.get(str(record.get("status", "")).casefold())
        started = data.get("start_date") and data["start_date"] < self.today
        data["status"] = status or ("held" if started else "planned")
        if isinstance(record.get("description"), str) and _plain(record["description"]):
            data["description"] = _plain(record["description"])
        location = record.get("location")
        place = location.get("name") if isinstance(location, dict) else location
        if isinstance(place, str):
            data["place"] = _plain(place)
        organizer = _ref(record.get("organization_id"))
        if organizer:
            data["participants"] = [{"party": organizer, "role": "organiser"}]
        return data | self._common(record)


def _clean(value: Any) -> Any:
    """`value` with strings trimmed and empty strings, nulls, empty lists and objects dropped."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        cleaned = ((k, _clean(v)) for k, v in value.items())
        return {k: v for k, v in cleaned if v not in ("", None, [], {})}
    if isinstance(value, list):
        return [v for v in map(_clean, value) if v not in ("", None, [], {})]
    return value


def _id(record: dict[str, Any]) -> str | None:
    return _ref(record.get("id"))


def _ref(value: Any) -> str | None:
    """An id as given (ids are opaque: quotes, slashes, parentheses kept), or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    return None


def _membership_id(record: dict[str, Any]) -> str | None:
    """A stable id for a membership without one, from what identifies it."""
    member = record.get("member")
    person = record.get("person_id") or (member.get("id") if isinstance(member, dict) else None)
    parts = [
        person,
        record.get("organization_id") or record.get("post_id"),
        record.get("role") or record.get("label"),
        record.get("start_date"),
    ]
    if not parts[0] or not parts[1]:
        return None
    return "membership|" + "|".join(str(p or "") for p in parts)


def _member_kind(record: dict[str, Any]) -> str | None:
    classification = record.get("classification")
    if not isinstance(classification, str):
        return None
    return MEMBER_KINDS.get(" ".join(classification.casefold().replace("_", " ").split()))


def _country(record: dict[str, Any], index: Index) -> str | None:
    """The ISO alpha-2 country of a place: given, or read from an OCD division id, or the
    country of its area."""
    for key in ("country", "country_code"):
        value = record.get(key)
        if isinstance(value, str) and len(value) == 2 and value.isalpha():
            return value.upper()
    candidates = [record.get("id"), record.get("area_id"), record.get("division_id")]
    candidates += [
        i.get("identifier") for i in record.get("identifiers") or [] if isinstance(i, dict)
    ]
    for candidate in candidates:
        match = _OCD_COUNTRY.search(candidate) if isinstance(candidate, str) else None
        if match:
            return match.group(1).upper()
    area = _ref(record.get("area_id"))
    return index.areas.get(area) if area else None


def _date(value: Any, key: str) -> str:
    """A Popolo date as a partial date: the date part of a timestamp, checked on the calendar."""
    text = str(value).strip()
    text = re.split(r"[T ]", text, maxsplit=1)[0]
    try:
        return partial_date.parse(text)
    except InvalidPartialDate as exc:
        raise Quarantine(f"{key}: {exc}") from None


def _updated_at(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    text = str(value)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
        return _check.timestamp(text)
    except ValueError:
        raise Quarantine(f"updated_at: {text!r} is not a date and time with an offset") from None


def _identifiers(record: dict[str, Any]) -> list[dict[str, str]]:
    found = []
    for identifier in record.get("identifiers") or []:
        if isinstance(identifier, dict) and "scheme" in identifier and "identifier" in identifier:
            found.append(
                {"scheme": str(identifier["scheme"]), "value": str(identifier["identifier"])}
            )
    return found


def _sources(record: dict[str, Any]) -> list[dict[str, str]]:
    found = []
    for source in (record.get("sources") or []) + (record.get("links") or []):
        if isinstance(source, dict):
            kept = {k: _plain(str(source[k])) for k in ("url", "note") if k in source}
            if kept and kept not in found:
                found.append(kept)
    return found


def _plain(text: str) -> str:
    """Plain text from text that may hold HTML: tags dropped, entities decoded, blank lines
    and runs of spaces collapsed."""
    if "<" not in text and "&" not in text:
        return " ".join(text.split())
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


class _TextOnly(HTMLParser):
    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}
    HIDDEN = {"script", "style"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.hidden += tag in self.HIDDEN
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self.HIDDEN and self.hidden > 0
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)
