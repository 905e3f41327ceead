"""Templates render safely in every format; channels deliver and keep secrets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.alerts import alert_context, load_templates, render
from monitor.channels import channel_format, private_url, send, validate_url
from monitor.document import Document
from monitor.yamlfile import ConfigError
from tests.conftest import RECORDS, read_outbox

HOSTILE = 'Rule <script>alert("x")</script> & <b>bold</b>'


@pytest.fixture
def context() -> dict:
    raw = json.loads((RECORDS / "2020-10856.json").read_text())
    raw["abstract"] = HOSTILE
    doc = Document.model_validate(raw)
    reasons = [{"component": "customer", "points": 45, "detail": "customer huawei <named>"}]
    return alert_context("new_document", doc, 85, "critical", reasons, {"customers": ["huawei"]})


def test_email_html_is_autoescaped(context):
    rendered = render(load_templates(), "email", context)
    assert "<script>" not in rendered.body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in rendered.body
    assert "customer huawei &lt;named&gt;" in rendered.body
    assert rendered.body.lstrip().startswith("<!DOCTYPE html>")
    assert "2020-10856" in rendered.title and "CRITICAL" in rendered.title


def test_text_keeps_characters_and_slack_escapes_control_chars(context):
    env = load_templates()
    text = render(env, "text", context).body
    assert HOSTILE in text  # plain text: nothing to escape, nothing mangled
    assert "+45 customer huawei <named>" in text
    slack = render(env, "slack", context).body
    assert "<script>" not in slack and "&lt;script&gt;" in slack and "&amp;" in slack
    assert "<https://www.federalregister.gov/d/2020-10856|Read 2020-10856" in slack


def test_override_folder_replaces_a_template(tmp_path, context):
    (tmp_path / "new_document.txt").write_text(
        "custom {{ doc.document_number }} {{ event.score }}\n"
    )
    rendered = render(load_templates(tmp_path), "text", context)
    assert rendered.body == "custom 2020-10856 85\n"


def test_broken_override_fails_at_start_with_file_and_line(tmp_path):
    (tmp_path / "new_document.slack.md").write_text("line one\nline two\n{{ event.score }\n")
    with pytest.raises(ConfigError) as info:
        load_templates(tmp_path)
    message = str(info.value)
    assert "new_document.slack.md:3" in message and "\n" not in message


def test_outbox_channel_appends_json_lines(tmp_path):
    url = validate_url("outbox://sub dir/alerts.jsonl", tmp_path)
    assert send(url, "first", "body one", "text").ok
    assert send(url, "second", "body two", "text").ok
    lines = read_outbox(tmp_path / "sub dir" / "alerts.jsonl")
    assert [(x["title"], x["body"]) for x in lines] == [
        ("first", "body one"),
        ("second", "body two"),
    ]


@pytest.mark.parametrize(
    ("url", "fmt"),
    [
        ("mailtos://user:pw@example.com?to=a@example.com", "email"),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general", "slack"),
        ("outbox:///tmp/x.jsonl", "text"),
    ],
)
def test_channel_format_follows_the_url(url, fmt):
    assert channel_format(url, "auto") == fmt


def test_invalid_urls_are_rejected_without_echoing_secrets(tmp_path):
    for bad in ("nonsense://token-abcdef123", "slack://x", "outbox://"):
        with pytest.raises(ValueError) as info:
            validate_url(bad, tmp_path)
        assert "abcdef123" not in str(info.value)


def test_private_url_masks_tokens():
    url = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general"
    shown = private_url(url)
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in shown and shown.startswith("slack://")


def test_failed_delivery_error_has_no_password(tmp_path: Path):
    url = "mailto://user:Sup3rSecretPw@127.0.0.1:1?to=a@example.com&mode=insecure"
    delivery = send(url, "t", "b", "email", timeout=10)
    assert not delivery.ok and delivery.error
    assert "Sup3rSecretPw" not in delivery.error


def test_public_inspection_alert_says_when_it_will_be_published():
    doc = Document(
        document_number="2025-00636", title="Framework for Artificial Intelligence Diffusion",
        type="Rule", filing_type="special", filed_at="2025-01-10T21:15:00Z",
        publication_date="2025-01-15",
    )  # fmt: skip
    context = alert_context("new_document", doc, 90, "critical", [], {})
    env = load_templates()
    title = render(env, "text", context).title
    assert "Rule on public inspection, to be published 2025-01-15: Framework" in title
    body = render(env, "text", context).body
    assert "2025-01-10 21:15 UTC (special filing)" in body
