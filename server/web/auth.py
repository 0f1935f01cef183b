"""Who a request comes from: the API key in its `Authorization: Bearer` header, or no one.

A request without a key reads as a `reader` where the hub allows anonymous reads
(`ALLIANCE_ANONYMOUS_READS`), and is refused where it does not. A key that is malformed, unknown
or revoked is refused, never taken as no key: a partner whose key stopped working is told so.
Each request reads its key's row on a connection of its own (not the request's `Reader`, whose
snapshot must not begin before the data version is read), so a revocation holds from the next
request on in every process. Refusals are 401 with `WWW-Authenticate` (RFC 6750).
"""

from starlette.requests import Request

from store import keys
from store.enums import Role
from store.keys import Caller

ANONYMOUS = Caller("-", Role.READER)


class Unauthenticated(Exception):
    def __init__(self, message: str, error: str | None = None):
        super().__init__(message)
        challenge = 'Bearer realm="alliance-hub"'
        self.challenge = f'{challenge}, error="{error}"' if error else challenge


async def caller(request: Request) -> Caller:
    return await from_header(request.app.state, request.headers.get("authorization"))


async def from_header(state, header: str | None) -> Caller:
    """Who sends `header` (an `Authorization` value, or None for none) to the hub of `state`
    (the app's); raises `Unauthenticated` when it is refused."""
    if header is None:
        if state.settings.anonymous_reads:
            return ANONYMOUS
        raise Unauthenticated("this hub answers only requests with an API key")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the key as `Authorization: Bearer <token>`", "invalid_request")
    pepper = state.settings.key_pepper
    if pepper is None:
        raise Unauthenticated("this hub takes no API keys (ALLIANCE_KEY_PEPPER is unset)")
    async with state.engine.connect() as connection:
        found = await keys.caller(connection, token.strip(), pepper.get_secret_value())
    if found is None:
        raise Unauthenticated("the API key is unknown or revoked", "invalid_token")
    return found
