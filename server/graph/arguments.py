"""Argument types every area's fields share, each with its description."""

from typing import Annotated

import strawberry

First = Annotated[
    int | None, strawberry.argument(description="Page size from the start (max 100).")
]
After = Annotated[str | None, strawberry.argument(description="Items after this cursor.")]
Last = Annotated[int | None, strawberry.argument(description="Page size from the end (max 100).")]
Before = Annotated[str | None, strawberry.argument(description="Items before this cursor.")]
Lang = Annotated[str | None, strawberry.argument(description="A BCP 47 tag: de, en, zh-Hans.")]
AllianceSlug = Annotated[
    str | None, strawberry.argument(description="Slug of an alliance; the hub's default if null.")
]
Slug = Annotated[str, strawberry.argument(description="The record's slug.")]
