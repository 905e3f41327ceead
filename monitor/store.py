"""The database: the only module that writes it.

Tables: `sources` (poll state and health), `documents` (keyed by FR document
number wherever seen) with `document_versions` (one row per distinct content),
`events` (unique dedup key, so every step is safe to repeat), `alerts` (the
outbox: one row per event and channel, written before delivery is tried, plus
one row per channel and week for the digest), `event_subjects` (the customers and
chips each event touches, to filter on) and the reviews: `review_entries` (every
decision on an event, appended, never rewritten) with `reviews` (each event's
current state).
The schema is created and upgraded by Alembic migrations, never by
`create_all`, so an upgrade keeps a user's data.
"""

from __future__ import annotations

import difflib
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from monitor.deadlines import Deadline
from monitor.document import Document, merge
from monitor.health import HealthEvent, HealthPolicy, after_failure, after_success


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    __tablename__ = "sources"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    cursor: Mapped[dict] = mapped_column(JSON, default=dict)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    document_number: Mapped[str] = mapped_column(String(50), index=True)
    source: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(Text)
    doc_type: Mapped[str | None] = mapped_column(String(50))
    publication_date: Mapped[str | None] = mapped_column(String(10), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # stored but its events not yet recorded (see `Pending`); NULL once processed
    pending: Mapped[dict | None] = mapped_column(JSON)
    pending_source: Mapped[str | None] = mapped_column(String(100), index=True)
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def document(self) -> Document:
        return Document.model_validate(self.data)


class DocumentVersionRow(Base):
    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "content_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict] = mapped_column(JSON)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    score: Mapped[int] = mapped_column(Integer, default=0)
    severity: Mapped[str] = mapped_column(String(10), default="info")
    relevant: Mapped[bool] = mapped_column(default=False)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    matches: Mapped[dict] = mapped_column(JSON, default=dict)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DeadlineRow(Base):
    """A date a document sets; `superseded_by` points at a later document that moved it."""

    __tablename__ = "deadlines"
    __table_args__ = (UniqueConstraint("document_id", "kind", "due_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[str] = mapped_column(String(10), index=True)
    origin: Mapped[str] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(Text)
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))


AlertStatus = Literal["pending", "sent", "failed"]


class AlertRow(Base):
    """One event for one channel, or one channel's digest of a week.

    `carrier_id` is the row whose message carries this one: itself for an alert
    of its own, the first row of a grouped alert, or the digest row (no event;
    `period` is its schedule slot, `payload` the bounds of the period). NULL: in
    no message yet (to go at once but not grouped yet, or waiting for the digest).
    Only a carrier is delivered; the rows it carries share its outcome.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("event_id", "channel"),
        UniqueConstraint("channel", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    channel: Mapped[str] = mapped_column(String(100))
    route: Mapped[str] = mapped_column(String(10), default="immediate")  # or "digest"
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    period: Mapped[str | None] = mapped_column(String(40))
    payload: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # an attempt under way since then (committed before the message goes); NULL between
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # attempts that ended without an answer (timed out, or the process died sending):
    # the channel may have the message, so what follows is sent marked as a repeat
    unknown_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# --- reviews and the event index ----------------------------------------------------


class EventSubjectRow(Base):
    """A customer or chip an event touches (`customer:smic`, `chip:nvidia-a100`): the
    web's filters read this index instead of every event's JSON."""

    __tablename__ = "event_subjects"

    subject: Mapped[str] = mapped_column(String(120), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)


class ReviewEntryRow(Base):
    """One change to an event's review: who, when, the status it left, the note and the
    action items it added. Appended only: the migration makes the database refuse an
    UPDATE or DELETE of these rows."""

    __tablename__ = "review_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    author: Mapped[str] = mapped_column(String(100))
    previous_status: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    assignee: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    actions: Mapped[list] = mapped_column(JSON, default=list)


class ReviewRow(Base):
    """An event's review as its entries left it (no row: `new`), for lists and filters."""

    __tablename__ = "reviews"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    assignee: Mapped[str | None] = mapped_column(String(100))
    actions: Mapped[list] = mapped_column(JSON, default=list)
    last_entry_id: Mapped[int] = mapped_column(ForeignKey("review_entries.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))


# the web's event list filters and sorts from these alone (its rows hold JSON: reading
# them for a filter is what a large store cannot afford); a document page finds its events
Index("ix_events_score_id", EventRow.score, EventRow.id)
Index("ix_events_relevant_score_id", EventRow.relevant, EventRow.score, EventRow.id)
Index("ix_events_severity_score_id", EventRow.severity, EventRow.score, EventRow.id)
Index("ix_events_kind_score_id", EventRow.kind, EventRow.score, EventRow.id)
Index("ix_events_document_id", EventRow.document_id)


# --- opening ----------------------------------------------------------------------

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own implicit transactions break SAVEPOINT (a released savepoint
    # could commit the outer transaction): SQLAlchemy begins them instead (below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process crash
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class StoreError(Exception):
    """The store cannot be opened or written (a corrupt file, a read-only or full disk,
    a server away): one line naming the database and what to do. What was committed
    before is kept: the transaction that failed is rolled back."""


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{folder}: cannot create the data directory ({exc.strerror}): create it,"
                " or set data_dir to a folder you can write"
            ) from None
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # IMMEDIATE: a writer takes the lock up front (waiting up to busy_timeout) instead
        # of failing with "database is locked" when upgrading a read lock mid-transaction
        event.listen(
            engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE")
        )
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is there).

    On SQLite, a migration that must copy a table (batch mode) would trip the
    foreign keys of rows that reference it, so they are off while it runs and
    checked afterwards.
    """
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite:  # only outside a transaction does this pragma take effect
            raw.execute("PRAGMA foreign_keys=OFF")
        with connection.begin():
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
            if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                raise RuntimeError("migration left rows with broken foreign keys; rolled back")
        if sqlite:
            raw.execute("PRAGMA foreign_keys=ON")


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session; a database that fails under it (full, read-only, gone) is a
        StoreError, its transaction rolled back."""
        with self.sessions() as session:
            try:
                yield session
            except DBAPIError as exc:
                if not unavailable(exc):
                    raise
                session.rollback()
                raise StoreError(describe(self.engine, exc)) from exc


def unavailable(exc: DBAPIError) -> bool:
    """A failure of the database itself (a corrupt file, a full or read-only disk, a
    server away), not of one statement's data."""
    return isinstance(exc, OperationalError) or type(exc) is DatabaseError


def describe(engine: Engine, exc: DBAPIError) -> str:
    """One line: which database, what failed, what to do about it."""
    reason = " ".join(str(exc.orig).split())[:200]
    if engine.dialect.name != "sqlite":
        where = engine.url.render_as_string(hide_password=True)
        return f"{where}: the store is unavailable ({reason}): check the server and store_url"
    path = Path(engine.url.database or "")
    lowered = reason.lower()
    if "not a database" in lowered or "malformed" in lowered:
        return (f"{path}: not a SQLite database, or damaged ({reason}): restore it from a"
                " backup, or move it aside for the next run to start a new store")  # fmt: skip
    if "full" in lowered or ("i/o error" in lowered and _nearly_full(path.parent)):
        return (f"{path}: the disk is full ({reason}): free space on {path.parent}; what was"
                " stored before is kept, this step was rolled back")  # fmt: skip
    if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
        return (f"{path}: the store cannot be written ({reason}): make {path.parent} and the"
                " files in it writable, or set data_dir to a folder that is")  # fmt: skip
    return f"{path}: the store failed ({reason})"


def _nearly_full(folder: Path) -> bool:
    """SQLite says "disk I/O error" when a full disk fails a write to its WAL index."""
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def open_store(url: str) -> Store:
    """Open (creating and migrating) the store; StoreError in one line if it cannot be."""
    engine = make_engine(url)
    try:
        migrate(engine)
    except DBAPIError as exc:
        if not unavailable(exc):
            raise
        raise StoreError(describe(engine, exc)) from None
    return Store(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


# --- sources ----------------------------------------------------------------------


def source_row(session: Session, name: str, kind: str) -> SourceRow:
    row = session.get(SourceRow, name)
    if row is None:
        row = SourceRow(name=name, kind=kind, cursor={}, consecutive_failures=0)
        session.add(row)
        session.flush()
    return row


def record_success(
    session: Session, row: SourceRow, cursor: dict[str, Any], policy: HealthPolicy
) -> HealthEvent | None:
    """A good poll: keep its cursor, clear the failure state; say if it is a recovery."""
    now = utcnow()
    event = after_success(row.alerted_at)
    row.cursor, row.last_run_at, row.last_success_at = dict(cursor), now, now
    row.consecutive_failures, row.failing_since, row.alerted_at = 0, None, None
    return event


def record_failure(
    session: Session, row: SourceRow, error: str, policy: HealthPolicy
) -> HealthEvent | None:
    """A failed poll: count it (the cursor stays); say if it is time to alert."""
    now = utcnow()
    row.last_run_at, row.last_error, row.last_error_at = now, storable_text(error), now
    row.consecutive_failures = (row.consecutive_failures or 0) + 1
    row.failing_since = row.failing_since or now
    event = after_failure(row.consecutive_failures, row.alerted_at, now, policy)
    if event:
        row.alerted_at = now
    return event


def source_rows(session: Session) -> dict[str, SourceRow]:
    return {row.name: row for row in session.scalars(select(SourceRow))}


def alert_counts(session: Session) -> dict[str, int]:
    query = select(AlertRow.status, func.count()).group_by(AlertRow.status)
    return {status: n for status, n in session.execute(query)}


def document_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(DocumentRow)) or 0


# --- documents --------------------------------------------------------------------

Change = Literal["new", "changed", "enriched"]


def unstorable(doc: Document) -> str | None:
    """Why a document cannot be stored as it is, in a few words naming the field; None
    when it can. A fetched record may hold what no database column takes (a NUL, a lone
    surrogate escaped in JSON), or a number no key column fits: the poll skips that
    record with a note instead of failing on it, on SQLite as on PostgreSQL."""
    columns = DocumentRow.__table__.c
    for name, value, column in (
        ("document_number", doc.document_number, columns.document_number),
        ("key", doc.key, columns.key),
        ("type", doc.type, columns.doc_type),
    ):
        if value is not None and len(value) > column.type.length:
            return f"{name} of {len(value)} characters (at most {column.type.length})"
    if not doc.document_number.isprintable():
        return "document_number holds a control character"
    return _not_text(doc.model_dump(mode="json"), "")


def _not_text(value: Any, where: str) -> str | None:
    """The first string in `value` that is not storable text, named by its path."""
    if isinstance(value, str):
        if "\x00" in value:
            return f"{where}: a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"{where}: a lone surrogate (U+{ord(value[exc.start]):04X}), not text"
    elif isinstance(value, dict):
        for key, item in value.items():
            found = _not_text(item, f"{where}.{key}" if where else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _not_text(item, f"{where}[{i}]")
            if found:
                return found
    return None


def storable_text(text: str) -> str:
    """Free text (an error, a service's answer) as every store can keep it: a NUL
    dropped, a lone surrogate shown as U+FFFD."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Sighting:
    """What storing one sighting did: the row, and how the document changed."""

    row: DocumentRow
    change: Change | None  # None: nothing new
    changes: dict[str, list[Any]]  # field -> [before, after] for a "changed" document


def upsert_document(
    session: Session,
    source: str,
    doc: Document,
    *,
    baseline: bool = False,
    polled_at: datetime | None = None,
) -> Sighting:
    """Store a sighting, merged into what is known about the same document, and mark
    the document pending (its events are recorded by `pipeline.process_pending`).

    New: first sighting. Changed: a known field now has another value.
    Enriched: only empty fields were filled (a published copy after the
    public-inspection copy), which keeps a version but is no event.
    `baseline`: the first copy of a whole text, stored without events. `polled_at`:
    when the poll that saw it began, its `pending_since` (one for all its documents).
    """
    # locked until commit: a processing of the same document waits, or is waited for
    query = select(DocumentRow).where(DocumentRow.key == doc.key).with_for_update()
    row = session.scalar(query)
    now = utcnow()
    if row is None:
        row = DocumentRow(key=doc.key, document_number=doc.document_number, source=source,
                          first_seen_at=now)  # fmt: skip
        merged, change, changes, version = doc, "new", {}, None
        session.add(row)
    else:
        before = row.document
        merged, fields = merge(before, doc)
        row.last_seen_at = now
        if merged == before:
            return Sighting(row, None, {})
        old, new = before.model_dump(mode="json"), merged.model_dump(mode="json")
        changes = {f: _change(old[f], new[f]) for f in fields}
        change = "changed" if fields else "enriched"
        version = session.scalar(
            select(func.max(DocumentVersionRow.id)).where(DocumentVersionRow.document_id == row.id)
        )
    digest = merged.content_hash()
    data = merged.model_dump(mode="json")
    row.content_hash, row.data, row.title, row.doc_type = digest, data, merged.title, merged.type
    row.publication_date, row.last_seen_at = _iso(merged.publication_date), now
    _mark_pending(row, Pending(change, changes, baseline, version), source, polled_at or now)
    session.flush()
    session.add(DocumentVersionRow(
        document_id=row.id, content_hash=digest, source=source, data=data, seen_at=now
    ))  # fmt: skip
    return Sighting(row, change, changes)


@dataclass
class Pending:
    """A stored change whose events are not recorded yet: what changed since the
    document was last processed, and the version it read before (None: new)."""

    change: Change
    changes: dict[str, Any]
    baseline: bool
    version: int | None

    @classmethod
    def of(cls, row: DocumentRow) -> Pending | None:
        return cls(**row.pending) if row.pending else None


def _mark_pending(row: DocumentRow, sighting: Pending, source: str, now: datetime) -> None:
    """Merge a sighting into what is pending: a document seen twice before it was
    processed is one change, from the version processed last to the newest (a baseline
    copy counts as processed: what follows it is a change against it)."""
    earlier = Pending.of(row)
    if earlier is not None and not earlier.baseline:
        rank = ("enriched", "changed", "new")
        change = max(earlier.change, sighting.change, key=rank.index)
        changes = {**sighting.changes, **earlier.changes}
        for name in set(earlier.changes) & set(sighting.changes):
            first, last = earlier.changes[name], sighting.changes[name]
            both_pairs = isinstance(first, list) and isinstance(last, list)
            changes[name] = [first[0], last[1]] if both_pairs else last
        sighting = Pending(change, changes, False, earlier.version)
    row.pending = asdict(sighting)
    row.pending_source = source
    row.pending_since = row.pending_since or now


def lock_document(session: Session, row: DocumentRow) -> None:
    """Read the document afresh and lock it until commit, so that a poll storing a newer
    copy meanwhile waits and then sees this processing done (not a pending mark it would
    merge into). SQLite needs no row lock: its transactions here take the write lock."""
    if session.get_bind().dialect.name != "sqlite":
        session.refresh(row, with_for_update=True)


def done_pending(session: Session, row: DocumentRow, content_hash: str) -> bool:
    """Clear the pending mark of a document processed as it read with `content_hash`;
    False (the mark kept) if a poll stored a newer copy meanwhile: that one is processed
    next."""
    done = session.execute(
        update(DocumentRow)
        .where(DocumentRow.id == row.id, DocumentRow.content_hash == content_hash)
        .values(pending=None, pending_source=None, pending_since=None)
        .execution_options(synchronize_session=False)
    )
    session.expire(row)
    return done.rowcount == 1


def pending_documents(
    session: Session,
    source: str | None = None,
    before: datetime | None = None,
    limit: int | None = None,
) -> list[int]:
    """Documents stored but not processed (of one source; pending since `before` or
    earlier), oldest first; `limit=1` asks whether there is any."""
    query = select(DocumentRow.id).where(DocumentRow.pending_source.is_not(None))
    if source is not None:
        query = query.where(DocumentRow.pending_source == source)
    if before is not None:
        query = query.where(DocumentRow.pending_since <= before)
    return list(session.scalars(query.order_by(DocumentRow.id).limit(limit)))


def version_document(session: Session, version_id: int) -> Document:
    """The document as one stored version of it read."""
    return Document.model_validate(session.get(DocumentVersionRow, version_id).data)


MAX_INLINE = 500  # longer texts (a CFR section) are kept in an event as a diff


def _change(before: Any, after: Any) -> Any:
    """[before, after], or a unified diff of two long texts: an event stays small."""
    if isinstance(before, str) and isinstance(after, str) and len(before + after) > MAX_INLINE:
        lines = difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), n=1
        )
        return {"diff": "".join(lines)[:20_000]}
    return [before, after]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


CONFIRMED = "regulations.gov"  # origin of a deadline read where comments are filed


def replace_deadlines(session: Session, document_id: int, deadlines: list[Deadline]) -> None:
    """Make the stored deadlines of a document those it states now (marks kept).

    A date confirmed on regulations.gov is not the document's own statement and stays.
    """
    rows = session.scalars(select(DeadlineRow).where(DeadlineRow.document_id == document_id))
    existing = {(r.kind, r.due_on): r for r in rows if r.origin != CONFIRMED}
    wanted = {(d.kind, d.due.isoformat()): d for d in deadlines}
    for key, row in existing.items():
        if key not in wanted:
            session.delete(row)
    for (kind, due), deadline in wanted.items():
        if (kind, due) not in existing:
            session.add(DeadlineRow(document_id=document_id, kind=kind, due_on=due,
                                    origin=deadline.origin, text=deadline.text))  # fmt: skip
    session.flush()


def open_deadlines(
    session: Session, since: str | None = None, until: str | None = None
) -> list[tuple[DeadlineRow, DocumentRow]]:
    """Deadlines not moved by a later document, with their documents, soonest first."""
    query = (
        select(DeadlineRow, DocumentRow)
        .join(DocumentRow, DocumentRow.id == DeadlineRow.document_id)
        .where(DeadlineRow.superseded_by.is_(None))
    )
    if since:
        query = query.where(DeadlineRow.due_on >= since)
    if until:
        query = query.where(DeadlineRow.due_on <= until)
    rows = session.execute(query.order_by(DeadlineRow.due_on, DeadlineRow.id))
    return [(d, doc) for d, doc in rows]


def confirm_deadline(session: Session, row: DeadlineRow, due: str) -> None:
    """regulations.gov gives another end date: it replaces the stated one."""
    row.superseded_by = row.document_id
    existing = session.scalar(select(DeadlineRow).where(
        DeadlineRow.document_id == row.document_id, DeadlineRow.kind == row.kind,
        DeadlineRow.due_on == due,
    ))  # fmt: skip
    if existing is not None:
        existing.superseded_by, existing.origin = None, CONFIRMED
    else:
        session.add(DeadlineRow(document_id=row.document_id, kind=row.kind, due_on=due,
                                origin=CONFIRMED, text=None))  # fmt: skip
    session.flush()


def comment_deadline_documents(session: Session, exclude: int) -> list[DocumentRow]:
    """Documents with an open comment deadline: the candidates an extension may move."""
    open_deadline = (
        select(DeadlineRow.id)
        .where(
            DeadlineRow.document_id == DocumentRow.id,
            DeadlineRow.kind == "comments",
            DeadlineRow.superseded_by.is_(None),
        )
        .exists()
    )  # not a DISTINCT over documents: PostgreSQL cannot compare their JSON columns
    query = select(DocumentRow).where(open_deadline, DocumentRow.id != exclude)
    return list(session.scalars(query.order_by(DocumentRow.id)))


def supersede_comment_deadlines(session: Session, document_id: int, by: int) -> list[str]:
    """Mark a document's open comment deadlines as moved by document `by`; their dates."""
    rows = session.scalars(
        select(DeadlineRow).where(
            DeadlineRow.document_id == document_id,
            DeadlineRow.kind == "comments",
            DeadlineRow.superseded_by.is_(None),
        )
    )
    moved = []
    for row in rows:
        row.superseded_by = by
        moved.append(row.due_on)
    return moved


def recent_documents(session: Session, collection: str, since: str) -> list[DocumentRow]:
    """Documents of a collection published on or after `since` (an ISO date)."""
    query = select(DocumentRow).where(
        DocumentRow.key.startswith(f"{collection}:"), DocumentRow.publication_date >= since
    )
    return list(session.scalars(query))


def document_versions(session: Session, document_id: int) -> list[DocumentVersionRow]:
    query = select(DocumentVersionRow).where(DocumentVersionRow.document_id == document_id)
    return list(session.scalars(query.order_by(DocumentVersionRow.id)))


# --- events and alerts ----------------------------------------------------------------


def event_exists(session: Session, dedup_key: str) -> bool:
    return session.scalar(select(EventRow.id).where(EventRow.dedup_key == dedup_key)) is not None


def add_event(session: Session, **fields: Any) -> EventRow | None:
    """Insert an event unless its dedup key exists; None means already recorded."""
    if event_exists(session, fields["dedup_key"]):
        return None
    row = EventRow(**fields)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent writer won the race
        return None
    return row


def add_alert(
    session: Session, event_id: int, channel: str, route: str = "immediate"
) -> AlertRow | None:
    """The outbox row of an event for a channel, once; it joins a message later."""
    exists = select(AlertRow.id).where(AlertRow.event_id == event_id, AlertRow.channel == channel)
    if session.scalar(exists):
        return None
    row = AlertRow(event_id=event_id, channel=channel, route=route, status="pending", attempts=0)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


Carried = tuple[AlertRow, EventRow, DocumentRow | None]


def _with_events(query: Any) -> Any:
    return query.join(EventRow, EventRow.id == AlertRow.event_id).outerjoin(
        DocumentRow, DocumentRow.id == EventRow.document_id
    )


def ungrouped_alerts(session: Session, before: datetime | None = None) -> list[Carried]:
    """Rows to go at once that are in no message yet (created up to `before`), oldest first."""
    query = _with_events(select(AlertRow, EventRow, DocumentRow)).where(
        AlertRow.route == "immediate", AlertRow.carrier_id.is_(None), AlertRow.status == "pending"
    )
    if before is not None:
        query = query.where(AlertRow.created_at <= before)
    return [(a, e, d) for a, e, d in session.execute(query.order_by(AlertRow.id))]


def carry(session: Session, carrier: AlertRow, rows: list[AlertRow]) -> bool:
    """Put the rows in the carrier's message; False (and nothing changed) if another
    process put one of them in a message first."""
    ids = [row.id for row in rows]
    claim = (
        update(AlertRow)
        .where(AlertRow.id.in_(ids), AlertRow.carrier_id.is_(None))
        .values(carrier_id=carrier.id)
        .execution_options(synchronize_session="fetch")
    )
    nested = session.begin_nested()
    if session.execute(claim).rowcount != len(ids):
        nested.rollback()
        return False
    nested.commit()
    return True


def carried(session: Session, carrier_id: int) -> list[Carried]:
    """The events a message carries, with their documents, in order."""
    query = _with_events(select(AlertRow, EventRow, DocumentRow))
    query = query.where(AlertRow.carrier_id == carrier_id).order_by(AlertRow.id)
    return [(a, e, d) for a, e, d in session.execute(query)]


def share_outcome(session: Session, carrier: AlertRow) -> None:
    """The rows a message carries take its status, attempts and error."""
    session.execute(
        update(AlertRow)
        .where(AlertRow.carrier_id == carrier.id, AlertRow.id != carrier.id)
        .values(
            status=carrier.status,
            attempts=carrier.attempts,
            last_error=carrier.last_error,
            next_attempt_at=carrier.next_attempt_at,
            sent_at=carrier.sent_at,
            unknown_attempts=carrier.unknown_attempts,
        )
        .execution_options(synchronize_session="fetch")
    )


def add_digest(
    session: Session, channel: str, period: str, since: datetime, until: datetime
) -> AlertRow | None:
    """A channel's digest row for one schedule slot, once (None: written already)."""
    if digest_row(session, channel, period) is not None:
        return None
    bounds = {"since": since.isoformat(), "until": until.isoformat()}
    row = AlertRow(channel=channel, route="digest", period=period, payload=bounds,
                   status="pending", attempts=0)  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
            row.carrier_id = row.id
    except IntegrityError:
        return None
    return row


def last_digest(session: Session, channel: str) -> AlertRow | None:
    query = select(AlertRow).where(AlertRow.channel == channel, AlertRow.period.is_not(None))
    return session.scalar(query.order_by(AlertRow.id.desc()).limit(1))


def digest_row(session: Session, channel: str, period: str) -> AlertRow | None:
    query = select(AlertRow).where(AlertRow.channel == channel, AlertRow.period == period)
    return session.scalar(query)


def carry_waiting(session: Session, digest: AlertRow, until: datetime) -> int:
    """The channel's events waiting for its digest, recorded before `until`, go in this one."""
    claim = (
        update(AlertRow)
        .where(
            AlertRow.channel == digest.channel,
            AlertRow.route == "digest",
            AlertRow.event_id.is_not(None),
            AlertRow.carrier_id.is_(None),
            AlertRow.created_at < until,
        )
        .values(carrier_id=digest.id)
        .execution_options(synchronize_session="fetch")
    )
    return session.execute(claim).rowcount


def due_alerts(
    session: Session, channels: list[str], now: datetime | None = None
) -> list[AlertRow]:
    """Pending messages (carriers) of these channels whose next attempt is due."""
    now = now or utcnow()
    query = select(AlertRow).where(
        AlertRow.status == "pending",
        AlertRow.channel.in_(channels),
        AlertRow.next_attempt_at <= now,
        AlertRow.carrier_id == AlertRow.id,
    )
    return list(session.scalars(query.order_by(AlertRow.id)))


def held_for_digest(session: Session, event_ids: list[int]) -> int:
    """How many outbox rows of these events wait for their channel's digest."""
    count = 0
    for start in range(0, len(event_ids), 500):  # stay under the bound-parameter limit
        query = (
            select(func.count())
            .select_from(AlertRow)
            .where(
                AlertRow.event_id.in_(event_ids[start : start + 500]), AlertRow.route == "digest"
            )
        )
        count += session.scalar(query) or 0
    return count


def pending_alert_ids(session: Session, event_ids: list[int]) -> list[int]:
    """The pending messages carrying these events (the IDs to deliver)."""
    if not event_ids:
        return []
    query = select(AlertRow.carrier_id).where(
        AlertRow.event_id.in_(event_ids),
        AlertRow.status == "pending",
        AlertRow.carrier_id.is_not(None),
    )
    return sorted(set(session.scalars(query)))


def begin_attempt(row: AlertRow, now: datetime | None = None) -> None:
    """Put the attempt about to be made on record (the caller commits before sending).
    An attempt still on record was cut off (its process died while sending): it counts,
    with an unknown outcome, and this one is a repeat."""
    now = now or utcnow()
    if row.sending_since is not None:
        row.attempts += 1
        row.unknown_attempts = (row.unknown_attempts or 0) + 1
        begun = row.sending_since.isoformat(timespec="seconds")
        row.last_error = (
            f"outcome unknown: the attempt begun at {begun} did not finish (its process"
            " stopped); the channel may have the message"
        )
    row.sending_since = now


def in_flight(row: AlertRow, window: float, now: datetime | None = None) -> bool:
    """Whether another process began sending this row less than `window` seconds ago."""
    since = row.sending_since
    return since is not None and since > (now or utcnow()) - timedelta(seconds=window)


def mark_sent(row: AlertRow) -> None:
    row.status, row.sent_at, row.last_error = "sent", utcnow(), None
    row.attempts += 1
    row.sending_since = None


def mark_attempt_failed(
    row: AlertRow,
    error: str,
    max_attempts: int,
    backoff: float,
    retry_after: float | None = None,
    unknown: bool = False,
) -> None:
    """Count a failed attempt (`unknown`: no answer came, the channel may have it); the
    next waits for the backoff, and at least `retry_after` s."""
    row.attempts += 1
    row.sending_since = None
    row.unknown_attempts = (row.unknown_attempts or 0) + unknown
    row.last_error = storable_text(error)
    if row.attempts >= max_attempts:
        row.status = "failed"
    else:
        delay = backoff * 2 ** (row.attempts - 1)
        if retry_after is not None:  # the service asked us to wait (HTTP 429 Retry-After)
            delay = max(delay, retry_after)
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)


def list_alerts(
    session: Session,
    statuses: list[str] | None = None,
    ids: list[int] | None = None,
) -> list[tuple[AlertRow, EventRow | None, DocumentRow | None]]:
    """Outbox rows with their events and documents (a digest has neither), newest first;
    optionally filtered."""
    query = (
        select(AlertRow, EventRow, DocumentRow)
        .outerjoin(EventRow, EventRow.id == AlertRow.event_id)
        .outerjoin(DocumentRow, DocumentRow.id == EventRow.document_id)
    )
    if statuses:
        query = query.where(AlertRow.status.in_(statuses))
    if ids is not None:
        query = query.where(AlertRow.id.in_(ids))
    query = query.order_by(AlertRow.created_at.desc(), AlertRow.id.desc())
    return [(alert, ev, doc) for alert, ev, doc in session.execute(query)]


def requeue(
    session: Session,
    ids: list[int] | None = None,
    now: datetime | None = None,
) -> list[AlertRow]:
    """Make failed messages pending and due now (all of them, or those carrying `ids`).

    Attempts and the last error stay, so the history is kept; a pending or sent
    alert is left alone (a sent one is never sent again). The rows a message
    carries follow it.
    """
    query = select(AlertRow).where(AlertRow.status == "failed", AlertRow.carrier_id == AlertRow.id)
    if ids is not None:
        carriers = select(AlertRow.carrier_id).where(AlertRow.id.in_(ids))
        query = query.where(AlertRow.id.in_(carriers))
    rows = list(session.scalars(query.order_by(AlertRow.id)))
    for row in rows:
        row.status, row.next_attempt_at = "pending", now or utcnow()
        share_outcome(session, row)
    session.flush()
    return rows


# --- reviews and the event index ----------------------------------------------------


def add_subjects(session: Session, event_id: int, subjects: set[str]) -> None:
    """Index the customers and chips an event touches (see `EventSubjectRow`)."""
    session.add_all(EventSubjectRow(subject=s, event_id=event_id) for s in sorted(subjects))


class ReviewConflict(Exception):
    """The review changed since the caller read it (another analyst recorded a decision)."""


def append_review(
    session: Session,
    event_id: int,
    author: str,
    status: str,
    assignee: str | None,
    note: str | None,
    actions: list[str],
    seen: int | None = None,
) -> ReviewEntryRow:
    """Append one entry to an event's review and make its current state what it left.

    `seen`: the last entry the caller saw (0: none); anything else is a conflict, so a
    decision is never recorded over one the author has not read.
    """
    current = session.get(ReviewRow, event_id, with_for_update=True)
    if seen is not None and seen != (current.last_entry_id if current else 0):
        raise ReviewConflict(f"the review of event {event_id} changed meanwhile")
    entry = ReviewEntryRow(event_id=event_id, at=utcnow(), author=author,
                           previous_status=current.status if current else "new", status=status,
                           assignee=assignee, note=note, actions=list(actions))  # fmt: skip
    session.add(entry)
    session.flush()
    if current is None:
        current = ReviewRow(event_id=event_id, actions=[])
        session.add(current)
    current.status, current.assignee, current.last_entry_id = status, assignee, entry.id
    current.actions = [*current.actions, *actions]
    current.updated_at, current.updated_by = entry.at, author
    session.flush()
    return entry


# --- reading only ------------------------------------------------------------------------


def _read_only_sqlite(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    dbapi_connection.execute("PRAGMA query_only=ON")


def open_reader(url: str) -> Store:
    """A store that reads only (the web's pages), on a schema `open_store` migrated.

    Its transactions never write: SQLite's connections are `query_only` and begin
    deferred (a page never takes the write lock a poll or a review needs; WAL readers see
    the last commit), PostgreSQL's sessions are READ ONLY.
    """
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _read_only_sqlite)
        event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _read_only_postgresql)
    return Store(engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


def _read_only_postgresql(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    dbapi_connection.commit()
