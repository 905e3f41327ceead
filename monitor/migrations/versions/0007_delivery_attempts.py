"""An outbox row records the attempt being made (`sending_since`, committed before the
message is handed to the channel) and how many attempts ended without an answer
(`unknown_attempts`): a repeat after them is sent marked as one, never blindly.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sending_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("unknown_attempts", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("unknown_attempts")
        batch_op.drop_column("sending_since")
