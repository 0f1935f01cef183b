"""Errors a client can cause and fix: shown with a code, never masked.

Anything else raised while resolving is unexpected: clients see "Unexpected error." and the
server logs it in full (see `server.graph.schema`).
"""


class ApiError(Exception):
    """Base of the errors a client may see in full, each with a stable `code`."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field

    @property
    def extensions(self) -> dict[str, str]:
        found = {"code": self.code}
        if self.field:
            found["field"] = self.field
        return found


class InvalidCursor(ApiError):
    """A cursor that this API did not make, or made for another ordering."""

    code = "INVALID_CURSOR"


class PageSizeError(ApiError):
    """`first`/`last` outside 0..max_page_size, or both at once."""

    code = "PAGE_SIZE"


class InvalidId(ApiError):
    """A global id that is not one of ours, or of the wrong type."""

    code = "INVALID_ID"


class InvalidArgument(ApiError):
    """An argument value that parses but means nothing (an unknown alliance, a bad date)."""

    code = "INVALID_ARGUMENT"


class NotFound(ApiError):
    """A lookup by slug that names no record."""

    code = "NOT_FOUND"
