"""What every resolver of one request can reach."""

from dataclasses import dataclass, field

from strawberry.types import Info

from server.config import Settings
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


Ctx = Info[Context, None]
