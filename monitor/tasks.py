"""The scheduled runtime: the pipeline steps as Celery tasks, and beat's schedule.

`monitor worker` and `monitor beat` run this module's `app`, built from the
same monitor.yaml (`$MONITOR_CONFIG`, else ./monitor.yaml, else the defaults).
The tasks hold no logic of their own: each calls the pipeline function that
`monitor check` calls, and adds only what several processes need.

- Locks in Redis: two polls of one source, or two deliveries of one outbox row,
  never run at once; a second one is skipped (the running one does the work).
- Nothing lost: tasks are acknowledged after they ran (`acks_late`) and given
  back when a worker dies (`task_reject_on_worker_lost`); Redis redelivers an
  unacknowledged task after `visibility_timeout`, longer than any task may run.
- Nothing twice: a redelivered task finds the store's unique keys (documents,
  events, one outbox row per event and channel) and a row already sent.
- Stored before processed: a poll commits each document it stores with a pending
  mark, cleared with the document's events, which the poll records itself or, above
  `celery.fan_out_above`, a `process_document` task per document. A document whose
  task was lost (a crash between the commit and the queue) is picked up by
  `deliver_due` once it has waited longer than any task runs.
- The outbox: alert rows are committed before `deliver_alert` is queued; a row
  whose task was lost is picked up by `deliver_due`, which beat runs every minute.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jinja2
import redis
from celery import Celery
from celery.beat import PersistentScheduler
from celery.schedules import crontab, schedstate, schedule
from kombu.exceptions import OperationalError
from redis.exceptions import LockError

from monitor import pipeline, store
from monitor.alerts import load_templates
from monitor.config import Config, DigestConfig, load_config
from monitor.digest import slot_after
from monitor.logs import config_secrets, install_redaction
from monitor.schedule import next_run

log = logging.getLogger(__name__)
LOCK_PREFIX = "regmonitor:lock:"
BEAT_LOCK_TTL = 60  # seconds; the running beat renews it every tick (at most a third of this)
SEND_RETRY = 2.0  # seconds between beat's attempts to send a due task while Redis is away
TASKS = "monitor.tasks"


# --- beat's schedule --------------------------------------------------------------------


class ComputedSchedule(schedule):
    """A schedule whose next run after a moment is computed (`next_after`); a run missed
    while beat was down is due at once."""

    def next_after(self, moment: datetime) -> datetime:
        raise NotImplementedError

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        return self.next_after(last_run_at) - self.now()

    def is_due(self, last_run_at: datetime) -> schedstate:
        remaining = self.remaining_estimate(last_run_at).total_seconds()
        if remaining > 0:
            return schedstate(False, remaining)
        now = self.now()
        return schedstate(True, max((self.next_after(now) - now).total_seconds(), 1.0))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__reduce__() == other.__reduce__()

    __hash__ = None  # mutable, like celery's schedules


class SourceSchedule(ComputedSchedule):
    """A source's polls at the times monitor.schedule.next_run gives.

    FR publication days and Eastern times for a source with `schedule`, else
    every `every_minutes`; both with the source's fixed jitter.
    """

    def __init__(
        self,
        source: str,
        times: list[str] | None,
        every_minutes: float,
        jitter_seconds: int,
        nowfun: Any = None,
        app: Any = None,
    ) -> None:
        self.source = source
        self.times = list(times) if times else None
        self.every_minutes = every_minutes
        self.jitter_seconds = jitter_seconds
        super().__init__(timedelta(minutes=every_minutes), nowfun=nowfun, app=app)

    def next_after(self, moment: datetime) -> datetime:
        aware = self.maybe_make_aware(moment)
        return next_run(self.source, self.times, self.every_minutes, self.jitter_seconds, aware)

    def __repr__(self) -> str:
        when = ", ".join(self.times) if self.times else f"every {self.every_minutes:g} min"
        return f"<SourceSchedule {self.source}: {when}, jitter {self.jitter_seconds} s>"

    def __reduce__(self) -> tuple:
        return self.__class__, (self.source, self.times, self.every_minutes, self.jitter_seconds)


class DigestSchedule(ComputedSchedule):
    """The weekly digest: `digest.day` at `digest.hour:minute` in `digest.timezone`."""

    def __init__(self, settings: DigestConfig, nowfun: Any = None, app: Any = None) -> None:
        self.settings = settings
        super().__init__(timedelta(days=7), nowfun=nowfun, app=app)

    def next_after(self, moment: datetime) -> datetime:
        return slot_after(self.settings, self.maybe_make_aware(moment))

    def __repr__(self) -> str:
        s = self.settings
        return f"<DigestSchedule {s.day} {s.hour:02d}:{s.minute:02d} {s.timezone}>"

    def __reduce__(self) -> tuple:
        return self.__class__, (self.settings,)


def _hour_minute(text: str) -> tuple[int, int]:
    hour, minute = text.split(":")
    return int(hour), int(minute)


def beat_schedule(config: Config) -> dict[str, dict[str, Any]]:
    """One poll entry per enabled source, the daily deadline scan (in `celery.timezone`),
    delivery of what is due every minute, the weekly digest (as `digest:` says)."""
    entries: dict[str, dict[str, Any]] = {}
    for source in config.sources:
        if source.enabled:
            entries[f"poll:{source.name}"] = {
                "task": f"{TASKS}.poll_source",
                "schedule": SourceSchedule(
                    source.name, source.schedule, source.every_minutes, source.jitter_seconds
                ),
                "args": (source.name,),
            }
    hour, minute = _hour_minute(config.celery.deadline_scan_at)
    entries["scan-deadlines"] = {
        "task": f"{TASKS}.scan_deadlines",
        "schedule": crontab(minute=minute, hour=hour),
    }
    entries["deliver-due"] = {"task": f"{TASKS}.deliver_due", "schedule": timedelta(minutes=1)}
    entries["weekly-digest"] = {
        "task": f"{TASKS}.send_digest",
        "schedule": DigestSchedule(config.digest),
    }
    return entries


def broker_away(exc: BaseException | None) -> bool:
    """Whether sending failed for want of a connection to Redis (not a bug to retry)."""
    while exc is not None:
        if isinstance(exc, OperationalError | redis.ConnectionError | redis.TimeoutError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class LockedScheduler(PersistentScheduler):
    """Beat's scheduler, running only while it holds the beat lock in Redis.

    A second beat waits for the lock (a standby); if the first dies, its lock
    expires after BEAT_LOCK_TTL seconds and the standby takes over. A due task
    that cannot be sent (Redis away) stays due and is sent once Redis is back:
    celery's own scheduler would log the error and wait for the next slot.
    """

    lock: Any = None

    def setup_schedule(self) -> None:
        self.unsent: dict[str, Any] = {}  # entries whose send failed, by name
        client = redis.Redis.from_url(self.app.conf.broker_url)
        self.lock = client.lock(LOCK_PREFIX + "beat", timeout=BEAT_LOCK_TTL)
        if not self.lock.acquire(blocking=False):
            log.warning("another beat holds the lock; waiting to take over")
            while not self.lock.acquire(blocking=True, blocking_timeout=BEAT_LOCK_TTL / 4):
                pass
        log.info("beat lock acquired")
        super().setup_schedule()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            self.lock.reacquire()
        except LockError:  # expired (Redis restarted, or this process stalled)
            if not self.lock.acquire(blocking=False):
                log.error("lost the beat lock to another beat; stopping")
                raise SystemExit(1) from None
        except redis.ConnectionError as exc:
            log.warning("cannot renew the beat lock: %s", exc)
        if self.unsent and not self.send_unsent():
            return SEND_RETRY
        return min(super().tick(*args, **kwargs), BEAT_LOCK_TTL / 3)

    def apply_entry(self, entry: Any, producer: Any = None) -> None:
        """Send a due task; if that fails, keep it to send again (`send_unsent`)."""
        log.info("sending due task %s", entry.name)
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as exc:  # celery's SchedulingError, wrapping the cause
            if not broker_away(exc):
                log.exception("could not send %s", entry.name)
                return
            log.warning("could not send %s (%s); it stays due", entry.name, exc)
            self.unsent[entry.name] = entry
            self.schedule[entry.name] = entry  # its last run as before, if beat stops now

    def send_unsent(self) -> bool:
        """Send the tasks whose send failed; False while the broker still refuses."""
        for name, entry in list(self.unsent.items()):
            try:
                self.apply_async(entry, producer=self.producer, advance=False)
            except Exception as exc:
                log.debug("still cannot send %s: %s", name, exc)
                return False
            del self.unsent[name]
            self.reserve(entry)  # its last run: now
            log.warning("sent %s, due while Redis was away", name)
        return True

    def close(self) -> None:
        super().close()
        if self.lock is not None:
            with suppress(LockError, redis.RedisError):
                self.lock.release()


# --- the app ----------------------------------------------------------------------------


def make_app(config: Config) -> Celery:
    settings = config.celery
    broker = settings.broker_url.get_secret_value()
    backend = settings.result_backend.get_secret_value() if settings.result_backend else None
    app = Celery("regmonitor", broker=broker, backend=backend, set_as_current=False)
    transport = {
        "visibility_timeout": settings.visibility_timeout,
        # look for tasks of dead workers (unacknowledged past the timeout) this often
        "unacked_restore_interval": max(1, min(10, settings.visibility_timeout // 4)),
        "unacked_restore_throttle": 1,
    }
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        broker_connection_retry_on_startup=True,
        task_time_limit=settings.lock_timeout,  # a task never outlives its lock
        task_ignore_result=backend is None,
        result_expires=timedelta(days=1),
        timezone=settings.timezone,
        enable_utc=True,
        beat_schedule=beat_schedule(config),
        beat_max_interval=BEAT_LOCK_TTL / 3,
    )
    return app


CONFIG = load_config(None)
install_redaction(config_secrets(CONFIG))  # every log line of the worker and beat, celery's too
app = make_app(CONFIG)


@dataclass
class Runtime:
    """What a worker process opens once: the store, the templates, a Redis client."""

    config: Config
    db: store.Store
    templates: jinja2.Environment
    redis: redis.Redis


_runtimes: dict[int, Runtime] = {}


def runtime() -> Runtime:
    """This process's runtime (opened after the fork: a prefork child opens its own)."""
    pid = os.getpid()
    if pid not in _runtimes:
        _runtimes.clear()
        _runtimes[pid] = Runtime(
            config=CONFIG,
            db=store.open_store(CONFIG.database_url),
            templates=load_templates(CONFIG.alerting.templates_dir),
            redis=redis.Redis.from_url(CONFIG.celery.broker_url.get_secret_value()),
        )
    return _runtimes[pid]


