"""The digest: built from a store that `check` filled from recorded real FR records.

Each test runs the real pipeline on a small recorded folder (real records from
examples/demo/records, plus a SYNTHETIC document where a test needs markup or a
rule-text change), then reads the digest, renders it, or runs `monitor digest`.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from monitor import store
from monitor.alerts import load_templates
from monitor.config import DigestConfig, load_config
from monitor.digest import build_digest, period_start, render_digest, slot_after, slot_before
from monitor.document import CfrReference, Document
from monitor.pipeline import check
from tests.conftest import PORTFOLIO, RECORDS, process_document, read_outbox
from tests.loopback import Inbox, free_port

EASTERN = ZoneInfo("America/New_York")


def raw(number: str) -> dict:
    return json.loads((RECORDS / f"{number}.json").read_text())


@pytest.fixture
def setup(tmp_path: Path, write_config):
    """serve(records) puts them in a recorded folder; make(...) writes a config reading it."""
    folder = tmp_path / "recorded"
    folder.mkdir()

    def serve(*documents: dict) -> None:
        page = {"count": len(documents), "total_pages": 1, "results": list(documents)}
        (folder / "documents.json").write_text(json.dumps(page))

    def make(
        threshold: int = 50,
        channels: str = '[{name: out, url: "outbox://outbox.jsonl", min_severity: medium}]',
        extra_sources: str = "",
        watch_terms: str = "[Entity List, foreign direct product]",
    ) -> Path:
        return write_config(
            f"""
            data_dir: state
            sources:
              - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2016-01-01,
                 retries: 0}}
            {extra_sources}
            portfolio:
              path: {PORTFOLIO}
              watch_terms: {watch_terms}
            scoring: {{threshold: {threshold}}}
            health: {{alert_after: 1}}
            channels: {channels}
            """
        )

    return serve, make, tmp_path


def digest_of(config, since: datetime | None = None, until: datetime | None = None, **kw):
    db = store.open_store(config.database_url)
    with db.session() as session:
        made = build_digest(session, config, since or period_start("7d"), until, **kw)
        assert not session.new and not session.dirty and not session.deleted  # read only
    return made


def monitor(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd, capture_output=True, text=True, check=False, env={**os.environ, **(env or {})},
    )  # fmt: skip


# --- what the digest holds -------------------------------------------------------------------


def test_top_events_are_ranked_by_score_relevant_first_with_their_reasons(setup):
    serve, make, _ = setup
    # three BIS rules of different weight, the Huawei rule last in the page
    serve(raw("2023-25684"), raw("2024-25445"), raw("2021-21493"), raw("2020-10856"))
    config = load_config(make())
    check(config)
    made = digest_of(config)

    ranked = [(e.document_number, e.score, e.relevant) for e in made.top]
    assert ranked[0] == ("2020-10856", 91, True)
    assert [n for n, _, _ in ranked] == ["2020-10856", "2024-25445", "2023-25684", "2021-21493"]
    assert [s for _, s, _ in ranked] == sorted((s for _, s, _ in ranked), reverse=True)
    assert (made.top_total, made.relevant_total) == (4, 1)
    first = made.top[0]
    assert first.what == "New rule" and first.url == "https://www.federalregister.gov/d/2020-10856"
    components = {r["component"]: r for r in first.reasons}
    assert components["listed"]["points"] == 90 and "(huawei)" in components["listed"]["detail"]
    assert made.counts.documents_new == 4 and made.counts.alerts == {
        "sent": 1, "pending": 0, "failed": 0,
    }  # fmt: skip

    env = load_templates()
    text = render_digest(env, "text", made).body
    assert text.index("2020-10856") < text.index("2024-25445") < text.index("2021-21493")
    assert (
        "+90 Huawei Technologies Co., Ltd. (huawei) is named in a change to the Entity List" in text
    )
    title = render_digest(env, "text", made).title
    assert title.startswith("[regmonitor] Digest ") and "1 relevant of 4 events" in title
    slack = render_digest(env, "slack", made).body
    assert "*91 critical* <https://www.federalregister.gov/d/2020-10856|" in slack
    assert len(slack) < 3000  # one Slack section block holds 3,000 characters

    # a period that ended before the run holds none of its events
    before = period_start("7d")
    assert digest_of(config, since=before - timedelta(days=7), until=before).top == []


def test_upcoming_deadlines_in_the_next_30_days_only_of_relevant_documents(setup):
    serve, make, _ = setup
    # real records: comments close 2024-02-16 (2023-28767) and 2024-03-04 (2023-27019)
    serve(raw("2023-28767"), raw("2023-27019"))
    config = load_config(make(threshold=0))
    check(config, now=datetime(2024, 1, 2, tzinfo=UTC))

    def due(until: datetime) -> list[tuple]:
        made = digest_of(config, since=until - timedelta(days=7), until=until)
        return [(d.document_number, d.kind, d.due, d.days_left) for d in made.deadlines]

    assert due(datetime(2024, 1, 20, 9, tzinfo=EASTERN)) == [
        ("2023-28767", "comments", "2024-02-16", 27),  # 2024-03-04 is beyond 30 days
    ]
    assert due(datetime(2024, 2, 10, 9, tzinfo=EASTERN)) == [
        ("2023-28767", "comments", "2024-02-16", 6),
        ("2023-27019", "comments", "2024-03-04", 23),
    ]
    assert due(datetime(2024, 2, 17, 9, tzinfo=EASTERN)) == [  # one has passed
        ("2023-27019", "comments", "2024-03-04", 16),
    ]
    made = digest_of(
        config, since=datetime(2024, 2, 3, tzinfo=UTC), until=datetime(2024, 2, 10, 14, tzinfo=UTC)
    )
    text = render_digest(load_templates(), "text", made).body
    assert "\n  2024-02-16    6 d  comments   2023-28767  " in text
    config.scoring.threshold = 100  # nothing is relevant: no deadline is listed
    assert due(datetime(2024, 2, 10, 9, tzinfo=EASTERN)) == []


def test_a_failing_source_is_in_source_health_until_it_recovers(setup):
    serve, make, tmp_path = setup
    serve(raw("2020-10856"))
    broken = tmp_path / "broken"
    config = load_config(make(extra_sources=(
        f'  - {{name: broken, kind: federal_register, base_url: "file:{broken}/", retries: 0}}'
    )))  # fmt: skip
    check(config)
    check(config)
    made = digest_of(config)
    assert [(s.name, s.failures) for s in made.failing_sources] == [("broken", 2)]
    assert "HTTP 404" in made.failing_sources[0].last_error
    assert [(h.kind, h.source) for h in made.health_events] == [("source_failing", "broken")]
    env = load_templates()
    text = render_digest(env, "text", made)
    assert "FAILING broken (federal_register): 2 polls in a row" in text.body
    assert text.title.endswith("1 source failing")
    assert "*Sources failing:* broken (2 in a row)" in render_digest(env, "slack", made).body
    assert (
        "<strong>broken</strong> (federal_register) failing"
        in render_digest(env, "email", made).body
    )

    broken.mkdir()
    (broken / "documents.json").write_text(json.dumps({"count": 0, "results": []}))
    check(config)
    made = digest_of(config)
    assert made.failing_sources == []
    assert [h.kind for h in made.health_events] == ["source_failing", "source_recovered"]
    assert render_digest(env, "text", made).title.endswith("sources healthy")


def test_rule_text_changes_and_news_stories_one_line_each(setup):
    _, make, _ = setup
    config = load_config(make())
    db = store.open_store(config.database_url)
    # SYNTHETIC section text and news item (the eCFR and news watchers' document shapes)
    lines = [f"(a) Paragraph {i} of the license requirement for items subject to the EAR."
             for i in range(12)]  # fmt: skip
    section = {
        "collection": "ecfr", "document_number": "15 CFR 744.23",
        "title": "§ 744.23 Supercomputer and semiconductor manufacturing end use.",
        "html_url": "https://www.ecfr.gov/current/title-15/section-744.23",
        "cfr_references": [CfrReference(title=15, part=744)],
    }  # fmt: skip
    story = Document(
        collection="news", document_number="0123456789abcdef",
        title="BIS adds Huawei affiliates to the Entity List",
        abstract="Trade press report on FR Doc. 2020-10856.", publisher="Example Trade Wire",
        publication_date="2025-05-13", html_url="https://news.example.com/bis-entity-list",
        related=["2020-10856", "90 FR 4544"],
    )  # fmt: skip
    with db.session() as session:
        first = Document(**section, text="\n".join(lines))
        assert process_document(session, config, "ear-text", first, baseline=True) == []
        session.commit()
        changed = Document(**section, text="\n".join([*lines[:5], "(b) Added.", *lines[6:]]))
        assert [f.kind for f in process_document(session, config, "ear-text", changed)] == [
            "rule_text_changed"
        ]
        assert [f.kind for f in process_document(session, config, "press", story)] == [
            "new_document"
        ]
        session.commit()

    made = digest_of(config)
    (rule,) = made.rule_changes
    assert (rule.label, rule.change, rule.added_lines, rule.removed_lines) == (
        "15 CFR 744.23", "changed", 1, 1,
    )  # fmt: skip
    (news,) = made.news
    assert news.publisher == "Example Trade Wire" and news.related == ["2020-10856", "90 FR 4544"]
    text = render_digest(load_templates(), "text", made).body
    assert (
        "  15 CFR 744.23: § 744.23 Supercomputer and semiconductor manufacturing end use. "
        "(changed, +1/-1 lines; §744.23(b) added; §744.23(a)~6 removed; 6 moved) "
        "https://www.ecfr.gov/current/title-15/section-744.23\n"
    ) in text
    assert "Example Trade Wire; refers to 2020-10856, 90 FR 4544; https://news.example.com" in text
    assert made.top[0].document_number == "0123456789abcdef"  # Huawei named: it scores highest


def test_html_digest_is_autoescaped(setup):
    serve, make, _ = setup
    hostile = {  # SYNTHETIC: markup in the title and the abstract of a Huawei rule
        **raw("2020-10856"),
        "document_number": "TEST-00001",
        "title": 'Entity List <b>additions</b> & "clarifications"',
        "abstract": "Huawei <script>alert('x')</script><img src=x onerror=alert(1)> affiliates.",
    }
    serve(hostile)
    config = load_config(make())
    check(config)
    env = load_templates()
    made = digest_of(config)
    html = render_digest(env, "email", made).body
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "Entity List &lt;b&gt;additions&lt;/b&gt; &amp; &#34;clarifications&#34;" in html
    slack = render_digest(env, "slack", made).body
    assert "&lt;b&gt;additions&lt;/b&gt; &amp;" in slack and "<b>" not in slack
    text = render_digest(env, "text", made).body
    assert "<script>alert('x')</script>" in text  # plain text is not HTML: shown as written


# --- the command --------------------------------------------------------------------------------


def test_digest_command_prints_text_writes_html_and_json(setup):
    serve, make, tmp_path = setup
    serve(raw("2024-25445"), raw("2020-10856"))
    config_path = make()
    check(load_config(config_path))
    html = tmp_path / "digest.html"
    result = monitor("digest", "-c", str(config_path), "--out", str(html), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("regmonitor digest, ")
    assert "TOP EVENTS" in result.stdout and " 1. 91 critical  2020-10856" in result.stdout
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "REGMONITOR DIGEST" in page
    assert 'href="https://www.federalregister.gov/d/2020-10856"' in page

    data = json.loads(
        monitor("digest", "-c", str(config_path), "-f", "json", "--since", "2016-01-01",
                cwd=tmp_path).stdout
    )  # fmt: skip
    assert [e["document_number"] for e in data["top"]] == ["2020-10856", "2024-25445"]
    assert data["since"] == "2016-01-01T00:00:00-05:00" and data["deliveries"] == []

    bad = monitor("digest", "-c", str(config_path), "--since", "last week", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("error: --since:")


def test_send_appends_one_line_to_an_outbox_channel(setup):
    serve, make, tmp_path = setup
    serve(raw("2020-10856"))
    config_path = make()
    check(load_config(config_path))
    outbox = tmp_path / "outbox.jsonl"
    assert len(read_outbox(outbox)) == 1  # the alert of the Huawei rule
    result = monitor("digest", "-c", str(config_path), "--send", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "out (text): sent" in result.stderr
    lines = read_outbox(outbox)
    assert len(lines) == 2
    assert lines[1]["title"].startswith("[regmonitor] Digest ")
    assert "TOP EVENTS" in lines[1]["body"] and "2020-10856" in lines[1]["body"]
    assert " 1. 91 critical (sent at once)  2020-10856" in lines[1]["body"]

    again = monitor("digest", "-c", str(config_path), "--send", cwd=tmp_path)  # cron, twice
    assert again.returncode == 0, again.stderr
    assert "out (text): sent already this week" in again.stderr
    assert len(read_outbox(outbox)) == 2


def test_send_delivers_one_multipart_email_and_reports_a_failing_channel(setup, monkeypatch):
    serve, make, tmp_path = setup
    serve(raw("2020-10856"))
    port, closed = free_port(), free_port()
    secret = "pw-never-printed-42"
    mail = "?to=analyst@example.com&from=regmonitor@example.com&mode=insecure&pass=${SMTP_PASSWORD}"
    config_path = make(channels=f"""
              - {{name: mail, url: "mailto://127.0.0.1:{port}{mail}", min_severity: critical}}
              - {{name: down, url: "mailto://127.0.0.1:{closed}{mail}", enabled: true,
                  min_severity: critical}}""")  # fmt: skip
    monkeypatch.setenv("SMTP_PASSWORD", secret)
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        check(load_config(config_path))
        alerts = len(inbox.messages)
        result = monitor("digest", "-c", str(config_path), "--send", cwd=tmp_path)
    finally:
        server.stop()
    assert alerts == 1  # the alert of the Huawei rule, sent by check
    assert result.returncode == 1  # one channel failed
    assert (
        "mail (email): sent" in result.stderr
        and "down (email): failed, retried later: " in result.stderr
    )
    assert secret not in result.stdout + result.stderr
    assert len(inbox.messages) == 2
    message = email.message_from_bytes(inbox.messages[1].content, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert str(message["subject"]).startswith("[regmonitor] Digest ")
    parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    assert "REGMONITOR DIGEST" in parts["text/html"] and "2020-10856" in parts["text/html"]
    assert "TOP EVENTS" in parts["text/plain"]  # our text digest, not a conversion of the HTML
    assert inbox.messages[1].rcpt_tos == ["analyst@example.com"]


# --- the weekly schedule ----------------------------------------------------------------------


def test_slots_are_weekly_at_the_local_time_across_daylight_saving():
    settings = DigestConfig(day="sun", hour=8, minute=30, timezone="America/New_York")
    # 2025-03-09 is the Sunday clocks go forward in New York: 08:30 EDT is 12:30 UTC
    before = datetime(2025, 3, 9, 12, 29, tzinfo=UTC)
    assert slot_before(settings, before) == datetime(2025, 3, 2, 13, 30, tzinfo=UTC)  # EST
    assert slot_after(settings, before) == datetime(2025, 3, 9, 12, 30, tzinfo=UTC)
    at = datetime(2025, 3, 9, 12, 30, tzinfo=UTC)
    assert slot_before(settings, at) == at and slot_after(settings, at) == at + timedelta(days=7)


def test_slack_digest_is_one_short_post(setup, httpserver):
    serve, make, tmp_path = setup
    serve(raw("2020-10856"), raw("2024-25445"))
    hook = f"mmost://127.0.0.1:{httpserver.port}/digesttoken123"
    config_path = make(channels=f'[{{name: chat, url: "{hook}", min_severity: critical}}]')
    httpserver.expect_request("/hooks/digesttoken123", method="POST").respond_with_data("ok")
    check(load_config(config_path))
    alerts = len(httpserver.log)
    result = monitor("digest", "-c", str(config_path), "--send", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "chat (slack): sent" in result.stderr and alerts == 1
    text = json.loads(httpserver.log[-1][0].get_data())["text"]
    assert "*regmonitor digest*" in text and "*Top events*" in text and len(text) < 3000
    assert "<https://www.federalregister.gov/d/2020-10856|2020-10856>" in text
