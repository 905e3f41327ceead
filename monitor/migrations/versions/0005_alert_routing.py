"""Alerts are routed (at once or to the digest) and carried by a message: themselves,
a grouped alert's first row, or a channel's weekly digest row (no event).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("event_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column("route", sa.String(length=10), nullable=False, server_default="immediate")
        )
        batch_op.add_column(sa.Column("carrier_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("period", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_alerts_carrier_id"), ["carrier_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_alerts_carrier_id_alerts"), "alerts", ["carrier_id"], ["id"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_alerts_channel_period"), ["channel", "period"]
        )
    # every alert written before this revision is a message of its own
    op.execute("UPDATE alerts SET carrier_id = id")


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE event_id IS NULL")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_alerts_channel_period"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_alerts_carrier_id_alerts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_alerts_carrier_id"))
        batch_op.drop_column("payload")
        batch_op.drop_column("period")
        batch_op.drop_column("carrier_id")
        batch_op.drop_column("route")
        batch_op.alter_column("event_id", existing_type=sa.Integer(), nullable=False)
