"""Checking records against `sync/schema/alliance-feed-1.json`, and the checks a schema cannot do.

Every format produces items in the shape of `alliance-feed/1`, so every format checks its
items here. fastjsonschema compiles the schema to Python and decides quickly whether a record
is valid; only for an invalid one does jsonschema (the reference implementation) explain why,
listing each problem with its path. The schema cannot tell that 2018-02-30 is not on the
calendar, that a period ends before it starts, or that a timestamp is a real instant: those
checks follow here.
"""

import datetime as dt
import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance

from store import partial_date
from store.errors import InvalidPartialDate
from store.registry import ITEM_TYPES

SCHEMA: dict[str, Any] = json.loads(
    resources.files("sync").joinpath("schema").joinpath("alliance-feed-1.json").read_text("utf-8")
)
DATE_FIELDS = ("start_date", "end_date", "founded_on", "dissolved_on")
PERIODS = (("start_date", "end_date"), ("founded_on", "dissolved_on"))
MAX_PROBLEMS = 3


class Checker:
    """One definition of the schema (`item`, `member_data`, ... or an envelope key)."""

    def __init__(self, definition: dict[str, Any]):
        schema = {"$schema": SCHEMA["$schema"], "$defs": SCHEMA["$defs"], **definition}
        self._fast = fastjsonschema.compile(schema, use_default=False)
        self._reference = Draft202012Validator(schema)

    def problems(self, instance: Any, path: str = "") -> str | None:
        """None when `instance` is valid, else what is wrong with it, each problem by path."""
        try:
            self._fast(instance)
            return None
        except fastjsonschema.JsonSchemaValueException as fast_error:
            errors = sorted(self._reference.iter_errors(instance), key=relevance, reverse=True)
            if not errors:  # the two disagree (a `format`): fastjsonschema's verdict stands
                where = _path(path, fast_error.path[1:])
                says = fast_error.message.removeprefix(fast_error.name).strip()
                return f"{where}: {fast_error.value!r} {says}"
            found = dict.fromkeys(_describe(error, path) for error in errors)
            return "; ".join(list(found)[:MAX_PROBLEMS])


@cache
def checker(definition: str) -> Checker:
    """The checker of `#/$defs/<definition>`, compiled on first use."""
    return Checker({"$ref": f"#/$defs/{definition}"})


@cache
def envelope_checker(key: str) -> Checker:
    return Checker(SCHEMA["properties"][key])


def item_problems(raw: dict[str, Any]) -> str | None:
    """What is wrong with a raw `alliance-feed/1` item, or None.

    The full `item` definition chooses the shape of `data` by `type` with `if`/`then`, which a
    compiled validator evaluates by raising an exception for each type that does not match,
    and allows `x-` extension keys with `patternProperties`, a regular expression per key.
    The fast path avoids both: it dispatches on `type` itself, to a stricter validator of
    the same item without extensions. What it refuses (tombstones, unknown types, items with
    extensions, invalid items) is decided by the full definition, which also explains.
    """
    item_type = raw.get("type")
    fast = None
    if raw.get("deleted") is not True and item_type in ITEM_TYPES:
        fast = _fast_item(item_type)
    if fast is not None:
        try:
            fast(raw)
            return None
        except fastjsonschema.JsonSchemaValueException:
            pass
    return checker("item").problems(raw)


def shell_valid(raw: dict[str, Any]) -> bool:
    """Whether a raw item's own fields are right (`type`, `id`, `updated_at`, `deleted`, no
    other key, `data` an object): all of it but the content of `data`, which `item_problems`
    checks with the rest."""
    try:
        _shell()(raw)
        return True
    except fastjsonschema.JsonSchemaValueException:
        return False


@cache
def _shell() -> Any:
    item = SCHEMA["$defs"]["item"]
    definition = {k: v for k, v in item.items() if k not in ("if", "then", "else", "allOf")}
    definition["required"] = [*item["required"], "data"]
    return fastjsonschema.compile(
        {"$schema": SCHEMA["$schema"], "$defs": SCHEMA["$defs"], **definition}, use_default=False
    )


