"""Every log line of every process is redacted, third-party loggers' too: secrets planted
in a source URL (`user:password@`), a feed URL (`?token=`), the regulations.gov key and
an SMTP password never reach the output of `monitor check`, `monitor worker` or
`monitor beat` at DEBUG, where httpx logs every request's URL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor import store
from tests.loopback import free_port, wait_for

PASSWORD = "Planted-url-pw-3141"
TOKEN = "Planted-feed-token-2718"
KEY = "Planted-regs-key-1618"
SMTP = "Planted-smtp-pw-5772"
SECRETS = (PASSWORD, TOKEN, KEY, SMTP)
MONITOR = Path(sys.executable).parent / "monitor"
FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>BIS adds entities</title><link>https://wire.example/a</link>
<pubDate>Tue, 13 May 2025 17:45:00 -0400</pubDate></item></channel></rss>"""


@pytest.fixture
def planted(tmp_path: Path, write_config, httpserver: HTTPServer, redis_server, monkeypatch):
    """A config whose every kind of secret is planted, its sources served on loopback."""
    record = {  # SYNTHETIC: a stand-in BIS record with an open comment period
        "document_number": "2099-00001", "title": "Revisions to the Entity List (synthetic)",
        "type": "Proposed Rule", "publication_date": "2025-01-07",
        "agencies": [{"name": "Industry and Security Bureau",
                      "slug": "industry-and-security-bureau"}],
        "comments_close_on": f"{datetime.now(UTC).year + 1}-01-25",
    }  # fmt: skip
    httpserver.expect_request("/api/v1/documents.json").respond_with_json(
        {"count": 1, "results": [record]}
    )
    httpserver.expect_request("/feed.rss").respond_with_data(
        FEED, content_type="application/rss+xml"
    )
    httpserver.expect_request("/v4/documents").respond_with_json({"data": []})
    base = httpserver.url_for("/").replace("//", f"//reader:{PASSWORD}@", 1)
    monkeypatch.setenv("REGULATIONS_GOV_API_KEY", KEY)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP)
    monkeypatch.setenv("MONITOR_BROKER_URL", redis_server.url)
    return write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "{base}api/v1/", since: 2025-01-01,
              retries: 0, schedule: null, every_minutes: 0.02, jitter_seconds: 0}}
          - name: news
            kind: news
            retries: 0
            schedule: null
            every_minutes: 0.02
            jitter_seconds: 0
            feeds: [{{url: "{httpserver.url_for("/feed.rss")}?token={TOKEN}"}}]
        scoring: {{threshold: 5}}
        portfolio: {{customers: [{{id: acme, name: Acme Test Compute Ltd., country: CN}}]}}
        regulations_gov: {{base_url: "{httpserver.url_for("/v4/")}", retries: 0}}
        channels:
          - name: mail
            url: "mailto://127.0.0.1:{free_port()}?to=a@example.com&from=rm@example.com\\
              &mode=insecure&pass=${{SMTP_PASSWORD}}"
            min_severity: info
            immediate: info
        alerting: {{retry_backoff: 0}}
        """
    )


def no_secret_in(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} was logged"


def test_check_at_debug_logs_no_secret(planted, tmp_path, httpserver):
    env = {**os.environ, "MONITOR_LOG_LEVEL": "DEBUG", "COLUMNS": "200"}
    done = subprocess.run([str(MONITOR), "check", "-c", str(planted)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # the logs ran: httpx's request lines (credentials masked), apprise's SMTP error
    assert "httpx: HTTP Request: GET http://reader:***@localhost" in output
    assert "?token=***" in output and "api_key=***" in output
    assert {r.path for r, _ in httpserver.log} >= {"/api/v1/documents.json", "/feed.rss",
                                                  "/v4/documents"}  # fmt: skip
    no_secret_in(output)


def test_worker_and_beat_at_debug_log_no_secret(planted, celery_worker, httpserver):
    """beat polls both sources every 1.2 s and the worker runs them; a deadline scan asks
    regulations.gov. Then both logs are searched."""
    from monitor.config import load_config
    from monitor.tasks import make_app

    config = load_config(planted)
    store.open_store(config.database_url)  # migrated before the processes start
    worker = celery_worker(planted, [str(MONITOR), "worker", "-c", str(planted), "-l", "DEBUG",
                                     "--concurrency", "1"])  # fmt: skip
    beat = celery_worker(planted, [str(MONITOR), "beat", "-c", str(planted), "-l", "DEBUG"],
                         ready="beat lock acquired")  # fmt: skip

    def asked(path: str) -> int:
        return sum(r.path == path for r, _ in httpserver.log)

    wait_for(lambda: asked("/api/v1/documents.json") >= 2 and asked("/feed.rss") >= 2,
             "two polls of each source from the worker")  # fmt: skip
    make_app(config).send_task("monitor.tasks.scan_deadlines")  # the document is stored now
    wait_for(lambda: asked("/v4/documents"), "the deadline scan asking regulations.gov")
    wait_for(lambda: "api_key=***" in worker.output(), "the worker's log of that request")
    worker.stop()
    beat.stop()
    logs = worker.log.read_text(errors="replace"), beat.log.read_text(errors="replace")
    assert "HTTP Request: GET http://reader:***@localhost" in logs[0]
    assert "DEBUG" in logs[0] and "DEBUG" in logs[1] and "sending due task poll:fr" in logs[1]
    for text in logs:
        no_secret_in(text)
