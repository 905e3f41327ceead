"""The scheduled runtime, with real parts on loopback: redis-server, Celery worker
processes, an SMTP server (aiosmtpd), recorded Federal Register records.

Nothing sleeps to synchronise: every wait is on a condition (the store, the SMTP
inbox, a task's result) with a deadline.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from monitor import store
from monitor.config import load_config
from monitor.schedule import next_run
from tests.conftest import PORTFOLIO, write_page
from tests.loopback import Inbox, free_port, wait_for

DEADLINE = 30.0
POLLED = re.compile(r"monitor\.tasks\.poll_source\[[^\]]+\] succeeded")  # the worker's log
MONITOR = Path(sys.executable).parent / "monitor"  # the installed command
RELEVANT = "2020-10856"  # critical for the demo portfolio
# real records the demo portfolio scores 0: whatever the scoring learns, one alert per poll
UNRELATED = ("2017-25181", "2017-27979", "2018-11008", "2019-21386", "2019-28043",
             "2022-26055", "2023-28810", "2023-28822", "2024-15059", "2025-18737")  # fmt: skip


class SlowInbox(Inbox):
    """Holds the first delivery at MAIL FROM until released (before any content is sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if not self.entered.is_set():
            self.entered.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


@pytest.fixture
def setup(tmp_path: Path, write_config, redis_server, monkeypatch):
    """A config: real records (one relevant) as a file: source, an SMTP channel.

    `every_minutes` is the source's poll interval for beat (0.05: every 3 s).
    """
    folder = write_page(tmp_path / "recorded", RELEVANT, *UNRELATED)
    monkeypatch.setenv("MONITOR_BROKER_URL", redis_server.url)

    def make(
        smtp_port: int, backoff: float = 60, every_minutes: float = 60, *, severity: str = "medium",
        threshold: int = 50, group_above: int = 10, fan_out_above: int = 200,
    ) -> Path:  # fmt: skip
        return write_config(
            f"""
            data_dir: state
            sources:
              - name: fr
                kind: federal_register
                base_url: file:{folder}/
                since: 2016-01-01
                retries: 0
                schedule: null
                every_minutes: {every_minutes}
                jitter_seconds: 0
            portfolio:
              path: {PORTFOLIO}
            channels:
              - name: mail
                url: mailto://127.0.0.1:{smtp_port}?to=analyst@example.com&from=rm@example.com&mode=insecure
                min_severity: {severity}
                immediate: {severity}
            scoring:
              threshold: {threshold}
            alerting:
              group_above: {group_above}
              retry_backoff: {backoff}
              max_attempts: 5
            celery:
              result_backend: {redis_server.url}
              lock_timeout: 4
              fan_out_above: {fan_out_above}
              visibility_timeout: 6
            """
        )

    return make, 1 + len(UNRELATED)


def client_and_store(path: Path):
    """The test's side: a Celery app sending by name, and the store (migrated before the
    workers start, so two processes never migrate at once)."""
    from monitor.tasks import make_app

    config = load_config(path)
    return make_app(config), store.open_store(config.database_url)


def alerts(db: store.Store) -> list[store.AlertRow]:
    with db.session() as s:
        return list(s.scalars(select(store.AlertRow).order_by(store.AlertRow.id)))


def count(db: store.Store, table) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(table))


def pending(db: store.Store) -> list[int]:
    """Documents stored whose events are not recorded yet."""
    with db.session() as s:
        return store.pending_documents(s)


@pytest.fixture
def smtp():
    servers = []

    def start(port: int, handler: Inbox | None = None) -> Inbox:
        inbox = handler or Inbox()
        server = Controller(inbox, hostname="127.0.0.1", port=port)
        server.start()
        servers.append(server)
        return inbox

    yield start
    for server in servers:
        server.stop()


