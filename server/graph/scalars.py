"""Custom scalars: partial dates and country codes, checked where they enter."""

import re
from typing import NewType

import strawberry

from store import partial_date
from store.errors import InvalidPartialDate


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
)

# Handed to the schema's config, so the NewTypes above become these scalars.
SCALARS = {PartialDate: _PARTIAL_DATE, CountryCode: _COUNTRY_CODE}
