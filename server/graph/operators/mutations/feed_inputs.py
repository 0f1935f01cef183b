"""What `createFeed` and `updateFeed` share: a feed's settings as an operator gives them."""

from typing import Any

import strawberry

from ..types import FeedFormat, FeedMode


@strawberry.input(description="An HTTP header a feed is fetched with.")
class HeaderInput:
    name: str = strawberry.field(description="`Authorization`.")
    value: str = strawberry.field(
        description="The value; `env:NAME` reads it from the environment variable NAME of the "
        "process that fetches, so that a secret is never stored."
    )


@strawberry.input(description="A format's option: for CSV, `item_type` and `id_column`.")
class OptionInput:
    name: str = strawberry.field(description="The option.")
    value: str = strawberry.field(description="Its value.")


@strawberry.input(description="How a feed is fetched and read; what is not given is unchanged.")
class FeedSettingsInput:
    url: str | None = strawberry.field(default=None, description="An http(s) URL.")
    format: FeedFormat | None = strawberry.field(default=None, description="How it is written.")
    mode: FeedMode | None = strawberry.field(default=None, description="Snapshot or incremental.")
    schedule: str | None = strawberry.field(
        default=None, description="`15m`, `1h`, `1d` or a cron expression."
    )
    headers: list[HeaderInput] | None = strawberry.field(
        default=None, description="Every header, replacing those it had."
    )
    options: list[OptionInput] | None = strawberry.field(
        default=None, description="Every option, replacing those it had."
    )
    allow_private: bool | None = strawberry.field(
        default=None, description="Whether it may reach loopback and private addresses."
    )
    max_delete_share: float | None = strawberry.field(
        default=None, description="The largest share of its records one snapshot may delete."
    )
    max_bad_share: float | None = strawberry.field(
        default=None, description="The largest share of items a run may quarantine."
    )


SETTINGS = (
    "url",
    "format",
    "mode",
    "schedule",
    "allow_private",
    "max_delete_share",
    "max_bad_share",
)


def given(settings: FeedSettingsInput) -> dict[str, Any]:
    """The settings given, as `sync.config.FeedSpec` names them."""
    found: dict[str, Any] = {}
    for name in SETTINGS:
        if getattr(settings, name) is not None:
            found[name] = getattr(settings, name)
    if settings.headers is not None:
        found["headers"] = {h.name: h.value for h in settings.headers}
    if settings.options is not None:
        found["options"] = {o.name: o.value for o in settings.options}
    return found
