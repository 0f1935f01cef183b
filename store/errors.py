"""One exception tree for the store."""


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class ConfigError(StoreError):
    """A setting has a value the hub cannot use; the message names the variable."""


class InvalidPartialDate(StoreError, ValueError):
    """A date is not `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, or not on the calendar."""


class SeedError(StoreError):
    """The seed data set refers to something it does not define."""


class KeyRefused(StoreError):
    """An API key that cannot be created or revoked as asked."""
