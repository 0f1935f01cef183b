"""The Starlette application: `/graphql`, GraphiQL at `/`, health, readiness and metrics.

The engine and the schema are made once, in the lifespan, and handed to requests through
`app.state`, with the answer cache and what tells the data version (on PostgreSQL a listening
connection, started and stopped with the app). The scheduler runs in a thread of its own
(`scheduling.in_thread`), off this loop.
"""

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import Route

from server.config import Settings
from server.graph.compiled import Compiler
from server.graph.schema import build_schema
from store.db import count_statements, create_engine

from . import answers, data_version, demo, graphiql, health, http, metrics
from .scheduling import in_thread


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings)
        count_statements(engine, metrics.SQL_STATEMENTS.inc)
        app.state.engine = engine
        app.state.compiler = Compiler(app.state.schema, engine, settings)
        app.state.data_version = data_version.watch(settings.database_url)
        try:
            async with contextlib.AsyncExitStack() as stack:
                if isinstance(app.state.data_version, data_version.Listener):
                    await stack.enter_async_context(app.state.data_version.running())
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
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz),
            Route("/metrics", metrics.endpoint),
            *graphiql.routes,
            *(demo.routes if settings.demo else []),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.schema = build_schema(settings)
    app.state.answers = answers.Answers(settings, str(app.state.schema))
    return app
