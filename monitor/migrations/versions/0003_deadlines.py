"""Deadlines: the dates documents set, and which later document moved them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deadlines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_on", sa.String(length=10), nullable=False),
        sa.Column("origin", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("superseded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["superseded_by"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "kind", "due_on"),
    )
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deadlines_due_on"), ["due_on"], unique=False)
    _backfill()


def _backfill() -> None:
    """Documents stored before this revision get their deadlines too."""
    from monitor.deadlines import extract
    from monitor.document import Document

    connection = op.get_bind()
    documents = sa.table("documents", sa.column("id"), sa.column("key"), sa.column("data"))
    deadlines = sa.table(
        "deadlines", sa.column("document_id"), sa.column("kind"), sa.column("due_on"),
        sa.column("origin"), sa.column("text"),
    )  # fmt: skip
    rows = []
    for ident, key, data in connection.execute(sa.select(documents)):
        if not key.startswith("fr:"):
            continue
        data = json.loads(data) if isinstance(data, str) else data
        for d in extract(Document.model_validate(data)):
            rows.append({"document_id": ident, "kind": d.kind, "due_on": d.due.isoformat(),
                         "origin": d.origin, "text": d.text})  # fmt: skip
    if rows:
        op.bulk_insert(deadlines, rows)


def downgrade() -> None:
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadlines_due_on"))

    op.drop_table("deadlines")
