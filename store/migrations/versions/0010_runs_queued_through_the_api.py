"""runs queued through the API: a sync run may be `queued` until a scheduler starts it

`triggerSync` records the run at once, `queued`, and whichever process runs a scheduler takes it
(sync/scheduler.py): the status vocabulary gains the value, and queued runs are found by a
partial index of their own, which stays as small as the queue.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BEFORE = (
    "running",
    "succeeded",
    "partial",
    "not_modified",
    "failed",
    "abandoned",
    "skipped_locked",
)
QUEUED = "status = 'queued'"


def _vocabulary(values: tuple[str, ...]) -> str:
    return "status IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _status_check(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("sync_run", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sync_run_status_vocabulary"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sync_run_status_vocabulary"), _vocabulary(values))


def upgrade() -> None:
    _status_check(("queued", *BEFORE))
    queued = sa.text(QUEUED)
    op.create_index(
        "ix_sync_run_queued", "sync_run", ["id"], postgresql_where=queued, sqlite_where=queued
    )


def downgrade() -> None:
    op.drop_index("ix_sync_run_queued", table_name="sync_run")
    op.execute("DELETE FROM sync_run WHERE status = 'queued'")
    _status_check(BEFORE)
