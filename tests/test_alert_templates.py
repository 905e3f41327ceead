"""Per-kind templates: every kind in every format, escaping, long lists, overrides, and the
email's own text part, received by a real SMTP server (aiosmtpd) on loopback.

Payloads are SYNTHETIC, shaped as the pipeline writes them (monitor.samples)."""

from __future__ import annotations

import copy
import email
import email.policy
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from monitor.alerts import TEMPLATE_FILES, group_context, load_templates, render
from monitor.channels import SLACK_TEXT_LIMIT, send
from monitor.event_kinds import ALERT_KINDS
from monitor.samples import ENTRY, sample_contexts
from monitor.yamlfile import ConfigError
from tests.loopback import Inbox, free_port

HOSTILE = '<script>alert("x")</script> & <b>Co.</b>'


@pytest.fixture(scope="module")
def env():
    return load_templates()


@pytest.fixture
def samples() -> dict:
    return copy.deepcopy(sample_contexts())


WHAT = {  # the kind's own words in the title
    "new_document": "· New Rule: Example rule (2025-00001)",
    "public_inspection": "Rule on public inspection, to be published 2025-01-02",
    "news": "News from Example Wire: Example rule",
    "document_changed": "Changed Rule (text, title)",
    "deadline_reminder": "Comments deadline 2025-02-03 (in 7 days)",
    "deadline_changed": "Comments deadline moved to 2025-03-03 (was 2025-02-03) by 2025-00002",
    "rule_text_changed": "Rule text changed: §744.23(a)(3) revised",
    "entity_listed": "Entity List: 1 Entity List entry added: China 1; your customer example",
    "threshold_changed": "Thresholds: 3A090.a threshold lowered",
    "source_failing": "HIGH · Source example failing (3 polls in a row)",
    "source_recovered": "[regmonitor] Source example recovered",
}


@pytest.mark.parametrize("kind", ALERT_KINDS)
def test_every_kind_has_its_own_title_and_shows_every_part_in_every_format(env, samples, kind):
    context = samples[kind]
    context["event"]["severity"] = "high"
    parts = {fmt: render(env, fmt, context) for fmt in TEMPLATE_FILES}
    rank = "" if kind == "source_recovered" else "HIGH"  # good news has no severity
    assert parts["text"].title.startswith(f"[regmonitor] {rank}")
    assert WHAT[kind] in parts["text"].title and "\n" not in parts["text"].title
    if context["doc"] is None:  # a source's health: its own facts, no document
        assert "Last error:    HTTP 503" in parts["text"].body
        assert "*Last error:* HTTP 503" in parts["slack"].body
        assert "<td>HTTP 503</td>" in parts["email"].body
        return
    text, slack, html = parts["text"].body, parts["slack"].body, parts["email"].body
    # the payload carries every part: each is shown once, in every format
    for heading in ("ENTITY LIST: 1 Entity List entry added", "THRESHOLDS: 3A090.a", "RULE TEXT:"):
        assert text.count(heading) == 1
    assert 'YOUR CUSTOMER example matches "Example Semiconductor Co., Ltd." (CN)' in text
    assert "CHECK: preamble says China (2), table lists 1" in text
    assert "x100: not 3A090 -> 3A090.a (TPP 4500 >= 4000)" in text
    assert "CHANGED: text, title\n" in text and "title: Old title -> New title" in text
    for heading in ("*Entity List:*", "*Thresholds:*", "*Rule text:*", "*Changed:*"):
        assert slack.count(heading) == 1
    assert "*x100:* not 3A090 → 3A090.a (TPP 4500 &gt;= 4000)" in slack
    for heading in (
        ">Entity List</h2>",
        ">Thresholds</h2>",
        ">Rule text</h2>",
        ">What changed</h2>",
    ):
        assert html.count(heading) == 1
    assert '<del style="color:#b42318;">old text</del>' in html
    assert html.startswith("<!DOCTYPE html>") and 'style="' in html and "<style" not in html
    assert parts["email"].text == text  # the email's text part is the text template's


