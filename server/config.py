"""Settings of the API process, on top of the store's (`ALLIANCE_*` variables, `.env`)."""

from pathlib import Path
from typing import Literal

import limits
from pydantic import Field, SecretStr, field_validator

from store.config import StoreSettings


class Settings(StoreSettings):
    @field_validator("rate_limit", "anonymous_rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        if value:
            limits.parse(value)  # a ValueError names what it cannot read
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("memory:// or redis://host:port/db")
        return value

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    default_alliance: str = Field(
        default="isa", description="Slug served by `alliance` with no slug."
    )
    default_page_size: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    max_query_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=5_000, ge=100)
    max_cost: int = Field(
        default=50_000,
        ge=1,
        description="Fields an operation may resolve, each once per item of the pages above it.",
    )
    # A document the token limit lets through is a few tens of KB even indented, and variables
    # for 100 ids a few KB. graphql-core lexes comments and strings at 1 to 2 MB/s here, with
    # the event loop waiting: 256 KiB is read in about the time the largest document (5,000
    # tokens) takes to parse anyway.
    max_body_bytes: int = Field(
        default=256 << 10,
        ge=1024,
        description="Largest request body, or GET query string, that /graphql reads.",
    )
    document_cache_bytes: int = Field(
        default=32 << 20,
        ge=0,
        description="Memory the parsed and validated documents kept for reuse may take.",
    )
    # Whole answers to queries, reused until the data version moves (docs/api.md, "Caching").
    answer_cache_bytes: int = Field(
        default=64 << 20,
        ge=0,
        description="Memory the answers kept for reuse may take; 0 keeps none.",
    )
    answer_cache_entries: int = Field(
        default=10_000, ge=1, description="Most answers kept for reuse."
    )
    # A secret: kept out of the database, so that a copy of it lets no one in (store/keys.py).
    key_pepper: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="The secret API keys are hashed with; keys are refused while it is unset.",
    )
    anonymous_reads: bool = Field(
        default=True, description="Whether a request without a key may read, as a `reader`."
    )
    rate_limit: str = Field(
        default="",
        description="Requests each API key may send, such as `600/minute`; empty: no limit.",
    )
    anonymous_rate_limit: str = Field(
        default="",
        description="Requests each client address may send without a key; empty: no limit.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where the windows are counted: `memory://` (per process) or `redis://...`.",
    )
    persisted_queries: Literal["automatic", "allowlist", "off"] = Field(
        default="automatic",
        description="Queries sent by their sha256: learned from clients, only registered, or not.",
    )
    cors_origins: list[str] = Field(
        default=[],
        description="Origins whose pages may call /graphql from a browser, as a JSON list.",
    )
    subscriptions_per_connection: int = Field(
        default=20, ge=1, description="Operations one WebSocket connection may run at once."
    )
    connections_per_key: int = Field(
        default=20,
        ge=1,
        description="WebSocket connections one key (or, without a key, one address) may hold "
        "open in one API process.",
    )
    socket_idle_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A WebSocket connection with no subscription, or whose client answers no "
        "ping, for this long is closed.",
    )
    socket_send_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A WebSocket client that takes longer to accept one message is dropped.",
    )
    subscriber_queue: int = Field(
        default=2_000,
        ge=10,
        description="Changes held for one subscriber; one that falls further behind reads on "
        "from the log by itself.",
    )
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="The least severe lines logged."
    )
    worker_port: int = Field(
        default=8001,
        ge=0,
        le=65535,
        description="Where `alliance worker` answers /healthz and /metrics (on ALLIANCE_HOST); "
        "0 takes a free port.",
    )
    scheduler: bool = Field(default=True, description="Run the feed scheduler in `serve`.")
    demo: bool = Field(default=False, description="Publish and sync the demo partner feeds.")
    feeds_file: Path = Field(
        default=Path("feeds.toml"), description="Feeds declared here are saved at start-up."
    )
