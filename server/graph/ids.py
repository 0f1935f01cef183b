"""Relay global ids: `base64url("Member:42")`, opaque to clients and stable across syncs.

An id is taken only when it decodes to what `encode` makes: a type name, a colon and a primary
key written plainly, within the range of the id columns (INTEGER on PostgreSQL). A sign, other
digits, a number no row can have or stray characters around the base64 are refused, not read
generously, so no id reaches the database as an integer it cannot take.
"""

import base64
import binascii
import re

from .errors import InvalidId

MAX_PK = 2**31 - 1
_DECODED = re.compile(r"([A-Z][A-Za-z]*):([1-9][0-9]{0,9})")


def encode(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode(global_id: str) -> tuple[str, int]:
    refused = InvalidId(f"{global_id!r} is not an Alliance Hub id", field="id")
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        decoded = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise refused from None
    found = _DECODED.fullmatch(decoded)
    if found is None or int(found[2]) > MAX_PK:
        raise refused
    return found[1], int(found[2])