def test_poll_task_end_to_end_one_email(setup, smtp, celery_worker):
    make, n = setup
    port = free_port()
    inbox = smtp(port)
    path = make(port)
    client, db = client_and_store(path)
    celery_worker(path, [str(MONITOR), "worker", "--config", str(path), "--concurrency", "2"])

    result = client.send_task("monitor.tasks.poll_source", args=["fr"]).get(timeout=DEADLINE)
    # a few documents: processed by the poll's worker, no task each
    assert result["errors"] == {} and len(result["events"]) == n and result["handed_off"] == []
    wait_for(lambda: [a.status for a in alerts(db)] == ["sent"], "the alert marked sent")
    assert count(db, store.EventRow) == n
    assert pending(db) == []
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message.rcpt_tos == ["analyst@example.com"]
    assert RELEVANT in message.content.decode()


def test_beat_fires_the_poll_email_arrives_once(setup, smtp, celery_worker):
    """`monitor beat` polls on the source's schedule (every 3 s): the first poll's alert
    reaches the SMTP server, and the polls after it send nothing more."""
    make, _ = setup
    port = free_port()
    inbox = smtp(port)
    path = make(port, every_minutes=0.05)
    _, db = client_and_store(path)
    worker = celery_worker(path)
    beat = [str(MONITOR), "beat", "--config", str(path)]
    celery_worker(path, beat, ready="beat lock acquired")

    wait_for(lambda: [a.status for a in alerts(db)] == ["sent"], "the alert of beat's poll sent")
    assert RELEVANT in inbox.messages[0].content.decode()
    wait_for(lambda: len(POLLED.findall(worker.log.read_text())) >= 3, "two more polls")
    assert len(inbox.messages) == 1
    assert len(alerts(db)) == 1


def test_same_poll_delivered_twice_one_event_one_alert_one_email(setup, smtp, celery_worker):
    make, n = setup
    port = free_port()
    inbox = smtp(port)
    path = make(port)
    client, db = client_and_store(path)
    celery_worker(path)

    first, second = (client.send_task("monitor.tasks.poll_source", args=["fr"]) for _ in "12")
    results = [first.get(timeout=DEADLINE), second.get(timeout=DEADLINE)]
    # together or one after the other: one of them stored the documents, the other nothing
    assert sorted(len(r.get("events", [])) for r in results) == [0, n]
    wait_for(lambda: [a.status for a in alerts(db)] == ["sent"], "the alert marked sent")
    again = client.send_task("monitor.tasks.poll_source", args=["fr"]).get(timeout=DEADLINE)
    assert again["events"] == [] and again["alerts"] == []
    assert count(db, store.EventRow) == n  # one event per document
    assert len(alerts(db)) == 1
    assert len(inbox.messages) == 1


def test_a_polls_documents_go_to_two_workers_and_their_alerts_are_one_message(
    setup, smtp, celery_worker
):
    """Every record alerts (threshold 0) and the poll hands each document to its own task
    (`fan_out_above: 0`) on two worker processes; the poll's burst (more than
    `group_above`) is one email."""
    make, n = setup
    port = free_port()
    inbox = smtp(port)
    path = make(port, severity="info", threshold=0, group_above=3, fan_out_above=0)
    client, db = client_and_store(path)
    worker = celery_worker(
        path, [str(MONITOR), "worker", "--config", str(path), "--concurrency", "2"]
    )

    result = client.send_task("monitor.tasks.poll_source", args=["fr"]).get(timeout=DEADLINE)
    assert len(result["handed_off"]) == n and result["events"] == []
    wait_for(lambda: inbox.messages, "the grouped email")
    wait_for(lambda: all(a.status == "sent" for a in alerts(db)), "every row marked sent")
    processed = re.findall(
        r"monitor\.tasks\.process_document\[[^\]]+\] succeeded", worker.log.read_text()
    )
    assert len(processed) == n
    assert len(alerts(db)) == n and len({a.carrier_id for a in alerts(db)}) == 1
    assert len(inbox.messages) == 1
    body = inbox.messages[0].content.decode()
    assert RELEVANT in body and UNRELATED[-1] in body


