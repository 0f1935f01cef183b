"""Rate limits (docs/api.md, "Limits"): each API key may send `ALLIANCE_RATE_LIMIT` requests,
each client address without a key `ALLIANCE_ANONYMOUS_RATE_LIMIT`, in a moving window.

The windows are counted by the `limits` library, in this process's memory or, with
`ALLIANCE_RATE_LIMIT_STORAGE=redis://...`, in Redis, shared by every API process. A request over
its rate is refused with 429, the code `RATE_LIMITED` and `Retry-After`, before it is parsed.
"""

import math
import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from server.config import Settings
from store.keys import Caller

from .auth import ANONYMOUS


class Rates:
    def __init__(self, settings: Settings):
        self.keyed = parse(settings.rate_limit) if settings.rate_limit else None
        self.anonymous = (
            parse(settings.anonymous_rate_limit) if settings.anonymous_rate_limit else None
        )
        storage = storage_from_string(f"async+{settings.rate_limit_storage}")
        self.limiter = MovingWindowRateLimiter(storage)

    async def wait(self, caller: Caller, address: str | None) -> int | None:
        """None when the request is within its rate, else the seconds until it would be."""
        item: RateLimitItem | None
        if caller is ANONYMOUS:
            item, who = self.anonymous, ("address", address or "-")
        else:
            item, who = self.keyed, ("key", caller.name)
        if item is None or await self.limiter.hit(item, *who):
            return None
        window = await self.limiter.get_window_stats(item, *who)
        return max(1, math.ceil(window.reset_time - time.time()))
