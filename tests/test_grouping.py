"""Grouping: events of one pass about one document are one message, a burst for one channel
is one message, and each event's own outbox row still says whether it was delivered.
Real recorded Federal Register records; a real SMTP server (aiosmtpd) and a real HTTP
endpoint (pytest-httpserver, apprise's json://) on loopback."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from monitor import store
from monitor.alerts import load_templates
from monitor.config import load_config
from monitor.document import Document
from monitor.pipeline import (
    CheckReport,
    check,
    deliver_alert,
    deliver_due,
    due_alert_ids,
)
from tests.conftest import PORTFOLIO, RECORDS, process_document, read_outbox, write_page
from tests.loopback import Inbox, free_port

FEB_10 = datetime(2024, 2, 10, 14, tzinfo=UTC)  # comments on 2023-28767 close in 6 days
BURST = ("2020-10856", "2020-28031", "2019-13245", "2021-21493", "2023-25684", "2024-25445",
         "2016-19551", "2022-07937")  # fmt: skip


@pytest.fixture
def make(tmp_path: Path, write_config):
    def make(*numbers: str, url: str = "outbox://out.jsonl", threshold: int = 0,
             group_above: int = 5, backoff: int = 0) -> Path:  # fmt: skip
        folder = write_page(tmp_path / "fr", *numbers)
        return write_config(
            f"""
            data_dir: state
            sources:
              - {{name: fr, kind: federal_register, base_url: "file:{folder}/",
                  since: 2016-01-01, retries: 0}}
            portfolio:
              path: {PORTFOLIO}
              watch_terms: [offshore, Entity List]
            scoring: {{threshold: {threshold}}}
            alerting: {{group_above: {group_above}, retry_backoff: {backoff}}}
            channels:
              - {{name: out, url: "{url}", min_severity: info, immediate: info}}
            """
        )

    return make


def alerts_of(config) -> list[store.AlertRow]:
    with store.open_store(config.database_url).session() as s:
        return list(s.scalars(select(store.AlertRow).order_by(store.AlertRow.id)))


def test_a_new_rule_and_its_deadline_reminder_of_one_pass_are_one_message(make, tmp_path):
    config = load_config(make("2023-28767", "2023-27019"))
    report = check(config, now=FEB_10)
    kinds = sorted((f.kind, f.document.document_number) for f in report.found)
    assert kinds == [
        ("deadline_reminder", "2023-27019"), ("deadline_reminder", "2023-28767"),
        ("new_document", "2023-27019"), ("new_document", "2023-28767"),
    ]  # fmt: skip
    messages = read_outbox(tmp_path / "out.jsonl")
    assert report.sent == len(messages) == 2  # one per document, not four
    by_number = {m["title"].rsplit("(", 1)[-1].rstrip(")"): m for m in messages}
    assert set(by_number) == {"2023-28767", "2023-27019"}
    first = by_number["2023-28767"]
    assert first["title"].startswith("[regmonitor] ") and " · 2 alerts: " in first["title"]
    assert "Comments deadline 2024-02-16 (in 6 days)" in first["body"]
    assert "New Proposed Rule" in first["body"] and first["body"].count("== ") == 1
    rows = alerts_of(config)
    assert len(rows) == 4 and all(r.status == "sent" and r.attempts == 1 for r in rows)
    assert len({r.carrier_id for r in rows}) == 2  # each event's row names its message
    again = check(config, now=FEB_10)
    assert again.found == [] and again.sent == 0 and len(read_outbox(tmp_path / "out.jsonl")) == 2


def test_a_burst_for_one_channel_is_one_json_post(make, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    url = f"json://127.0.0.1:{httpserver.port}/hook"
    config = load_config(make(*BURST, url=url, threshold=30, group_above=3))
    report = check(config)
    relevant = [f for f in report.found if f.score.relevant]
    assert len(relevant) > 3
    (request,) = [r for r, _ in httpserver.log]
    payload = json.loads(request.get_data())
    assert f" · {len(relevant)} alerts (" in payload["title"]
    for found in relevant:
        assert found.document.document_number in payload["message"]
    rows = alerts_of(config)
    assert len(rows) == len(relevant) and {r.carrier_id for r in rows} == {rows[0].id}
    assert all(r.status == "sent" for r in rows) and report.sent == 1
    check(config)
    assert len(httpserver.log) == 1  # nothing is sent twice


def test_smtp_down_the_group_waits_with_its_error_then_goes_once(make, monkeypatch):
    port = free_port()
    monkeypatch.setenv("SMTP_PASSWORD", "pw-group-never-shown-9")
    url = (f"mailto://127.0.0.1:{port}?to=analyst@example.com&from=rm@example.com"
           "&mode=insecure&pass=${SMTP_PASSWORD}")  # fmt: skip
    config = load_config(make("2023-28767", url=url))
    down = check(config, now=FEB_10)
    assert (down.sent, down.pending) == (0, 1)
    carrier, member = alerts_of(config)
    assert member.carrier_id == carrier.id == carrier.carrier_id
    for row in (carrier, member):
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error and "pw-group-never-shown-9" not in row.last_error
    db = store.open_store(config.database_url)  # a task for the member row sends nothing
    skipped = deliver_alert(db, config, load_templates(), member.id)
    assert (skipped.status, skipped.reason) == (
        "skipped", f"alert {member.id} is carried by alert {carrier.id}",
    )  # fmt: skip

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        up = check(config, now=FEB_10)
        again = check(config, now=FEB_10)
    finally:
        server.stop()
    assert (up.sent, again.sent) == (1, 0)
    (received,) = inbox.messages
    message = email.message_from_bytes(received.content, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert " · 2 alerts: " in str(message["subject"]) and received.rcpt_tos == [
        "analyst@example.com"
    ]
    text = message.get_body(("plain",)).get_content()
    assert "* Comments deadline 2024-02-16 (in 6 days)" in text and "* New Proposed Rule" in text
    assert [(r.status, r.attempts, r.last_error) for r in alerts_of(config)] == [
        ("sent", 2, None)
    ] * 2


def test_rows_a_crashed_pass_left_ungrouped_go_once_the_pass_is_surely_over(make, tmp_path):
    config = load_config(make())
    db = store.open_store(config.database_url)
    with db.session() as session:  # a pass that stored two events, then died
        for number in ("2023-28767", "2020-10856"):
            raw = json.loads((RECORDS / f"{number}.json").read_text())
            process_document(session, config, "fr", Document.model_validate(raw))
        session.commit()
    assert all(r.carrier_id is None for r in alerts_of(config))
    assert due_alert_ids(db, config) == []  # a running poll's rows wait for it
    later = store.utcnow() + timedelta(seconds=config.celery.lock_timeout + 1)
    assert len(due_alert_ids(db, config, later)) == 2  # two documents: two messages
    report = CheckReport()
    deliver_due(db, config, load_templates(), report)
    assert report.sent == 2 and len(read_outbox(tmp_path / "out.jsonl")) == 2


def test_a_row_another_process_grouped_first_is_not_grouped_again(make):
    config = load_config(make())
    db = store.open_store(config.database_url)
    with db.session() as session:
        raw = json.loads((RECORDS / "2020-10856.json").read_text())
        process_document(session, config, "fr", Document.model_validate(raw))
        session.commit()
    with db.session() as one, db.session() as two:
        (theirs,) = [a for a, _, _ in store.ungrouped_alerts(two)]
        two.commit()  # it has read the row, ungrouped, and holds no lock (SQLite)
        (mine,) = [a for a, _, _ in store.ungrouped_alerts(one)]
        assert store.carry(one, mine, [mine])
        one.commit()
        assert not store.carry(two, theirs, [theirs])  # its view is stale: nothing changes
        two.commit()
    (row,) = alerts_of(config)
    assert row.carrier_id == row.id


def test_grouping_and_the_weekly_digest_on_postgresql(postgres_database, tmp_path, write_config):
    """The same outbox on a real PostgreSQL: a burst is one message, a digest row per week."""
    from monitor.pipeline import digest_pass

    url = postgres_database
    folder = write_page(tmp_path / "fr", *BURST)
    config = load_config(
        write_config(
            f"""
            store_url: {url}
            sources:
              - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2016-01-01}}
            portfolio: {{path: {PORTFOLIO}}}
            scoring: {{threshold: 30}}
            alerting: {{group_above: 1}}
            channels:
              - {{name: out, url: "outbox://out.jsonl", min_severity: info, immediate: high}}
            """
        )
    )
    report = check(config)
    rows = alerts_of(config)
    urgent = [r for r in rows if r.route == "immediate"]
    assert len(urgent) > 1 and {r.carrier_id for r in urgent} == {urgent[0].id}
    assert report.sent == 1 and len(read_outbox(tmp_path / "out.jsonl")) == 1
    waiting = [r for r in rows if r.route == "digest"]
    assert waiting and all(r.carrier_id is None for r in waiting)
    db = store.open_store(url)
    (digest,) = digest_pass(db, config)
    assert digest_pass(db, config)[0].id == digest.id  # once per week
    deliver_due(db, config, load_templates(), CheckReport())
    assert {r.carrier_id for r in alerts_of(config) if r.route == "digest"} == {digest.id}
    assert all(r.status == "sent" for r in alerts_of(config))
    assert len(read_outbox(tmp_path / "out.jsonl")) == 2
