"""CSV feeds: one item type per feed, one item per row, columns mapped to item fields.

Accepted: RFC 4180 (quoted fields may hold separators, quotes as `""` and line breaks), UTF-8
with or without a byte order mark, `,` or `;` as separator (whichever splits the header line
into more fields), blank lines (skipped). Each row becomes an `Item` at `line N`, N being the
line the row starts on.

Columns map to item fields through `columns` (feed column -> field); a column not in the map
whose header is already a field name (in any case: `Country` is `country`) maps to itself;
other columns are ignored and listed in `ignored_columns`. Fields:

- the scalar fields of the item type's `data` in `alliance-feed/1` (`kind`, `country`,
  `population`, `parent`, `website`, `start_date`, `label`, ...); `name` is the display name
  and, except for persons, also the official name in the row's `default_lang` (else `en`);
- `names.<lang>` (official) or `names.<lang>.<kind>`, e.g. `names.zh-Hans`, `names.de.alias`;
- `identifiers.<scheme>`, e.g. `identifiers.wikidata`;
- `memberships.<alliance>.<status|start_date|end_date>` for members;
- `sources.url` and `sources.note` (one source per row); `sectors`, `secretariats` (lists);
- `updated_at` (RFC 3339, or a date meaning its midnight UTC) and `deleted` (a tombstone
  when true, yes, 1, ja or x) for the item itself.

Cells may hold several values for names, identifiers and lists, separated by `|`. Numbers may
use a decimal comma (`49,44`). Empty cells are absent fields.

Refused: a row with a different number of fields than the header, a row without id, or a row
whose values the `alliance-feed/1` schema refuses -> `ItemError`. A body that is not UTF-8
(checked before the first row is yielded), an empty body, a header without the id column or
with a mapped column missing or doubled, a quoted field never closed -> `FeedFormatError`
naming the line. A column map naming a field the item type does not have -> `ConfigError`
when the parser is made.

Longer than 300 lines because the dialect, the column map and the cells of each item type
are one format's rules.
"""

import codecs
import csv as _csv
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from store.registry import ITEM_TYPES

from ..errors import ConfigError, FeedFormatError
from ..items import FeedMeta, Item, ItemError
from . import _check
from ._base import OnePass, snippet

BOM = b"\xef\xbb\xbf"
CHUNK = 64 * 1024
DELIMITERS = (",", ";")
LIST_SEPARATOR = "|"
ITEM_FIELDS = ("updated_at", "deleted")
LIST_FIELDS = ("sectors", "secretariats")
NAMED_TYPES = ("alliance", "member", "organisation", "person")
TRUE = {"true", "yes", "1", "ja", "x", "y"}
FALSE = {"false", "no", "0", "nein", "n"}
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def parse(
    stream: BinaryIO,
    *,
    item_type: str,
    columns: Mapping[str, str] | None = None,
    id_column: str = "id",
) -> "CsvFeed":
    """Read `stream` as CSV rows of `item_type`, with `columns` mapping feed columns to item
    fields and `id_column` naming the feed column that holds the item id."""
    return CsvFeed(stream, item_type, dict(columns or {}), id_column)


