"""feeds may allow link-local and cloud metadata addresses, apart from private ones

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing feeds, allow_private ones included, stay away from those addresses.
    op.add_column(
        "feed",
        sa.Column("allow_link_local", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.drop_column("allow_link_local")
