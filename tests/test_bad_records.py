"""One bad record never stops the monitor: a record no store column can hold is skipped
with a note naming it, the poll goes on, later sources are polled and every alert goes
out; on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import store
from monitor.config import load_config
from monitor.pipeline import check
from tests.conftest import PORTFOLIO, read_outbox, record

BAD = {  # what a hostile or broken answer may hold, each in a record of its own
    "2099-90001": {"title": "lone \ud800 surrogate"},  # JSON "\ud800": no UTF-8 for it
    "2099-90002": {"title": "a NUL \u0000 inside"},  # PostgreSQL text cannot hold it
    "2099-90003": {"document_number": "2099-" + "9" * 96},  # 101 characters
    "2099-90004": {"document_number": "2099-\n90004"},  # a newline in the number
    "2099-90005": {"type": "Rule" * 20},  # longer than the type column
}


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'regmonitor.db'}"
    return request.getfixturevalue("postgres_database")


def hostile_page(folder: Path, *good: str) -> Path:
    """A documents.json page: each bad record (a copy of a real one, changed), then the
    good real records; json.dumps writes the surrogate and the NUL as JSON escapes."""
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for number, change in BAD.items():
        bad = {**record("2020-10856"), "document_number": number, **change}
        results.append(bad)
    results += [record(n) for n in good]
    page = json.dumps({"count": len(results), "results": results})
    assert "\\ud800" in page and "\\u0000" in page
    (folder / "documents.json").write_text(page, encoding="utf-8")
    return folder


def test_bad_records_are_skipped_with_a_note_and_everything_else_goes_on(
    tmp_path, write_config, store_url
):
    first = hostile_page(tmp_path / "first", "2020-10856")
    second = hostile_page(tmp_path / "second", "2020-28031")
    path = write_config(
        f"""
        data_dir: state
        store_url: "{store_url}"
        sources:
          - {{name: first, kind: federal_register, base_url: "file:{first}/", since: 2016-01-01}}
          - {{name: second, kind: federal_register, base_url: "file:{second}/", since: 2016-01-01}}
        portfolio: {{path: {PORTFOLIO}}}
        channels:
          - {{name: out, url: "outbox://outbox.jsonl", min_severity: high}}
        """
    )
    config = load_config(path)
    report = check(config)
    assert report.errors == {}
    skipped = [n for n in report.notes if " skipped: " in n]
    assert len(skipped) == 2 * len(BAD)
    for source in ("first", "second"):
        notes = [n for n in skipped if n.startswith(f"{source}: record ")]
        assert any("fr:2099-90001" in n and "title: a lone surrogate (U+D800)" in n for n in notes)
        assert any("fr:2099-90002" in n and "title: a NUL character" in n for n in notes)
        assert any("document_number of 101 characters (at most 50)" in n for n in notes)
        assert any("'fr:2099-\\n90004'" in n and "control character" in n for n in notes)
        assert any("type of 80 characters" in n for n in notes)
    # both sources' good records were stored, and both alerts went out in this run
    assert sorted(f.document.document_number for f in report.found) == ["2020-10856", "2020-28031"]
    titles = [a["title"] for a in read_outbox(tmp_path / "outbox.jsonl")]
    assert len(titles) == report.sent == 2 and report.pending == 0
    db = store.open_store(config.database_url)
    with db.session() as session:
        rows = store.source_rows(session)
        assert store.document_count(session) == 2
    assert all(rows[s].last_success_at and rows[s].consecutive_failures == 0 for s in rows)

    status = subprocess.run(
        [sys.executable, "-m", "monitor", "status", "-c", str(path), "-f", "json"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert [s["consecutive_failures"] for s in json.loads(status.stdout)["sources"]] == [0, 0]
    again = check(config)  # those still in the window are skipped again; nothing else happens
    assert again.found == [] and again.errors == {} and again.sent == 0
    assert again.notes and all(" skipped: " in n for n in again.notes)


def test_a_source_error_holding_a_nul_is_stored_as_text(tmp_path, write_config, store_url):
    """A server's answer quoted in a source's error (a NUL, a lone surrogate) is stored
    without them, so recording the failure cannot fail on PostgreSQL."""
    folder = tmp_path / "fr"
    folder.mkdir()
    (folder / "documents.json").write_bytes(b"\x00\xed\xa0\x80 not JSON")
    path = write_config(
        f"""
        data_dir: state
        store_url: "{store_url}"
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", retries: 0}}
        """
    )
    config = load_config(path)
    report = check(config)
    assert "not JSON" in report.errors["fr"]
    with store.open_store(config.database_url).session() as session:
        row = store.source_rows(session)["fr"]
    assert row.consecutive_failures == 1 and "not JSON" in row.last_error
    assert "\x00" not in row.last_error
