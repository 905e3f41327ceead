"""The scheduled runtime under faults, with real parts on loopback: redis-server
(stopped and started again on its port), Celery worker and beat processes, an SMTP
server.

Nothing sleeps to synchronise: every wait is on a condition with a deadline.
"""

from __future__ import annotations

from tests import test_tasks as base
from tests.conftest import record, write_page
from tests.loopback import free_port

# the fixtures of the scheduled runtime's tests, shared
setup = base.setup
smtp = base.smtp


def test_redis_restarted_under_beat_and_worker_missed_poll_runs_email_once(
    setup, smtp, celery_worker, redis_server, tmp_path
):
    """Redis goes away while beat and a worker run, and comes back empty after a poll
    fell due: beat sends that poll as soon as Redis is back (celery's scheduler would
    drop it and wait for the next slot), and the reconnected worker delivers the alert
    of the document published during the outage, once."""
    make, n = setup
    page = tmp_path / "recorded"
    published = record(base.RELEVANT)["publication_date"]  # the poll window follows the dates
    write_page(page, *(u for u in base.UNRELATED if record(u)["publication_date"] < published))
    port = free_port()
    inbox = smtp(port)
    path = make(port, every_minutes=0.25)
    client, db = base.client_and_store(path)
    worker = celery_worker(path)
    beat = celery_worker(path, [str(base.MONITOR), "beat", "--config", str(path)],
                         ready="beat lock acquired")  # fmt: skip
    base.wait_for(lambda: base.POLLED.search(worker.log.read_text()), "beat's first poll", 60)
    # ... and its documents' tasks: Redis goes away while the worker is idle (a worker
    # in the middle of a task may exit, kombu failing to hand the task back: see README)
    base.wait_for(lambda: not base.pending(db), "the first poll's documents processed", 60)

    redis_server.stop()
    write_page(page, base.RELEVANT, *base.UNRELATED)  # published during the outage
    missed = "could not send poll:fr"
    base.wait_for(lambda: missed in beat.log.read_text(), "beat's poll due in the outage", 60)
    redis_server.start()

    base.wait_for(lambda: [a.status for a in base.alerts(db)] == ["sent"], "the alert sent", 60)
    assert "sent poll:fr, due while Redis was away" in beat.log.read_text()
    assert "lost" in worker.log.read_text().lower()  # the worker saw the broker gone
    assert worker.process.poll() is None, worker.output()
    assert beat.process.poll() is None, beat.output()
    assert base.count(db, base.store.EventRow) == n
    # the backstop finds nothing left to send: the email went once
    assert client.send_task("monitor.tasks.deliver_due").get(timeout=base.DEADLINE) == []
    assert len(inbox.messages) == 1
    assert base.RELEVANT in inbox.messages[0].content.decode()