@cache
def _fast_item(item_type: str) -> Any:
    """The stricter validator of one type's items, compiled when the first one is met (each
    compiles the whole schema, about 0.1 s)."""
    defs = _without_extensions(SCHEMA["$defs"])
    item = {k: v for k, v in defs["item"].items() if k not in ("if", "then", "else", "allOf")}
    definition = {
        **item,
        "required": [*item["required"], "data"],
        "properties": {**item["properties"], "data": {"$ref": f"#/$defs/{item_type}_data"}},
    }
    schema = {"$schema": SCHEMA["$schema"], "$defs": defs, **definition}
    return fastjsonschema.compile(schema, use_default=False)


def _without_extensions(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_extensions(v) for k, v in node.items() if k != "patternProperties"}
    if isinstance(node, list):
        return [_without_extensions(v) for v in node]
    return node


def data_problems(item_type: str, data: dict[str, Any]) -> str | None:
    """What is wrong with the `data` of an item of `item_type`, or None."""
    return checker(f"{item_type}_data").problems(data, "data") or date_problems(data)


def date_problems(data: dict[str, Any]) -> str | None:
    """The first partial date in `data` (or its memberships) that is not on the calendar, or
    the first period that ends before it starts; None when every date is right. The schema
    puts dates only there."""
    found = _dates(data, "data")
    memberships = data.get("memberships")
    if not found and isinstance(memberships, list):
        for index, membership in enumerate(memberships):
            found = _dates(membership, f"data.memberships[{index}]")
            if found:
                break
    return found


def _dates(record: Any, path: str) -> str | None:
    if not isinstance(record, dict):
        return None
    for key in DATE_FIELDS:
        if isinstance(record.get(key), str):
            try:
                partial_date.parse(record[key])
            except InvalidPartialDate as exc:
                return f"{path}.{key}: {exc}"
    for start, end in PERIODS:
        if _ends_before_start(record.get(start), record.get(end)):
            return f"{path}.{end}: {record[end]!r} is before {start} {record[start]!r}"
    return None


def _ends_before_start(start: Any, end: Any) -> bool:
    """True when the whole period `end` names lies before the first day of `start` ("2018"
    may end a period that starts "2018-04", "2017" may not, "2018-12-31" may not end one
    that starts "2019")."""
    if not (isinstance(start, str) and isinstance(end, str)):
        return False
    first_day = start + "-01" * (2 - start.count("-"))
    return first_day >= partial_date.period_end(end)


def timestamp(value: str) -> dt.datetime:
    """An RFC 3339 timestamp as an aware datetime; ValueError when it is not a real one."""
    parsed = dt.datetime.fromisoformat(value.upper())
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone offset")
    return parsed


def _describe(error: ValidationError, base: str) -> str:
    where = _path(base, error.absolute_path)
    validator, value = error.validator, error.validator_value
    if validator in ("anyOf", "oneOf") and _only_required(value):
        choices = [schema["required"][0] for schema in value]
        given = [c for c in choices if isinstance(error.instance, dict) and c in error.instance]
        if validator == "anyOf":
            return f"{where}: needs {' or '.join(choices)}"
        if given:
            return f"{where}: has {' and '.join(given)}; give exactly one of {', '.join(choices)}"
        return f"{where}: needs exactly one of {', '.join(choices)}"
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        unknown = [k for k in error.instance if k not in known and not _matches(k, patterns)]
        names = ", ".join(repr(k) for k in unknown)
        allowed = ", ".join(known) + (" or x-… extensions" if patterns else "")
        return f"{where}: unknown field {names} (known: {allowed})"
    message = error.message
    if validator == "pattern" and error.schema.get("description"):
        message += f" ({error.schema['description']})"
    return f"{where}: {message}"


def _matches(key: str, patterns: list[str]) -> bool:
    return any(re.search(pattern, key) for pattern in patterns)


def _only_required(schemas: Iterable[Any]) -> bool:
    return all(isinstance(s, dict) and list(s) == ["required"] for s in schemas)


def _path(base: str, parts: Iterable[Any]) -> str:
    text = base
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "item"
