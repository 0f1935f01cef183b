"""One exception tree for the sync. A run that meets one of these ends `failed` with its text."""


class SyncError(Exception):
    """Base of every error the sync raises on purpose."""


class FetchError(SyncError):
    """The feed could not be fetched: transport, status, limits or policy."""


class Refused(FetchError):
    """The address is not allowed: a scheme other than http(s), or a private or metadata
    address, or a redirect to another host, without the operator's permission."""


class TooLarge(FetchError):
    """The body passed the feed's size limit (counted after decompression)."""


class DeadlineExceeded(FetchError):
    """The whole fetch took longer than the feed's deadline."""


class HttpStatusError(FetchError):
    """The feed answered with a status that is not 200 or 304 (after retries)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class FeedFormatError(SyncError):
    """The body is not a feed of its format: malformed, truncated, wrongly encoded. The message
    names the place (byte offset, line, or JSON path)."""


class ConfigError(SyncError):
    """A feed's configuration is not usable; the message names the field."""
