"""The Starlette application: `/graphql`, GraphiQL at `/`, the operator console at `/console`,
health, readiness and metrics.

The engine and the schema are made once, in the lifespan, and handed to requests through
`app.state`, with the answer cache and what tells the data version (on PostgreSQL a listening
connection, started and stopped with the app). The scheduler runs in a thread of its own
(`scheduling.in_thread`), off this loop.
"""

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from server.config import Settings
from server.graph.compiled import Compiler
from server.graph.schema import build_schema
from store.db import count_statements, create_engine

from . import (
    answers,
    console,
    data_version,
    demo,
    federation,
    graphiql,
    health,
    http,
    live,
    metrics,
    origins,
    persisted,
    rates,
    socket,
)
from .scheduling import in_thread


class Hub(Starlette):
    """The Starlette application, with `/graphql` taken before the router: the hub's busiest
    path skips the route matching and the two exception layers, which cost a cached answer
    more than the rest of its work (bench/README.md, reads.py). An exception there reaches
    uvicorn, which answers 500, as the outer layer would. A WebSocket there is GraphQL over
    WebSocket (`socket`)."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/graphql":
            scope["app"] = self
            await self.state.sockets(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] == "/graphql":
            # A browser's request takes the whole stack, for its CORS headers (`origins`).
            if scope["method"] in ("GET", "POST") and not origins.has_origin(scope):
                scope["app"] = self
                response = await http.graphql(Request(scope, receive))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings)
        count_statements(engine, metrics.SQL_STATEMENTS.inc)
        app.state.engine = engine
        app.state.compiler = Compiler(app.state.schema, engine, settings)
        app.state.persisted = persisted.PersistedQueries(settings, engine)
        app.state.data_version = data_version.watch(settings.database_url)
        listening = isinstance(app.state.data_version, data_version.Listener)
        tail = live.ChangeTail(engine, settings.subscriber_queue, poll=not listening)
        runs = live.RunWatch(engine)
        app.state.pushed = live.Pushed(tail, runs)
        try:
            async with contextlib.AsyncExitStack() as stack:
                if listening:
                    app.state.data_version.tell(tail.moved)
                    await stack.enter_async_context(app.state.data_version.running())
                await stack.enter_async_context(tail.running())
                await stack.enter_async_context(runs.running())
                if settings.demo:
                    await demo.register(engine, demo.base_url(settings.host, settings.port))
                if settings.scheduler:
                    await stack.enter_async_context(in_thread(settings))
                yield
        finally:
            await engine.dispose()

    app = Hub(
        routes=[
            Route("/graphql", http.graphql, methods=["GET", "POST"]),
            Route("/healthz", health.healthz),
            Route("/readyz", health.readyz),
            Route("/metrics", metrics.endpoint),
            Route("/feeds/alliance.json", federation.feed),
            *graphiql.routes,
            *console.routes,
            *(demo.routes if settings.demo else []),
        ],
        middleware=origins.middleware(settings.cors_origins),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.schema = build_schema(settings)
    app.state.answers = answers.Answers(settings, str(app.state.schema))
    app.state.rates = rates.Rates(settings)
    app.state.sockets = socket.Sockets(app.state.schema, settings)
    return app
