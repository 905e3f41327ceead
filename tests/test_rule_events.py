"""A rule's full text through the pipeline: the Federal Register watcher reads its XML
from a real loopback server, the Entity List entries are screened against the
portfolio, the 3A090 text re-classifies every chip, and the event carries the
structured change.

The rule XML is SYNTHETIC (tests/fixtures/fr_xml/PROVENANCE.md): no real BIS rule
with an Entity List table is available offline. The API records served here point
at it and are as synthetic (document numbers 2099-*).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from monitor import store
from monitor.config import load_config
from monitor.document import Document
from monitor.pipeline import check
from tests.conftest import process_document

FIXTURES = Path(__file__).parent / "fixtures" / "fr_xml"
API = "/api/v1/"
ENTITY_XML = "/documents/full_text/xml/2099/01/02/2099-99901.xml"
THRESHOLD_XML = "/documents/full_text/xml/2099/01/03/2099-99902.xml"
BIS = [
    {"name": "Commerce Department", "slug": "commerce-department"},
    {"name": "Industry and Security Bureau", "slug": "industry-and-security-bureau"},
]


def api_record(number: str, title: str, xml_path: str, part: int, day: str) -> dict:
    """A documents.json result pointing at a synthetic rule's XML (live host, as the
    API gives it: the watcher re-bases it on the configured endpoint)."""
    return {
        "document_number": number, "title": title, "type": "Rule",
        "action": "Final rule.", "abstract": "Synthetic test record.", "agencies": BIS,
        "publication_date": day, "cfr_references": [{"title": 15, "part": part}],
        "html_url": f"https://www.federalregister.gov/d/{number}",
        "full_text_xml_url": f"https://www.federalregister.gov{xml_path}",
    }  # fmt: skip


ENTITY_RULE = api_record(
    "2099-99901", "Additions to the Entity List (Synthetic Test Fixture)", ENTITY_XML, 744,
    "2099-01-02",
)  # fmt: skip
THRESHOLD_RULE = api_record(
    "2099-99902", "Revision of an ECCN Threshold (Synthetic Test Fixture)", THRESHOLD_XML, 774,
    "2099-01-03",
)  # fmt: skip


def serve(server: HTTPServer, *records: dict, xml_status: int = 200) -> None:
    page = {"count": len(records), "results": list(records)}
    server.expect_request(f"{API}documents.json").respond_with_json(page)
    for path, name in ((ENTITY_XML, "synthetic_entity_list_rule.xml"),
                       (THRESHOLD_XML, "synthetic_threshold_rule.xml")):  # fmt: skip
        if xml_status == 200:
            body = (FIXTURES / name).read_bytes()
            server.expect_request(path).respond_with_data(body, content_type="application/xml")
        else:
            server.expect_request(path).respond_with_data("busy", status=xml_status)


CUSTOMERS = """
customers:
  - id: estc
    name: Example Semiconductor Test Company Limited
    country: CN
    city: Shenzhen
  - id: elsewhere
    name: Unrelated Compute GmbH
    country: DE
"""
CHIPS = """
chips:
  - id: probe-4400
    name: Probe Accelerator 4400
    eccn: 3A090.b
    tpp: 4400
    performance_density: 3.0
  - id: probe-1000
    name: Probe Accelerator 1000
    eccn: EAR99
    tpp: 1000
    performance_density: 1.0
