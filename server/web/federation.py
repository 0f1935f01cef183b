"""`GET /feeds/alliance.json`: the hub's own graph as an `alliance-feed/1` feed, for another hub
to mirror (docs/feeds.md, "The hub's own feed"; what goes in it is `sync/publish.py`).

Without `since` it is a snapshot, in pages (`next`); with `since=<cursor>` (a change-log
cursor, as the envelope's `cursor` hands it out) only what changed after it, with tombstones.
Each page is read in one snapshot of the database and streamed item by item, with a weak ETag
of the data version and the page asked for: a mirror asking again for an unchanged page gets
`304`. Callers are checked as on `/graphql`: a key if one is sent, and anonymous reads only
where the hub allows them.
"""

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from store import changes, versions
from sync import publish

from . import answers, auth


def _refused(status: int, code: str, message: str, headers=None) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, headers=headers)


async def feed(request: Request) -> Response:
    try:
        await auth.caller(request)
    except auth.Unauthenticated as exc:
        return _refused(401, "UNAUTHENTICATED", str(exc), {"www-authenticate": exc.challenge})
    query = request.query_params
    position = after = None
    if "since" in query:
        position = changes.position(query["since"])
        if position is None:
            return _refused(400, "INVALID_CURSOR", "`since` is not a cursor of this hub")
    as_of = query.get("as_of") or None
    if as_of is not None and changes.position(as_of) is None:
        return _refused(400, "INVALID_CURSOR", "`as_of` is not a cursor of this hub")
    if "after" in query:
        after = publish.parse_after(query["after"])
        if after is None:
            return _refused(400, "INVALID_CURSOR", "`after` is not a position of this feed")
    engine = request.app.state.engine
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # every read of the page sees one snapshot
            await connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        async with connection.begin():
            version = await versions.current(connection)
            asked = hashlib.sha256(str(request.url.query).encode()).hexdigest()[:16]
            tag = answers.etag(asked, version)
            if answers.matches(request.headers.get("if-none-match"), tag):
                return Response(status_code=304, headers={"etag": tag})
            if position is not None:
                page = await publish.since(connection, position)
            else:
                page = await publish.snapshot(connection, as_of, after)
    next_url = None
    if page.next is not None:
        next_url = str(request.url.replace(query=urlencode(page.next)))
    head = {
        "format": "alliance-feed/1",
        "publisher": {"id": "alliance-hub", "name": "Alliance Hub", "url": str(request.base_url)},
        "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "complete": page.complete,
        "cursor": page.cursor,
        "next": next_url,
    }
    return StreamingResponse(
        _body(head, page.items),
        media_type="application/json",
        headers={"etag": tag, "cache-control": "no-cache"},
    )


async def _body(head: dict, items: list[dict]) -> AsyncIterator[bytes]:
    """`format` first, as the format asks, then the items one by one."""
    yield orjson.dumps(head)[:-1] + b',"items":['
    for index, item in enumerate(items):
        yield (b"," if index else b"") + orjson.dumps(item)
    yield b"]}"
