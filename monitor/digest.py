"""The digest: what a period brought, in one message.

`build_digest` reads the store (and never writes it: `monitor.store` is the only
writer) for a period [since, until) of event times and gathers the top events by
score with their reasons, the open deadlines of the next 30 days, the rule-text
(eCFR) changes, the news stories, the sources in trouble and a few counts, as
a plain `Digest` dataclass. `render_digest` turns it into a title and a body
with the `digest.*` templates of the alert environment (HTML email, Slack
mrkdwn, plain text), so a channel gets the digest in the format it reads best.

A channel's weekly digest (an outbox row of its own, see `monitor.pipeline`)
ranks the channel's events instead: those it carries (routed to the digest)
and those sent at once in the period. `slot_before` and `slot_after` give the
weekly schedule of `digest:` in the config: a digest row is keyed by its slot,
so each channel gets one digest per week however often it is asked for.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import jinja2
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from monitor.alerts import Rendered, diffstat, render
from monitor.config import Config, DigestConfig
from monitor.deadlines import FR_ZONE, fr_today, not_live
from monitor.document import Document
from monitor.review import ReviewLine, decided_between, open_reviews
from monitor.scoring import score_of
from monitor.store import (
    AlertRow,
    DocumentRow,
    EventRow,
    SourceRow,
    open_deadlines,
    source_rows,
    utcnow,
)

FAMILY = "digest"
DOCUMENT_EVENTS = (
    "new_document", "document_changed", "deadline_changed", "rule_text_changed",
    "entity_listed", "threshold_changed",
)  # fmt: skip
HEALTH_EVENTS = ("source_failing", "source_recovered")
DEADLINE_DAYS = 30
TOP = 10
MAX_RULE_CHANGES = 50
MAX_NEWS = 20
_LOOKBACK = re.compile(r"^\s*(\d{1,4})\s*d\s*$", re.IGNORECASE)


# --- the digest -----------------------------------------------------------------------


@dataclass
class EventItem:
    """An event about a document, with the document's facts and why it scored."""

    event_id: int
    kind: str  # new_document, document_changed, deadline_changed
    collection: str  # fr, ecfr, news
    document_number: str
    title: str
    url: str | None
    agency: str | None
    publication_date: str | None
    score: int
    severity: str
    relevant: bool
    reasons: list[dict[str, Any]]  # {"component", "points", "detail"}
    abstract: str | None
    what: str  # "New rule", "Changed: title, abstract", "Comments deadline moved to ..."
    at: str  # when the event was recorded (ISO, UTC)
    routed: str | None = None  # a channel's digest: "immediate" (sent at once) or "digest"


@dataclass
class DeadlineItem:
    kind: str  # comments, effective, compliance
    due: str
    days_left: int
    document_number: str
    title: str
    url: str | None
    score: int
    severity: str


@dataclass
class RuleChange:
    """A section of regulatory text added or changed, for a one-line mention."""

    label: str  # 15 CFR 744.23
    title: str
    url: str | None
    change: str  # added, changed
    added_lines: int
    removed_lines: int
    version_date: str | None
    score: int
    severity: str
    summary: str | None = None  # "§744.23(a)(3) revised; §744.4 added"


@dataclass
class NewsItem:
    title: str
    url: str | None
    publisher: str | None
    related: list[str]
    publication_date: str | None
    score: int
    severity: str
    relevant: bool


@dataclass
class FailingSource:
    name: str
    kind: str
    failures: int
    last_error: str | None
    failing_since: str | None
    last_success: str | None


@dataclass
class HealthNote:
    kind: str  # source_failing, source_recovered
    source: str
    at: str
    failures: int | None
    error: str | None


@dataclass
class Counts:
    documents_seen: int  # seen by a poll in the period (or since)
    documents_new: int  # first seen in the period
    documents_total: int  # stored before the period ended
    events: int
    relevant_events: int
    alerts: dict[str, int]  # alerts to go at once, written in the period, by status