class CsvFeed(OnePass):
    def __init__(self, stream: BinaryIO, item_type: str, columns: dict[str, str], id_column: str):
        super().__init__(FeedMeta(format="csv", complete=True))
        if item_type not in ITEM_TYPES:
            raise ConfigError(f"item_type: {item_type!r} is not one of {', '.join(ITEM_TYPES)}")
        self._fields = _fields(item_type)
        for column, target in columns.items():
            if not self._fields.accepts(target):
                raise ConfigError(
                    f"columns: {column!r} maps to {target!r}, which is not a field of "
                    f"{item_type} items ({self._fields.summary()})"
                )
        self._stream = stream
        self._type = item_type
        self._columns = columns
        self._id_column = id_column
        self.ignored_columns: list[str] = []

    def _read(self) -> Iterator[Item | ItemError]:
        _check_utf8(self._stream)
        lines = _Lines(self._stream)
        header_line = next(lines, None)
        if header_line is None or not header_line.strip():
            raise FeedFormatError("line 1: the body is empty: no header line")
        try:
            delimiter = _delimiter(header_line)
            header = [h.strip() for h in next(_csv.reader([header_line], delimiter=delimiter))]
        except _csv.Error as exc:  # such as lines ending in a bare CR
            raise FeedFormatError(f"line 1: the header is not valid CSV: {exc}") from None
        targets = self._targets(header)
        reader = _csv.reader(lines, delimiter=delimiter, strict=True)
        while True:
            start = lines.number + 1
            lines.taken.clear()
            try:
                row = next(reader)
            except StopIteration:
                return
            except _csv.Error as exc:
                if lines.ended:
                    raise FeedFormatError(
                        f"line {start}: a quoted field is not closed before the end of the body"
                    ) from None
                yield ItemError(
                    f"line {start}",
                    f"not valid CSV: {exc}",
                    item_type=self._type,
                    stage="parse",
                    snippet=snippet(lines.text()),
                )
                continue
            if not any(cell.strip() for cell in row):
                continue
            yield self._item(row, header, targets, f"line {start}", lines.text())

    def _targets(self, header: list[str]) -> list[str | None]:
        """The field of each column (None: ignored); refuses a header that does not fit."""
        doubled = sorted({h for h in header if header.count(h) > 1})
        if doubled:
            raise FeedFormatError(f"line 1: the header has the column {doubled[0]!r} twice")
        missing = [c for c in [self._id_column, *self._columns] if c not in header]
        if missing:
            which = "id column" if missing[0] == self._id_column else "column from the column map"
            raise FeedFormatError(
                f"line 1: the header has no {which} {missing[0]!r} (it has {', '.join(header)})"
            )
        targets: list[str | None] = []
        for column in header:
            target = self._columns.get(column) or self._fields.own(column)
            targets.append(target)
            if target is None and column != self._id_column:
                self.ignored_columns.append(column)
        return targets

    def _item(
        self, row: list[str], header: list[str], targets: list[str | None], position: str, raw: str
    ) -> Item | ItemError:
        text = snippet(raw)
        if len(row) != len(header):
            id_index = header.index(self._id_column)
            return ItemError(
                position,
                f"expected {len(header)} fields as in the header, found {len(row)}",
                row[id_index].strip() or None if id_index < len(row) else None,
                self._type,
                stage="parse",
                snippet=text,
            )
        cells = dict(zip(header, (cell.strip() for cell in row), strict=True))
        item_id = cells[self._id_column] or None
        if item_id is None:
            return ItemError(
                position,
                f"no id: the column {self._id_column!r} is empty",
                item_type=self._type,
                snippet=text,
            )
        try:
            record = _Record(self._type, self._fields)
            for column, target in zip(header, targets, strict=True):
                if target and cells[column]:
                    record.set(target, cells[column])
            data, updated_at, deleted = record.finish()
        except ValueError as exc:
            return ItemError(position, str(exc), item_id, self._type, snippet=text)
        problem = None if deleted else _check.data_problems(self._type, data)
        if problem:
            return ItemError(position, problem, item_id, self._type, snippet=text)
        return Item(self._type, item_id, data, updated_at, deleted, position)


def _check_utf8(stream: BinaryIO) -> None:
    """Refuse a body that is not UTF-8 before any row is yielded, naming the line."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        stream.seek(0)
        for _ in _Lines(stream):  # raises FeedFormatError at the line that is not UTF-8
            pass
    stream.seek(0)


class _Lines:
    """The body's lines, decoded as UTF-8 one by one so an error names its line."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self.number = 0
        self.taken: list[str] = []  # the lines of the current row, for snippets
        self.ended = False

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        raw = self._stream.readline()
        if not raw:
            self.ended = True
            raise StopIteration
        self.number += 1
        if self.number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = len(raw[: exc.start].decode("utf-8", "replace")) + 1
            raise FeedFormatError(
                f"line {self.number}: not UTF-8: byte 0x{raw[exc.start]:02X} at column {column} "
                f"cannot be decoded ({exc.reason}); the feed must be encoded as UTF-8 "
                "(was it saved as Latin-1 or Windows-1252?)"
            ) from None
        self.taken.append(line)
        return line

    def text(self) -> str:
        return "".join(self.taken).rstrip("\r\n")


