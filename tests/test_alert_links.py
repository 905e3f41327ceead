"""With `web.base_url`, every alert links to its event's page in `monitor web`: an email
received by a real SMTP server (aiosmtpd) and a Slack-format post received by a real
HTTP server (Mattermost's webhook, on loopback), from the real pipeline on real records."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from monitor.config import load_config
from monitor.pipeline import check
from tests.conftest import PORTFOLIO, write_page
from tests.loopback import Inbox, free_port

BASE = "https://regmonitor.example.com/"


def _config(tmp_path: Path, write_config, smtp: int, chat: int, web: str) -> Path:
    folder = write_page(tmp_path / "fr", "2020-10856", "2020-18213")
    mail = "?to=analyst@example.com&from=regmonitor@example.com&mode=insecure"
    return write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2019-01-01,
              retries: 0}}
        portfolio:
          path: {PORTFOLIO}
        channels:
          - {{name: mail, url: "mailto://127.0.0.1:{smtp}{mail}", min_severity: critical}}
          - {{name: chat, url: "mmost://127.0.0.1:{chat}/linktoken123", min_severity: critical}}
        {web}
        """
    )


def _deliver(
    tmp_path, write_config, httpserver, web: str
) -> tuple[list[dict], list[str], list[int]]:
    """Each email's parts by content type, each post's text, the events' IDs."""
    port = free_port()
    path = _config(tmp_path, write_config, port, httpserver.port, web)
    httpserver.expect_request("/hooks/linktoken123", method="POST").respond_with_data("ok")
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        report = check(load_config(path))
    finally:
        server.stop()
    mails = []
    for received in inbox.messages:
        message = email.message_from_bytes(received.content, policy=email.policy.default)
        mails.append({part.get_content_type(): part.get_content() for part in message.iter_parts()})
    posts = [json.loads(request.get_data())["text"] for request, _ in httpserver.log]
    assert report.sent == len(mails) + len(posts)
    return mails, posts, sorted(f.event_id for f in report.found)


@pytest.mark.parametrize("grouped", [False, True])
def test_every_alert_links_to_its_events_page_when_base_url_is_set(
    tmp_path, write_config, httpserver, grouped
):
    web = f"web: {{base_url: '{BASE.rstrip('/')}'}}"
    if grouped:  # the two critical Huawei rules in one message per channel
        web += "\n        alerting: {group_above: 1}"
    mails, posts, ids = _deliver(tmp_path, write_config, httpserver, web)
    assert len(mails) == len(posts) == (1 if grouped else 2)
    text = "Review: " if grouped else "Review it and record a decision: "
    for event_id in ids:
        page = f"{BASE}events/{event_id}"
        assert sum(f'href="{page}"' in mail["text/html"] for mail in mails) == 1
        assert sum(f"{text}{page}" in mail["text/plain"] for mail in mails) == 1
        assert sum(f"<{page}|Review it in regmonitor>" in post for post in posts) == 1


def test_without_base_url_no_alert_links_to_a_page(tmp_path, write_config, httpserver):
    mails, posts, _ = _deliver(tmp_path, write_config, httpserver, "")
    assert len(mails) == len(posts) == 2
    for body in [*(m["text/html"] for m in mails), *(m["text/plain"] for m in mails), *posts]:
        assert "/events/" not in body and "Review it" not in body