@dataclass
class Digest:
    since: datetime
    until: datetime
    today: str  # the US Eastern date the deadlines window starts
    deadlines_until: str
    threshold: int
    top: list[EventItem]
    top_total: int  # document events in the period (top holds the first few)
    relevant_total: int  # of which at or above the alert threshold
    deadlines: list[DeadlineItem]
    rule_changes: list[RuleChange]
    rule_changes_total: int
    news: list[NewsItem]
    news_total: int
    failing_sources: list[FailingSource]
    health_events: list[HealthNote]
    sources_total: int
    counts: Counts
    # reviews: events still awaiting a decision (the oldest first), those decided in the period
    reviews_open: list[ReviewLine] = field(default_factory=list)
    reviews_open_total: int = 0
    reviews_decided: list[ReviewLine] = field(default_factory=list)

    @property
    def period(self) -> str:
        """The period in US Eastern time, e.g. `2025-01-06 08:00 to 2025-01-13 08:00 ET`."""
        return f"{_eastern(self.since)} to {_eastern(self.until)} ET"

    @property
    def span(self) -> str:
        """The period's dates only, for a title."""
        start, end = self.since.astimezone(FR_ZONE), self.until.astimezone(FR_ZONE)
        return f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["since"] = self.since.isoformat(timespec="seconds")
        data["until"] = self.until.isoformat(timespec="seconds")
        data["period"] = self.period
        data["reviews_open"] = [line.to_json() for line in self.reviews_open]
        data["reviews_decided"] = [line.to_json() for line in self.reviews_decided]
        return data


def _eastern(moment: datetime) -> str:
    return moment.astimezone(FR_ZONE).strftime("%Y-%m-%d %H:%M")


def eastern(value: str | None, default: str = "-") -> str:
    """An ISO time of the digest as templates show it: `2025-01-13 08:00 ET`."""
    return f"{_eastern(datetime.fromisoformat(value))} ET" if value else default


def _slot_on(settings: DigestConfig, day: date) -> datetime:
    return datetime.combine(day, time(settings.hour, settings.minute), tzinfo=settings.zone)


def slot_before(settings: DigestConfig, now: datetime) -> datetime:
    """The latest scheduled digest time at or before `now` (local time, DST-aware)."""
    local = now.astimezone(settings.zone)
    day = local.date() - timedelta(days=(local.weekday() - settings.weekday) % 7)
    at = _slot_on(settings, day)
    return at if at <= now else _slot_on(settings, day - timedelta(days=7))


def slot_after(settings: DigestConfig, moment: datetime) -> datetime:
    """The first scheduled digest time strictly after `moment`."""
    return _slot_on(settings, slot_before(settings, moment).date() + timedelta(days=7))


def period_start(value: str, now: datetime | None = None) -> datetime:
    """`7d`: exactly 7 days before now; `2025-01-06`: midnight US Eastern that day."""
    now = now or utcnow()
    match = _LOOKBACK.match(value)
    if match:
        return now - timedelta(days=int(match.group(1)))
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"expected a date (YYYY-MM-DD) or a lookback like 7d, got {value!r}"
        ) from None
    return datetime.combine(day, time(0), tzinfo=FR_ZONE)


# --- read-only queries ----------------------------------------------------------------


def events_between(
    session: Session, since: datetime, until: datetime, kinds: tuple[str, ...]
) -> list[tuple[EventRow, DocumentRow | None]]:
    """Events of these kinds recorded in [since, until), with their documents."""
    query = (
        select(EventRow, DocumentRow)
        .outerjoin(DocumentRow, DocumentRow.id == EventRow.document_id)
        .where(EventRow.created_at >= since, EventRow.created_at < until, EventRow.kind.in_(kinds))
        .order_by(EventRow.id)
    )
    return [(event, doc) for event, doc in session.execute(query)]


def channel_events(
    session: Session, outbox: AlertRow, since: datetime, until: datetime
) -> list[tuple[str, EventRow, DocumentRow | None]]:
    """A channel's events for its digest row: those it carries, and those sent at once
    in [since, until); each with its route."""
    carried = AlertRow.carrier_id == outbox.id
    at_once = and_(
        AlertRow.route == "immediate", EventRow.created_at >= since, EventRow.created_at < until
    )
    query = (
        select(AlertRow.route, EventRow, DocumentRow)
        .join(EventRow, EventRow.id == AlertRow.event_id)
        .outerjoin(DocumentRow, DocumentRow.id == EventRow.document_id)
        .where(AlertRow.channel == outbox.channel, or_(carried, at_once))
        .order_by(EventRow.id)
    )
    return [(route, event, doc) for route, event, doc in session.execute(query)]


def period_counts(session: Session, since: datetime, until: datetime) -> Counts:
    """Documents, events and alerts of the period (a read, nothing more)."""

    def count(query: Any) -> int:
        return session.scalar(query) or 0

    documents = select(func.count()).select_from(DocumentRow)
    events = select(func.count()).select_from(EventRow)
    in_period = (EventRow.created_at >= since, EventRow.created_at < until)
    alerts = (  # those sent at once: the digest itself is not an alert of the period
        select(AlertRow.status, func.count())
        .where(
            AlertRow.created_at >= since,
            AlertRow.created_at < until,
            AlertRow.route == "immediate",
        )
        .group_by(AlertRow.status)
    )
    by_status = {status: n for status, n in session.execute(alerts)}
    return Counts(
        documents_seen=count(documents.where(
            DocumentRow.last_seen_at >= since, DocumentRow.first_seen_at < until
        )),
        documents_new=count(documents.where(
            DocumentRow.first_seen_at >= since, DocumentRow.first_seen_at < until
        )),
        documents_total=count(documents.where(DocumentRow.first_seen_at < until)),
        events=count(events.where(*in_period)),
        relevant_events=count(events.where(*in_period, EventRow.relevant.is_(True))),
        alerts={k: by_status.get(k, 0) for k in ("sent", "pending", "failed")},
    )  # fmt: skip


