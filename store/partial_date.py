"""Partial dates: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, kept as given and never padded.

Stored as text, a partial date sorts by its earliest day and, on a tie, less precise first
("2018" < "2018-04" < "2018-04-01" < "2018-05"), so plain string comparison in SQL orders and
filters them. A bound in a filter covers the whole period it names: `lte: "2018"` includes
"2018-12-31", which is why `period_end` exists.
"""

import datetime as dt
import re

from .errors import InvalidPartialDate

_PATTERN = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)  # ASCII digits only


def parse(value: str) -> str:
    """Return `value` when it is a real partial date, else raise InvalidPartialDate."""
    match = _PATTERN.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidPartialDate(f"{value!r} is not a date of the form YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        raise InvalidPartialDate(f"{value!r} is not on the calendar: {exc}") from None
    return value


def period_end(value: str) -> str:
    """The first partial date of the same precision after the period `value` names.

    Every stored date `d` inside the period satisfies `value <= d < period_end(value)`.
    """
    parse(value)
    parts = [int(p) for p in value.split("-")]
    if value >= "9999-12-31"[: len(value)]:
        return "9999~"  # past every date; "~" sorts after digits and "-"
    if len(parts) == 1:
        return f"{parts[0] + 1:04d}"
    if len(parts) == 2:
        year, month = parts
        return f"{year + month // 12:04d}-{month % 12 + 1:02d}"
    following = dt.date(*parts) + dt.timedelta(days=1)
    return following.isoformat()
