"""Which web pages may call `/graphql` from a browser: CORS by an allowlist.

`ALLIANCE_CORS_ORIGINS` lists the origins (`https://atlas.example.org`, or `*` for any) whose
pages may call the API; Starlette's CORS middleware answers their preflights and adds the
`Access-Control-*` headers. A request with an `Origin` that is neither listed nor the hub's own
(its `Host`, as GraphiQL at `/` sends) is refused with 403 `ORIGIN_NOT_ALLOWED`: a browser
would not let the page read the answer anyway, and refusing it does no work for it. A request
without `Origin` (not from a browser's page) is not concerned.
"""

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

# What a page may send and read: the key, the body's type, the cache validators, the request id.
HEADERS = ["authorization", "content-type", "if-none-match", "x-request-id"]
EXPOSED = ["etag", "x-request-id"]


def middleware(allowed: Sequence[str]) -> list[Middleware]:
    if not allowed:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(allowed),
            allow_methods=["GET", "POST"],
            allow_headers=HEADERS,
            expose_headers=EXPOSED,
            max_age=600,
        )
    ]


def has_origin(scope) -> bool:
    return any(name == b"origin" for name, _ in scope["headers"])


def refused(origin: str | None, host: str | None, allowed: Sequence[str]) -> bool:
    """Whether a request from `origin` to the hub at `host` is refused."""
    if origin is None or "*" in allowed or origin in allowed:
        return False
    # The hub's own pages: the scheme may differ behind a proxy that ends TLS.
    return urlsplit(origin).netloc != (host or "")
