"""GraphQL over WebSocket at `/graphql`: the graphql-transport-ws protocol, for subscriptions
(docs/api.md, "Subscriptions").

Strawberry speaks the protocol; this module decides who may speak it. A browser's handshake is
refused (403) when its `Origin` is neither on the CORS allowlist nor the hub's own; a client
that sends none, not being a browser, is let in. The key is sent in `connection_init`
(`{"authorization": "Bearer <token>"}`) or, by a client that can, in the handshake's
`Authorization` header, and it is checked as over HTTP (`auth`): a connection without a valid
key is closed with 4403 and the reason. One key (or, without a key, one address) holds at most
`connections_per_key` connections in one process (more: 4429), and a connection at most
`subscriptions_per_connection` operations at once.

A connection is closed (1000) when it has run no operation for `socket_idle_seconds`, or its
client has sent nothing, not even the pong to the pings the hub sends, for as long; its key is
checked again every third of that time, and one revoked since closes it (4403). A client
that takes over `socket_send_seconds` to take one message is dropped (1013): its operations
end, and the other connections, whose subscribers never wait for it, go on. One that takes not
even the close frame within `CLOSE_SECONDS` has its TCP connection cut.
"""

import asyncio
import contextlib
import logging
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from server.config import Settings
from server.graph.context import SocketContext
from server.graph.schema import HubSchema
from store.keys import Caller

from . import auth, metrics, origins

log = logging.getLogger("alliance.socket")

INIT_SECONDS = 10  # for `connection_init` after the handshake
CLOSE_SECONDS = 2  # for the close frame to be taken


class _Dropped(Exception):
    """The client was too slow to take a message."""


class _Handler(BaseGraphQLTransportWSHandler):
    view: "Sockets"
    context: SocketContext

    async def handle(self) -> None:
        self._heard = time.monotonic()
        self._quiet_since = self._heard  # when it last ran no operation
        self._counted: str | None = None  # under which key it is counted
        self._authorization: str | None = None  # the key it was opened with, checked again
        watch = asyncio.create_task(self._watch_idle(), name="alliance-socket-idle")
        metrics.CONNECTIONS.inc()
        try:
            await super().handle()
        finally:
            watch.cancel()
            metrics.CONNECTIONS.dec()
            if self._counted is not None:
                self.view.release(self._counted)

    async def handle_message(self, message) -> None:
        self._heard = time.monotonic()
        await super().handle_message(message)

    async def handle_connection_init(self, message) -> None:
        payload = message.get("payload") or {}
        if (
            self.connection_init_received
            or self.connection_timed_out
            or not isinstance(payload, dict)
        ):
            await super().handle_connection_init(message)  # the protocol's own refusals
            return
        try:
            caller, counted = await self.view.admit(self.websocket.ws, payload)
        except auth.Unauthenticated as exc:
            self.connection_init_received = True
            await self.websocket.close(4403, str(exc))
            return
        except _TooMany as exc:
            self.connection_init_received = True
            await self.websocket.close(4429, str(exc))
            return
        self.context.caller, self._counted = caller, counted
        self._authorization = _authorization(payload) or self.websocket.ws.headers.get(
            "authorization"
        )
        await super().handle_connection_init(message)

    async def run_operation(self, operation) -> None:
        metrics.OPERATIONS.inc()
        try:
            # What a query or mutation reads, or a subscription before its first event.
            async with self.context.reading():
                await super().run_operation(operation)
        finally:
            metrics.OPERATIONS.dec()

    async def send_message(self, message) -> None:
        try:
            await asyncio.wait_for(super().send_message(message), self.view.send_seconds)
        except TimeoutError:
            log.info("dropped a client too slow to read", extra={"key": self.context.caller.name})
            await self._end(1013, "too slow to read")
            raise _Dropped from None

    async def _end(self, code: int, reason: str) -> None:
        """Close the connection; a client that takes not even the close frame is cut off."""
        try:
            await asyncio.wait_for(self.websocket.close(code, reason), CLOSE_SECONDS)
        except Exception:
            _abort(self.websocket.ws)

    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, _Dropped | WebSocketDisconnected):
            return  # the connection ends; nothing went wrong in the hub
        await super().handle_task_exception(error)

    def forget_id(self, id: str) -> None:
        super().forget_id(id)
        if not self.operations:
            self._quiet_since = time.monotonic()

    async def cleanup_operation(self, operation_id: str) -> None:
        await super().cleanup_operation(operation_id)
        if not self.operations:
            self._quiet_since = time.monotonic()

    async def _watch_idle(self) -> None:
        idle = self.view.idle_seconds
        while True:
            await asyncio.sleep(idle / 3)
            if self._counted is not None and self._authorization is not None:
                try:  # a key revoked since the connection opened ends it
                    await auth.from_header(self.websocket.ws.app.state, self._authorization)
                except auth.Unauthenticated as exc:
                    await self._end(4403, str(exc))
                    return
            now = time.monotonic()
            if self.operations:
                quiet = now - self._heard
                with contextlib.suppress(Exception):
                    await self.send_message({"type": "ping"})
            else:
                quiet = now - max(self._quiet_since, self._heard)
            if quiet > idle:
                await self._end(1000, "idle")
                return


