"""`PersonFilter` and `PostFilter`: their fields, and the columns and joins they match."""

from typing import Annotated

import strawberry

from store.registry import MEMBER, ORGANISATION, POST

from .. import filtering
from ..filtering import TextMatch, all_of, any_of, none_of
from ..joins import many, one
from ..members.filters import MemberFilter
from ..organisations.filters import OrganisationFilter


@strawberry.input(description="Matches posts a person holds.")
class PostFilter:
    role: TextMatch | None = strawberry.field(default=None, description="The role, as recorded.")
    organisation: OrganisationFilter | None = strawberry.field(
        default=None, description="The post is in an organisation matching this."
    )
    member: MemberFilter | None = strawberry.field(
        default=None, description="The post is for a member matching this."
    )
    current: bool | None = strawberry.field(default=None, description="True: no end date yet.")

    matches = {
        "role": filtering.text("role"),
        "current": filtering.current("end_date"),
        "organisation": filtering.reaches(one(ORGANISATION, "organisation_id")),
        "member": filtering.reaches(one(MEMBER, "member_id")),
    }


@strawberry.input(description="Filters people. Fields combine with AND.")
class PersonFilter:
    and_: list["PersonFilter"] | None = all_of()
    or_: list["PersonFilter"] | None = any_of()
    not_: "PersonFilter | None" = none_of()
    slug: TextMatch | None = strawberry.field(default=None, description="Its slug.")
    search: str | None = strawberry.field(default=None, description="Part of any of their names.")
    holds_post: PostFilter | None = strawberry.field(
        default=None, description="Holds a post matching this."
    )

    matches = {
        "slug": filtering.text("slug"),
        "search": filtering.search(),
        "holds_post": filtering.reaches(many(POST, "person_id")),
    }


PeopleWhere = Annotated[
    PersonFilter | None, strawberry.argument(description="Only people matching this.")
]
