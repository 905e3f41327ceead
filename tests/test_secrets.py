"""Planted secrets (an SMTP password, a webhook's credentials) never reach the logs, the
errors, the alerts or the database: `monitor check` runs at DEBUG with the SMTP server
down, then up, and everything written is searched for them."""

from __future__ import annotations

import os
import subprocess
import sys

from aiosmtpd.controller import Controller

from tests.conftest import PORTFOLIO, write_page
from tests.loopback import Inbox, free_port

PASSWORD = "Planted-SMTP-pw-5521"
TOKEN = "Planted-hook-token-8813"


def test_planted_secrets_are_in_no_log_error_alert_or_database(tmp_path, write_config, httpserver):
    folder = write_page(tmp_path / "fr", "2020-10856")
    port = free_port()
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    config = write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2020-01-01,
              retries: 0}}
        portfolio:
          path: {PORTFOLIO}
        alerting: {{retry_backoff: 0}}
        channels:
          - name: mail
            url: "mailto://127.0.0.1:{port}?to=a@example.com&from=rm@example.com&mode=insecure\
              &pass=${{SMTP_PASSWORD}}"
            min_severity: medium
          - name: hook
            url: "json://hook:${{HOOK_TOKEN}}@127.0.0.1:{httpserver.port}/hook"
            min_severity: medium
        """
    )
    env = {**os.environ, "SMTP_PASSWORD": PASSWORD, "HOOK_TOKEN": TOKEN,
           "MONITOR_LOG_LEVEL": "DEBUG", "COLUMNS": "200"}  # fmt: skip

    def monitor(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "monitor", *args, "-c", str(config)],
                              cwd=tmp_path, env=env, capture_output=True, text=True)  # fmt: skip

    down = monitor("check")
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        up = monitor("check")
    finally:
        server.stop()
    listed = monitor("alerts", "-f", "json")
    assert "DEBUG" in down.stderr and "Connection error" in down.stderr  # the logs ran
    assert len(httpserver.log) == 1 and httpserver.log[0][0].authorization is not None
    outputs = [down.stdout, down.stderr, up.stdout, up.stderr, listed.stdout, listed.stderr]
    stored = b"".join(p.read_bytes() for p in (tmp_path / "state").iterdir() if p.is_file())
    assert b"2020-10856" in stored  # the database was searched
    for secret in (PASSWORD, TOKEN):
        assert all(secret not in text for text in outputs)
        assert secret.encode() not in stored
    (message,) = inbox.messages  # delivered once the server came back
    assert PASSWORD.encode() not in message.content
