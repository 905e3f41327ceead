"""The first public moment: the public-inspection desk's texts read through the pipeline.

A real loopback server serves a desk (SYNTHETIC entries in the layout of the real
`current.json`, see tests/fixtures/public_inspection/PROVENANCE.md), the manuscript text
of each entry (SYNTHETIC, tests/fixtures/public_inspection/texts/) or its PDF, and later the
published copy (the synthetic XML rule of tests/fixtures/fr_xml/).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from monitor import store
from monitor.config import load_config
from monitor.pipeline import check
from tests.conftest import read_outbox
from tests.test_rule_events import ENTITY_RULE, ENTITY_XML
from tests.test_rule_events import FIXTURES as XML_FIXTURES

API = "/api/v1/"
DESK = f"{API}public-inspection-documents/current.json"
TEXT_PATH = "/public-inspection/raw_text/209/999/901.txt"
PDF_PATH = "/2099-99901.pdf"
TEXT = Path(__file__).parent / "fixtures" / "public_inspection" / "texts" / "2099-99901.txt"
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


def entry(number: str = "2099-99901", *, raw: bool = True, pdf: bool = False,
          version: str = "2099-01-01T08:45:00.000-05:00", **more) -> dict:  # fmt: skip
    """One desk result in the real layout (values made up: a 2099 document)."""
    return {
        "agencies": [{"raw_name": "DEPARTMENT OF COMMERCE", "name": "Commerce Department",
                      "slug": "commerce-department"},
                     {"raw_name": "Bureau of Industry and Security",
                      "name": "Industry and Security Bureau",
                      "slug": "industry-and-security-bureau"}],
        "document_number": number, "editorial_note": None,
        "filed_at": "2099-01-01T08:45:00.000-05:00", "filing_type": "regular",
        "pdf_updated_at": version,
        "pdf_url": f"https://public-inspection.federalregister.gov/{number}.pdf" if pdf else None,
        "publication_date": "2099-01-02",
        "raw_text_url": f"https://www.federalregister.gov{TEXT_PATH}" if raw else None,
        "subject_1": "Additions to the Entity List (Synthetic Test Fixture)",
        "title": "Additions to the Entity List (Synthetic Test Fixture)  ", "type": "Rule",
        **more,
    }  # fmt: skip


def desk(server: HTTPServer, *entries: dict, text: str | bytes | None = None,
         status: int = 200) -> None:  # fmt: skip
    server.clear()
    server.expect_request(DESK).respond_with_json({"count": len(entries),
                                                   "results": list(entries)})  # fmt: skip
    body = TEXT.read_text() if text is None else text
    server.expect_request(TEXT_PATH).respond_with_data(body, status=status,
                                                       content_type="text/plain")  # fmt: skip


def published(server: HTTPServer, xml: bytes | None = None) -> None:
    server.clear()
    server.expect_request(f"{API}documents.json").respond_with_json(
        {"count": 1, "results": [ENTITY_RULE]}
    )
    body = xml or (XML_FIXTURES / "synthetic_entity_list_rule.xml").read_bytes()
    server.expect_request(ENTITY_XML).respond_with_data(body, content_type="application/xml")


@pytest.fixture
def config_of(tmp_path: Path, write_config, httpserver: HTTPServer):
    def make(max_bytes: int = 5_000_000) -> Path:
        folder = tmp_path / "portfolio"
        folder.mkdir(exist_ok=True)
        (folder / "customers.yaml").write_text(CUSTOMERS)
        return load_config(write_config(f"""
            data_dir: state
            sources:
              - {{name: desk, kind: public_inspection, base_url: "{httpserver.url_for(API)}",
                  retries: 0, backoff: 0, max_bytes: {max_bytes}}}
              - {{name: fr, kind: federal_register, base_url: "{httpserver.url_for(API)}",
                  since: 2099-01-01, retries: 0, backoff: 0}}
            portfolio: {{path: {folder}}}
            channels:
              - {{name: out, url: "outbox://outbox.jsonl", min_severity: info, immediate: info}}
            """))  # fmt: skip

    return make


def events(config) -> list[store.EventRow]:
    with store.open_store(config.database_url).session() as s:
        return list(s.scalars(select(store.EventRow).order_by(store.EventRow.id)))


def text_requests(server: HTTPServer) -> int:
    return sum(1 for r, _ in server.log if r.path in (TEXT_PATH, PDF_PATH))


def test_a_listed_customer_alerts_from_the_inspection_copy_and_once(config_of, httpserver,
                                                                    tmp_path):  # fmt: skip
    config = config_of()
    desk(httpserver, entry())
    first = check(config, only=["desk"])
    assert first.errors == {} and first.notes == []
    (found,) = first.found
    assert found.kind == "entity_listed" and found.score.severity == "critical"
    (listed,) = [r for r in found.score.reasons if r.component == "listed"]
    assert listed.detail.startswith(
        "Example Semiconductor Test Company Limited (estc) added to the Entity List under "
        "CHINA, PEOPLE'S REPUBLIC OF (on public inspection, to be published 2099-01-02)"
    )
    (alert,) = read_outbox(tmp_path / "outbox.jsonl")
    assert "estc" in alert["body"]
    assert text_requests(httpserver) == 1
    assert check(config, only=["desk"]).found == [] and text_requests(httpserver) == 1  # once

    published(httpserver)  # the published copy lists the same entries: it confirms
    later = check(config, only=["fr"])
    assert later.errors == {} and later.found == []
    assert len(read_outbox(tmp_path / "outbox.jsonl")) == 1
    with store.open_store(config.database_url).session() as s:
        doc = s.scalar(select(store.DocumentRow)).document
    assert doc.rule.source == "xml" and doc.citation is None  # the published XML's facts


def test_an_entry_the_published_copy_adds_is_a_change_with_its_diff(config_of, httpserver):
    config = config_of()
    desk(httpserver, entry())
    check(config, only=["desk"])
    xml = (XML_FIXTURES / "synthetic_entity_list_rule.xml").read_text()
    extra = xml.replace("Test Vector Microsystems Co., Ltd., Floor 9",
                        "Second Fictional Vector Co., Ltd., Floor 9")  # fmt: skip
    published(httpserver, extra.encode())
    (changed,) = check(config, only=["fr"]).found
    assert changed.kind == "document_changed"
    (event,) = [e for e in events(config) if e.kind == "document_changed"]
    diff = event.payload["entry_changes"]
    assert [e["name"] for e in diff["added"]] == ["Second Fictional Vector Co., Ltd."]
    assert [e["name"] for e in diff["dropped"]] == ["Test Vector Microsystems Co., Ltd."]
    assert diff["summary"] == "since the copy read before: 1 entry added; 1 dropped"


def test_a_replaced_filing_is_read_again(config_of, httpserver):
    config = config_of()
    without = TEXT.read_text()
    for name in ("Example Semiconductor Test Co., Ltd.", "Example Semi Test", "ESTC Placeholder"):
        without = without.replace(name, "Other Fictional Test")
    desk(httpserver, entry(), text=without)
    (first,) = check(config, only=["desk"]).found
    assert first.kind == "entity_listed" and not first.score.relevant  # no customer yet
    desk(httpserver, entry(version="2099-01-01T12:00:00.000-05:00"))  # the agency refiled
    (again,) = check(config, only=["desk"]).found
    assert again.kind == "document_changed" and again.score.severity == "critical"
    assert text_requests(httpserver) == 1  # the log was cleared: one read of the new filing


def test_a_withdrawn_document_is_reported_once(config_of, httpserver):
    config = config_of()
    desk(httpserver, entry())
    check(config, only=["desk"])
    desk(httpserver)  # it left the desk before its publication date
    (gone,) = check(config, only=["desk"]).found
    assert gone.kind == "document_changed" and gone.document.withdrawn_on is not None
    assert check(config, only=["desk"]).found == []


def test_a_notice_on_the_desk_lists_nothing_and_keeps_its_summary(config_of, httpserver):
    config = config_of()
    notice = TEXT.read_text().split("SUPPLEMENTARY INFORMATION:")[0].replace(
        "Final rule.", "Notice of inquiry.")  # fmt: skip
    desk(httpserver, entry(type="Notice"), text=notice)
    (found,) = check(config, only=["desk"]).found
    assert found.kind == "new_document"
    assert found.document.abstract.startswith("This synthetic test fixture imitates")
    assert found.document.dates.startswith("This rule is effective January 2, 2099.")


def test_a_pdf_only_document_is_read_from_its_pdf(config_of, httpserver):
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=8)
    for line in TEXT.read_text().splitlines():  # the manuscript, printed line by line
        pdf.cell(0, 4, line.replace("—", "-").replace("§", "Sec.").encode("latin-1", "replace")
                 .decode("latin-1"), new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    config = config_of()
    desk(httpserver, entry(raw=False, pdf=True))
    served = bytes(pdf.output())
    httpserver.expect_request(PDF_PATH).respond_with_data(served, content_type="application/pdf")
    (found,) = check(config, only=["desk"]).found
    assert found.kind == "entity_listed" and found.score.severity == "critical"
    assert found.document.rule.entities[0].name == "Example Semiconductor Test Co., Ltd."


def test_an_oversized_or_failing_text_is_a_note_then_read_later(config_of, httpserver):
    config = config_of(max_bytes=4_500)  # the desk page fits, the 5 KB manuscript does not
    desk(httpserver, entry())
    first = check(config, only=["desk"])
    assert [n for n in first.notes if "text of 2099-99901 not read" in n]
    assert [f.kind for f in first.found] == ["new_document"]  # still alerts from its title
    with store.open_store(config.database_url).session() as s:
        state = s.get(store.SourceRow, "desk").cursor["texts"]["2099-99901"]
    assert state["status"] == "failed" and state["tries"] == 1
    larger = config.sources[0].model_copy(update={"max_bytes": 5_000_000})
    bigger = config.model_copy(update={"sources": [larger, config.sources[1]]})
    (listed,) = check(bigger, only=["desk"]).found
    assert listed.kind == "entity_listed"


def test_a_truncated_text_screens_what_it_holds_and_flags_the_rest(config_of, httpserver):
    config = config_of()
    text = TEXT.read_text()
    desk(httpserver, entry(), text=text[: text.index("Placeholder Photonics Ltd., a.k.a.")])
    (found,) = check(config, only=["desk"]).found
    kinds = {r.component for r in found.score.reasons}
    assert {"listed", "review"} <= kinds
    (review,) = [r for r in found.score.reasons if r.component == "review"]
    assert "the text read holds 2 of the 5 entries its summary counts" in review.detail


def test_status_counts_the_texts_read_pending_and_failed(config_of, httpserver, tmp_path):
    import subprocess
    import sys

    config = config_of(max_bytes=4_500)  # the desk page fits, the 5 KB manuscript does not
    desk(httpserver, entry(), entry("2099-99903", raw=False))
    report = check(config, only=["desk"])
    assert report.errors == {}
    status = subprocess.run(
        [sys.executable, "-m", "monitor", "status", "-c", str(config.path), "-f", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert len([n for n in report.notes if "not read" in n]) == 2, report.notes
    (source,) = [s for s in json.loads(status.stdout)["sources"] if s["name"] == "desk"]
    # both failed once (one too large, one with neither text nor PDF): tried again next poll
    assert source["texts"] == {"read": 0, "pending": 2, "failed": 0}