# --- building ---------------------------------------------------------------------------


def build_digest(
    session: Session,
    config: Config,
    since: datetime,
    until: datetime | None = None,
    *,
    top: int = TOP,
    outbox: AlertRow | None = None,
) -> Digest:
    """Everything the digest says about [since, until) (until: now), read from the store.

    With `outbox` (a channel's digest row) the top events are the channel's own.
    """
    until = until or utcnow()
    if since >= until:
        raise ValueError(f"empty period: {since.isoformat()} is not before {until.isoformat()}")
    rows = events_between(session, since, until, DOCUMENT_EVENTS)
    if outbox is None:
        items = [_event_item(event, doc) for event, doc in rows if doc is not None]
    else:
        found = channel_events(session, outbox, since, until)
        items = [_event_item(e, d, routed) for routed, e, d in found if d is not None]
    ranked = sorted(
        items,
        key=lambda i: (not i.relevant, -i.score, _negated_date(i.publication_date), i.event_id),
    )
    rules = [_rule_change(e, d) for e, d in rows if d is not None and d.key.startswith("ecfr:")]
    rules.sort(key=lambda r: (-r.score, _section_order(r.label)))
    news = [_news_item(e, d) for e, d in rows if d is not None and d.key.startswith("news:")]
    news.sort(key=lambda n: (not n.relevant, -n.score, _negated_date(n.publication_date)))

    today = fr_today(until)
    horizon = today + timedelta(days=DEADLINE_DAYS)
    deadlines = []
    for deadline, doc_row in open_deadlines(session, today.isoformat(), horizon.isoformat()):
        doc = doc_row.document
        due = date.fromisoformat(deadline.due_on)
        if not_live(deadline.kind, doc.document_number, due):
            continue
        score = score_of(config, doc)
        if score.relevant:
            deadlines.append(DeadlineItem(
                kind=deadline.kind, due=deadline.due_on, days_left=(due - today).days,
                document_number=doc.document_number, title=_title(doc), url=doc.url,
                score=score.score, severity=score.severity,
            ))  # fmt: skip

    configured = {s.name for s in config.sources}
    states = source_rows(session)
    failing = [
        _failing(row)
        for row in states.values()
        if row.consecutive_failures and row.name in configured
    ]
    failing.sort(key=lambda s: (-s.failures, s.name))
    health = [_health(event) for event, _ in events_between(session, since, until, HEALTH_EVENTS)]
    link = config.web.event_url
    awaiting, awaiting_total = open_reviews(session, limit=top, link=link)
    return Digest(
        since=since,
        until=until,
        today=today.isoformat(),
        deadlines_until=horizon.isoformat(),
        threshold=config.scoring.threshold,
        top=ranked[:top],
        top_total=len(ranked),
        relevant_total=sum(i.relevant for i in ranked),
        deadlines=deadlines,
        rule_changes=rules[:MAX_RULE_CHANGES],
        rule_changes_total=len(rules),
        news=news[:MAX_NEWS],
        news_total=len(news),
        failing_sources=failing,
        health_events=health,
        sources_total=len([s for s in config.sources if s.enabled]),
        counts=period_counts(session, since, until),
        reviews_open=awaiting,
        reviews_open_total=awaiting_total,
        reviews_decided=decided_between(session, since, until, link=link),
    )


KIND_LABEL = {"news": "news story", "ecfr": "CFR text"}


def _title(doc: Document) -> str:
    return " ".join((doc.title or doc.document_number).split())


def _event_item(event: EventRow, row: DocumentRow, routed: str | None = None) -> EventItem:
    doc = row.document
    return EventItem(
        event_id=event.id,
        kind=event.kind,
        collection=doc.collection,
        document_number=doc.document_number,
        title=_title(doc),
        url=doc.url,
        agency=doc.agency_names[-1] if doc.agency_names else None,
        publication_date=_iso(doc.publication_date),
        score=event.score,
        severity=event.severity,
        relevant=event.relevant,
        reasons=list(event.reasons or []),
        abstract=" ".join(doc.abstract.split()) if doc.abstract else None,
        what=_what(event, doc),
        at=_iso(event.created_at),
        routed=routed,
    )


