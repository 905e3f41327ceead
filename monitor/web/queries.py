"""What the pages show, read from the store (nothing here writes).

Every list is one indexed query and a count: the event list sorts on the events' score
or ID index and filters customers and chips through `event_subjects`, so a page of a
store of 100,000 events is as quick as one of a hundred (see bench/web.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from monitor import review
from monitor.config import Config
from monitor.deadlines import fr_today, not_live
from monitor.document import Document
from monitor.ics import CalendarEntry
from monitor.logs import config_secrets
from monitor.redact import redact_url, scrub
from monitor.scoring import score_of
from monitor.severity import SEVERITIES
from monitor.store import (
    AlertRow,
    DeadlineRow,
    DocumentRow,
    DocumentVersionRow,
    EventRow,
    EventSubjectRow,
    ReviewEntryRow,
    ReviewRow,
    open_deadlines,
    source_rows,
)

PER_PAGE = 50
HEALTH_KINDS = ("source_failing", "source_recovered")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s<>\"']+", re.IGNORECASE)


def masked(text: str, secrets: list[str]) -> str:
    """Free text (an error) as a page may show it: every URL in it with its credentials
    and secret parameters masked, every configured secret removed."""
    return scrub(_URL.sub(lambda m: redact_url(m.group(0)), text), secrets)


class BadRequest(ValueError):
    """A filter or parameter that is not one of its values: one line, shown as is."""


# --- the event list ----------------------------------------------------------------------


@dataclass
class Filters:
    severity: str | None = None
    kind: str | None = None
    customer: str | None = None
    chip: str | None = None
    status: str | None = None  # a review status, or "open" (awaiting a decision)
    show: Literal["relevant", "all"] = "relevant"
    sort: Literal["severity", "newest"] = "severity"
    page: int = 1

    def query(self, **changes: Any) -> dict[str, str]:
        """These filters (with `changes`) as URL parameters, defaults left out."""
        values = {**self.__dict__, **changes}
        defaults = Filters().__dict__
        return {k: str(v) for k, v in values.items() if v is not None and v != defaults[k]}


def _choice(params: Any, name: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if value not in allowed:
        raise BadRequest(f"{name}: {value!r} is not one of {', '.join(allowed) or 'none'}")
    return value


def parse_filters(params: Any, config: Config, kinds: list[str]) -> Filters:
    """The list's filters from the query string; an unknown value is a BadRequest."""
    customers = [c.id for c in config.portfolio.customers]
    chips = [c.id for c in config.portfolio.chips]
    page = (params.get("page") or "1").strip()
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        raise BadRequest(f"page: {page!r} is not a page number")
    return Filters(
        severity=_choice(params, "severity", SEVERITIES),
        kind=_choice(params, "kind", kinds),
        customer=_choice(params, "customer", customers),
        chip=_choice(params, "chip", chips),
        status=_choice(params, "status", ("open", *review.STATUSES)),
        show=_choice(params, "show", ("relevant", "all")) or "relevant",  # type: ignore[arg-type]
        sort=_choice(params, "sort", ("severity", "newest")) or "severity",  # type: ignore[arg-type]
        page=int(page),
    )


def event_kinds(session: Session) -> list[str]:
    return sorted(session.scalars(select(EventRow.kind).distinct()))


@dataclass
class EventLine:
    event_id: int
    kind: str
    score: int
    severity: str
    relevant: bool
    recorded_at: datetime
    document_number: str | None
    title: str
    publication_date: str | None
    impacts: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    status: str
    assignee: str | None


def _line(
    event_id: int, kind: str, score: int, severity: str, relevant: bool, at: datetime,
    reasons: list | None, impacts: list | None, number: str | None, title: str | None,
    published: str | None, status: str | None, assignee: str | None,
) -> EventLine:  # fmt: skip
    return EventLine(
        event_id=event_id, kind=kind, score=score, severity=severity, relevant=relevant,
        recorded_at=at, reasons=reasons or [], impacts=impacts or [], document_number=number,
        title=" ".join((title or number or kind).split()), publication_date=published,
        status=status or "new", assignee=assignee,
    )  # fmt: skip


def _filtered(query: Any, f: Filters) -> Any:
    if f.show == "relevant":
        query = query.where(EventRow.relevant.is_(True))
    if f.severity:
        query = query.where(EventRow.severity == f.severity)
    if f.kind:
        query = query.where(EventRow.kind == f.kind)
    for subject in (f"customer:{f.customer}" if f.customer else None,
                    f"chip:{f.chip}" if f.chip else None):  # fmt: skip
        if subject:
            touching = select(EventSubjectRow.event_id).where(EventSubjectRow.subject == subject)
            query = query.where(EventRow.id.in_(touching))
    if f.status == "open":  # as `monitor review --open` lists them
        query = query.where(review.awaiting_decision())
    elif f.status == "new":
        query = query.where(or_(ReviewRow.status.is_(None), ReviewRow.status == "new"))
    elif f.status:
        query = query.where(ReviewRow.status == f.status)
    return query