def test_documents_a_poll_stored_but_never_queued_are_processed_once(setup, smtp, celery_worker):
    """The state a poll leaves when it dies between committing what it stored and
    queuing the `process_document` tasks (its step run alone, here in the test's
    process): the backstop finds the documents pending past `lock_timeout`, and their
    events and one email follow, once; the same task delivered again changes nothing."""
    from monitor import pipeline

    make, n = setup
    port = free_port()
    inbox = smtp(port)
    path = make(port, fan_out_above=0)
    client, db = client_and_store(path)
    lost: list[int] = []  # the queue that lost the tasks
    report, _ = pipeline.poll_one(db, load_config(path), "fr", lost.append)
    assert lost == report.stored and len(report.stored) == n and len(pending(db)) == n
    assert count(db, store.EventRow) == 0
    celery_worker(path)

    def backstop() -> bool:
        client.send_task("monitor.tasks.deliver_due").get(timeout=DEADLINE)
        return count(db, store.EventRow) == n

    wait_for(backstop, "the backstop processing the stalled documents")
    wait_for(lambda: [a.status for a in alerts(db)] == ["sent"], "the alert marked sent")
    assert pending(db) == []
    twice = [client.send_task("monitor.tasks.process_document", args=[i]) for i in report.stored]
    assert all(t.get(timeout=DEADLINE)["events"] == [] for t in twice)
    assert client.send_task("monitor.tasks.deliver_due").get(timeout=DEADLINE) == []
    assert count(db, store.EventRow) == n
    assert len(alerts(db)) == 1 and len(inbox.messages) == 1


def test_smtp_down_alert_pending_then_delivered_once(setup, smtp, celery_worker):
    make, _ = setup
    port = free_port()
    path = make(port, backoff=2)
    client, db = client_and_store(path)
    celery_worker(path)

    client.send_task("monitor.tasks.poll_source", args=["fr"]).get(timeout=DEADLINE)
    wait_for(lambda: [a.attempts for a in alerts(db)] == [1], "a failed delivery attempt")
    alert = alerts(db)[0]
    assert alert.status == "pending" and alert.last_error

    inbox = smtp(port)
    client.send_task("monitor.tasks.deliver_due").get(timeout=DEADLINE)
    wait_for(lambda: alerts(db)[0].status == "sent", "the alert marked sent")
    # asked again, by the backstop and by ID: a sent alert is never sent again
    assert client.send_task("monitor.tasks.deliver_due").get(timeout=DEADLINE) == []
    again = client.send_task("monitor.tasks.deliver_alert", args=[alert.id]).get(timeout=DEADLINE)
    assert again["status"] == "skipped"
    assert len(inbox.messages) == 1
    sent = alerts(db)[0]
    assert sent.last_error is None and sent.attempts >= 2


