"""waiting feed items found by their feed; no pending item is a JSON null

Every run tries again the items of its feed that wait for a reference (sync.apply.Applier.
retry_pending), a few among all the feed's items: a partial index holds only the waiting ones.
A row that waits for nothing said so with a JSON `null` before; it is SQL NULL now, as the
model writes it, so that the index leaves it out.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

WAITING = sa.text("pending IS NOT NULL")


def upgrade() -> None:
    op.execute("UPDATE feed_item SET pending = NULL WHERE CAST(pending AS TEXT) = 'null'")
    op.create_index(
        "ix_feed_item_waiting",
        "feed_item",
        ["feed_id", "id"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_feed_item_waiting", table_name="feed_item")
