"""The demo partner feeds: `alliance serve --demo` publishes them from its own process and syncs
them on a short schedule, so a newcomer sees runs happen. Their items restate what the seed
says (the press release of 2018-04-23), naming the seeded records by slug: they add their
sources to those records instead of adding twins."""

import hashlib
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sync import config

FILES = Path(__file__).with_name("demo")
FEEDS = {
    "kaiserslautern-demo": ("kaiserslautern.json", "alliance-feed/1", {}),
    "kaiserslautern-popolo-demo": ("kaiserslautern-popolo.json", "popolo", {"lang": "de"}),
}
SCHEDULE = "1m"


async def feed(request: Request) -> Response:
    """A demo feed with an ETag, so the second run of an unchanged feed is a 304."""
    name = request.path_params["name"]
    if name not in {file for file, _, _ in FEEDS.values()}:
        return Response(status_code=404)
    body = (FILES / name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"etag": etag})
    return Response(body, media_type="application/json", headers={"etag": etag})


routes = [Route("/demo/feeds/{name:str}", feed)]


def base_url(host: str, port: int) -> str:
    """How this process reaches itself: a wildcard address means loopback."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def register(engine: AsyncEngine, base_url: str) -> None:
    """Save the demo feeds, pointed at this process; loopback is allowed for them only."""
    for slug, (name, format_, options) in FEEDS.items():
        await config.save(
            engine,
            config.spec(
                slug=slug,
                url=f"{base_url}/demo/feeds/{name}",
                format=format_,
                options=options,
                schedule=SCHEDULE,
                allow_private=True,
            ),
        )
