"""What every resolver of one request can reach: `Context` for a request over HTTP,
`SocketContext` for the operations of one WebSocket connection."""

import contextlib
from collections.abc import AsyncIterator, Collection
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.types import Info

from server.config import Settings
from store.changes import Position
from store.enums import Role
from store.keys import Caller

from .loaders import Loaders
from .reader import Reader


@dataclass
class Context:
    reader: Reader
    settings: Settings
    caller: Caller  # who sent the request (`server.web.auth`)
    live: bool = False  # the operation reads what the data version does not follow (`access`)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.reader)

    @property
    def engine(self):
        """For what an operator's mutation writes: the reader only reads."""
        return self.reader.engine


class Pushed(Protocol):
    """What the API process pushes to subscribers (`server.web.live`)."""

    def changes(
        self, after: Position | None, types: Collection[str] | None
    ) -> AsyncIterator[list[Row[Any]]]: ...

    def runs(self, feed: str | None, run: int | None) -> AsyncIterator[Row[Any]]: ...


# The reader of what is being answered now: each operation of a connection runs in a task of its
# own, and a subscription reads each batch it pushes through a reader of its own (`reading`).
_READING: ContextVar[tuple[Reader, Loaders]] = ContextVar("reading")


@dataclass
class SocketContext:
    """The context of one WebSocket connection, shared by its operations. What a request's
    context holds for the whole request, `reader` and `loaders`, is here that of the batch being
    answered: a subscription's events read the records as they are when they are pushed, not
    as the connection's first event found them."""

    engine: AsyncEngine
    settings: Settings
    pushed: Pushed
    # Who holds the connection, known at `connection_init`, before any operation may run.
    caller: Caller = field(default_factory=lambda: Caller("-", Role.READER))
    connection_params: dict[str, Any] = field(default_factory=dict)
    live: bool = False

    @property
    def reader(self) -> Reader:
        return _READING.get()[0]

    @property
    def loaders(self) -> Loaders:
        return _READING.get()[1]

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        """Read what is answered inside through a reader of its own, closed at the end."""
        reader = Reader(self.engine)
        token = _READING.set((reader, Loaders(reader)))
        try:
            yield
        finally:
            # A subscription's events may each be asked for by another task (another context):
            # what this set there goes with that context.
            with contextlib.suppress(ValueError):
                _READING.reset(token)
            await reader.close()


Ctx = Info[Context | SocketContext, None]
