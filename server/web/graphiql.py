"""GraphiQL at `/`, served entirely by the hub: no CDN, and a strict Content-Security-Policy.

The third-party files come from `graphiql_assets` (fetched, hash-checked, not in git); the page
and its bootstrap script are ours, in `server/web/templates/`. Mount with `routes`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from . import graphiql_assets

ASSETS_PATH = "/graphiql"
_TEMPLATES = Path(__file__).resolve().parent / "templates"

# No inline script and nothing from elsewhere. GraphiQL 3 sets inline styles (and its CSS embeds
# fonts and icons as data: URLs), hence those two allowances; it needs no eval.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",  # the page names versioned files; it must not outlive them
}

_MISSING_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Alliance Hub · GraphiQL not installed</title></head>
<body>
<h1>GraphiQL's files are not installed</h1>
<p>This hub serves GraphiQL from its own files, which are fetched once from the npm registry.
Install them with <code>make run</code>, or with
<code>.venv/bin/python -m server.web.graphiql_assets fetch</code>, then reload this page.</p>
<p>The API works anyway: send GraphQL to <code>/graphql</code> with POST.</p>
</body>
</html>
"""


def page_or_missing(page_html, missing: str, headers: dict[str, str]) -> Response:
    """The page `page_html()` builds once the pinned files are installed, else `missing`, 503."""
    if not graphiql_assets.assets_ready():
        return HTMLResponse(missing, status_code=503, headers=headers)
    return HTMLResponse(page_html(), headers=headers)


def own_file(name: str, media_type: str) -> Response:
    """A file of ours from `templates/`. It changes with a deploy under the same name:
    revalidated rather than cached."""
    return Response(
        template(name),
        media_type=media_type,
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


async def page(request: Request) -> Response:
    return page_or_missing(_page_html, _MISSING_PAGE, _PAGE_HEADERS)


async def bootstrap(request: Request) -> Response:
    return own_file("graphiql.js", "text/javascript")


class _ImmutableFiles(StaticFiles):
    """Static files whose names carry their version, so browsers may keep them for a year."""

    def file_response(self, *args, **kwargs) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class _Assets:
    """Serves `assets_dir()` as it is at request time: the directory is a setting, may be
    absent (then 404, not StaticFiles' 500) and may be filled while the hub runs."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        directory = graphiql_assets.assets_dir()
        if graphiql_assets.assets_ready(directory):
            app = _static_files(str(directory))
        else:
            app = PlainTextResponse("GraphiQL's files are not installed.", status_code=404)
        await app(scope, receive, send)


@functools.lru_cache(maxsize=4)
def _static_files(directory: str) -> StaticFiles:
    return _ImmutableFiles(directory=directory)


@functools.cache
def template(name: str) -> str:
    """A page or script of ours from `templates/`, read once."""
    return (_TEMPLATES / name).read_text(encoding="utf-8")


@functools.cache
def _page_html() -> str:
    names = graphiql_assets.file_names(graphiql_assets.GRAPHIQL)
    tags = {
        "stylesheets": [
            f'  <link rel="stylesheet" href="{ASSETS_PATH}/{n}">'
            for n in names
            if n.endswith(".css")
        ],
        # `defer` keeps document order: React, ReactDOM, GraphiQL, then our start.js.
        "scripts": [
            f'  <script src="{ASSETS_PATH}/{n}" defer></script>'
            for n in [*(n for n in names if n.endswith(".js")), "start.js"]
        ],
    }
    return Template(template("graphiql.html")).substitute(
        {k: "\n".join(v) for k, v in tags.items()}
    )


# start.js is listed before the Mount, which would otherwise claim every /graphiql/... path.
routes: list = [
    Route("/", page),
    Route(f"{ASSETS_PATH}/start.js", bootstrap),
    Mount(ASSETS_PATH, app=_Assets(), name="graphiql"),
]