def _what(event: EventRow, doc: Document) -> str:
    """One line on what happened, by event kind."""
    kind = (doc.type or KIND_LABEL.get(doc.collection, "document")).lower()
    return WHAT.get(event.kind, _new)(event.payload or {}, kind)


def _new(payload: dict, kind: str) -> str:
    return f"New {kind}"


def _changed(payload: dict, kind: str) -> str:
    fields = ", ".join(sorted((payload.get("changes") or {}).keys()))
    return f"Changed {kind}" + (f": {fields}" if fields else "")


def _moved(payload: dict, kind: str) -> str:
    before = ", ".join(payload.get("before") or []) or "?"
    return (
        f"{str(payload.get('deadline', 'comments')).capitalize()} deadline moved to "
        f"{payload.get('after')} (was {before}) by {payload.get('by')}"
    )


def _reminder(payload: dict, kind: str) -> str:
    left = payload.get("days_left")
    when = "today" if left == 0 else f"in {left} day{'' if left == 1 else 's'}"
    return f"{str(payload.get('deadline', '')).capitalize()} deadline {payload.get('due')} ({when})"


def _summary_of(part: str, label: str) -> Any:
    def what(payload: dict, kind: str) -> str:
        summary = (payload.get(part) or {}).get("summary")
        return f"{label}: {summary}" if summary else label

    return what


WHAT = {
    "document_changed": _changed,
    "deadline_changed": _moved,
    "deadline_reminder": _reminder,
    "entity_listed": _summary_of("entities", "Entity List"),
    "threshold_changed": _summary_of("thresholds", "Thresholds"),
    "rule_text_changed": _summary_of("diff", "Rule text changed"),
}


def _diff_size(payload: dict) -> tuple[int, int]:
    """Lines added and removed in an event's text diff (0, 0 when there is none)."""
    counts = (payload.get("diff") or {}).get("counts")
    if counts:  # a structured diff: one paragraph per line of the text
        modified = counts.get("modified", 0)
        return counts.get("added", 0) + modified, counts.get("deleted", 0) + modified
    change = (payload.get("changes") or {}).get("text")
    if isinstance(change, dict) and "diff" in change:
        stat = diffstat(change["diff"])
        return stat["added"], stat["removed"]
    if isinstance(change, list) and len(change) == 2:
        before, after = ((v or "").splitlines() for v in change)
        return len(set(after) - set(before)), len(set(before) - set(after))
    return 0, 0


def _rule_change(event: EventRow, row: DocumentRow) -> RuleChange:
    doc = row.document
    added, removed = _diff_size(event.payload or {})
    if event.kind == "new_document" and not added:
        added = len((doc.text or "").splitlines())
    return RuleChange(
        label=doc.document_number,
        title=_title(doc),
        url=doc.url,
        change="added" if event.kind == "new_document" else "changed",
        added_lines=added,
        removed_lines=removed,
        version_date=_iso(doc.version_date),
        score=event.score,
        severity=event.severity,
        summary=((event.payload or {}).get("diff") or {}).get("summary"),
    )


def _news_item(event: EventRow, row: DocumentRow) -> NewsItem:
    doc = row.document
    return NewsItem(
        title=_title(doc),
        url=doc.url,
        publisher=doc.publisher,
        related=list(doc.related),
        publication_date=_iso(doc.publication_date),
        score=event.score,
        severity=event.severity,
        relevant=event.relevant,
    )


def _failing(row: SourceRow) -> FailingSource:
    return FailingSource(
        name=row.name,
        kind=row.kind,
        failures=row.consecutive_failures,
        last_error=row.last_error,
        failing_since=_iso(row.failing_since),
        last_success=_iso(row.last_success_at),
    )


def _health(event: EventRow) -> HealthNote:
    payload = event.payload or {}
    return HealthNote(
        kind=event.kind,
        source=str(payload.get("source", "?")),
        at=_iso(event.created_at) or "",
        failures=payload.get("failures"),
        error=payload.get("error"),
    )


def _section_order(label: str) -> list[Any]:
    """`15 CFR 744.9` before `15 CFR 744.23`: numbers compare as numbers."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", label)]


def _negated_date(value: str | None) -> int:
    """Newest first inside a score: an ISO date as a negative day number."""
    return -date.fromisoformat(value).toordinal() if value else 0


def _iso(value: date | datetime | None) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat() if value is not None else None


# --- rendering ------------------------------------------------------------------------


def render_digest(env: jinja2.Environment, fmt: str, digest: Digest) -> Rendered:
    """The digest's title and its body in one channel format (email, slack, text)."""
    return render(env, fmt, {"digest": digest, "eastern": eastern}, family=FAMILY)
