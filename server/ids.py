"""Relay global ids: `base64url("Member:42")`, opaque to clients and stable across syncs."""

import base64
import binascii

from .errors import InvalidId


def encode(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def decode(global_id: str) -> tuple[str, int]:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return type_name, int(pk)
    except (binascii.Error, UnicodeError, ValueError):
        raise InvalidId(f"{global_id!r} is not an Alliance Hub id", field="id") from None
