"""GraphiQL at `/`: served from the hub's own files, under a strict CSP, or a clear 503."""

import httpx
from starlette.applications import Starlette

from server.web import graphiql, graphiql_assets

from .pages import page_tags

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


async def _get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=Starlette(routes=graphiql.routes))
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        return await client.get(path)


async def test_page_is_html_under_the_strict_csp(installed):
    response = await _get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CSP
    assert "unsafe-eval" not in response.headers["content-security-policy"]


async def test_page_has_no_inline_script(installed):
    tags = page_tags(await _get("/"))

    assert tags.scripts and all(script.get("src") for script in tags.scripts)
    assert tags.inline_code == ""


async def test_every_asset_is_same_origin_and_served(installed):
    tags = page_tags(await _get("/"))
    urls = [s["src"] for s in tags.scripts] + [
        link["href"] for link in tags.links if link.get("rel") == "stylesheet"
    ]

    assert (
        len(urls) == len(graphiql_assets.file_names(graphiql_assets.GRAPHIQL)) + 1
    )  # the pinned files and start.js
    for url in urls:
        assert url.startswith("/graphiql/") and not url.startswith("//") and "://" not in url
        response = await _get(url)
        assert response.status_code == 200, url
        kind = "css" if url.endswith(".css") else "javascript"
        assert response.headers["content-type"].startswith(f"text/{kind}"), url


async def test_scripts_load_in_pinned_order_then_start_js(installed):
    scripts = page_tags(await _get("/")).scripts
    pinned = [
        f"/graphiql/{n}"
        for n in graphiql_assets.file_names(graphiql_assets.GRAPHIQL)
        if n.endswith(".js")
    ]

    assert [s["src"] for s in scripts] == [*pinned, "/graphiql/start.js"]
    assert pinned[0].startswith("/graphiql/react-") and "graphiql-" in pinned[-1]
    assert all("defer" in s for s in scripts)  # deferred scripts run in document order


async def test_versioned_files_are_cached_for_long_and_start_js_is_revalidated(installed):
    pinned = await _get(f"/graphiql/{graphiql_assets.file_names()[0]}")
    start = await _get("/graphiql/start.js")

    assert "immutable" in pinned.headers["cache-control"]
    assert "max-age=31536000" in pinned.headers["cache-control"]
    assert start.headers["cache-control"] == "no-cache"


async def test_start_js_targets_same_origin_graphql_with_the_readme_query(installed):
    script = (await _get("/graphiql/start.js")).text

    assert "GraphiQL.createFetcher" in script
    assert "window.location.origin" in script and 'origin + "/graphql"' in script
    assert 'member(slug: \\"kaiserslautern\\")' in script
    assert "posts { label person { name } }" in script


async def test_unknown_asset_is_404(installed):
    assert (await _get("/graphiql/not-there.js")).status_code == 404


async def test_missing_assets_answer_503_with_how_to_install(missing):
    response = await _get("/")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert "not installed" in response.text
    assert "make run" in response.text
    assert ".venv/bin/python -m server.web.graphiql_assets fetch" in response.text
    assert "/graphql" in response.text and "POST" in response.text
    assert response.headers["content-security-policy"] == CSP


async def test_missing_assets_are_404_not_500(missing):
    name = graphiql_assets.file_names()[0]

    assert (await _get(f"/graphiql/{name}")).status_code == 404


async def test_an_install_for_other_versions_counts_as_missing(installed):
    # After a version bump the page would name files that are not there: say so instead.
    marker = installed / graphiql_assets.MARKER
    marker.write_text(marker.read_text().replace("graphiql@", "graphiql-old@"))

    assert (await _get("/")).status_code == 503
