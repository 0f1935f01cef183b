"""Settings the store needs: which database, and how to talk to it."""

from typing import TypeVar

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError

S = TypeVar("S", bound=BaseSettings)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./alliance.db"

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def async_database_url(url: str) -> str:
    """Map a plain `postgresql://` or `sqlite://` URL onto the async driver the hub uses."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"{url!r} is not a database URL (expected e.g. {DEFAULT_DATABASE_URL})")
    driver = _ASYNC_DRIVERS.get(scheme.lower())
    if driver is None:
        raise ValueError(
            f"unsupported database {scheme!r}: use sqlite:///path.db or postgresql://user@host/db"
        )
    return f"{driver}://{rest}"


class StoreSettings(BaseSettings):
    """Read from `ALLIANCE_*` environment variables and an optional `.env` file."""

    model_config = SettingsConfigDict(env_prefix="ALLIANCE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "ALLIANCE_DATABASE_URL"),
        description="Database URL: SQLite (default, a file) or PostgreSQL.",
    )
    database_pool_size: int = Field(default=10, ge=1, le=500)
    statement_timeout_ms: int = Field(default=10_000, ge=100)
    echo_sql: bool = False

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return async_database_url(value)


def env_name(settings_cls: type[BaseSettings], field: str) -> str:
    """The environment variable(s) that set `field`, for error messages."""
    alias = settings_cls.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        return " or ".join(str(choice) for choice in alias.choices)
    prefix = settings_cls.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper()


def load(settings_cls: type[S]) -> S:
    """Build the settings, turning a validation error into one naming the variable."""
    try:
        return settings_cls()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            name = env_name(settings_cls, field) if field in settings_cls.model_fields else field
            problems.append(f"{name}: {error['msg']} (got {error.get('input')!r})")
        raise ConfigError("invalid setting: " + "; ".join(problems)) from None