class _Fields:
    """The fields a CSV column can map to for one item type, from the schema."""

    def __init__(self, item_type: str):
        properties = _check.SCHEMA["$defs"][f"{item_type}_data"]["properties"]
        self.item_type = item_type
        self.scalars = {
            name: schema
            for name, schema in properties.items()
            if schema.get("type") != "array" and schema.get("$ref") not in _ARRAY_REFS
        }
        self.lists = [name for name in LIST_FIELDS if name in properties]
        self.members = "memberships" in properties

    def accepts(self, target: str) -> bool:
        head, _, rest = target.partition(".")
        if target in self.scalars or target in self.lists or target in ITEM_FIELDS:
            return True
        if head == "names" and rest:
            parts = rest.split(".")
            return len(parts) == 1 or (len(parts) == 2 and parts[1] in _NAME_KINDS)
        if head == "identifiers":
            return bool(rest)
        if head == "sources":
            return rest in ("url", "note")
        if head == "memberships" and self.members:
            alliance, _, field = rest.partition(".")
            return bool(alliance) and field in ("status", "start_date", "end_date")
        return False

    def own(self, column: str) -> str | None:
        """The field a column names by itself (`country`, `Country`, `names.de`), or None."""
        for candidate in (column, column.lower()):
            if self.accepts(candidate):
                return candidate
        return None

    def summary(self) -> str:
        fields = [
            *self.scalars,
            *self.lists,
            "names.<lang>",
            "identifiers.<scheme>",
            "sources.url",
            "sources.note",
            *ITEM_FIELDS,
        ]
        if self.members:
            fields.append("memberships.<alliance>.<status|start_date|end_date>")
        return ", ".join(fields)


_ARRAY_REFS = ("#/$defs/names", "#/$defs/identifiers", "#/$defs/sources")
_NAME_KINDS = set(_check.SCHEMA["$defs"]["name"]["properties"]["kind"]["enum"])
_FIELDS: dict[str, _Fields] = {}


def _fields(item_type: str) -> _Fields:
    if item_type not in _FIELDS:
        _FIELDS[item_type] = _Fields(item_type)
    return _FIELDS[item_type]


class _Record:
    """The data of one row, gathered field by field."""

    def __init__(self, item_type: str, fields: _Fields):
        self.type = item_type
        self.fields = fields
        self.data: dict[str, Any] = {}
        self.names: list[dict[str, str]] = []
        self.identifiers: list[dict[str, str]] = []
        self.memberships: dict[str, dict[str, str]] = {}
        self.source: dict[str, str] = {}
        self.updated_at: dt.datetime | None = None
        self.deleted = False

    def set(self, target: str, value: str) -> None:
        head, _, rest = target.partition(".")
        if target == "updated_at":
            self.updated_at = _timestamp(value)
        elif target == "deleted":
            self.deleted = _flag(value)
        elif head == "names" and rest:
            lang, _, kind = rest.partition(".")
            for part in _split(value):
                self.names.append({"value": part, "lang": lang, "kind": kind or "official"})
        elif head == "identifiers":
            for part in _split(value):
                self.identifiers.append({"scheme": rest, "value": part})
        elif head == "memberships":
            alliance, _, field = rest.partition(".")
            self.memberships.setdefault(alliance, {"alliance": alliance})[field] = value
        elif head == "sources":
            self.source[rest] = value
        elif target in self.fields.lists:
            self.data[target] = _split(value)
        else:
            self.data[target] = _scalar(target, value, self.fields.scalars[target])

    def finish(self) -> tuple[dict[str, Any], dt.datetime | None, bool]:
        data = self.data
        if "name" in data and self.type in NAMED_TYPES and self.type != "person":
            official = {
                "value": data["name"],
                "lang": data.get("default_lang", "en"),
                "kind": "official",
            }
            if official not in self.names:
                self.names.insert(0, official)
        for key, value in (
            ("names", self.names),
            ("identifiers", self.identifiers),
            ("memberships", list(self.memberships.values())),
            ("sources", [self.source] if self.source else []),
        ):
            if value:
                data[key] = value
        return data, self.updated_at, self.deleted


def _scalar(field: str, value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        digits = value.replace(" ", "").replace("_", "")
        if not re.fullmatch(r"-?\d+", digits):
            raise ValueError(f"{field}: {value!r} is not a whole number")
        return int(digits)
    if kind == "number":
        number = value.replace(",", ".") if _DECIMAL_COMMA.match(value) else value
        try:
            return float(number)
        except ValueError:
            raise ValueError(f"{field}: {value!r} is not a number") from None
    if field == "country" and len(value) == 2:
        return value.upper()
    return value


def _timestamp(value: str) -> dt.datetime:
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        return _check.timestamp(value)
    except ValueError:
        raise ValueError(
            f"updated_at: {value!r} is not an RFC 3339 date and time with an offset"
        ) from None


def _flag(value: str) -> bool:
    folded = value.casefold()
    if folded in TRUE | FALSE:
        return folded in TRUE
    raise ValueError(f"deleted: {value!r} is neither true nor false")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _delimiter(header_line: str) -> str:
    """`,` or `;`: whichever splits the header into more fields (`,` on a tie)."""
    counts = {d: len(next(_csv.reader([header_line], delimiter=d))) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))
