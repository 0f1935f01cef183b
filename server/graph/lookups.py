"""Root fields that find one record by its slug (docs/api.md, Root fields)."""

from typing import Any

import strawberry

from .arguments import Slug
from .connection import Listing
from .context import Ctx
from .errors import NotFound
from .relations import prefetch


async def by_slug(info: Ctx, listing: Listing, kind: str, slug: str) -> Any:
    """The live record of `listing` with `slug`, its asked-for relations loaded; or NOT_FOUND."""
    found = await info.context.loaders.by_slug(listing.table, listing.build).load(slug)
    if found is None:
        raise NotFound(f"no {kind} has the slug {slug!r}", field="slug")
    await prefetch(info.context.loaders, [found], info.selected_fields[0].selections)
    return found


def lookup_field(listing: Listing, kind: str, description: str) -> Any:
    """`<kind>(slug:)`: one record of `listing`, named `kind` in its error."""

    async def resolve(info: Ctx, slug: Slug) -> listing.node | None:
        return await by_slug(info, listing, kind, slug)

    resolve.listing = listing
    return strawberry.field(resolver=resolve, description=description)
