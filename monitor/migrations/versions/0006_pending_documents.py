"""Documents carry a pending mark from the moment they are stored until their events
are recorded, so a crash between the two (or a lost task) never loses an event.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("pending_source", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("pending_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_documents_pending_source"), ["pending_source"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_pending_source"))
        batch_op.drop_column("pending_since")
        batch_op.drop_column("pending_source")
        batch_op.drop_column("pending")
