"""Reviews: what an analyst decided about an event, by whom and when, on record.

An alert starts a compliance analyst's work: someone decides what the event means
(no impact; action required: hold shipments, re-classify a chip, file a licence
application, comment before the deadline) and a programme must show later who decided
what, when and why. Each change is an entry appended to the event's review (status,
assignee, note, action items; author and time), never rewritten; the event's current
state is what its last entry left. `monitor review`, `monitor web` and the weekly
digest read and write reviews through this module.

Which events await a decision (`open`): relevant events about a document (deadline
reminders are not decisions of their own) with no review yet, and any event whose
review is `new` or `in review`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Literal, get_args

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.store import (
    DocumentRow,
    EventRow,
    ReviewConflict,
    ReviewEntryRow,
    ReviewRow,
    append_review,
)

Status = Literal["new", "in review", "no impact", "action required", "done"]
STATUSES: tuple[str, ...] = get_args(Status)
AWAITING: tuple[str, ...] = ("new", "in review")  # no decision yet
DECIDED: tuple[str, ...] = ("no impact", "action required", "done")
NOT_REVIEWED_KINDS = ("deadline_reminder",)  # a reminder of a deadline already decided on
MAX_NAME, MAX_NOTE, MAX_ACTION = 100, 10_000, 500


class ReviewError(ValueError):
    """A review that cannot be recorded (unknown event or status, nothing to record):
    the message is one line, ready to show."""


def parse_status(value: str) -> str:
    """A status as typed (`in-review`, `No Impact`) in its one spelling, or ReviewError."""
    folded = " ".join(value.replace("-", " ").replace("_", " ").casefold().split())
    if folded not in STATUSES:
        raise ReviewError(f"unknown status {value!r}; use one of: {', '.join(STATUSES)}")
    return folded


def _clean(value: str | None, limit: int, what: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise ReviewError(f"{what} is longer than {limit:,} characters")
    return text or None


def record(
    session: Session,
    event_id: int,
    author: str,
    *,
    status: str | None = None,
    note: str | None = None,
    assignee: str | None = None,
    actions: Iterable[str] = (),
    seen: int | None = None,
) -> ReviewEntryRow:
    """Append a change to an event's review: a status (else it stays), a note, an
    assignee (else it stays; "" unassigns), action items. Raises ReviewError when there
    is nothing to record or the event is unknown, ReviewConflict when `seen` (the last
    entry the author saw) is not the last one."""
    who = _clean(author, MAX_NAME, "the author's name")
    if who is None:
        raise ReviewError("a review needs its author's name")
    if session.get(EventRow, event_id) is None:
        raise ReviewError(f"no event with ID {event_id}")
    current = session.get(ReviewRow, event_id)
    before_status = current.status if current else "new"
    before_assignee = current.assignee if current else None
    new_status = parse_status(status) if status else before_status
    text = _clean(note, MAX_NOTE, "the note")
    items = [i for i in (_clean(a, MAX_ACTION, "an action item") for a in actions) if i]
    who_next = before_assignee if assignee is None else _clean(assignee, MAX_NAME, "the assignee")
    if new_status == before_status and who_next == before_assignee and not text and not items:
        raise ReviewError(
            f"nothing to record for event {event_id}: give a new status, a note, an assignee"
            " or an action item"
        )
    try:
        with session.begin_nested():
            return append_review(session, event_id, who, new_status, who_next, text, items,
                                 seen)  # fmt: skip
    except IntegrityError:  # another first review of the event won the race
        raise ReviewConflict(f"the review of event {event_id} changed meanwhile") from None


# --- reading ---------------------------------------------------------------------------


@dataclass
class ReviewLine:
    """One event as a review list shows it."""

    event_id: int
    kind: str
    document_number: str | None
    title: str
    url: str | None  # the event's page when web.base_url is set, else the document's
    severity: str
    score: int
    recorded_at: datetime  # when the event was recorded
    status: str
    assignee: str | None
    actions: list[str]
    updated_at: datetime | None  # the last entry's time (None: never reviewed)
    updated_by: str | None
    note: str | None = None  # the note of the entry a list is about (a decision)

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items() if not isinstance(v, datetime)},
            "recorded_at": self.recorded_at.isoformat(timespec="seconds"),
            "updated_at": self.updated_at.isoformat(timespec="seconds")
            if self.updated_at
            else None,
        }


def awaiting_decision() -> Any:
    """The SQL condition of an event (outer-joined to its review) awaiting a decision."""
    return or_(
        ReviewRow.status.in_(AWAITING),
        and_(
            ReviewRow.status.is_(None),
            EventRow.relevant.is_(True),
            EventRow.document_id.is_not(None),
            EventRow.kind.not_in(NOT_REVIEWED_KINDS),
        ),
    )


def _lines_query() -> Any:
    return (
        select(EventRow, DocumentRow.key, DocumentRow.title, ReviewRow)
        .outerjoin(DocumentRow, DocumentRow.id == EventRow.document_id)
        .outerjoin(ReviewRow, ReviewRow.event_id == EventRow.id)
    )


def _line(
    event: EventRow,
    key: str | None,
    title: str | None,
    review: ReviewRow | None,
    link: Any = None,
    note: str | None = None,
) -> ReviewLine:
    number = key.split(":", 1)[1] if key else None
    url = link(event.id) if link else None
    if url is None and key and key.startswith("fr:"):
        url = f"https://www.federalregister.gov/d/{number}"
    return ReviewLine(
        event_id=event.id,
        kind=event.kind,
        document_number=number,
        title=" ".join((title or "(untitled)").split()),
        url=url,
        severity=event.severity,
        score=event.score,
        recorded_at=event.created_at,
        status=review.status if review else "new",
        assignee=review.assignee if review else None,
        actions=list(review.actions) if review else [],
        updated_at=review.updated_at if review else None,
        updated_by=review.updated_by if review else None,
        note=note,
    )


def open_reviews(
    session: Session, limit: int | None = None, link: Any = None
) -> tuple[list[ReviewLine], int]:
    """Events awaiting a decision, oldest first (the first `limit`), and how many there are.

    `link(event_id)` gives an event's page (the web's), if any."""
    query = _lines_query().where(awaiting_decision())
    total_query = (
        select(func.count())
        .select_from(EventRow)
        .outerjoin(ReviewRow, ReviewRow.event_id == EventRow.id)
        .where(awaiting_decision())
    )
    rows = session.execute(query.order_by(EventRow.id).limit(limit))
    lines = [_line(e, n, t, r, link) for e, n, t, r in rows]
    return lines, session.scalar(total_query) or 0


def decided_between(
    session: Session, since: datetime, until: datetime, link: Any = None
) -> list[ReviewLine]:
    """Events whose review reached a decision in [since, until): the last such entry of
    each, most recent first, with its note and the event's state now."""
    entries = session.scalars(
        select(ReviewEntryRow)
        .where(
            ReviewEntryRow.at >= since,
            ReviewEntryRow.at < until,
            ReviewEntryRow.status.in_(DECIDED),
            ReviewEntryRow.status != ReviewEntryRow.previous_status,
        )
        .order_by(ReviewEntryRow.id.desc())
    )
    last: dict[int, ReviewEntryRow] = {}
    for entry in entries:
        last.setdefault(entry.event_id, entry)
    if not last:
        return []
    rows = session.execute(_lines_query().where(EventRow.id.in_(list(last))))
    found = {e.id: (e, n, t, r) for e, n, t, r in rows}
    lines = []
    for event_id, entry in last.items():
        line = _line(*found[event_id], link=link, note=entry.note)
        line.status, line.updated_at, line.updated_by = entry.status, entry.at, entry.author
        lines.append(line)
    return lines


