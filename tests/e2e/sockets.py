"""A graphql-transport-ws client by the protocol's own messages, for the tests that check what
the hub says and when (the reference clients are tried in test_subscription_clients)."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://", 1) + "/graphql"


class Socket:
    def __init__(self, connection: ClientConnection):
        self.connection = connection

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(
        cls, base_url: str, *, origin: str | None = None, headers: dict[str, str] | None = None
    ) -> AsyncIterator["Socket"]:
        async with connect(
            ws_url(base_url),
            subprotocols=[PROTOCOL],
            origin=origin,
            additional_headers=headers,
            open_timeout=10,
            close_timeout=2,
        ) as connection:
            yield cls(connection)

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message that is not a ping (a ping is answered)."""
        while True:
            message = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def init(self, token: str | None = None, **payload: Any) -> dict[str, Any]:
        if token is not None:
            payload["authorization"] = f"Bearer {token}"
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, id: str, query: str, **variables: Any) -> None:
        payload = {"query": query, "variables": variables}
        await self.send({"type": "subscribe", "id": id, "payload": payload})

    async def next(self, id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The data of the next `next` message of `id`; any other message of it fails."""
        message = await self.receive(timeout)
        assert message.get("id") == id and message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]

    async def closed(self, timeout: float = 10.0) -> tuple[int, str]:
        """The code and reason the hub closed the connection with."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.wait_for(self.connection.recv(), timeout)
        return self.connection.close_code, self.connection.close_reason
