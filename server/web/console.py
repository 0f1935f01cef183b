"""The operator console at `/console` (docs/console.md): a page of the hub's own, talking to
`/graphql` over HTTP and WebSocket with an operator key the operator pastes in.

The page, its script and its styles are ours, in `server/web/templates/`; the one third-party
file, the graphql-ws client, comes from `graphiql_assets` and is served under `/graphiql/`. The
Content-Security-Policy allows nothing else: no inline script or style, nothing from elsewhere.
Everything the page shows of the hub's data is set as text, never as markup.
"""

from __future__ import annotations

import functools
from string import Template

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from . import graphiql, graphiql_assets

PATH = "/console"

# Stricter than GraphiQL's: the console's own script sets no inline style and loads no font.
# `connect-src 'self'` covers the WebSocket to the same host and port.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # it names versioned files; it must not outlive them
}
_OWN_FILES = {
    "console.js": "text/javascript",
    "console.css": "text/css",
    "console.svg": "image/svg+xml",
}

_MISSING_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Alliance Hub · console not installed</title></head>
<body>
<h1>The console's files are not installed</h1>
<p>The console uses one file fetched from the npm registry (graphql-ws). Install it with
<code>make run</code>, or with <code>.venv/bin/python -m server.web.graphiql_assets fetch</code>,
then reload this page.</p>
</body>
</html>
"""


async def page(request: Request) -> Response:
    return graphiql.page_or_missing(_page_html, _MISSING_PAGE, _PAGE_HEADERS)


async def own_file(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in _OWN_FILES:
        return PlainTextResponse("Not Found", status_code=404)
    return graphiql.own_file(name, _OWN_FILES[name])


@functools.cache
def _page_html() -> str:
    scripts = [
        f"{graphiql.ASSETS_PATH}/{name}"
        for name in graphiql_assets.file_names(graphiql_assets.CONSOLE)
    ]
    tags = [f'  <script src="{src}" defer></script>' for src in [*scripts, f"{PATH}/console.js"]]
    return Template(graphiql.template("console.html")).substitute(
        scripts="\n".join(tags), stylesheet=f"{PATH}/console.css"
    )


routes: list = [
    Route(PATH, page),
    Route(PATH + "/{name:str}", own_file),
]
