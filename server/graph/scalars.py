"""Custom scalars: partial dates and country codes, checked where they enter."""

import dataclasses
import datetime as dt
import re
from typing import NewType

import strawberry
from strawberry.schema.types.base_scalars import DateTimeDefinition

from store import partial_date
from store.errors import InvalidPartialDate
from store.tables import as_utc


def _parse_partial_date(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("a PartialDate is a string: YYYY, YYYY-MM or YYYY-MM-DD")
    try:
        return partial_date.parse(value)
    except InvalidPartialDate as exc:
        raise ValueError(str(exc)) from None


PartialDate = NewType("PartialDate", str)
CountryCode = NewType("CountryCode", str)

_PARTIAL_DATE = strawberry.scalar(
    name="PartialDate",
    description=(
        "A date as precise as its source: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, returned as "
        "given. Sorts by its earliest day; as a filter bound it covers its whole period."
    ),
    serialize=str,
    parse_value=_parse_partial_date,
    # ISO 8601 dates of reduced precision (calendar dates, year-month, year).
    specified_by_url="https://www.iso.org/iso-8601-date-and-time-format.html",
)

_ALPHA2 = re.compile(r"[A-Za-z]{2}")


def _parse_country(value: object) -> str:
    if not isinstance(value, str) or not _ALPHA2.fullmatch(value):  # "$" would let "DE\n" by
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code such as DE or CN")
    return value.upper()


_COUNTRY_CODE = strawberry.scalar(
    name="CountryCode",
    description="An ISO 3166-1 alpha-2 country code: `DE`, `CN`.",
    serialize=str,
    parse_value=_parse_country,
    specified_by_url="https://www.iso.org/iso-3166-country-codes.html",
)


# Strawberry's own DateTime, saying which format it is so typed clients can map it.
def _serialize_time(value: dt.datetime) -> str:
    return as_utc(value).isoformat()  # SQLite hands back naive datetimes, in UTC


_DATE_TIME = dataclasses.replace(
    DateTimeDefinition,
    serialize=_serialize_time,
    description="A moment: an RFC 3339 date-time with its UTC offset, `2018-04-23T09:30:00+00:00`.",
    specified_by_url="https://datatracker.ietf.org/doc/html/rfc3339",
)

# Handed to the schema's config, so the NewTypes above become these scalars.
SCALARS = {PartialDate: _PARTIAL_DATE, CountryCode: _COUNTRY_CODE, dt.datetime: _DATE_TIME}
