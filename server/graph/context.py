"""What every resolver of one request can reach."""

from dataclasses import dataclass, field

from strawberry.types import Info

from server.config import Settings
from store.enums import Role

from .loaders import Loaders
from .reader import Reader


@dataclass
class Context:
    reader: Reader
    settings: Settings
    role: Role  # the caller's (`server.web.auth`)
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.reader)


Ctx = Info[Context, None]