def list_events(session: Session, f: Filters, per_page: int = PER_PAGE) -> tuple[list, int]:
    """One page of events (most severe or newest first) and how many match.

    The page's IDs come first, from the events' indexes alone (a page deep in the list
    skips index entries, not rows of JSON); then its rows, with their documents."""
    ids_query = select(EventRow.id)
    count = select(func.count()).select_from(EventRow)
    if f.status:
        ids_query = ids_query.outerjoin(ReviewRow, ReviewRow.event_id == EventRow.id)
        count = count.outerjoin(ReviewRow, ReviewRow.event_id == EventRow.id)
    # newest: the last recorded first (IDs grow with each event), which every index on
    # events keeps in order within its key, so a filter and a deep page stay in an index
    if f.sort == "severity":
        order = (EventRow.score.desc(), EventRow.id.desc())
    else:
        order = (EventRow.id.desc(),)
    ids_query = _filtered(ids_query, f).order_by(*order)
    ids = list(session.scalars(ids_query.limit(per_page).offset((f.page - 1) * per_page)))
    columns = (
        EventRow.id, EventRow.kind, EventRow.score, EventRow.severity, EventRow.relevant,
        EventRow.created_at, EventRow.reasons, EventRow.payload["impacts"],
        DocumentRow.document_number, DocumentRow.title, DocumentRow.publication_date,
        ReviewRow.status, ReviewRow.assignee,
    )  # fmt: skip
    rows = session.execute(
        select(*columns)
        .outerjoin(DocumentRow, DocumentRow.id == EventRow.document_id)
        .outerjoin(ReviewRow, ReviewRow.event_id == EventRow.id)
        .where(EventRow.id.in_(ids))
    )
    found = {r[0]: _line(*r) for r in rows}
    total = session.scalar(_filtered(count, f)) or 0
    return [found[i] for i in ids], total


# --- an event and its document ---------------------------------------------------------------


@dataclass
class Sighting:
    seen_at: datetime
    source: str
    content: str  # the version's hash, short


@dataclass
class Sent:
    event_id: int
    event_kind: str
    channel: str
    route: str
    status: str
    attempts: int
    sent_at: datetime | None
    created_at: datetime
    last_error: str | None
    carried_by: int | None


@dataclass
class EventPage:
    event: EventRow
    row: DocumentRow | None
    doc: Document | None
    events: list[EventRow]  # every event of the document (the event itself included)
    deadlines: list[DeadlineRow]
    sightings: list[Sighting]
    alerts: list[Sent]
    review: ReviewRow | None
    history: list[ReviewEntryRow]
    customers: dict[str, str]  # portfolio ID -> name, for the names shown
    listed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # entry -> hits

    @property
    def seen(self) -> int:
        """The last review entry this page shows (the form sends it back)."""
        return self.review.last_entry_id if self.review else 0


def event_page(session: Session, config: Config, event_id: int) -> EventPage | None:
    event = session.get(EventRow, event_id)
    if event is None:
        return None
    row = session.get(DocumentRow, event.document_id) if event.document_id else None
    events = [event]
    deadlines: list[DeadlineRow] = []
    sightings: list[Sighting] = []
    if row is not None:
        query = select(EventRow).where(EventRow.document_id == row.id).order_by(EventRow.id)
        events = list(session.scalars(query))
        deadlines = list(session.scalars(
            select(DeadlineRow).where(DeadlineRow.document_id == row.id)
            .order_by(DeadlineRow.due_on, DeadlineRow.id)
        ))  # fmt: skip
        versions = session.execute(
            select(DocumentVersionRow.seen_at, DocumentVersionRow.source,
                   DocumentVersionRow.content_hash)
            .where(DocumentVersionRow.document_id == row.id).order_by(DocumentVersionRow.id)
        )  # fmt: skip
        sightings = [Sighting(at, source, digest[:12]) for at, source, digest in versions]
    kinds = {e.id: e.kind for e in events}
    secrets = config_secrets(config)
    outbox = select(AlertRow).where(AlertRow.event_id.in_(list(kinds))).order_by(AlertRow.id)
    alerts = []
    for a in session.scalars(outbox):
        error = masked(a.last_error, secrets) if a.last_error else None
        alerts.append(Sent(a.event_id, kinds[a.event_id], a.channel, a.route, a.status,
                           a.attempts, a.sent_at, a.created_at, error, a.carrier_id))  # fmt: skip
    screened = ((event.payload or {}).get("entities") or {}).get("screened") or []
    listed: dict[str, list[dict[str, Any]]] = {}
    for hit in screened:
        listed.setdefault(hit.get("entry", ""), []).append(hit)
    return EventPage(
        event=event, row=row, doc=row.document if row is not None else None, events=events,
        deadlines=deadlines, sightings=sightings, alerts=alerts,
        review=review.current(session, event_id), history=review.history(session, event_id),
        customers={c.id: c.name for c in config.portfolio.customers}, listed=listed,
    )  # fmt: skip


# --- deadlines ---------------------------------------------------------------------------


@dataclass
class DeadlineLine:
    entry: CalendarEntry
    days_left: int
    score: int
    severity: str
    event_id: int | None  # the document's first event, for its page