@contextmanager
def held(rt: Runtime, name: str) -> Iterator[bool]:
    """Try to take the lock `name` (no waiting); yield whether it was taken."""
    lock = rt.redis.lock(LOCK_PREFIX + name, timeout=rt.config.celery.lock_timeout)
    taken = lock.acquire(blocking=False)
    try:
        yield taken
    finally:
        if taken:
            try:
                lock.release()
            except LockError:
                log.warning("lock %s expired before its task ended", name)


# --- the tasks ----------------------------------------------------------------------------


@app.task(name=f"{TASKS}.poll_source")
def poll_source(name: str) -> dict[str, Any]:
    """Poll one source and store what it found: a few documents processed here, more
    than `celery.fan_out_above` each queued as a `process_document` task as soon as it
    is committed (a lost message leaves it pending)."""
    rt = runtime()
    with held(rt, f"poll:{name}") as taken:
        if not taken:
            return {"source": name, "skipped": "a poll of this source is running"}
        report, alert_ids = pipeline.poll_one(rt.db, rt.config, name, process_document.delay)
    for alert_id in alert_ids:
        deliver_alert.delay(alert_id)
    return {"source": name, "fetched": report.fetched.get(name, 0), "errors": report.errors,
            "events": [f.event_id for f in report.found], "handed_off": report.stored,
            "alerts": alert_ids}  # fmt: skip


