"""Source health: failing after N polls, re-alerted while broken, recovered once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from monitor import store
from monitor.alerts import alert_context, load_templates, render
from monitor.config import load_config
from monitor.pipeline import check
from tests.conftest import read_outbox, write_page


def test_failing_realerted_then_recovered(tmp_path, write_config):
    folder = tmp_path / "recorded"  # missing at first: every poll fails with HTTP 404
    config = load_config(
        write_config(
            f"""
            data_dir: state
            sources:
              - {{name: fr, kind: federal_register, base_url: "file:{folder}/", retries: 0,
                 since: 2020-01-01}}
            channels:
              - {{name: ops, url: "outbox://outbox.jsonl", min_severity: high}}
            health: {{alert_after: 2, realert_hours: 24}}
            """
        )
    )
    outbox = tmp_path / "outbox.jsonl"
    first = check(config)
    assert first.errors and first.health == [] and read_outbox(outbox) == []
    second = check(config)
    assert second.health == ["source fr failing"] and second.sent == 1
    (alert,) = read_outbox(outbox)
    assert "Source fr failing (2 polls in a row)" in alert["title"]
    assert "HTTP 404" in alert["body"]
    assert check(config).health == []  # still broken, already alerted today

    db = store.open_store(config.database_url)
    with db.session() as s:  # a day passes while it stays broken
        row = s.get(store.SourceRow, "fr")
        row.alerted_at -= timedelta(hours=25)
        s.commit()
    assert check(config).health == ["source fr failing"]
    assert "(4 polls in a row)" in read_outbox(outbox)[-1]["title"]

    write_page(folder, "2020-10856")
    recovered = check(config)
    assert recovered.errors == {} and recovered.health == ["source fr recovered"]
    assert read_outbox(outbox)[-1]["title"] == "[regmonitor] Source fr recovered"
    assert check(config).health == []
    with db.session() as s:
        row = s.get(store.SourceRow, "fr")
        kinds = s.scalars(select(store.EventRow.kind).where(store.EventRow.document_id.is_(None)))
        assert (row.consecutive_failures, row.failing_since, row.alerted_at) == (0, None, None)
        assert list(kinds) == ["source_failing", "source_failing", "source_recovered"]


def test_source_alert_email_escapes_the_error():
    payload = {"source": "fr", "kind": "federal_register", "failures": 3,
               "error": "http://x/: not JSON (starts '<html><script>')",
               "failing_since": "2025-01-10T08:45:00+00:00", "last_success": None}  # fmt: skip
    context = alert_context("source_failing", None, 100, "high", [], {}, payload)
    html = render(load_templates(), "email", context).body
    assert "<script>" not in html and "&lt;html&gt;&lt;script&gt;" in html
    assert "failed 3 polls in a row" in html
    slack = render(load_templates(), "slack", context).body
    assert "<script>" not in slack and "*HIGH · Source fr failing (3 polls in a row)*" in slack
