"""sources keep feed URLs to operators; feeds remember their publisher

A source written by a sync run held the feed's URL, which anonymous readers of the API could
see, a partner's key in its query string included. Those URLs are cleared: a synced source is
named by its feed's slug and shown with the publisher the feed declares, now kept on the feed.
Sources of the seed (the press releases and documents it cites) keep their public URLs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.add_column(sa.Column("publisher", sa.JSON(), nullable=True))
    source = sa.table("source", sa.column("url"), sa.column("run_id"))
    op.execute(source.update().where(source.c.run_id.is_not(None)).values(url=None))


def downgrade() -> None:
    # The cleared URLs are gone for good; they are in each feed's own configuration.
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.drop_column("publisher")
