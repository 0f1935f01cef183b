"""The console at `/console`: our page, script and styles, and the pinned graphql-ws, under a
CSP that allows nothing else; a clear 503 without the pinned file."""

import httpx
from starlette.applications import Starlette

from server.web import console, graphiql

from .pages import page_tags

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


async def _get(path: str) -> httpx.Response:
    app = Starlette(routes=[*graphiql.routes, *console.routes])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        return await client.get(path)


async def test_the_page_loads_only_same_origin_files_under_the_strict_csp(installed):
    response = await _get("/console")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["referrer-policy"] == "no-referrer"
    tags = page_tags(response)
    assert tags.inline_code == ""  # no inline script: the CSP would refuse it
    sources = [tag["src"] for tag in tags.scripts]
    assert sources == ["/graphiql/graphql-ws-6.0.6.min.js", "/console/console.js"]
    assert [link["href"] for link in tags.links] == ["/console/console.svg", "/console/console.css"]
    for path in [*sources, *(link["href"] for link in tags.links)]:
        served = await _get(path)
        assert served.status_code == 200, path
        assert served.headers["x-content-type-options"] == "nosniff"


async def test_its_own_files_are_revalidated_and_nothing_else_is_served(installed):
    script = await _get("/console/console.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache"
    assert "graphqlWs.createClient" in script.text
    for path in ("/console/console.html", "/console/..%2Fgraphiql.py", "/console/nope.js"):
        assert (await _get(path)).status_code == 404, path


async def test_without_the_pinned_file_it_says_how_to_install_it(missing):
    response = await _get("/console")
    assert response.status_code == 503
    assert "graphiql_assets fetch" in response.text
    assert response.headers["content-security-policy"] == CSP
