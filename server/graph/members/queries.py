"""The root fields of this area: the alliance, members, and their counts."""

import strawberry

from ..arguments import After, AllianceSlug, Before, First, Last
from ..connection import Connection, connection_field, top_level
from ..context import Ctx
from ..lookups import by_slug, lookup_field
from ..ordering import BY_NAME
from ..pagination import PageArgs
from . import counts
from .listing import ALLIANCES, MEMBERS
from .types import Alliance


@strawberry.type(description="Reading alliances and their members.")
class MemberQuery:
    @strawberry.field(description="An alliance by slug; the hub's default alliance without one.")
    async def alliance(self, info: Ctx, slug: AllianceSlug = None) -> Alliance | None:
        slug = slug or info.context.settings.default_alliance
        return await by_slug(info, ALLIANCES, "alliance", slug)

    @strawberry.field(description="Every alliance on this hub.")
    async def alliances(
        self,
        info: Ctx,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Alliance]:
        args = PageArgs(first=first, after=after, last=last, before=before)
        return await top_level(info, ALLIANCES, [], BY_NAME, args)

    members = connection_field(MEMBERS, "Members and other places, filtered and ordered.")
    member = lookup_field(MEMBERS, "member", "A member or other place by slug.")
    member_counts = strawberry.field(
        resolver=counts.member_counts,
        description="Members matching the filter, counted by the given fields.",
    )