def test_each_kind_says_what_is_its_own(env, samples):
    body = {k: render(env, "text", samples[k]).body for k in ALERT_KINDS}
    assert (
        "Filed for public inspection 2025-01-01 21:15 UTC (special filing)"
        in body["public_inspection"]
    )
    assert "Comments deadline: 2025-02-03, in 7 days." in body["deadline_reminder"]
    assert '"Comments must be received by February 3, 2025."' in body["deadline_reminder"]
    assert (
        "The comments deadline moved from 2025-02-03 to 2025-03-03, by 2025-00002 "
        "(Extension of comment period)." in body["deadline_changed"]
    )
    story, review = body["news"].rstrip().splitlines()[-2:]
    assert story == "https://news.example.com/story"
    assert review == "Review it and record a decision: https://regmonitor.example.com/events/1"
    slack = render(env, "slack", samples["news"]).body
    assert slack.rstrip().endswith(
        "<https://news.example.com/story|Read the story on news.example.com>"
        " · <https://regmonitor.example.com/events/1|Review it in regmonitor>"
    )
    assert "is working again." in body["source_recovered"]


def test_markup_in_documents_and_entries_is_escaped_for_html_and_slack(env, samples):
    context = samples["entity_listed"]
    context["doc"] = context["doc"].model_copy(update={"title": HOSTILE, "abstract": HOSTILE})
    entities = context["event"]["payload"]["entities"]
    entities["added"][0]["name"] = HOSTILE
    entities["screened"][0]["entry"] = HOSTILE
    html = render(env, "email", context)
    assert "<script>" not in html.body and "<b>" not in html.body
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Co.&lt;/b&gt;" in html.body
    )
    slack = render(env, "slack", context).body
    assert "<script>" not in slack and "<b>" not in slack and "&lt;b&gt;Co.&lt;/b&gt;" in slack
    assert HOSTILE in html.text  # plain text shows it as written


def test_long_lists_stop_with_and_n_more_and_the_link_so_slack_fits(env, samples):
    context = samples["entity_listed"]
    entities = context["event"]["payload"]["entities"]
    entities["added"] = [
        {**ENTRY, "name": f"Example Trading Company Number {i}", "addresses": ["x" * 300]}
        for i in range(40)
    ]
    context["event"]["payload"]["diff"]["more"] = 57
    slack = render(env, "slack", context)
    assert len(slack.title) + 2 + len(slack.body) <= SLACK_TEXT_LIMIT  # no fitting needed
    assert slack.body.count("• *Example Trading Company Number") == 8
    link = "<https://www.federalregister.gov/d/2025-00001|full list>"
    assert f"_… and 32 more: {link}_" in slack.body
    assert f"_… and 57 more: {link}_" in slack.body  # the rule-text changes: 1 shown of 58
    text = render(env, "text", context).body
    assert text.count("- Example Trading Company Number") == 25
    assert "... and 15 more: https://www.federalregister.gov/d/2025-00001" in text


def test_grouped_alert_lists_each_document_once_and_every_event(env, samples):
    contexts = [samples["news"], samples["deadline_reminder"], samples["new_document"]]
    contexts[0]["event"]["severity"] = "high"
    context = group_context(env, contexts)
    text = render(env, "text", context, "group")
    assert text.title.startswith("[regmonitor] CRITICAL · 3 alerts (2 critical, 1 high)")
    assert text.body.count("== Example rule (2025-00001)") == 1  # one document, two events
    assert "* Comments deadline 2025-02-03 (in 7 days) [critical 85/100]" in text.body
    assert "* New Rule [critical 85/100]" in text.body
    assert text.body.index("2025-00001") < text.body.index("News from Example Wire")  # severity
    slack = render(env, "slack", context, "group").body
    assert "*<https://www.federalregister.gov/d/2025-00001|2025-00001>* Example rule" in slack
    assert "*<https://news.example.com/story|Example Wire>* Example rule" in slack
    html = render(env, "email", context, "group")
    assert "3 ALERTS · 2 CRITICAL, 1 HIGH" in html.body and html.text == text.body


