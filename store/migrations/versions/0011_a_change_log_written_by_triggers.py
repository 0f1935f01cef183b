"""a change log: every record created, updated or deleted, in commit order

Triggers on the tables of records a global id can name write a `change` row for each row
inserted or updated, in the transaction of the write, whoever writes (a sync batch, the seed, an
operator): no writer can forget to. A row is `created` when inserted or when a deleted record
comes back, `deleted` when its `deleted_at` is set, `updated` otherwise; an update of a record
that stays deleted is not a change. Rows are unversioned until their transaction raises the data
version (store/versions.py `bump`), which gives them its number under the version row's lock,
so (version, id) orders the log as the commits happened. On PostgreSQL the triggers are per
statement, reading the statement's rows from its transition tables; SQLite has only row
triggers. Records that exist when the log begins are logged `created` at the current version.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = (
    "alliance",
    "member",
    "membership_period",
    "organisation",
    "person",
    "post",
    "partnership",
    "event",
)
UNVERSIONED = sa.text("version IS NULL")
ACTION = (
    "CASE WHEN n.deleted_at IS NOT NULL THEN 'deleted' "
    "WHEN o.deleted_at IS NOT NULL THEN 'created' ELSE 'updated' END"
)

POSTGRES_FUNCTIONS = (
    """
CREATE FUNCTION hub_log_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change (entity_type, entity_id, action, changed_at)
    SELECT TG_ARGV[0], n.id, 'created', now() FROM new_rows n ORDER BY n.id;
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION hub_log_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change (entity_type, entity_id, action, changed_at)
    SELECT TG_ARGV[0], n.id, {ACTION}, now()
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE n.deleted_at IS NULL OR o.deleted_at IS NULL
    ORDER BY n.id;
    RETURN NULL;
END $$""",
)


def _postgres_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER hub_log_{table}_inserted AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION hub_log_inserted('{table}')",
        f"CREATE TRIGGER hub_log_{table}_updated AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION hub_log_updated('{table}')",
    ]


def _sqlite_triggers(table: str) -> list[str]:
    action = ACTION.replace("n.", "NEW.").replace("o.", "OLD.")
    return [
        f"CREATE TRIGGER hub_log_{table}_inserted AFTER INSERT ON {table} BEGIN "
        "INSERT INTO change (entity_type, entity_id, action, changed_at) "
        f"VALUES ('{table}', NEW.id, 'created', strftime('%Y-%m-%d %H:%M:%f', 'now')); END",
        f"CREATE TRIGGER hub_log_{table}_updated AFTER UPDATE ON {table} "
        "WHEN NEW.deleted_at IS NULL OR OLD.deleted_at IS NULL BEGIN "
        "INSERT INTO change (entity_type, entity_id, action, changed_at) "
        f"VALUES ('{table}', NEW.id, {action}, strftime('%Y-%m-%d %H:%M:%f', 'now')); END",
    ]


def upgrade() -> None:
    op.create_table(
        "change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=True),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('created', 'updated', 'deleted')",
            name=op.f("ck_change_action_vocabulary"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change")),
    )
    op.create_index("ix_change_order", "change", ["version", "id"])
    op.create_index(
        "ix_change_unversioned",
        "change",
        ["id"],
        postgresql_where=UNVERSIONED,
        sqlite_where=UNVERSIONED,
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for function in POSTGRES_FUNCTIONS:
            op.execute(function)
    for table in TABLES:
        op.execute(
            "INSERT INTO change (version, entity_type, entity_id, action, changed_at) "
            f"SELECT (SELECT version FROM data_version WHERE id = 1), '{table}', id, "
            f"'created', created_at FROM {table} WHERE deleted_at IS NULL ORDER BY id"
        )
        for statement in _postgres_triggers(table) if postgres else _sqlite_triggers(table):
            op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        for when in ("inserted", "updated"):
            suffix = f" ON {table}" if op.get_bind().dialect.name == "postgresql" else ""
            op.execute(f"DROP TRIGGER IF EXISTS hub_log_{table}_{when}{suffix}")
    if op.get_bind().dialect.name == "postgresql":
        for function in ("hub_log_inserted", "hub_log_updated"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_change_unversioned", table_name="change")
    op.drop_index("ix_change_order", table_name="change")
    op.drop_table("change")
