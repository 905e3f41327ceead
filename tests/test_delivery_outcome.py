"""A delivery is bounded in time, an attempt without an answer is recorded as an unknown
outcome, and what follows it is sent marked as a possible repeat under the same alert ID;
`outbox://` writes whole lines or nothing on a disk that is full (a real small tmpfs)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor import store
from monitor.alerts import load_templates
from monitor.config import load_config
from monitor.pipeline import check, deliver_alert
from tests.conftest import PORTFOLIO, ROOT, read_outbox, write_page
from tests.faults import fill, tmpfs
from tests.loopback import wait_for


class Hook:
    """A webhook on loopback that reads each POST and answers the first `silent` of them
    only when the test ends (a service that took the message but never said so)."""

    def __init__(self, silent: int) -> None:
        self.silent, self.bodies, self.done = silent, [], threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.bodies.append(json.loads(body))
                if len(hook.bodies) <= hook.silent:
                    hook.done.wait(60)  # the fault: no answer while the test runs
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    @contextmanager
    def running(self) -> Iterator[Hook]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.done.set()
            self.server.shutdown()
            self.server.server_close()


def hook_config(tmp_path: Path, write_config, url: str, timeout: float) -> Path:
    folder = write_page(tmp_path / "fr", "2020-10856")
    return write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2020-01-01}}
        portfolio: {{path: {PORTFOLIO}}}
        alerting: {{retry_backoff: 0}}
        channels:
          - {{name: hook, url: "{url}", min_severity: high, timeout: {timeout}}}
        """
    )


def the_alert(config) -> store.AlertRow:
    with store.open_store(config.database_url).session() as session:
        return session.scalar(select(store.AlertRow))


def test_a_webhook_that_never_answers_is_an_unknown_outcome_then_a_marked_repeat(
    tmp_path, write_config
):
    with Hook(silent=1).running() as hook:
        config = load_config(hook_config(tmp_path, write_config, hook.url, timeout=1))
        start = time.monotonic()
        first = check(config)
        took = time.monotonic() - start
        alert = the_alert(config)
        assert took < 20  # the 1 s bound, not apprise's 60 s nor the service's minute
        assert (first.sent, first.pending) == (0, 1)
        assert alert.status == "pending" and (alert.attempts, alert.unknown_attempts) == (1, 1)
        assert alert.last_error.startswith("outcome unknown: no answer within 1 s")
        assert alert.sending_since is None
        (body,) = hook.bodies
        assert f"regmonitor alert {alert.id}\n" in body["message"] + "\n"
        assert "sent again" not in body["message"]

        second = check(config)  # answered this time
        assert second.sent == 1
        repeat = hook.bodies[1]["message"]
        assert (
            f"regmonitor alert {alert.id} (sent again: an earlier attempt got no answer" in repeat
        )
        alert = the_alert(config)
        assert alert.status == "sent" and (alert.attempts, alert.unknown_attempts) == (2, 1)
        assert check(config).sent == 0 and len(hook.bodies) == 2


def test_an_attempt_cut_off_by_a_crash_is_counted_and_the_next_says_it_may_repeat(
    tmp_path, write_config
):
    """`monitor check` killed with SIGKILL while the service holds its POST: the attempt was
    on record before it was sent; a delivery meanwhile leaves it to the process sending
    it, and once its time is up the next delivery counts it and sends a marked repeat."""
    with Hook(silent=1).running() as hook:
        path = hook_config(tmp_path, write_config, hook.url, timeout=20)
        child = subprocess.Popen(
            [sys.executable, "-m", "monitor", "check", "-c", str(path)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_for(lambda: hook.bodies, "the POST of the first attempt")
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        config = load_config(path)
        alert = the_alert(config)
        assert alert.status == "pending" and alert.sending_since is not None
        assert alert.attempts == 0  # its outcome never came
        db = store.open_store(config.database_url)
        templates = load_templates(None)
        busy = deliver_alert(db, config, templates, alert.id)
        assert busy.status == "skipped" and "being sent by another process" in busy.reason
        later = alert.sending_since + timedelta(seconds=30)  # past the channel's 20 s bound
        assert deliver_alert(db, config, templates, alert.id, now=later).status == "sent"
    alert = the_alert(config)
    assert (alert.attempts, alert.unknown_attempts) == (2, 1) and alert.sending_since is None
    assert [f"regmonitor alert {alert.id}" in b["message"] for b in hook.bodies] == [True, True]
    assert "sent again" in hook.bodies[1]["message"]


def test_outbox_writes_whole_lines_or_nothing_on_a_full_disk(tmp_path, write_config):
    """A 64 KB tmpfs filled to its last block, the outbox's last page all but full: an
    alert's line does not fit, the file is left as it was (the old code left half a JSON
    line, and the retry was appended to it), the alert stays pending; with room again
    it is written once, whole, and every line parses."""
    folder = write_page(tmp_path / "fr", "2020-10856", "2020-28031")
    with tmpfs(tmp_path / "disk", 64 * 1024) as disk:
        outbox = disk / "outbox.jsonl"
        earlier = json.dumps({"title": "an earlier alert", "body": "x" * 4000})
        outbox.write_text(earlier + "\n")  # 4,043 bytes: 53 left in its page
        path = write_config(
            f"""
            data_dir: state
            sources:
              - {{name: fr, kind: federal_register, base_url: "file:{folder}/",
                  since: 2020-01-01}}
            portfolio: {{path: {PORTFOLIO}}}
            alerting: {{retry_backoff: 0}}
            channels:
              - {{name: out, url: "outbox://{outbox}", min_severity: high}}
            """
        )
        filler = fill(disk)
        before = outbox.read_bytes()
        config = load_config(path)
        full = check(config)
        assert (full.sent, full.pending) == (0, 2)
        assert outbox.read_bytes() == before
        assert "No space left on device" in the_alert(config).last_error
        filler.unlink()
        room = check(config)
        assert (room.sent, room.pending) == (2, 0)
        lines = read_outbox(outbox)
        assert [line["title"] for line in lines[:1]] == ["an earlier alert"]
        assert len(lines) == 3 and all("regmonitor alert" in line["body"] for line in lines[1:])


def test_a_line_a_crash_left_unended_does_not_swallow_the_next(tmp_path):
    from monitor.channels import append_line

    path = tmp_path / "outbox.jsonl"
    path.write_bytes(b'{"title": "whole"}\n{"title": "half')
    append_line(path, json.dumps({"title": "next"}))
    assert path.read_text().splitlines()[-1] == '{"title": "next"}'


@pytest.mark.parametrize("fmt", ["text", "slack", "email"])
def test_every_format_carries_the_alert_id(fmt):
    from monitor.alerts import Rendered, stamped

    body = {"text": "Title\n\nlink\n", "slack": "*Title*\n\n<https://x|link>\n",
            "email": "<html><body><p>x</p></body></html>"}[fmt]  # fmt: skip
    out = stamped(Rendered("Title", body, fmt, "text part\n" if fmt == "email" else None), 12)
    assert "regmonitor alert 12" in out.body
    if fmt == "slack":  # the link stays last: fit_slack keeps the last line
        assert out.body.rstrip("\n").endswith("<https://x|link>")
    if fmt == "email":
        assert out.body.index("regmonitor alert 12") < out.body.index("</body>")
        assert out.text.endswith("regmonitor alert 12\n")