def test_a_template_naming_a_missing_field_fails_at_start_with_file_and_line(tmp_path):
    (tmp_path / "entity_listed.txt").write_text(
        '{% extends "_layout.txt" %}\n{% block lead %}\n{{ event.payload.entities.sumary }}\n'
        "{% endblock %}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_templates(tmp_path)
    message = str(info.value)
    assert f"{tmp_path / 'entity_listed.txt'}:3: template error:" in message
    assert "sumary" in message and "\n" not in message


def test_an_override_must_replace_a_known_template(tmp_path):
    (tmp_path / "alert.txt").write_text("{{ doc.title }}\n")  # the name of an old version
    with pytest.raises(ConfigError, match=r"alert\.txt: overrides no built-in template"):
        load_templates(tmp_path)
    (tmp_path / "alert.txt").unlink()
    (tmp_path / "_mine.jinja").write_text("{% macro hi() %}hi{% endmacro %}")  # a partial
    (tmp_path / "new_document.title.txt").write_text(
        '{% from "_mine.jinja" import hi %}{{ hi() }} {{ doc.document_number }}'
    )
    rendered = render(load_templates(tmp_path), "text", sample_contexts()["new_document"])
    assert rendered.title == "hi 2025-00001"


def test_email_is_multipart_with_our_text_part_and_escaped_html(env, samples):
    context = samples["entity_listed"]
    context["doc"] = context["doc"].model_copy(update={"title": HOSTILE})
    rendered = render(env, "email", context)
    port = free_port()
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        url = (
            f"mailto://127.0.0.1:{port}?to=analyst@example.com,legal@example.com"
            "&from=regmonitor@example.com&mode=insecure"
        )
        delivery = send(url, rendered.title, rendered.body, "email", text=rendered.text)
    finally:
        server.stop()
    assert delivery.ok, delivery.error
    assert sorted(m.rcpt_tos[0] for m in inbox.messages) == [
        "analyst@example.com", "legal@example.com",
    ]  # fmt: skip
    message = email.message_from_bytes(inbox.messages[0].content, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert str(message["subject"]) == rendered.title
    parts = {
        p.get_content_type(): p.get_content().replace("\r\n", "\n") for p in message.iter_parts()
    }
    assert set(parts) == {"text/plain", "text/html"}
    assert parts["text/plain"].strip() == rendered.text.strip()  # ours, not a conversion
    assert "ENTITY LIST: 1 Entity List entry added: China 1" in parts["text/plain"]
    assert "<script>" not in parts["text/html"] and "&lt;script&gt;" in parts["text/html"]
    assert ">Entity List</h2>" in parts["text/html"]


def test_commands_stop_at_start_on_a_broken_override(tmp_path, write_config):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "digest.slack.md").write_text("*digest*\n{% for x in digest.top %}\n")
    config = write_config("data_dir: state\nalerting: {templates_dir: mine}\n")
    monitor = Path(sys.executable).parent / "monitor"
    for command in (["check"], ["worker"], ["beat"], ["digest"], ["alerts", "retry", "1"]):
        done = subprocess.run([str(monitor), *command, "--config", str(config)],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 2, (command, done.stderr)
        assert done.stderr.startswith(f"error: {folder / 'digest.slack.md'}:2: template error:")
        assert "Traceback" not in done.stderr


def test_an_override_template_cannot_reach_the_interpreter(tmp_path, write_config):
    """Templates render in Jinja2's immutable sandbox: the classic escape through a global's
    `__init__.__globals__` is a template error at start-up, and nothing runs."""
    folder = tmp_path / "mine"
    folder.mkdir()
    marker = tmp_path / "ran"
    (folder / "new_document.title.txt").write_text(
        f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}"
    )
    (folder / "news.title.txt").write_text("{% set x = [] %}{{ x.append(1) }}{{ doc.title }}")
    config = write_config("data_dir: state\nalerting: {templates_dir: mine}\n")
    done = subprocess.run([str(Path(sys.executable).parent / "monitor"), "check", "--config",
                           str(config)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and not marker.exists()
    assert done.stderr.startswith(f"error: {folder / 'new_document.title.txt'}:1: template error:")
    assert "unsafe" in done.stderr and done.stderr.count("\n") == 1
    (folder / "new_document.title.txt").unlink()
    with pytest.raises(ConfigError, match=r"news\.title\.txt:1: template error: .*unsafe"):
        load_templates(folder)  # the sandbox is immutable: no changing what a template is given
