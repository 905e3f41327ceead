"""`monitor alerts` and `monitor alerts retry`, as a user runs them, on a real SMTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from monitor import store
from monitor.config import load_config
from monitor.pipeline import check
from tests.conftest import PORTFOLIO, read_outbox, write_page
from tests.loopback import Inbox, free_port

PASSWORD = "pw-Planted-7731-never-shown"
FIELDS = {
    "id", "created", "channel", "status", "attempts", "last_error", "next_attempt", "sent_at",
    "route", "message", "event_id", "event_kind", "severity", "document_number", "title",
}  # fmt: skip


@pytest.fixture
def setup(tmp_path: Path, write_config):
    """One relevant record; an SMTP channel on a closed port (fails at once) and an outbox."""
    folder = write_page(tmp_path / "fr", "2020-10856")
    port = free_port()
    url = (
        f"mailto://127.0.0.1:{port}?to=analyst@example.com&from=regmonitor@example.com"
        f"&mode=insecure&pass={PASSWORD}"
    )
    path = write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2020-01-01,
              retries: 0}}
        portfolio:
          path: {PORTFOLIO}
        channels:
          - {{name: smtp, url: "{url}", min_severity: medium}}
          - {{name: out, url: "outbox://outbox.jsonl", min_severity: medium}}
        alerting:
          retry_backoff: 0
          max_attempts: 1
        """
    )
    return path, port


def run_monitor(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd, capture_output=True, text=True, check=False,
        env={**os.environ, "COLUMNS": "250"},
    )  # fmt: skip


def alerts_json(config: Path, *flags: str) -> list[dict]:
    result = run_monitor("alerts", "-c", str(config), "-f", "json", *flags, cwd=config.parent)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def alert_row(config_path: Path, alert_id: int) -> store.AlertRow:
    db = store.open_store(load_config(config_path).database_url)
    with db.session() as s:
        return s.get(store.AlertRow, alert_id)


def test_list_filters_and_json_shape(setup):
    config_path, _ = setup
    report = check(load_config(config_path))
    assert (report.sent, report.failed) == (1, 1)

    rows = alerts_json(config_path)
    assert [set(r) for r in rows] == [FIELDS, FIELDS]
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)  # newest first
    by_channel = {r["channel"]: r for r in rows}
    smtp, out = by_channel["smtp"], by_channel["out"]
    assert (smtp["status"], smtp["attempts"]) == ("failed", 1) and smtp["last_error"]
    assert (out["status"], out["attempts"], out["last_error"]) == ("sent", 1, None)
    assert out["sent_at"] and smtp["sent_at"] is None
    for r in rows:
        assert (r["event_kind"], r["document_number"]) == ("new_document", "2020-10856")
        assert "Entity List" in r["title"] and r["severity"] == "critical"

    assert [r["id"] for r in alerts_json(config_path, "--failed")] == [smtp["id"]]
    assert alerts_json(config_path, "--pending") == []
    assert [r["id"] for r in alerts_json(config_path, "--failed", "--pending")] == [smtp["id"]]

    table = run_monitor("alerts", "-c", str(config_path), cwd=config_path.parent)
    assert table.returncode == 0, table.stderr
    lines = [line for line in table.stdout.splitlines() if "2020-10856" in line]
    assert len(lines) == 2 and "failed" in lines[0] + lines[1] and "sent" in lines[0] + lines[1]
    empty = run_monitor("alerts", "-c", str(config_path), "--pending", cwd=config_path.parent)
    assert "No alerts (pending)." in empty.stdout


def test_list_never_shows_the_channel_password(setup):
    config_path, _ = setup
    check(load_config(config_path))
    (smtp,) = alerts_json(config_path, "--failed")
    assert smtp["last_error"]  # the real apprise error is listed, scrubbed at delivery
    # a row whose error names the password (written by an older version, say) is scrubbed too
    db = store.open_store(load_config(config_path).database_url)
    with db.session() as s:
        s.get(store.AlertRow, smtp["id"]).last_error = f"AUTH failed: pass={PASSWORD}"
        s.commit()
    outputs = [
        run_monitor("alerts", "-c", str(config_path), *flags, cwd=config_path.parent)
        for flags in ((), ("-f", "json"), ("--failed",), ("--failed", "-f", "json"))
    ]
    for result in outputs:
        assert result.returncode == 0, result.stderr
        assert "AUTH failed: pass=" in result.stdout
        assert PASSWORD not in result.stdout + result.stderr


def test_retry_delivers_a_failed_alert_once_and_never_resends_a_sent_one(setup):
    config_path, port = setup
    check(load_config(config_path))
    ids = {r["channel"]: r["id"] for r in alerts_json(config_path)}
    cwd = config_path.parent

    still_down = run_monitor("alerts", "retry", str(ids["smtp"]), "-c", str(config_path), cwd=cwd)
    assert still_down.returncode == 1
    assert "0 sent" in still_down.stdout and "1 failed" in still_down.stdout
    row = alert_row(config_path, ids["smtp"])
    assert (row.status, row.attempts) == ("failed", 2)

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        up = run_monitor("alerts", "retry", str(ids["smtp"]), "-c", str(config_path), cwd=cwd)
        again = run_monitor("alerts", "retry", str(ids["smtp"]), "-c", str(config_path), cwd=cwd)
        sent_one = run_monitor("alerts", "retry", str(ids["out"]), "-c", str(config_path), cwd=cwd)
        every = run_monitor("alerts", "retry", "--all-failed", "-c", str(config_path), cwd=cwd)
    finally:
        server.stop()
    assert up.returncode == 0, up.stderr
    assert "Re-queued 1" in up.stdout and "1 sent" in up.stdout
    assert f"alert {ids['smtp']} re-queued" in up.stderr
    assert len(inbox.messages) == 1
    assert inbox.messages[0].rcpt_tos == ["analyst@example.com"]
    assert "2020-10856" in inbox.messages[0].content.decode()
    row = alert_row(config_path, ids["smtp"])
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)  # history kept

    for result, alert_id in ((again, ids["smtp"]), (sent_one, ids["out"])):
        assert result.returncode == 0, result.stderr
        assert f"alert {alert_id} was sent already: not sent again" in result.stderr
        assert "Re-queued 0" in result.stdout and "0 sent" in result.stdout
    assert every.returncode == 0 and "Re-queued 0" in every.stdout
    assert len(inbox.messages) == 1
    assert len(read_outbox(cwd / "outbox.jsonl")) == 1


def test_retry_needs_ids_or_all_failed_and_known_ids(setup):
    config_path, _ = setup
    check(load_config(config_path))
    cwd = config_path.parent
    nothing = run_monitor("alerts", "retry", "-c", str(config_path), cwd=cwd)
    assert nothing.returncode == 2 and "--all-failed" in nothing.stderr
    unknown = run_monitor("alerts", "retry", "999", "-c", str(config_path), cwd=cwd)
    assert unknown.returncode == 2 and "no alert with ID 999" in unknown.stderr
    with store.open_store(load_config(config_path).database_url).session() as s:
        assert s.scalars(select(store.AlertRow.status)).all().count("failed") == 1
