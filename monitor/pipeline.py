"""The pipeline steps as plain functions: poll -> store -> score -> route -> deliver.

`monitor check` calls them in-process; the Celery tasks wrap the same
functions. Each step is safe to repeat: documents are keyed by number and
content hash, events by a unique dedup key, alerts by (event, channel). A
document is committed pending before its events are recorded, and an alert row
before delivery is tried (the outbox), so a crash leaves either pending rather
than lost or sent twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import jinja2
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session

from monitor import deadlines, digest, regulations_gov, routing, store
from monitor.alerts import (
    Rendered,
    alert_context,
    group_context,
    load_templates,
    render,
    stamped,
)
from monitor.channels import ANSWER_GRACE, channel_format, send
from monitor.config import ChannelConfig, Config, digest_channels
from monitor.document import Document
from monitor.events import entry_changes, structured_kind, structured_payload, text_diff_payload
from monitor.http import FetchError, make_client
from monitor.news import same_story
from monitor.redact import redact_url
from monitor.scoring import Score, score_of
from monitor.text import one_line
from watchers import WATCHERS, PollResult, SourceOptions, load_builtin

Progress = Callable[[str, int, int], None]
log = logging.getLogger(__name__)


@dataclass
class Found:
    """An event this run recorded."""

    event_id: int
    kind: str
    source: str
    document: Document
    score: Score
    alerts: int


@dataclass
class CheckReport:
    found: list[Found] = field(default_factory=list)
    fetched: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    health: list[str] = field(default_factory=list)  # source failing / recovered events
    sent: int = 0
    failed: int = 0
    pending: int = 0
    held: int = 0  # outbox rows of this run waiting for the weekly digest
    stored: list[int] = field(default_factory=list)  # documents stored, to be processed
    dry_run: bool = False


def poll_source(source: SourceOptions, cursor: dict, since: date | None) -> PollResult:
    """Fetch one source; FetchError says what went wrong, in one line."""
    load_builtin()
    watcher = WATCHERS[source.kind]
    with make_client(source.base_url, source.timeout, source.redirect_hosts) as client:
        return watcher.poll(source, cursor, client, since)


def event_for(change: store.Change, doc: Document) -> tuple[str, str]:
    if change == "new":
        return "new_document", f"new:{doc.key}"
    if doc.collection == "ecfr":
        return "rule_text_changed", f"rule-text:{doc.key}:{doc.content_hash()[:16]}"
    return "document_changed", f"changed:{doc.key}:{doc.content_hash()[:16]}"


def store_document(
    session: Session,
    source: str,
    doc: Document,
    *,
    baseline: bool = False,
    polled_at: datetime | None = None,
) -> store.Sighting:
    """Store a sighting, pending until `process_pending` records its events (a poll's
    step: once committed, a crash can delay the events but not lose them)."""
    doc = join_story(session, doc)
    return store.upsert_document(session, source, doc, baseline=baseline, polled_at=polled_at)


def process_pending(session: Session, config: Config, row: store.DocumentRow) -> list[Found]:
    """Record the events of a stored document's pending change (new, changed, listed,
    deadline moved), then clear the mark. Safe to repeat: events have unique keys.

    A baseline copy (the first of a whole text) has no events. A rule whose full text
    lists entities or moves a threshold is one `entity_listed` / `threshold_changed`
    event, also when its text arrives after an earlier sighting (the public-inspection
    copy) raised `new_document`.
    """
    store.lock_document(session, row)
    pending = store.Pending.of(row)
    if pending is None:
        return []
    source, content_hash, doc = row.pending_source, row.content_hash, row.document
    if doc.collection == "fr":
        store.replace_deadlines(session, row.id, deadlines.extract(doc))
    found = [] if pending.baseline else _events(session, config, source, row, doc, pending)
    store.done_pending(session, row, content_hash)
    return found


def _events(
    session: Session,
    config: Config,
    source: str,
    row: store.DocumentRow,
    doc: Document,
    pending: store.Pending,
) -> list[Found]:
    """The events of a pending change; `doc` is everything known of the document (the
    row's), not only the last sighting."""
    text_changed = pending.change == "changed" and doc.collection == "ecfr"
    previous = store.version_document(session, pending.version) if text_changed else None
    score = score_of(config, doc, previous)
    # a corrected FR document stays document_changed; its listing was reported already
    fr_correction = pending.change == "changed" and not text_changed
    structured = None if fr_correction else structured_kind(doc, score)
    if structured is not None:
        key = f"{doc.key}:{doc.content_hash()[:16]}" if text_changed else doc.key
        kind, dedup_key = structured, f"{structured}:{key}"
    elif pending.change == "enriched":
        return []
    else:
        kind, dedup_key = event_for(pending.change, doc)
    payload: dict = {"changes": pending.changes, **structured_payload(doc, score)}
    if "rule" in pending.changes:  # the published copy lists other entries than the desk's
        payload["entry_changes"] = entry_changes(*pending.changes["rule"])
        payload["changes"] = {**pending.changes, "rule": payload["entry_changes"]["summary"]}
    if previous is not None:
        payload["diff"] = text_diff_payload(previous, doc)
    found = record_event(
        session, config, source, row, kind=kind, dedup_key=dedup_key, payload=payload,
        score=score,
    )  # fmt: skip
    moved = link_extension(session, config, source, row) if doc.collection == "fr" else []
    return [f for f in (found, *moved) if f is not None]


STORY_DAYS = 3


def join_story(session: Session, doc: Document) -> Document:
    """A news item that continues a story stored earlier joins it (one story, one event).

    The news watcher clusters the items of one poll; this catches the item that
    arrives a poll later: same FR reference, same link or a near-identical title
    within a few days.
    """
    if doc.collection != "news" or doc.publication_date is None:
        return doc
    since = (doc.publication_date - timedelta(days=STORY_DAYS)).isoformat()
    recent = store.recent_documents(session, "news", since)
    if any(row.key == doc.key for row in recent):
        return doc
    for row in recent:
        if same_story(row.document, doc):
            # the story keeps its first telling; this one adds its publisher and references
            return Document(collection="news", document_number=row.document_number,
                            publisher=doc.publisher, related=doc.related)  # fmt: skip
    return doc


def record_event(
    session: Session,
    config: Config,
    source: str,
    row: store.DocumentRow,
    *,
    kind: str,
    dedup_key: str,
    payload: dict,
    score: Score | None = None,
) -> Found | None:
    """Score the document, store the event once (by its key) and write its outbox rows."""
    doc = row.document
    score = score or score_of(config, doc)
    data = score.to_json()
    event = store.add_event(
        session, dedup_key=dedup_key, kind=kind, document_id=row.id, score=score.score,
        severity=score.severity, relevant=score.relevant, reasons=data["reasons"],
        matches=data["matches"], payload=payload,
    )  # fmt: skip
    if event is None:
        return None
    store.add_subjects(session, event.id, routing.subjects_of(data["matches"], payload))
    return Found(event.id, kind, source, doc, score, route(session, config, event))


def link_extension(
    session: Session, config: Config, source: str, row: store.DocumentRow
) -> list[Found]:
    """A notice extending or reopening a comment period moves the earlier deadline.

    The earlier documents are those it cites (document number or FR citation);
    failing that, those sharing its RIN or docket. Each gets a deadline_changed
    event naming the old and the new date.
    """
    doc = row.document
    new_due = max((d.due for d in deadlines.extract(doc) if d.kind == "comments"), default=None)
    if new_due is None or not deadlines.is_extension(doc):
        return []
    numbers, citations = deadlines.cited(doc)
    candidates = store.comment_deadline_documents(session, exclude=row.id)
    targets = [c for c in candidates
               if c.document_number in numbers or c.document.citation in citations]  # fmt: skip
    if not targets:
        keys = set(doc.regulation_id_numbers) | set(doc.docket_ids)
        targets = [c for c in candidates
                   if keys & (set(c.document.regulation_id_numbers) | set(c.document.docket_ids))
                   and (c.publication_date or "") <= (row.publication_date or "")]  # fmt: skip
    found = []
    for target in targets:
        before = store.supersede_comment_deadlines(session, target.id, by=row.id)
        if not before or before == [new_due.isoformat()]:
            continue
        payload = {"deadline": "comments", "before": before, "after": new_due.isoformat(),
                   "by": doc.document_number, "by_title": doc.title}  # fmt: skip
        found.append(record_event(
            session, config, source, target, kind="deadline_changed",
            dedup_key=f"deadline-changed:{target.key}:comments:{new_due.isoformat()}",
            payload=payload,
        ))  # fmt: skip
    return [f for f in found if f is not None]


def record_health_event(
    session: Session, config: Config, state: store.SourceRow, kind: str
) -> list[str]:
    """A source_failing / source_recovered event, routed like any other; its summary."""
    at = state.alerted_at if kind == "source_failing" else store.utcnow()
    since = state.failing_since.isoformat() if state.failing_since else None
    payload = {
        "source": state.name, "kind": state.kind, "failures": state.consecutive_failures,
        "error": state.last_error, "failing_since": since,
        "last_success": state.last_success_at.isoformat() if state.last_success_at else None,
    }  # fmt: skip
    event = store.add_event(
        session, dedup_key=f"{kind}:{state.name}:{at.isoformat()}", kind=kind,
        document_id=None, score=100, severity=config.health.severity, relevant=True,
        reasons=[], matches={}, payload=payload,
    )  # fmt: skip
    if event is None:
        return []
    route(session, config, event)
    word = "failing" if kind == "source_failing" else "recovered"
    return [f"source {state.name} {word}"]


def confirm_comment_periods(
    session: Session, config: Config, report: CheckReport, now: datetime | None = None
) -> list[Found]:
    """Ask regulations.gov for the comment periods still open (with an API key only).

    A different end date there moves the deadline and raises deadline_changed,
    often before the Federal Register prints the extension.
    """
    settings = config.regulations_gov
    if not settings.enabled or not settings.api_key:
        return []
    today = deadlines.fr_today(now).isoformat()
    asked, found = 0, []
    with make_client(settings.base_url, settings.timeout) as client:
        for deadline, row in store.open_deadlines(session, since=today):
            if deadline.kind != "comments" or not row.key.startswith("fr:"):
                continue
            if asked >= settings.max_checks:
                break
            score = score_of(config, row.document)
            if not score.relevant:
                continue
            asked += 1
            try:
                period = regulations_gov.comment_period(client, settings, row.document_number)
            except FetchError as exc:
                report.notes.append(f"regulations.gov: {exc}")
                continue
            except Exception as exc:  # a bug met on an odd answer: the run goes on to deliver
                log.exception("regulations.gov: %s: unexpected error", row.document_number)
                report.notes.append(f"regulations.gov: {row.document_number}: internal error "
                                    f"{type(exc).__name__}: {one_line(exc, 300)}")  # fmt: skip
                continue
            if period is None or period.ends is None or period.ends.isoformat() == deadline.due_on:
                continue
            before, after = deadline.due_on, period.ends.isoformat()
            store.confirm_deadline(session, deadline, after)
            payload = {"deadline": "comments", "before": [before], "after": after,
                       "by": "regulations.gov", "dockets": list(period.docket_ids)}  # fmt: skip
            event = record_event(
                session, config, "regulations.gov", row, kind="deadline_changed",
                dedup_key=f"deadline-changed:{row.key}:comments:{after}", payload=payload,
                score=score,
            )  # fmt: skip
            if event is not None:
                found.append(event)
    return found


def scan_deadlines(session: Session, config: Config, now: datetime | None = None) -> list[Found]:
    """Reminders for the open deadlines of relevant documents, each offset once."""
    today = deadlines.fr_today(now)
    offsets = tuple(config.deadlines.offsets)
    found = []
    for deadline, row in store.open_deadlines(session, since=today.isoformat()):
        if deadline.kind not in config.deadlines.kinds:
            continue
        due = date.fromisoformat(deadline.due_on)
        offset = deadlines.reminder_offset(due, today, offsets)
        if offset is None or deadlines.not_live(deadline.kind, row.document_number, due):
            continue
        key = f"deadline:{row.key}:{deadline.kind}:{deadline.due_on}:{offset}d"
        if store.event_exists(session, key):
            continue
        score = score_of(config, row.document)
        if not score.relevant:  # reminders only for what matters to this portfolio
            continue
        left = (date.fromisoformat(deadline.due_on) - today).days
        payload = {"deadline": deadline.kind, "due": deadline.due_on, "days_left": left,
                   "offset": offset, "text": deadline.text}  # fmt: skip
        event = record_event(session, config, "deadlines", row, kind="deadline_reminder",
                             dedup_key=key, payload=payload, score=score)  # fmt: skip
        if event is not None:
            found.append(event)
    return found


def route(session: Session, config: Config, event: store.EventRow) -> int:
    """Write the outbox rows: one per channel that takes this event, marked to go at
    once or to wait for the channel's digest (see monitor.routing)."""
    if not event.relevant:
        return 0
    row = session.get(store.DocumentRow, event.document_id) if event.document_id else None
    facts = routing.facts_of(event, row.document if row else None, row.source if row else None)
    count = 0
    for channel in (c for c in config.channels if c.enabled):
        how = routing.route_for(channel, facts)
        if how is not None:
            count += store.add_alert(session, event.id, channel.name, how) is not None
    return count


def group_alerts(session: Session, config: Config, before: datetime | None = None) -> list[int]:
    """Put the rows to go at once (written up to `before`) into messages, per channel:
    rows sharing a document or an FR reference are one message, and more than
    `alerting.group_above` messages are one. Returns the messages (carrier IDs).

    Called at the end of a pass, before anything is sent; a row left ungrouped by a
    crash is grouped by the next pass or by `deliver_due`.
    """
    by_channel: dict[str, list[tuple[store.AlertRow, set[str]]]] = {}
    for alert, event, doc_row in store.ungrouped_alerts(session, before):
        refs = routing.refs_of(doc_row.document if doc_row else None, event.payload or {})
        by_channel.setdefault(alert.channel, []).append((alert, refs))
    carriers = []
    for rows in by_channel.values():
        for message in routing.group(rows, config.alerting.group_above):
            if store.carry(session, message[0], message):
                carriers.append(message[0].id)
    return carriers


DIGEST_PERIOD = timedelta(days=7)  # a channel's first digest looks back this far


def queue_digests(
    session: Session, config: Config, now: datetime | None = None
) -> list[store.AlertRow]:
    """This period's digest row of every digest channel: written once per channel and
    schedule slot, carrying the channel's events that wait for it. Its period runs from
    the end of the channel's previous digest (or a week back) to now."""
    now = now or store.utcnow()
    slot = digest.slot_before(config.digest, now).isoformat()
    rows = []
    for channel in digest_channels(config):
        row = store.digest_row(session, channel.name, slot)
        if row is None:
            previous = store.last_digest(session, channel.name)
            since = (datetime.fromisoformat(previous.payload["until"]) if previous
                     else now - DIGEST_PERIOD)  # fmt: skip
            row = store.add_digest(session, channel.name, slot, since, now)
            if row is None:  # another process wrote it a moment ago
                row = store.digest_row(session, channel.name, slot)
            else:
                store.carry_waiting(session, row, now)
        rows.append(row)
    return rows


def digest_pass(
    db: store.Store, config: Config, now: datetime | None = None
) -> list[store.AlertRow]:
    """`queue_digests`, committed before anything is sent (the outbox)."""
    with db.session() as session:
        rows = queue_digests(session, config, now)
        session.commit()
    return rows


def check(
    config: Config,
    *,
    only: list[str] | None = None,
    since: date | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> CheckReport:
    """One pass over the configured sources, the deadline scan, then delivery of what is due."""
    report = CheckReport(dry_run=dry_run)
    templates = load_templates(config.alerting.templates_dir)  # fail before fetching
    db = store.open_store(config.database_url)
    sources = [config.source(n) for n in only] if only else config.sources
    with db.session() as session:
        for source in (s for s in sources if s.enabled or only):
            poll_and_store(session, config, source, since, dry_run, report, progress)
        report.found += process_left(session, config, dry_run, report)
        report.found += confirm_comment_periods(session, config, report, now)
        report.found += scan_deadlines(session, config, now)
        if dry_run:
            session.rollback()
            return report
        group_alerts(session, config)
        report.held = store.held_for_digest(session, [f.event_id for f in report.found])
        session.commit()
    deliver_due(db, config, templates, report)
    return report


def poll_and_store(
    session: Session,
    config: Config,
    source: SourceOptions,
    since: date | None,
    dry_run: bool,
    report: CheckReport,
    progress: Progress | None = None,
    *,
    hand_off: Callable[[int], None] | None = None,
    hand_off_above: int | None = None,
    polled_at: datetime | None = None,
) -> None:
    """Poll one source and store what it found, each document committed pending, then
    its events in the next transaction; or, with `hand_off` and more than
    `hand_off_above` documents found (not None: the `poll_source` task, which queues a
    `process_document` task), each stored document's ID handed on once committed.
    `polled_at`: when the poll began.
    """
    commit = session.flush if dry_run else session.commit
    state = store.source_row(session, source.name, source.kind)
    polled_at = polled_at or store.utcnow()
    try:
        result = poll_source(source, dict(state.cursor or {}), since)
    except Exception as exc:  # one broken source must never stop the others
        message = str(exc) if isinstance(exc, FetchError) else _internal(source, exc)
        report.errors[source.name] = message
        health = store.record_failure(session, state, message, config.health)
        if health:
            report.health += record_health_event(session, config, state, health)
        commit()
        return
    report.fetched[source.name] = result.fetched
    report.notes += result.notes
    total = len(result.documents)
    fan_out = hand_off_above is not None and total > hand_off_above
    on_stored = hand_off if fan_out else None
    for i, doc in enumerate(result.documents, 1):
        baseline = doc.key in result.baseline
        sighting = _store_one(session, source.name, doc, baseline, polled_at, report)
        commit()  # stored, pending: from here a crash delays its events, never loses them
        if sighting is None or sighting.change is None:  # skipped, or nothing new
            pass
        elif on_stored is not None:
            report.stored.append(sighting.row.id)
            on_stored(sighting.row.id)
        else:
            report.found += _process_one_guarded(session, config, sighting.row, report)
            commit()  # its events and their outbox rows together
        if progress:
            progress(source.name, i, total)
    health = store.record_success(session, state, result.cursor, config.health)
    if health:
        report.health += record_health_event(session, config, state, health)
    commit()


def _store_one(
    session: Session,
    source: str,
    doc: Document,
    baseline: bool,
    polled_at: datetime,
    report: CheckReport,
) -> store.Sighting | None:
    """Store one sighting in a savepoint; a record the store cannot hold (a NUL, a lone
    surrogate, a number too long for its column) is skipped with a note naming it, and
    the poll goes on. A database that fails (a full disk, lost) stops the run."""
    problem = store.unstorable(doc)
    if problem is None:
        try:
            with session.begin_nested():
                return store_document(session, source, doc, baseline=baseline, polled_at=polled_at)
        except (DataError, ValueError) as exc:  # what the check above did not foresee
            problem = one_line(exc, 300)
    note = f"{source}: record {_shown(doc.key)} skipped: {problem}"
    log.info("%s", note)  # the worker's log; `monitor check` prints its notes
    report.notes.append(note)
    return None


def _process_one_guarded(
    session: Session, config: Config, row: store.DocumentRow, report: CheckReport
) -> list[Found]:
    """`process_pending` in a savepoint: a document whose processing fails (a bug met on
    odd data) stays pending, with a note and the traceback in the log, and the others
    are processed. A failing database stops the run."""
    key = row.key
    try:
        with session.begin_nested():
            return process_pending(session, config, row)
    except OperationalError:
        raise
    except Exception as exc:
        log.exception("document %s: processing failed", _shown(key))
        report.notes.append(
            f"document {_shown(key)} not processed (internal error {type(exc).__name__}: "
            f"{one_line(exc, 300)}); it stays pending and is tried again on the next run"
        )
        return []


def _shown(text: str, limit: int = 80) -> str:
    """A record's key as a note can show it: printable, or escaped (a key may be hostile)."""
    return text if text.isprintable() and len(text) <= limit else ascii(text[:limit])


def process_left(
    session: Session, config: Config, dry_run: bool = False, report: CheckReport | None = None
) -> list[Found]:
    """Process the documents stored but left pending (by a crash, or a lost task)."""
    commit = session.flush if dry_run else session.commit
    report = report if report is not None else CheckReport()
    found = []
    for document_id in store.pending_documents(session):
        row = session.get(store.DocumentRow, document_id)
        found += _process_one_guarded(session, config, row, report)
        commit()
    return found


def poll_one(
    db: store.Store, config: Config, name: str, hand_off: Callable[[int], None]
) -> tuple[CheckReport, list[int]]:
    """Poll the source `name` and store what is new (the `poll_source` task). A poll
    that finds more than `celery.fan_out_above` documents hands each one's ID to
    `hand_off` once committed (the task queues its processing, spread over the
    workers); a smaller one is processed here at once, saving a task per document, as
    is any poll on SQLite by default (one writer at a time: nothing to spread).

    Returns the report and, if the poll's documents are all processed by the time it
    ends, the messages its grouping made (committed: the caller may deliver them).
    """
    report = CheckReport()
    source = config.source(name)
    polled_at = store.utcnow()
    with db.session() as session:
        poll_and_store(session, config, source, None, False, report, hand_off=hand_off,
                       hand_off_above=config.celery.fan_out(config.database_url),
                       polled_at=polled_at)  # fmt: skip
        return report, finish_poll(session, config, name, polled_at)


def process_one(db: store.Store, config: Config, document_id: int) -> tuple[list[Found], list[int]]:
    """Record a stored document's events (the `process_document` task), committed;
    then `finish_poll` for the poll that stored it. Returns the events and the
    messages that grouping made, for the caller to deliver."""
    with db.session() as session:
        row = session.get(store.DocumentRow, document_id)
        source = row.pending_source if row is not None else None
        if source is None:  # processed already (a redelivered task) or unknown
            return [], []
        polled_at = row.pending_since
        found = process_pending(session, config, row)
        session.commit()
        return found, finish_poll(session, config, source, polled_at)


def finish_poll(session: Session, config: Config, source: str, polled_at: datetime) -> list[int]:
    """Group the outbox rows once the poll of `source` that began at `polled_at` has
    ended and every document it (or an earlier poll) stored is processed, so that a
    poll's burst is one message when it should be; later polls do not hold it back.

    Both the poll and each processing commit before they ask, so the last of them to
    commit sees the others' work and groups (two may: grouping claims each row once).
    Returns the messages made, committed.
    """
    state = session.get(store.SourceRow, source)
    if state.last_run_at is None or state.last_run_at < polled_at:
        return []  # the poll is still storing
    if store.pending_documents(session, source, before=polled_at, limit=1):
        return []
    carriers = group_alerts(session, config)
    session.commit()
    return carriers


def stalled_documents(db: store.Store, config: Config, now: datetime | None = None) -> list[int]:
    """Documents pending for longer than any task runs: their task was lost."""
    before = (now or store.utcnow()) - timedelta(seconds=config.celery.lock_timeout)
    with db.session() as session:
        return store.pending_documents(session, before=before)


def deadline_pass(
    db: store.Store, config: Config, now: datetime | None = None
) -> tuple[CheckReport, list[int]]:
    """The deadline part of `monitor check`: regulations.gov periods, then reminders."""
    report = CheckReport()
    with db.session() as session:
        report.found += confirm_comment_periods(session, config, report, now)
        report.found += scan_deadlines(session, config, now)
        group_alerts(session, config)
        session.commit()
        ids = store.pending_alert_ids(session, [f.event_id for f in report.found])
    return report, ids


def _internal(source: SourceOptions, exc: Exception) -> str:
    """A bug, not a bad answer: log the traceback, record one line."""
    log.exception("source %s: unexpected error while polling", source.name)
    return (
        f"{redact_url(source.base_url)}: internal error {type(exc).__name__}: {one_line(exc, 300)}"
    )


def deliver_due(
    db: store.Store, config: Config, templates: jinja2.Environment, report: CheckReport
) -> None:
    """Send every pending message that is due; each outcome is committed on its own."""
    channels = {c.name: c for c in config.channels if c.enabled}
    for alert_id in due_alert_ids(db, config):
        with db.session() as session:
            alert = session.get(store.AlertRow, alert_id)
            if alert.status != "pending":  # another process delivered it meanwhile
                continue
            if in_flight(alert, channels[alert.channel]):  # and another is sending it now
                report.pending += 1
                continue
            outcome = deliver_one(session, config, channels[alert.channel], alert, templates)
            outcome_count(report, alert.status, outcome)
            session.commit()


def due_alert_ids(db: store.Store, config: Config, now: datetime | None = None) -> list[int]:
    """The pending messages of enabled channels whose next attempt is due.

    Rows a crashed pass left ungrouped are grouped first, once they are older than
    any pass may run (`celery.lock_timeout`): a running poll's rows wait for it.
    """
    channels = [c.name for c in config.channels if c.enabled]
    now = now or store.utcnow()
    with db.session() as session:
        group_alerts(session, config, now - timedelta(seconds=config.celery.lock_timeout))
        session.commit()
        return [row.id for row in store.due_alerts(session, channels, now)]


@dataclass
class Delivered:
    """What delivering one outbox row did: sent, pending (retry in `retry_in` s), failed,
    or skipped (sent already, unknown, channel disabled) with the reason."""

    status: str
    retry_in: float | None = None
    reason: str | None = None


EARLY = timedelta(seconds=1)  # a retry timer may fire a little before the row is due


def deliver_alert(
    db: store.Store,
    config: Config,
    templates: jinja2.Environment,
    alert_id: int,
    now: datetime | None = None,
    locked: bool = False,
) -> Delivered:
    """Deliver one outbox row if it is pending and due; a sent row is never sent again.

    `locked`: the caller holds the row's lock (the `deliver_alert` task), so an attempt
    still on record is a dead process's, never one under way; without it, an attempt
    begun within the channel's time bound is left to the process making it.
    """
    channels = {c.name: c for c in config.channels if c.enabled}
    with db.session() as session:
        alert = session.get(store.AlertRow, alert_id)
        if alert is None:
            return Delivered("skipped", reason=f"no alert {alert_id}")
        if alert.status != "pending":
            return Delivered("skipped", reason=f"alert {alert_id} is {alert.status}")
        if alert.channel not in channels:
            return Delivered("skipped", reason=f"channel {alert.channel} is not enabled")
        if alert.carrier_id != alert.id:  # another row's message carries it, or none yet
            carrier = f"alert {alert.carrier_id}" if alert.carrier_id else "no message yet"
            return Delivered("skipped", reason=f"alert {alert_id} is carried by {carrier}")
        now = now or store.utcnow()
        if alert.next_attempt_at > now + EARLY:
            return Delivered("pending", (alert.next_attempt_at - now).total_seconds(), "not due")
        if not locked and in_flight(alert, channels[alert.channel], now):
            return Delivered("skipped", reason=f"alert {alert_id} is being sent by another process")
        ok = deliver_one(session, config, channels[alert.channel], alert, templates)
        session.commit()
        if ok:
            return Delivered("sent")
        if alert.status == "failed":
            return Delivered("failed", reason=alert.last_error)
        wait = (alert.next_attempt_at - store.utcnow()).total_seconds()
        return Delivered("pending", max(wait, 0.0), alert.last_error)


def outcome_count(report: CheckReport, status: str, ok: bool) -> None:
    if ok:
        report.sent += 1
    elif status == "failed":
        report.failed += 1
    else:
        report.pending += 1


def deliver_one(
    session: Session,
    config: Config,
    channel: ChannelConfig,
    alert: store.AlertRow,
    templates: jinja2.Environment,
) -> bool:
    """Render and send one message (an alert, a grouped alert or a digest) under its ID;
    record the outcome on it and on every row it carries.

    The attempt is committed before the message goes: if this process dies while
    sending, the next delivery counts that attempt's outcome as unknown and sends the
    message marked as a possible repeat, as after a channel that did not answer within
    its `timeout`."""
    url = channel.url.get_secret_value()
    fmt = channel_format(url, channel.format)
    rendered = message(session, config, templates, alert, fmt)
    store.begin_attempt(alert)
    store.share_outcome(session, alert)
    session.commit()
    out = stamped(rendered, alert.id, repeat=alert.unknown_attempts > 0)
    delivery = send(url, out.title, out.body, fmt, timeout=channel.timeout, text=out.text)
    if delivery.ok:
        store.mark_sent(alert)
    else:
        store.mark_attempt_failed(
            alert,
            delivery.error or "unknown error",
            config.alerting.max_attempts,
            config.alerting.retry_backoff,
            retry_after=delivery.retry_after,
            unknown=delivery.unknown,
        )
    store.share_outcome(session, alert)
    return delivery.ok


def in_flight(alert: store.AlertRow, channel: ChannelConfig, now: datetime | None = None) -> bool:
    """Another process is sending this message now (begun within the channel's bound)."""
    return store.in_flight(alert, channel.timeout + ANSWER_GRACE + 1, now)


def message(
    session: Session,
    config: Config,
    templates: jinja2.Environment,
    alert: store.AlertRow,
    fmt: str,
) -> Rendered:
    """What a carrier row sends: its channel's digest, its one event, or its group."""
    if alert.period is not None:
        bounds = alert.payload or {}
        since, until = (datetime.fromisoformat(bounds[k]) for k in ("since", "until"))
        made = digest.build_digest(session, config, since, until, outbox=alert)
        return digest.render_digest(templates, fmt, made)
    contexts = [
        alert_context(
            event.kind,
            doc_row.document if doc_row else None,
            event.score,
            event.severity,
            event.reasons,
            event.matches,
            event.payload,
            review_url=config.web.event_url(event.id),
        )
        for _, event, doc_row in store.carried(session, alert.id)
    ]
    if len(contexts) == 1:
        return render(templates, fmt, contexts[0])
    return render(templates, fmt, group_context(templates, contexts), "group")
