"""`OrganisationFilter`: its fields, and the columns and joins they match."""

from typing import Annotated

import strawberry

from store.registry import MEMBER, ORGANISATION

from .. import filtering
from ..filtering import OneOf, TextMatch, all_of, any_of, none_of
from ..joins import one
from ..members.filters import MemberFilter
from .enums import OrganisationKind


@strawberry.input(description="Filters organisations. Fields combine with AND.")
class OrganisationFilter:
    and_: list["OrganisationFilter"] | None = all_of()
    or_: list["OrganisationFilter"] | None = any_of()
    not_: "OrganisationFilter | None" = none_of()
    slug: TextMatch | None = strawberry.field(default=None, description="Its slug.")
    kind: OneOf[OrganisationKind] | None = strawberry.field(default=None, description="Its kind.")
    sector: str | None = strawberry.field(default=None, description="Works in this sector.")
    search: str | None = strawberry.field(
        default=None, description="Part of any of its names, in any language."
    )
    member: MemberFilter | None = strawberry.field(
        default=None, description="Its home member matches this."
    )
    parent: "OrganisationFilter | None" = strawberry.field(
        default=None, description="Its parent organisation matches this."
    )

    matches = {
        "slug": filtering.text("slug"),
        "kind": filtering.one_of("kind"),
        "search": filtering.search(),
        "sector": filtering.sector(),
        "member": filtering.reaches(one(MEMBER, "member_id")),
        "parent": filtering.reaches(one(ORGANISATION, "parent_id")),
    }


OrganisationsWhere = Annotated[
    OrganisationFilter | None, strawberry.argument(description="Only organisations matching this.")
]