@app.task(name=f"{TASKS}.process_document")
def process_document(document_id: int) -> dict[str, Any]:
    """Score a stored document and record its events; the last one of a poll groups
    the poll's alerts and queues their delivery."""
    rt = runtime()
    with held(rt, f"document:{document_id}") as taken:
        if not taken:
            return {"document": document_id, "skipped": "being processed"}
        found, alert_ids = pipeline.process_one(rt.db, rt.config, document_id)
    for alert_id in alert_ids:
        deliver_alert.delay(alert_id)
    return {"document": document_id, "events": [f.event_id for f in found], "alerts": alert_ids}


@app.task(bind=True, name=f"{TASKS}.deliver_alert", max_retries=None)
def deliver_alert(self: Any, alert_id: int) -> dict[str, Any]:
    """Deliver one outbox row; a failure is retried after the store's backoff."""
    rt = runtime()
    with held(rt, f"alert:{alert_id}") as taken:
        if not taken:
            return {"alert": alert_id, "status": "skipped", "reason": "being delivered"}
        outcome = pipeline.deliver_alert(rt.db, rt.config, rt.templates, alert_id, locked=True)
    if outcome.status == "pending" and outcome.reason != "not due":
        raise self.retry(countdown=outcome.retry_in)
    return {"alert": alert_id, "status": outcome.status, "reason": outcome.reason}


@app.task(name=f"{TASKS}.deliver_due")
def deliver_due() -> list[int]:
    """The backstop, every minute: queue the processing of documents whose task was
    lost, and the delivery of every pending alert that is due."""
    rt = runtime()
    for document_id in pipeline.stalled_documents(rt.db, rt.config):
        process_document.delay(document_id)
    ids = pipeline.due_alert_ids(rt.db, rt.config)
    for alert_id in ids:
        deliver_alert.delay(alert_id)
    return ids


@app.task(name=f"{TASKS}.scan_deadlines")
def scan_deadlines() -> dict[str, Any]:
    """Deadline reminders and regulations.gov checks, as `monitor check` does them."""
    rt = runtime()
    report, alert_ids = pipeline.deadline_pass(rt.db, rt.config)
    for alert_id in alert_ids:
        deliver_alert.delay(alert_id)
    return {"found": len(report.found), "alerts": alert_ids, "notes": report.notes}


@app.task(name=f"{TASKS}.send_digest")
def send_digest() -> list[int]:
    """This week's digest row per digest channel (once per week), then its delivery."""
    rt = runtime()
    ids = [row.id for row in pipeline.digest_pass(rt.db, rt.config) if row.status == "pending"]
    for alert_id in ids:
        deliver_alert.delay(alert_id)
    return ids