def test_worker_killed_while_delivering_alert_sent_exactly_once(setup, smtp, celery_worker):
    make, _ = setup
    port = free_port()
    inbox = smtp(port, SlowInbox())
    path = make(port)
    client, db = client_and_store(path)
    first = celery_worker(path)

    client.send_task("monitor.tasks.poll_source", args=["fr"])
    assert inbox.entered.wait(DEADLINE), "the delivery never reached the SMTP server"
    first.kill()  # SIGKILL, the worker and its pool, in the middle of the SMTP dialogue
    inbox.release.set()
    assert [(a.status, a.attempts) for a in alerts(db)] == [("pending", 0)]

    celery_worker(path)  # the task, unacknowledged, comes back after visibility_timeout
    wait_for(lambda: [a.status for a in alerts(db)] == ["sent"], "the redelivered alert sent")
    assert len(inbox.messages) == 1  # the killed attempt never reached DATA
    # ... but from the store's side its outcome is unknown: on record, and the one that
    # went says it may be a repeat, under the same alert ID
    (alert,) = alerts(db)
    assert (alert.attempts, alert.unknown_attempts) == (2, 1)
    message = email.message_from_bytes(inbox.messages[0].content, policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    assert f"regmonitor alert {alert.id} (sent again" in " ".join(text.split())


def test_one_beat_at_a_time(setup, celery_worker, redis_server):
    """`monitor beat` holds the beat lock in Redis; a second one waits as a standby."""
    import redis

    make, _ = setup
    path = make(free_port())
    client_and_store(path)  # the store, migrated before beat starts
    command = [str(MONITOR), "beat", "--config", str(path)]
    first = celery_worker(path, command, ready="beat lock acquired")
    lock = redis.Redis.from_url(redis_server.url)
    assert lock.exists("regmonitor:lock:beat")
    second = celery_worker(path, command, ready="another beat holds the lock")
    assert "beat lock acquired" not in second.output()
    first.kill()  # its lock expires (BEAT_LOCK_TTL): the standby takes over
    lock.pexpire("regmonitor:lock:beat", 100)  # ... sooner, for the test
    wait_for(lambda: "beat lock acquired" in second.output(), "the standby beat taking over")


def test_beat_schedule_follows_the_config(write_config, monkeypatch):
    from monitor.tasks import DigestSchedule, SourceSchedule, beat_schedule, make_app

    path = write_config(
        """
        sources:
          - name: documents
            kind: federal_register
            schedule: ["06:15", "17:15"]
            jitter_seconds: 90
          - name: inspection
            kind: public_inspection
            every_minutes: 15
            jitter_seconds: 0
          - name: paused
            kind: federal_register
            enabled: false
        celery:
          deadline_scan_at: "06:30"
        digest: {day: friday, hour: 16, timezone: Europe/Berlin}
        """
    )
    monkeypatch.setenv("MONITOR_BROKER_URL", "redis://127.0.0.1:9/0")
    config = load_config(path)
    schedule = beat_schedule(config)
    assert set(schedule) == {
        "poll:documents", "poll:inspection", "scan-deadlines", "deliver-due", "weekly-digest",
    }  # fmt: skip
    assert schedule["poll:documents"]["args"] == ("documents",)
    assert schedule["deliver-due"]["schedule"] == timedelta(minutes=1)
    app = make_app(config)
    assert app.conf.broker_url == "redis://127.0.0.1:9/0"
    assert app.conf.broker_transport_options["visibility_timeout"] == 3600
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost

    # Friday 2025-07-04 is Independence Day: the next poll after Thursday evening is Monday's
    thursday = datetime(2025, 7, 3, 22, 0, tzinfo=UTC)  # 18:00 Eastern
    documents = SourceSchedule("documents", ["06:15", "17:15"], 60, 90, nowfun=lambda: thursday)
    expected = next_run("documents", ["06:15", "17:15"], 60, 90, thursday)
    assert expected.date().isoformat() == "2025-07-07"
    assert documents.remaining_estimate(thursday) == expected - thursday
    assert documents.is_due(thursday - timedelta(days=1)).is_due  # a missed run goes at once
    due, wait = documents.is_due(thursday)
    assert not due and wait == (expected - thursday).total_seconds()

    later = thursday + timedelta(minutes=20)
    inspection = SourceSchedule("inspection", None, 15, 0, nowfun=lambda: later)
    assert inspection.is_due(thursday) == (True, 15 * 60)
    assert inspection.is_due(later) == (False, 15 * 60)
    weekly = schedule["weekly-digest"]["schedule"]
    assert isinstance(weekly, DigestSchedule) and weekly.settings == config.digest
    # Friday 2025-10-24 16:00 Berlin (CEST) is 14:00 UTC; a week later Berlin is on CET
    friday = datetime(2025, 10, 24, 13, 0, tzinfo=UTC)
    assert weekly.next_after(friday) == datetime(2025, 10, 24, 14, 0, tzinfo=UTC)
    assert weekly.next_after(friday + timedelta(hours=1)) == datetime(2025, 10, 31, 15, tzinfo=UTC)
    due = DigestSchedule(config.digest, nowfun=lambda: friday + timedelta(days=8))
    assert due.is_due(friday).is_due  # beat was down at the time: it goes at once


def test_worker_and_beat_stop_on_a_configuration_error(write_config):
    import subprocess

    path = write_config(
        """
        celery:
          lock_timeout: 600
          visibility_timeout: 300
        """
    )
    for command in ("worker", "beat"):
        done = subprocess.run([str(MONITOR), command, "--config", str(path)], capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        assert done.returncode == 2
        assert "celery.visibility_timeout" in done.stderr and "lock_timeout" in done.stderr
