"""Reviews: every decision on an event appended to `review_entries` (the database refuses
to rewrite or delete one), each event's current state in `reviews`; `event_subjects`
indexes the customers and chips each event touches (filled here for the events stored
already); events get indexes for the web's list (its filters and orders) and document
page.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

APPEND_ONLY = "review history is append-only"


def upgrade() -> None:
    op.create_table(
        "event_subjects",
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"]),
        sa.PrimaryKeyConstraint("subject", "event_id"),
    )
    op.create_table(
        "review_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_review_entries_at"), "review_entries", ["at"], unique=False)
    op.create_index(
        op.f("ix_review_entries_event_id"), "review_entries", ["event_id"], unique=False
    )
    op.create_table(
        "reviews",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee", sa.String(length=100), nullable=True),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("last_entry_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"]),
        sa.ForeignKeyConstraint(["last_entry_id"], ["review_entries.id"]),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index(op.f("ix_reviews_status"), "reviews", ["status"], unique=False)
    op.create_index("ix_events_score_id", "events", ["score", "id"], unique=False)
    for column in ("relevant", "severity", "kind"):
        op.create_index(f"ix_events_{column}_score_id", "events", [column, "score", "id"])
    op.create_index("ix_events_document_id", "events", ["document_id"], unique=False)
    _append_only()
    _index_subjects()


def _append_only() -> None:
    """Triggers that make the database itself refuse to rewrite the review history."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION review_entries_append_only() RETURNS trigger AS $$ BEGIN"
            f" RAISE EXCEPTION '{APPEND_ONLY}'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER review_entries_append_only BEFORE UPDATE OR DELETE ON"
            " review_entries FOR EACH ROW EXECUTE FUNCTION review_entries_append_only()"
        )
        return
    for action in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER review_entries_no_{action.lower()} BEFORE {action} ON"
            f" review_entries BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def _subjects(matches: dict, payload: dict) -> set[str]:
    """As `monitor.routing.subjects_of` read them when this migration was written."""
    impacts = payload.get("impacts") or []
    screened = (payload.get("entities") or {}).get("screened") or []
    customers = {*(matches.get("customers") or []), *(s["customer_id"] for s in screened)}
    customers |= {c for i in impacts for c in i.get("customers") or []}
    chips = {*(matches.get("chips") or []), *(c for i in impacts for c in i.get("chips") or [])}
    return {f"customer:{c}" for c in customers} | {f"chip:{c}" for c in chips}


def _index_subjects() -> None:
    """The subjects of the events stored already, read a thousand at a time."""
    bind = op.get_bind()
    events = sa.table(
        "events", sa.column("id", sa.Integer), sa.column("matches", sa.JSON),
        sa.column("payload", sa.JSON),
    )  # fmt: skip
    subjects = sa.table(
        "event_subjects", sa.column("subject", sa.String), sa.column("event_id", sa.Integer)
    )
    last = 0
    while True:
        query = sa.select(events.c.id, events.c.matches, events.c.payload).where(events.c.id > last)
        rows = bind.execute(query.order_by(events.c.id).limit(1000)).all()
        if not rows:
            return
        batch = [{"subject": s, "event_id": event_id}
                 for event_id, matches, payload in rows
                 for s in sorted(_subjects(matches or {}, payload or {}))]  # fmt: skip
        if batch:
            bind.execute(subjects.insert(), batch)
        last = rows[-1][0]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER review_entries_append_only ON review_entries")
        op.execute("DROP FUNCTION review_entries_append_only()")
    else:
        op.execute("DROP TRIGGER review_entries_no_update")
        op.execute("DROP TRIGGER review_entries_no_delete")
    op.drop_index("ix_events_document_id", table_name="events")
    for column in ("relevant", "severity", "kind"):
        op.drop_index(f"ix_events_{column}_score_id", table_name="events")
    op.drop_index("ix_events_score_id", table_name="events")
    op.drop_index(op.f("ix_reviews_status"), table_name="reviews")
    op.drop_table("reviews")
    op.drop_index(op.f("ix_review_entries_event_id"), table_name="review_entries")
    op.drop_index(op.f("ix_review_entries_at"), table_name="review_entries")
    op.drop_table("review_entries")
    op.drop_table("event_subjects")
