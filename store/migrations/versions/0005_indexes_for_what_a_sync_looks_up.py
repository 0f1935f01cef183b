"""indexes for what a sync run looks up of every changed item

An updated record's identifiers are looked up by value, whatever their scheme, and a member's
periods by the source its item gave them: neither had an index leading with those columns, and
both read more of their table the more the store holds (tests/sync/test_indexes.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # sync.apply.Applier._identifiers: identifier by entity_type and value IN (...); scheme
    # too, so that the look-up reads the index alone (and SQLite's planner prefers it)
    op.create_index("ix_identifier_value", "identifier", ["value", "entity_type", "scheme"])
    # sync.apply.Applier._retire_children: source by (entity_type, feed, item_id)
    op.create_index("ix_source_feed_item", "source", ["feed", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_source_feed_item", table_name="source")
    op.drop_index("ix_identifier_value", table_name="identifier")