def upcoming_deadlines(
    session: Session, config: Config, days: int, everything: bool, today: date | None = None
) -> list[DeadlineLine]:
    """As `monitor deadlines`: open dates of the next `days` of documents at or above the
    threshold (every document with `everything`), soonest first."""
    today = today or fr_today()
    until = today + timedelta(days=days)
    found = []
    for deadline, row in open_deadlines(session, today.isoformat(), until.isoformat()):
        doc = row.document
        due = date.fromisoformat(deadline.due_on)
        score = score_of(config, doc)
        live = not not_live(deadline.kind, doc.document_number, due)
        if not everything and not (score.relevant and live):
            continue
        entry = CalendarEntry(doc.key, doc.document_number, deadline.kind, due,
                              doc.title or doc.document_number, doc.url, deadline.text)  # fmt: skip
        found.append((entry, (due - today).days, score.score, score.severity, row.id))
    firsts = _first_events(session, [row_id for *_, row_id in found])
    return [DeadlineLine(e, left, s, sev, firsts.get(row_id)) for e, left, s, sev, row_id in found]


def _first_events(session: Session, document_ids: list[int]) -> dict[int, int]:
    if not document_ids:
        return {}
    query = (
        select(EventRow.document_id, func.min(EventRow.id))
        .where(EventRow.document_id.in_(document_ids))
        .group_by(EventRow.document_id)
    )
    return {doc_id: event_id for doc_id, event_id in session.execute(query)}


# --- sources ----------------------------------------------------------------------------


@dataclass
class SourceLine:
    name: str
    kind: str
    enabled: bool
    where: str  # the base URL, credentials and secret parameters masked
    last_success: datetime | None
    last_run: datetime | None
    failures: int
    last_error: str | None
    failing_since: datetime | None
    newest: str | None


def sources(session: Session, config: Config) -> tuple[list[SourceLine], list[EventRow]]:
    """Each configured source's health, and the latest health events (newest first)."""
    rows = source_rows(session)
    secrets = config_secrets(config)
    lines = []
    for source in config.sources:
        row = rows.get(source.name)
        error = row.last_error if row is not None and row.consecutive_failures else None
        lines.append(SourceLine(
            name=source.name, kind=source.kind, enabled=source.enabled,
            where=masked(source.base_url, secrets),
            last_success=row.last_success_at if row else None,
            last_run=row.last_run_at if row else None,
            failures=row.consecutive_failures if row else 0,
            last_error=masked(error, secrets) if error else None,
            failing_since=row.failing_since if row else None,
            newest=(row.cursor or {}).get("last_publication_date") if row else None,
        ))  # fmt: skip
    health = select(EventRow).where(EventRow.kind.in_(HEALTH_KINDS))
    return lines, list(session.scalars(health.order_by(EventRow.id.desc()).limit(20)))


# --- a customer's screening history ----------------------------------------------------------


@dataclass
class Touch:
    """An event that touches a customer, and how."""

    event_id: int
    kind: str
    score: int
    severity: str
    recorded_at: datetime
    document_number: str | None
    title: str
    how: list[str]  # "named", "Entity List entry 'X' (score 97)", "impact: summary"
    status: str


def customer_history(session: Session, customer_id: str, limit: int = 200) -> list[Touch]:
    """The events touching a customer, newest first: named in a document, matched to an
    Entity List entry (with the score), or reached by an impact."""
    touching = select(EventSubjectRow.event_id).where(
        EventSubjectRow.subject == f"customer:{customer_id}"
    )
    query = (
        select(EventRow, DocumentRow.document_number, DocumentRow.title, ReviewRow.status)
        .outerjoin(DocumentRow, DocumentRow.id == EventRow.document_id)
        .outerjoin(ReviewRow, ReviewRow.event_id == EventRow.id)
        .where(EventRow.id.in_(touching))
        .order_by(EventRow.id.desc())
        .limit(limit)
    )
    found = []
    for event, number, title, status in session.execute(query):
        payload, matches = event.payload or {}, event.matches or {}
        how = []
        if customer_id in (matches.get("customers") or []):
            how.append("named in the document")
        for hit in (payload.get("entities") or {}).get("screened") or []:
            if hit.get("customer_id") == customer_id:
                how.append(f"matches the Entity List entry {hit.get('entry')!r}"
                           f" (score {hit.get('score')})")  # fmt: skip
        for impact in payload.get("impacts") or []:
            if customer_id in impact.get("customers", []):
                how.append(f"{impact['severity']} impact: {impact['summary']}")
        found.append(Touch(event.id, event.kind, event.score, event.severity, event.created_at,
                           number, " ".join((title or number or event.kind).split()), how,
                           status or "new"))  # fmt: skip
    return found


def customer_counts(session: Session) -> dict[str, int]:
    query = (
        select(EventSubjectRow.subject, func.count())
        .where(EventSubjectRow.subject.startswith("customer:"))
        .group_by(EventSubjectRow.subject)
    )
    return {subject.split(":", 1)[1]: n for subject, n in session.execute(query)}