"""


@pytest.fixture
def rule_config(tmp_path: Path, write_config, httpserver: HTTPServer):
    def make(customers: str = CUSTOMERS) -> Path:
        folder = tmp_path / "portfolio"
        folder.mkdir(exist_ok=True)
        (folder / "customers.yaml").write_text(customers)
        (folder / "chips.yaml").write_text(CHIPS)
        return write_config(
            f"""
            data_dir: state
            sources:
              - {{name: fr, kind: federal_register, base_url: "{httpserver.url_for(API)}",
                  since: 2099-01-01, retries: 0, backoff: 0}}
            portfolio: {{path: {folder}}}
            channels:
              - {{name: out, url: "outbox://outbox.jsonl", min_severity: info}}
            """
        )

    return make


def events(config) -> list[store.EventRow]:
    db = store.open_store(config.database_url)
    with db.session() as s:
        return list(s.scalars(select(store.EventRow).order_by(store.EventRow.id)))


def xml_requests(server: HTTPServer) -> list[str]:
    return [r.path for r, _ in server.log if r.path.startswith("/documents/full_text/")]


def test_entity_list_rule_screens_its_entries_and_lists_the_customer(rule_config, httpserver):
    serve(httpserver, ENTITY_RULE)
    config = load_config(rule_config())
    report = check(config)
    assert report.errors == {} and report.notes == []
    (found,) = report.found
    assert found.kind == "entity_listed"
    assert found.score.severity == "critical" and found.score.customers == ["estc"]
    listed = [r for r in found.score.reasons if r.component == "listed"]
    assert len(listed) == 1
    assert "(estc) added to the Entity List" in listed[0].detail
    assert "CHINA, PEOPLE'S REPUBLIC OF" in listed[0].detail
    (event,) = events(config)
    entities = event.payload["entities"]
    assert entities["summary"] == "5 Entity List entries added: China 4, Taiwan 1; 1 revised"
    assert entities["mismatches"] == []
    assert [s["customer_id"] for s in entities["screened"]] == ["estc"]
    first = entities["added"][0]
    assert first["aliases"] == ["Example Semi Test", "ESTC Placeholder Holdings"]
    assert first["footnotes"] == [4]
    # the XML was read from the configured host, once
    assert xml_requests(httpserver) == [ENTITY_XML]
    assert check(config).found == []
    assert xml_requests(httpserver) == [ENTITY_XML]


def test_entity_list_rule_without_a_customer_stays_low(rule_config, httpserver):
    serve(httpserver, ENTITY_RULE)
    others = "customers:\n  - {id: other, name: Unrelated Compute GmbH, country: DE}\n"
    config = load_config(rule_config(customers=others))
    (found,) = check(config).found
    assert found.kind == "entity_listed"  # still the structured event, for the record
    assert not found.score.relevant and found.score.customers == []
    screened = [r for r in found.score.reasons if r.component == "screened"]
    assert (
        screened
        and "6 Entity List entries screened (China 5, Taiwan 1): no portfolio customer"
        in screened[0].detail
    )


def test_full_text_unavailable_is_a_note_then_the_listing_arrives(rule_config, httpserver):
    serve(httpserver, ENTITY_RULE, xml_status=503)
    config = load_config(rule_config())
    first = check(config)
    assert first.errors == {}
    assert [n for n in first.notes if "full text of 2099-99901 not read" in n]
    assert [f.kind for f in first.found] == ["new_document"]

    httpserver.clear()
    serve(httpserver, ENTITY_RULE)
    second = check(config)
    assert [f.kind for f in second.found] == ["entity_listed"]
    assert second.found[0].score.customers == ["estc"]
    assert [e.kind for e in events(config)] == ["new_document", "entity_listed"]
    assert check(config).found == []


def test_a_text_the_parsers_fail_on_is_retried_then_given_up_and_counted(rule_config, httpserver):
    """A parser failure is not a read: the rule would stay unscreened for good. It is
    tried again on later polls (the listing arrives once the text reads), and after
    FULL_TEXT_TRIES failures given up with a note and counted by `monitor status`."""
    from typer.testing import CliRunner

    from monitor.cli import app
    from watchers.federal_register import FULL_TEXT_TRIES

    def serve_broken() -> None:
        httpserver.clear()
        httpserver.expect_request(f"{API}documents.json").respond_with_json(
            {"count": 1, "results": [ENTITY_RULE]}
        )
        httpserver.expect_request(ENTITY_XML).respond_with_data(
            "<html><body>Not the Federal Register's XML</body></html>",
            content_type="application/xml",
        )

    path = rule_config()
    config = load_config(path)
    serve_broken()
    first = check(config)
    assert first.errors == {}
    (note,) = [n for n in first.notes if "full text of 2099-99901 not read" in n]
    assert f"tried 1 of {FULL_TEXT_TRIES} times, again on the next poll" in note
    httpserver.clear()
    serve(httpserver, ENTITY_RULE)
    assert [f.kind for f in check(config).found] == ["entity_listed"]  # read on the retry

    other_path = path.parent / "other.yaml"  # the same sources on a fresh store
    other_path.write_text(path.read_text().replace("data_dir: state", "data_dir: state2"))
    other = load_config(other_path)
    for attempt in range(1, FULL_TEXT_TRIES + 1):
        serve_broken()
        notes = [n for n in check(other).notes if "full text of 2099-99901" in n]
        assert len(notes) == 1 and (("given up" in notes[0]) == (attempt == FULL_TEXT_TRIES))
    serve_broken()
    assert not [n for n in check(other).notes if "full text of 2099-99901" in n]  # given up
    status = CliRunner().invoke(app, ["status", "-c", str(other_path), "-f", "json"])
    (source,) = json.loads(status.stdout)["sources"]
    assert source["texts"] == {"read": 0, "pending": 0, "failed": 1}


def test_threshold_rule_reclassifies_each_chip(rule_config, httpserver):
    serve(httpserver, THRESHOLD_RULE)
    config = load_config(rule_config())
    (found,) = check(config).found
    assert found.kind == "threshold_changed"
    moved = [r.detail for r in found.score.reasons if r.component == "classification"]
    assert len(moved) == 1
    assert "Probe Accelerator 4400: 3A090.b -> 3A090.a (TPP 4400 >= 4000" in moved[0]
    assert found.score.relevant
    (event,) = events(config)
    thresholds = event.payload["thresholds"]
    assert "TPP >= 4000" in thresholds["summary"]
    chips = {c["chip_id"]: c for c in thresholds["chips"]}
    assert chips["probe-4400"]["changed"] and chips["probe-4400"]["after"] == "3A090.a"
    assert not chips["probe-1000"]["changed"]
    assert "stays outside" in chips["probe-1000"]["explanation"]


def test_full_text_is_read_only_for_the_configured_agencies(rule_config, httpserver):
    other = {**ENTITY_RULE, "agencies": [{"name": "Other Agency", "slug": "other-agency"}]}
    serve(httpserver, other)
    config = load_config(rule_config())
    (found,) = check(config).found
    assert found.kind == "new_document" and xml_requests(httpserver) == []
    assert json.loads(json.dumps(found.score.to_json()))["matches"]["customers"] == []


# SYNTHETIC CCL text in the wording monitor.eccn reads; the 4000 figure is invented.
CCL_TEXT = """Supplement No. 1 to Part 774—The Commerce Control List
3A090 Integrated circuits as follows (see List of Items Controlled).
Items:
a. Integrated circuits having one or more digital processing units having either of the following:
a.1. A 'total processing performance' ('TPP') of {tpp} or more; or
a.2. A 'TPP' of 1600 or more and a 'performance density' of 5.92 or more.
3A991 Test entry that follows (placeholder text)."""


def test_ecfr_ccl_change_reclassifies_chips_against_the_previous_text(rule_config):
    config = load_config(rule_config())
    db = store.open_store(config.database_url)
    label = "15 CFR 774 Supp. 1"
    old = Document(collection="ecfr", document_number=label, title="Supplement No. 1",
                   text=CCL_TEXT.format(tpp=4800), version_date=date(2099, 1, 1))  # fmt: skip
    new = old.model_copy(update={"text": CCL_TEXT.format(tpp=4000),
                                 "version_date": date(2099, 1, 3)})  # fmt: skip
    with db.session() as session:
        assert process_document(session, config, "ecfr", old, baseline=True) == []
        (found,) = process_document(session, config, "ecfr", new)
        session.commit()
    assert found.kind == "threshold_changed"
    (moved,) = [r.detail for r in found.score.reasons if r.component == "classification"]
    # the previous eCFR text (its .a only) is the baseline, not the rules the project knows
    assert "Probe Accelerator 4400: not 3A090 -> 3A090.a (TPP 4400 >= 4000" in moved
    (event,) = events(config)
    assert "TPP >= 4000" in event.payload["thresholds"]["summary"]
    assert event.payload["diff"]["summary"] == "15 CFR 774 Supp. 1 ¶5 revised"  # the a.1 line
    # the same text again is no event; an unrelated edit is rule_text_changed only
    with db.session() as session:
        assert process_document(session, config, "ecfr", new) == []
        edited = new.model_copy(update={"text": new.text.replace("placeholder", "test")})
        (again,) = process_document(session, config, "ecfr", edited)
    assert again.kind == "rule_text_changed"


def test_ecfr_text_stored_twice_before_processing_is_one_change_from_the_processed_text(
    rule_config,
):
    """Two polls store two new texts before either is processed (a backlog of tasks):
    one event, judged against the text processed last, not the one in between."""
    from monitor.pipeline import process_pending, store_document

    config = load_config(rule_config())
    db = store.open_store(config.database_url)
    old = Document(collection="ecfr", document_number="15 CFR 774 Supp. 1", title="Supp. 1",
                   text=CCL_TEXT.format(tpp=4800), version_date=date(2099, 1, 1))  # fmt: skip
    middle = old.model_copy(update={"text": CCL_TEXT.format(tpp=4400)})
    new = old.model_copy(update={"text": CCL_TEXT.format(tpp=4000)})
    with db.session() as session:
        assert process_document(session, config, "ecfr", old, baseline=True) == []
        store_document(session, "ecfr", middle)
        row = store_document(session, "ecfr", new).row
        (found,) = process_pending(session, config, row)
        assert process_pending(session, config, row) == []  # processed: the mark is gone
        session.commit()
    assert found.kind == "threshold_changed"
    (moved,) = [r.detail for r in found.score.reasons if r.component == "classification"]
    assert "Probe Accelerator 4400: not 3A090 -> 3A090.a (TPP 4400 >= 4000" in moved
    (event,) = events(config)
    assert (
        "4800" in event.payload["diff"]["unified"]
        and "4400" not in event.payload["diff"]["unified"]
    )
