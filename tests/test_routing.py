"""Routing per channel: urgency (at once or the weekly digest) and filters (kinds, tags,
customers), end to end on real recorded Federal Register records and the demo portfolio,
delivered to outbox:// files; and the configuration errors that keep an event from
waiting for a digest that never comes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from monitor import store
from monitor.alerts import load_templates
from monitor.config import ChannelConfig, load_config
from monitor.document import Document
from monitor.pipeline import check, deliver_due, digest_pass
from monitor.routing import Facts, facts_of, route_for, tags_of
from monitor.severity import at_least
from monitor.yamlfile import ConfigError
from tests.conftest import PORTFOLIO, RECORDS, read_outbox, write_page

BIS_RULES = (  # real records: a critical, a high, a medium and low-scoring BIS rules
    "2020-10856", "2020-28031", "2019-13245", "2021-21493", "2023-25684", "2024-25445",
)  # fmt: skip


def channel(**fields) -> ChannelConfig:
    return ChannelConfig(name="c", url=SecretStr("outbox:///tmp/x"), **fields)


def facts(**fields) -> Facts:
    values = {"kind": "entity_listed", "severity": "medium", "tags": frozenset({"fr"}),
              "customers": frozenset()}  # fmt: skip
    return Facts(**{**values, **fields})


def test_urgency_decides_at_once_or_digest_and_min_severity_decides_at_all():
    c = channel(min_severity="medium", immediate="high")
    assert route_for(c, facts(severity="critical")) == "immediate"
    assert route_for(c, facts(severity="high")) == "immediate"
    assert route_for(c, facts(severity="medium")) == "digest"
    assert route_for(c, facts(severity="low")) is None
    everything_now = channel(min_severity="low", immediate="info")
    assert route_for(everything_now, facts(severity="low")) == "immediate"


def test_each_filter_given_must_match_one_of_its_values():
    c = channel(min_severity="info", kinds=["entity_listed", "news"], tags=["part:744", "news"],
                customers=["smic"])  # fmt: skip
    hit = facts(tags=frozenset({"fr", "part:744"}), customers=frozenset({"smic", "biren"}))
    assert route_for(c, hit) == "digest"
    assert (
        route_for(c, facts(kind="deadline_reminder", tags=hit.tags, customers=hit.customers))
        is None
    )
    assert route_for(c, facts(tags=frozenset({"fr", "part:740"}), customers=hit.customers)) is None
    assert route_for(c, facts(tags=hit.tags, customers=frozenset({"huawei"}))) is None


def test_tags_say_where_an_event_comes_from_and_what_it_touches():
    doc = Document.model_validate(json.loads((RECORDS / "2020-10856.json").read_text()))
    tags = tags_of(doc, "bis-documents", {"chips": ["a800"], "eccns": ["3A090"]})
    assert {"fr", "source:bis-documents", "agency:industry-and-security-bureau", "type:rule",
            "part:744", "part:736", "chip:a800", "eccn:3A090"} <= tags  # fmt: skip
    assert tags_of(None, "ecfr", {}) == {"health", "source:ecfr"}


def test_entity_list_screening_hits_count_as_customers_and_news_is_its_own_kind():
    listed = SimpleNamespace(
        kind="entity_listed", severity="high", matches={"customers": ["huawei"]},
        payload={"entities": {"screened": [{"customer_id": "smic"}]}},
    )  # fmt: skip
    assert facts_of(listed, None, None).customers == {"huawei", "smic"}
    news = Document(collection="news", document_number="0123456789abcdef", title="t")
    story = SimpleNamespace(kind="new_document", severity="high", matches={}, payload={})
    assert facts_of(story, news, "press").kind == "news"


@pytest.fixture
def routed(tmp_path: Path, write_config):
    folder = write_page(tmp_path / "fr", *BIS_RULES)
    path = write_config(
        f"""
        data_dir: state
        sources:
          - {{name: fr, kind: federal_register, base_url: "file:{folder}/", since: 2016-01-01,
              retries: 0}}
        portfolio:
          path: {PORTFOLIO}
        scoring: {{threshold: 30}}
        alerting: {{group_above: 50}}
        channels:
          - {{name: team, url: "outbox://team.jsonl", min_severity: low, immediate: high}}
          - {{name: huawei, url: "outbox://huawei.jsonl", min_severity: info, immediate: info,
              customers: [huawei]}}
          - {{name: news, url: "outbox://news.jsonl", min_severity: info, immediate: info,
              kinds: [news]}}
        digest: {{channels: [team]}}
        """
    )
    return load_config(path), tmp_path


def rows_of(config, channel: str) -> list[tuple[store.AlertRow, store.EventRow]]:
    with store.open_store(config.database_url).session() as s:
        query = (
            select(store.AlertRow, store.EventRow)
            .outerjoin(store.EventRow, store.EventRow.id == store.AlertRow.event_id)
            .where(store.AlertRow.channel == channel)
            .order_by(store.AlertRow.id)
        )
        return [(alert, event) for alert, event in s.execute(query)]


def test_urgent_events_go_at_once_the_rest_wait_for_the_channels_digest(routed):
    config, folder = routed
    report = check(config)
    relevant = {f.event_id: f.score.severity for f in report.found if f.score.relevant}
    team = rows_of(config, "team")
    assert {event.id for _, event in team} == {
        i for i, severity in relevant.items() if at_least(severity, "low")
    }
    routes = {alert.route for alert, _ in team}
    assert routes == {"immediate", "digest"}  # both kinds of event are in this data
    for alert, event in team:
        urgent = at_least(event.severity, "high")
        assert alert.route == ("immediate" if urgent else "digest")
        assert alert.status == ("sent" if urgent else "pending")
        assert (alert.carrier_id == alert.id) if urgent else alert.carrier_id is None
    sent = read_outbox(folder / "team.jsonl")
    assert len(sent) == report.sent - 1  # and the huawei channel's one
    assert all(at_least(line["title"].split()[1].lower(), "high") for line in sent)

    # filters: only the Huawei rule names Huawei; no news in this data
    (huawei,) = read_outbox(folder / "huawei.jsonl")
    assert "2020-10856" in huawei["title"]
    assert not (folder / "news.jsonl").exists() and rows_of(config, "news") == []

    # the digest: once per channel and week, carrying what waited
    db = store.open_store(config.database_url)
    (digest,) = digest_pass(db, config)
    assert (digest.channel, digest.event_id, digest.status) == ("team", None, "pending")
    waiting = [event for alert, event in team if alert.route == "digest"]
    deliver_due(db, config, load_templates(), report)
    lines = read_outbox(folder / "team.jsonl")
    assert len(lines) == len(sent) + 1 and lines[-1]["title"].startswith("[regmonitor] Digest")
    body = lines[-1]["body"]
    numbers = {alert.event_id: event for alert, event in team}
    for event in waiting:
        with db.session() as s:
            number = s.get(store.DocumentRow, numbers[event.id].document_id).document_number
        assert number in body
    assert body.count("(sent at once)") == len(team) - len(waiting)
    after = rows_of(config, "team")
    assert all(alert.status == "sent" for alert, _ in after)
    assert {alert.carrier_id for alert, _ in after if alert.route == "digest"} == {digest.id}

    again = digest_pass(db, config)  # the same week: the same row, nothing sent again
    assert [row.id for row in again] == [digest.id] and again[0].status == "sent"
    deliver_due(db, config, load_templates(), report)
    assert len(read_outbox(folder / "team.jsonl")) == len(lines)

    later = store.utcnow() + timedelta(days=7)
    (next_week,) = digest_pass(db, config, now=later)
    assert next_week.id != digest.id
    assert next_week.payload["since"] == digest.payload["until"]  # no gap, no overlap


def config_error(write_config, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text))
    return str(info.value)


def test_routing_mistakes_are_one_line_errors_with_file_and_line(write_config):
    message = config_error(
        write_config,
        """
        channels:
          - name: mail
            url: outbox://a.jsonl
            min_severity: medium
            immediate: critical
          - {name: chat, url: "outbox://b.jsonl"}
        digest:
          channels: [chat]
        """,
    )
    assert (
        "monitor.yaml:6: channels[0].immediate: events from medium up to critical wait" in message
    )
    assert "leaves out 'mail'" in message and "immediate: medium" in message
    assert "\n" not in message

    unknown = config_error(write_config, """
        channels: [{name: chat, url: "outbox://b.jsonl"}]
        digest: {channels: [chat, mail]}
        """)  # fmt: skip
    assert ":3: digest.channels[1]: no channel 'mail' (configured: chat)" in unknown
    customer = config_error(write_config, f"""
        portfolio: {{path: {PORTFOLIO}}}
        channels: [{{name: chat, url: "outbox://b.jsonl", customers: [huawei, acme]}}]
        """)  # fmt: skip
    assert "channels[0].customers[1]: no customer 'acme' in the portfolio" in customer
    kind = config_error(write_config, """
        channels: [{name: chat, url: "outbox://b.jsonl", kinds: [entity_listed, gossip]}]
        """)  # fmt: skip
    assert ":2: channels[0].kinds[1]: Input should be 'new_document'" in kind
    zone = config_error(write_config, "digest: {day: monday, timezone: Mars/Olympus}\n")
    assert "digest.timezone: Value error, unknown time zone 'Mars/Olympus'" in zone
    day = config_error(write_config, "digest: {day: someday}\n")
    assert ":1: digest.day: Input should be 'monday'" in day
