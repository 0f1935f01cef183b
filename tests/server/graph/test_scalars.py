"""The custom scalars say which standard they follow, and DateTime answers alike on SQLite and
PostgreSQL: an RFC 3339 date-time with its offset."""

import datetime as dt

import pytest


@pytest.mark.parametrize(
    ("scalar", "url"),
    [
        ("DateTime", "https://datatracker.ietf.org/doc/html/rfc3339"),
        ("PartialDate", "https://www.iso.org/iso-8601-date-and-time-format.html"),
        ("CountryCode", "https://www.iso.org/iso-3166-country-codes.html"),
    ],
)
async def test_a_custom_scalar_names_its_specification(client, scalar, url):
    data = await client.data(
        "query ($name: String!) { __type(name: $name) { specifiedByURL } }", {"name": scalar}
    )
    assert data["__type"]["specifiedByURL"] == url


async def test_a_date_time_carries_its_utc_offset_on_either_database(client):
    data = await client.data('{ member(slug: "aachen") { createdAt updatedAt } }')
    for value in data["member"].values():
        parsed = dt.datetime.fromisoformat(value)
        assert parsed.utcoffset() == dt.timedelta(0), value
        assert value.endswith("+00:00"), value
