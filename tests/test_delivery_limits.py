"""Service limits: Slack's message length and HTTP 429 Retry-After, on a loopback endpoint.

The endpoint is pytest-httpserver speaking the Mattermost incoming-webhook protocol
(`mmost://`), Slack-compatible and rendered in the Slack format.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import apprise
import pytest
from sqlalchemy import select

from monitor import store
from monitor.alerts import alert_context, load_templates, render
from monitor.channels import (
    RATE_LIMIT_DEFAULT,
    SLACK_TEXT_LIMIT,
    apprise_service,
    channel_format,
    fit_slack,
    send,
)
from monitor.config import load_config
from monitor.document import Document
from monitor.pipeline import check
from tests.conftest import PORTFOLIO, RECORDS, write_page

TOKEN = "hooktoken123456"
HOOK = f"/hooks/{TOKEN}"


def mmost(httpserver) -> str:
    return f"mmost://127.0.0.1:{httpserver.port}/{TOKEN}"


@pytest.fixture
def config_path(tmp_path: Path, write_config, httpserver):
    folder = write_page(tmp_path / "fr", "2020-10856")
    return write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2020-01-01,
              retries: 0}}
        portfolio:
          path: {PORTFOLIO}
        channels:
          - {{name: chat, url: "{mmost(httpserver)}", min_severity: medium}}
        alerting:
          retry_backoff: 0
          max_attempts: 5
        """
    )


def the_alert(config) -> store.AlertRow:
    with store.open_store(config.database_url).session() as s:
        return s.scalar(select(store.AlertRow))


def test_429_retry_after_defers_the_next_try_then_it_is_sent_once(config_path, httpserver):
    config = load_config(config_path)
    assert channel_format(mmost(httpserver), "auto") == "slack"
    httpserver.expect_request(HOOK, method="POST").respond_with_data(
        "rate limited", status=429, headers={"Retry-After": "120"}
    )
    before = datetime.now(UTC)
    first = check(config)
    assert (first.sent, first.pending, first.failed) == (0, 1, 0)
    alert = the_alert(config)
    assert (alert.status, alert.attempts) == ("pending", 1)
    # backoff alone (retry_backoff: 0) would make it due at once
    assert alert.next_attempt_at >= before + timedelta(seconds=120)
    assert alert.next_attempt_at <= datetime.now(UTC) + timedelta(seconds=121)
    assert "429" in alert.last_error and TOKEN not in alert.last_error

    early = check(config)  # not due yet: the service is not asked again
    assert (early.sent, early.pending) == (0, 0)
    assert len(httpserver.log) == 1 and the_alert(config).attempts == 1

    with store.open_store(config.database_url).session() as s:  # the time has come
        s.scalar(select(store.AlertRow)).next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
        s.commit()
    httpserver.clear()
    httpserver.expect_request(HOOK, method="POST").respond_with_data("ok")
    later = check(config)
    again = check(config)
    assert (later.sent, again.sent) == (1, 0)
    assert len(httpserver.log) == 1
    alert = the_alert(config)
    assert (alert.status, alert.attempts, alert.last_error) == ("sent", 2, None)
    text = json.loads(httpserver.log[0][0].get_data())["text"]
    assert "2020-10856" in text


def test_429_without_retry_after_waits_the_default(httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("slow down", status=429)
    delivery = send(mmost(httpserver), "title", "body", "slack")
    assert not delivery.ok and delivery.retry_after == RATE_LIMIT_DEFAULT == 60
    assert "rate limited (HTTP 429)" in delivery.error


def test_429_retry_after_as_an_http_date(httpserver):
    when = datetime.now(UTC) + timedelta(seconds=300)
    httpserver.expect_request(HOOK, method="POST").respond_with_data(
        "", status=429, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )
    delivery = send(mmost(httpserver), "title", "body", "slack")
    assert not delivery.ok and 290 <= delivery.retry_after <= 300


def test_other_failures_carry_no_retry_after(httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("boom", status=500)
    delivery = send(mmost(httpserver), "title", "body", "slack")
    assert not delivery.ok and delivery.retry_after is None and "500" in delivery.error


def test_backoff_and_retry_after_take_the_later_time():
    def next_in(backoff: float, retry_after: float | None) -> float:
        row = store.AlertRow(attempts=0, status="pending")
        start = datetime.now(UTC)
        store.mark_attempt_failed(row, "e", 5, backoff, retry_after=retry_after)
        return (row.next_attempt_at - start).total_seconds()

    assert 10 <= next_in(10, None) < 11
    assert 120 <= next_in(10, 120) < 121
    assert 10 <= next_in(10, 5) < 11


@pytest.fixture
def long_slack() -> tuple[str, str]:
    """A real alert rendered for Slack, made long by many reasons."""
    doc = Document.model_validate(json.loads((RECORDS / "2020-10856.json").read_text()))
    reasons = [
        {"component": "customer", "points": 1, "detail": f"customer number {i} named & <listed>"}
        for i in range(400)
    ]
    rendered = render(
        load_templates(), "slack",
        alert_context("new_document", doc, 85, "critical", reasons, {"customers": ["huawei"]}),
    )  # fmt: skip
    return rendered.title, rendered.body


def test_a_long_slack_body_arrives_within_the_limit(httpserver, long_slack):
    title, body = long_slack
    assert len(body) > 3 * SLACK_TEXT_LIMIT
    httpserver.expect_request(HOOK, method="POST").respond_with_data("ok")
    assert send(mmost(httpserver), title, body, "slack").ok
    (entry,) = httpserver.log
    text = json.loads(entry[0].get_data())["text"]
    assert len(text) <= SLACK_TEXT_LIMIT
    assert text.startswith(title) and "*Why it matters*" in text
    assert "_… shortened to fit Slack:" in text and "characters left out_" in text
    link = "<https://www.federalregister.gov/d/2020-10856|Read 2020-10856 on federalregister.gov>"
    assert text.rstrip().endswith(link)  # the link to the full text survives
    head = text.split("_… shortened")[0]
    assert not re.search(r"&(?!amp;|lt;|gt;)", head) and head.count("<") == head.count(">")


def test_a_short_slack_body_is_sent_unchanged(httpserver, long_slack):
    title, body = long_slack
    short = "\n".join(body.splitlines()[:12]) + "\n"
    assert fit_slack(title, short) == short
    httpserver.expect_request(HOOK, method="POST").respond_with_data("ok")
    assert send(mmost(httpserver), title, short, "slack").ok
    text = json.loads(httpserver.log[0][0].get_data())["text"]
    assert "shortened" not in text and short.strip() in text


def test_fit_slack_without_line_breaks_counts_what_it_left_out():
    body = "x" * 10_000
    fitted = fit_slack("t", body)
    assert len("t") + 2 + len(fitted) <= SLACK_TEXT_LIMIT
    kept = fitted.split("\n")[0]
    assert set(kept) == {"x"}
    assert f"{10_000 - len(kept):,} of 10,000 characters left out" in fitted


def test_slack_channels_truncate_rather_than_split():
    slack = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general"
    assert apprise_service(slack, "slack").overflow_mode == apprise.OverflowMode.TRUNCATE
    assert "overflow=truncate" in apprise_service(slack, "slack").url(privacy=True)
    chosen = apprise_service(slack + "?overflow=split", "slack")
    assert chosen.overflow_mode == apprise.OverflowMode.SPLIT  # the user's explicit choice
    email = "mailtos://user:pw@example.com?to=a@example.com"
    assert apprise_service(email, "email").overflow_mode == apprise.OverflowMode.UPSTREAM
