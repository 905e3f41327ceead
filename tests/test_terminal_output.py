"""Fetched text reaches the terminal as text: rich markup in a title (`[/]`, `[link=...]`)
or a stored error is printed as written, never parsed, and escape sequences are shown as
`\\x1b`, never sent; in every table and line of `check`, `status`, `alerts`, `deadlines`,
`score`, `digest` and `deadlines --ics`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from icalendar import Calendar

from monitor import store
from monitor.config import load_config
from monitor.document import Document
from tests.conftest import PORTFOLIO, record

HOSTILE = "[/] [link=https://evil.example/]click[/link] [bold red]x \x1b[2J\x1b]0;pwned\x07 \x9b31m"
RICH_STYLES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours, cursor moves of the progress bar
SENT = ("\x1b[2J", "\x1b]0;", "\x1b]8;", "\x07", "\x9b")  # what must never reach the terminal


def monitor(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "250", "FORCE_COLOR": "1"}  # rich emits its own styles
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=cwd, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip


def safe(result: subprocess.CompletedProcess) -> str:
    """The output, checked to hold none of the data's sequences, without rich's own styles."""
    text = result.stdout + result.stderr
    assert result.returncode == 0, text
    assert "Traceback" not in text
    for sequence in SENT:
        assert sequence not in text, f"{sequence!r} reached the terminal"
    return RICH_STYLES.sub("", text)


@pytest.fixture
def hostile(tmp_path: Path, write_config) -> Path:
    folder = tmp_path / "fr"
    folder.mkdir()
    rec = {**record("2020-10856"), "title": HOSTILE, "agencies": [{"name": "[/]Agency\x1b[5m"}]}
    (folder / "documents.json").write_text(json.dumps({"count": 1, "results": [rec]}))
    return write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2016-01-01}}
        portfolio: {{path: {PORTFOLIO}}}
        channels:
          - {{name: out, url: "outbox://outbox.jsonl", min_severity: high}}
        """
    )


def test_markup_and_escapes_in_fetched_titles_are_printed_as_text(hostile, tmp_path):
    checked = safe(monitor("check", "-c", str(hostile), cwd=tmp_path))
    assert "[/] [link=https://evil.example/]click[/link]" in checked
    assert "\\x1b[2J\\x1b]0;pwned\\x07" in checked and "\\x9b31m" in checked
    assert "Alerts: 1 sent" in checked  # the table used to crash after sending
    listed = safe(monitor("alerts", "-c", str(hostile), cwd=tmp_path))
    assert "[link=https://evil.example/]" in listed
    upcoming = monitor("deadlines", "-c", str(hostile), "--all", "--from", "2020-01-01",
                       "--days", "3650", cwd=tmp_path)  # fmt: skip
    assert "[link=https://evil.example/]" in safe(upcoming)
    digest = safe(monitor("digest", "-c", str(hostile), "--since", "2020-01-01", cwd=tmp_path))
    assert "\\x1b[2J" in digest
    page = tmp_path / "fr" / "documents.json"
    scored = safe(monitor("score", "-c", str(hostile), "-f", "table", str(page), cwd=tmp_path))
    assert "2020-10856" in scored


def test_a_stored_source_error_starting_with_markup_does_not_break_status(tmp_path, write_config):
    folder = tmp_path / "fr"
    folder.mkdir()
    (folder / "documents.json").write_text("[/] [bold]not JSON\x1b]8;;http://evil.example/\x07")
    path = write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", retries: 0}}
        """
    )
    failed = monitor("check", "-c", str(path), cwd=tmp_path)
    assert failed.returncode == 1 and "not JSON" in failed.stderr
    for _ in range(2):  # every later run printed the same traceback
        status = safe(monitor("status", "-c", str(path), cwd=tmp_path))
        assert "failing (1)" in status and "[/] [bold]not" in status


def test_a_newline_in_a_document_number_reaches_neither_the_store_nor_the_calendar(
    tmp_path, write_config
):
    """A record whose number holds a newline is skipped by the poll; one stored before that
    check existed still gives a valid iCalendar file."""
    folder = tmp_path / "fr"
    folder.mkdir()
    rec = {**record("2020-10856"), "document_number": "2020-\n10856", "title": "Skipped\nrule"}
    (folder / "documents.json").write_text(json.dumps({"count": 1, "results": [rec]}))
    path = write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2016-01-01}}
        """
    )
    checked = safe(monitor("check", "-c", str(path), cwd=tmp_path))
    assert "record 'fr:2020-\\n10856' skipped: document_number holds a control character" in checked
    config = load_config(path)
    db = store.open_store(config.database_url)
    with db.session() as session:  # as an older version stored it
        doc = Document.model_validate(
            {**record("2020-10856"), "document_number": "2020-\n10856", "html_url": None}
        )
        row = store.upsert_document(session, "fr", doc).row
        store.replace_deadlines(session, row.id, [])
        session.add(store.DeadlineRow(document_id=row.id, kind="comments", due_on="2030-01-02",
                                      origin="comments_close_on", text=None))  # fmt: skip
        session.commit()
    ics = tmp_path / "deadlines.ics"
    table = monitor("deadlines", "-c", str(path), "--all", "--from", "2030-01-01", "--ics",
                    str(ics), cwd=tmp_path)  # fmt: skip
    assert "2020-\\x0a10856" in safe(table)
    (event,) = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert str(event["uid"]) == "fr:2020-\\x0a10856-comments-2030-01-02@regmonitor"
    assert "\n" not in str(event["url"]) and str(event["url"]).endswith("2020-%0A10856")
    assert event.decoded("dtstart") == date(2030, 1, 2)


def test_monitor_diff_shows_escape_sequences_in_the_texts_it_compares(tmp_path):
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("(a) First.\n(b) Second \x1b]0;pwned\x07 text.\n")
    new.write_text("(a) First.\n(b) Second \x1b]0;pwned\x07 words.\n")
    shown = safe(monitor("diff", str(old), str(new), cwd=tmp_path))
    assert "\\x1b]0;pwned\\x07 [-text-]{+words+}." in shown
