"""The scheduled runtime under faults, with real parts on loopback: redis-server
(stopped and started again on its port), Celery worker processes, an SMTP server.

Nothing sleeps to synchronise: every wait is on a condition with a deadline.
"""

from __future__ import annotations

from tests import test_tasks as base
from tests.loopback import free_port

# the fixtures of the scheduled runtime's tests, shared
setup = base.setup
smtp = base.smtp


def test_redis_restarted_worker_reconnects_email_once(setup, smtp, celery_worker, redis_server):
    make, n = setup
    port = free_port()
    inbox = smtp(port)
    path = make(port)
    client, db = base.client_and_store(path)
    worker = celery_worker(path)

    redis_server.stop()
    base.wait_for(lambda: "lost" in worker.output().lower(), "the worker seeing the broker gone")
    redis_server.start()

    client.send_task("monitor.tasks.poll_source", args=["fr"])  # waits in Redis if need be
    base.wait_for(lambda: [a.status for a in base.alerts(db)] == ["sent"], "the alert sent")
    assert worker.process.poll() is None, worker.output()
    assert base.count(db, base.store.EventRow) == n
    # the backstop finds nothing left to send: the email went once
    assert client.send_task("monitor.tasks.deliver_due").get(timeout=base.DEADLINE) == []
    assert len(inbox.messages) == 1
    assert base.RELEVANT in inbox.messages[0].content.decode()