def history(session: Session, event_id: int) -> list[ReviewEntryRow]:
    """Every entry of an event's review, oldest first."""
    query = select(ReviewEntryRow).where(ReviewEntryRow.event_id == event_id)
    return list(session.scalars(query.order_by(ReviewEntryRow.id)))


def current(session: Session, event_id: int) -> ReviewRow | None:
    return session.get(ReviewRow, event_id)


# --- the audit trail as CSV ---------------------------------------------------------------

CSV_COLUMNS = (
    "entry_id", "recorded_at", "author", "event_id", "event_kind", "document_number",
    "title", "severity", "score", "previous_status", "status", "assignee", "note", "actions",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (OWASP's advice: a quote first)."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def export_rows(
    session: Session, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Every review entry recorded in [since, until), oldest first, with its event."""
    query = (
        select(ReviewEntryRow, EventRow, DocumentRow.document_number, DocumentRow.title)
        .join(EventRow, EventRow.id == ReviewEntryRow.event_id)
        .outerjoin(DocumentRow, DocumentRow.id == EventRow.document_id)
    )
    if since is not None:
        query = query.where(ReviewEntryRow.at >= since)
    if until is not None:
        query = query.where(ReviewEntryRow.at < until)
    rows = []
    for entry, event, number, title in session.execute(query.order_by(ReviewEntryRow.id)):
        rows.append({
            "entry_id": entry.id, "recorded_at": entry.at.isoformat(timespec="seconds"),
            "author": entry.author, "event_id": event.id, "event_kind": event.kind,
            "document_number": number or "", "title": " ".join((title or "").split()),
            "severity": event.severity, "score": event.score,
            "previous_status": entry.previous_status, "status": entry.status,
            "assignee": entry.assignee or "", "note": entry.note or "",
            "actions": "; ".join(entry.actions or []),
        })  # fmt: skip
    return rows


def write_csv(rows: list[dict[str, Any]], out: IO[str]) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
