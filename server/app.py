"""The Starlette application: `/graphql`, GraphiQL at `/`, health, readiness and metrics.

The engine and the schema are made once, in the lifespan, and handed to requests through
`app.state`. The scheduler runs in a thread of its own (`scheduling.in_thread`), off this loop.
"""

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.graph.schema import build_schema
from store import migrate
from store.db import count_statements, create_engine

from . import demo, graphiql, http, metrics
from .config import Settings
from .scheduling import in_thread


async def healthz(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready when the database answers and carries the newest migration."""
    try:
        current = await migrate.current(request.app.state.engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse({"status": "unavailable", "database": str(exc)[:200]}, status_code=503)
    wanted = migrate.head()
    if current != wanted:
        body = {"status": "migrations pending", "current": current, "head": wanted}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "migration": current})


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings)
        count_statements(engine, metrics.SQL_STATEMENTS.inc)
        app.state.engine = engine
        try:
            async with contextlib.AsyncExitStack() as stack:
                if settings.demo:
                    await demo.register(engine, demo.base_url(settings.host, settings.port))
                if settings.scheduler:
                    await stack.enter_async_context(in_thread(settings))
                yield
        finally:
            await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", http.graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics.endpoint),
            *graphiql.routes,
            *(demo.routes if settings.demo else []),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.schema = build_schema(settings)
    return app
