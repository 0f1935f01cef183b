"""the alliance graph

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alliance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("default_lang", sa.String(length=35), nullable=False),
        sa.Column("sort_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("founded_on", sa.String(length=10), nullable=True),
        sa.Column("website", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alliance")),
        sa.UniqueConstraint("slug", name=op.f("uq_alliance_slug")),
    )
    with op.batch_alter_table("alliance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alliance_sort_key"), ["sort_key"], unique=False)

    op.create_table(
        "identifier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=40), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.CheckConstraint(
            "entity_type IN ('alliance', 'member', 'membership_period', 'organisation', 'person', 'post', 'partnership', 'event')",
            name=op.f("ck_identifier_entity_type_vocabulary"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifier")),
        sa.UniqueConstraint("entity_type", "scheme", "value", name="uq_identifier_key"),
    )
    with op.batch_alter_table("identifier", schema=None) as batch_op:
        batch_op.create_index("ix_identifier_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("default_lang", sa.String(length=35), nullable=False),
        sa.Column("sort_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('city', 'district', 'region', 'city_network')",
            name=op.f("ck_member_kind_vocabulary"),
        ),
        sa.CheckConstraint("length(country) = 2", name=op.f("ck_member_country_alpha2")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["member.id"], name=op.f("fk_member_parent_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("slug", name=op.f("uq_member_slug")),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_sort_key"), ["sort_key"], unique=False)

    op.create_table(
        "partnership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("start_date", sa.String(length=10), nullable=True),
        sa.Column("end_date", sa.String(length=10), nullable=True),
        sa.CheckConstraint(
            "kind IN ('twinning', 'cooperation_agreement', 'memorandum', 'trade', 'research', 'investment', 'other')",
            name=op.f("ck_partnership_kind_vocabulary"),
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'active', 'ended')",
            name=op.f("ck_partnership_status_vocabulary"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership")),
        sa.UniqueConstraint("slug", name=op.f("uq_partnership_slug")),
    )
    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partnership_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_partnership_start_date"), ["start_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_partnership_status"), ["status"], unique=False)

    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("default_lang", sa.String(length=35), nullable=False),
        sa.Column("sort_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sort_name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("honorific_prefix", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("contact_details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("slug", name=op.f("uq_person_slug")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_sort_key"), ["sort_key"], unique=False)

    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("feed", sa.String(length=120), nullable=True),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "entity_type IN ('alliance', 'member', 'membership_period', 'organisation', 'person', 'post', 'partnership', 'event')",
            name=op.f("ck_source_entity_type_vocabulary"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
    )
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.create_index("ix_source_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("start_date", sa.String(length=10), nullable=True),
        sa.Column("end_date", sa.String(length=10), nullable=True),
        sa.Column("place", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("partnership_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('plenary', 'accession_ceremony', 'delegation_visit', 'trade_fair', 'meeting', 'other')",
            name=op.f("ck_event_kind_vocabulary"),
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'planned', 'held', 'cancelled')",
            name=op.f("ck_event_status_vocabulary"),
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name=op.f("fk_event_partnership_id_partnership")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("slug", name=op.f("uq_event_slug")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_event_partnership_id"), ["partnership_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_event_start_date"), ["start_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_event_status"), ["status"], unique=False)

    op.create_table(
        "membership_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("alliance_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("start_date", sa.String(length=10), nullable=True),
        sa.Column("end_date", sa.String(length=10), nullable=True),
        sa.CheckConstraint(
            "status IN ('applicant', 'observer', 'guest', 'member', 'former')",
            name=op.f("ck_membership_period_status_vocabulary"),
        ),
        sa.ForeignKeyConstraint(
            ["alliance_id"], ["alliance.id"], name=op.f("fk_membership_period_alliance_id_alliance")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_membership_period_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_period")),
    )
    with op.batch_alter_table("membership_period", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_period_alliance_id"), ["alliance_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_membership_period_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("default_lang", sa.String(length=35), nullable=False),
        sa.Column("sort_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("search_text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("website", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('company', 'economic_development_agency', 'utility', 'research_institution', 'research_alliance', 'association', 'government', 'secretariat', 'other')",
            name=op.f("ck_organisation_kind_vocabulary"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_organisation_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["organisation.id"], name=op.f("fk_organisation_parent_id_organisation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
        sa.UniqueConstraint("slug", name=op.f("uq_organisation_slug")),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisation_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_organisation_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_organisation_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_organisation_sort_key"), ["sort_key"], unique=False)

    op.create_table(
        "alliance_secretariat",
        sa.Column("alliance_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alliance_id"],
            ["alliance.id"],
            name=op.f("fk_alliance_secretariat_alliance_id_alliance"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_alliance_secretariat_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint(
            "alliance_id", "organisation_id", name=op.f("pk_alliance_secretariat")
        ),
    )
    op.create_table(
        "event_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("on_behalf_of_member_id", sa.Integer(), nullable=True),
        sa.Column("on_behalf_of_organisation_id", sa.Integer(), nullable=True),
        sa.Column("on_behalf_of_person_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN member_id IS NOT NULL THEN 1 ELSE 0 END) + (CASE WHEN organisation_id IS NOT NULL THEN 1 ELSE 0 END) + (CASE WHEN person_id IS NOT NULL THEN 1 ELSE 0 END) = 1",
            name=op.f("ck_event_participant_one_participant"),
        ),
        sa.CheckConstraint(
            "(CASE WHEN on_behalf_of_member_id IS NOT NULL THEN 1 ELSE 0 END) + (CASE WHEN on_behalf_of_organisation_id IS NOT NULL THEN 1 ELSE 0 END) + (CASE WHEN on_behalf_of_person_id IS NOT NULL THEN 1 ELSE 0 END) <= 1",
            name=op.f("ck_event_participant_one_principal"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_event_participant_event_id_event")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_event_participant_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of_member_id"],
            ["member.id"],
            name=op.f("fk_event_participant_on_behalf_of_member_id_member"),
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of_organisation_id"],
            ["organisation.id"],
            name=op.f("fk_event_participant_on_behalf_of_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of_person_id"],
            ["person.id"],
            name=op.f("fk_event_participant_on_behalf_of_person_id_person"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_event_participant_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_event_participant_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_participant")),
    )
    with op.batch_alter_table("event_participant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_participant_event_id"), ["event_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_participant_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_participant_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_participant_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "partnership_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN member_id IS NOT NULL THEN 1 ELSE 0 END) + (CASE WHEN organisation_id IS NOT NULL THEN 1 ELSE 0 END) = 1",
            name=op.f("ck_partnership_party_one_party"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_partnership_party_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_partnership_party_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_partnership_party_partnership_id_partnership"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership_party")),
    )
    with op.batch_alter_table("partnership_party", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_partnership_party_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_partnership_party_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_partnership_party_partnership_id"), ["partnership_id"], unique=False
        )

    op.create_table(
        "post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("start_date", sa.String(length=10), nullable=True),
        sa.Column("end_date", sa.String(length=10), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN organisation_id IS NOT NULL THEN 1 ELSE 0 END) + (CASE WHEN member_id IS NOT NULL THEN 1 ELSE 0 END) = 1",
            name=op.f("ck_post_one_holder_body"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_post_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_post_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_post_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post")),
    )
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_post_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_post_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_person_id"))
        batch_op.drop_index(batch_op.f("ix_post_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_post_member_id"))

    op.drop_table("post")
    with op.batch_alter_table("partnership_party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partnership_party_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_partnership_party_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_partnership_party_member_id"))

    op.drop_table("partnership_party")
    with op.batch_alter_table("event_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_participant_person_id"))
        batch_op.drop_index(batch_op.f("ix_event_participant_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_event_participant_member_id"))
        batch_op.drop_index(batch_op.f("ix_event_participant_event_id"))

    op.drop_table("event_participant")
    op.drop_table("alliance_secretariat")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisation_sort_key"))
        batch_op.drop_index(batch_op.f("ix_organisation_parent_id"))
        batch_op.drop_index(batch_op.f("ix_organisation_member_id"))
        batch_op.drop_index(batch_op.f("ix_organisation_kind"))

    op.drop_table("organisation")
    with op.batch_alter_table("membership_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_period_member_id"))
        batch_op.drop_index(batch_op.f("ix_membership_period_alliance_id"))

    op.drop_table("membership_period")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_status"))
        batch_op.drop_index(batch_op.f("ix_event_start_date"))
        batch_op.drop_index(batch_op.f("ix_event_partnership_id"))
        batch_op.drop_index(batch_op.f("ix_event_kind"))

    op.drop_table("event")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_index("ix_source_entity")

    op.drop_table("source")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_sort_key"))

    op.drop_table("person")
    with op.batch_alter_table("partnership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partnership_status"))
        batch_op.drop_index(batch_op.f("ix_partnership_start_date"))
        batch_op.drop_index(batch_op.f("ix_partnership_kind"))

    op.drop_table("partnership")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_sort_key"))
        batch_op.drop_index(batch_op.f("ix_member_parent_id"))
        batch_op.drop_index(batch_op.f("ix_member_kind"))
        batch_op.drop_index(batch_op.f("ix_member_country"))

    op.drop_table("member")
    with op.batch_alter_table("identifier", schema=None) as batch_op:
        batch_op.drop_index("ix_identifier_entity")

    op.drop_table("identifier")
    with op.batch_alter_table("alliance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alliance_sort_key"))

    op.drop_table("alliance")
