"""A request refused before it runs, with its HTTP status and code (docs/api.md, "Errors")."""


class BadRequest(Exception):
    """The HTTP request is not one the hub runs: not a GraphQL request, or refused to its caller."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
        code: str = "BAD_REQUEST",
    ):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.code = code