class _TooMany(Exception):
    pass


def _abort(websocket: WebSocket) -> None:
    """Drop the TCP connection under `websocket` at once. A client that reads nothing keeps a
    closed connection, and the messages buffered for it, for as long as it stays: the server
    (uvicorn) sends for the app through its protocol object, whose transport can abort."""
    transport = getattr(getattr(websocket._send, "__self__", None), "transport", None)
    if transport is not None:
        transport.abort()


class Sockets(GraphQL):
    """The WebSocket side of `/graphql`; HTTP is answered by `http.graphql`."""

    graphql_transport_ws_handler_class = _Handler

    def __init__(self, schema: HubSchema, settings: Settings):
        super().__init__(
            schema,
            graphql_ide=None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=INIT_SECONDS),
            max_subscriptions_per_connection=settings.subscriptions_per_connection,
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        self.idle_seconds = settings.socket_idle_seconds
        self.send_seconds = settings.socket_send_seconds
        self._open: Counter[str] = Counter()  # connections by key, or address

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        # Strawberry lets in a handshake with no Origin, or the hub's own, before asking.
        allowed = self.settings.cors_origins
        return not origins.refused(origin, request.headers.get("host"), allowed)

    async def get_context(self, request: WebSocket, response: WebSocket) -> SocketContext:
        state = request.app.state
        return SocketContext(engine=state.engine, settings=self.settings, pushed=state.pushed)

    async def admit(self, request: WebSocket, payload: dict[str, Any]) -> tuple[Caller, str]:
        """Who opens the connection, and under which name it is counted; refused (raises) when
        the key is not valid or holds too many connections already."""
        header = _authorization(payload)
        if header is None:
            header = request.headers.get("authorization")
        caller = await auth.from_header(request.app.state, header)
        client = request.client.host if request.client else "-"
        counted = caller.name if caller.name != auth.ANONYMOUS.name else f"address {client}"
        if self._open[counted] >= self.settings.connections_per_key:
            raise _TooMany(
                f"{counted} holds {self.settings.connections_per_key} connections already"
            )
        self._open[counted] += 1
        return caller, counted

    def release(self, counted: str) -> None:
        self._open[counted] -= 1
        if self._open[counted] <= 0:
            del self._open[counted]


def _authorization(payload: dict[str, Any]) -> str | None:
    """The `Authorization` a client put in its `connection_init` payload, in any case, and
    also under `headers` as some clients nest it."""
    for holder in (payload, payload.get("headers")):
        if isinstance(holder, dict):
            for name, value in holder.items():
                if isinstance(name, str) and name.lower() == "authorization":
                    return value if isinstance(value, str) else ""
    return None
