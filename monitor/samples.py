"""Sample events of every alert kind, a grouped alert and a digest (SYNTHETIC values).

`load_templates` renders every template family against these at start-up, so an
override that names a missing field or calls a filter wrongly fails then, with
its file and line, rather than on the first real alert. Each payload carries
every optional part (Entity List entries, thresholds, a rule-text diff,
changed fields), so every branch a template has for them runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.alerts import alert_context
from monitor.document import Agency, CfrReference, Document

REASONS = [{"component": "customer", "points": 45, "detail": "customer example named"}]
ENTRY = {
    "country": "CN", "country_heading": "China, People's Republic of",
    "name": "Example Semiconductor Co., Ltd.", "aliases": ["Example Semi"],
    "addresses": ["1 Example Road, Shanghai"],
    "license_requirement": "For all items subject to the EAR.", "footnotes": [4],
    "review_policy": "Presumption of denial.", "citation": "90 FR 1000, 1/2/2025",
}  # fmt: skip
PARTS = {
    "entities": {
        "summary": "1 Entity List entry added: China 1",
        "added": [ENTRY], "revised": [ENTRY], "removed": [{"country": "CN", "name": "Old Co."}],
        "mismatches": ["preamble says China (2), table lists 1"],
        "screened": [{"customer_id": "example", "entry": ENTRY["name"], "country": "CN",
                      "score": 97, "reasons": ["same name after legal forms"]}],
    },
    "thresholds": {
        "summary": "3A090.a threshold lowered",
        "changes": ["3A090.a: TPP 4800 -> 4000"],
        "chips": [{"chip_id": "x100", "before": "not 3A090", "after": "3A090.a",
                   "changed": True, "explanation": "TPP 4500 >= 4000"},
                  {"chip_id": "x50", "before": "not 3A090", "after": "not 3A090",
                   "changed": False, "explanation": "TPP 900 < 4000"}],
    },
    "diff": {
        "summary": "§744.23(a)(3) revised",
        "counts": {"modified": 1},
        "changes": [{"section": "744.23", "op": "modified", "id": "15 CFR 744.23(a)(3)",
                     "display": "§744.23(a)(3)", "old": "old text", "new": "new text"}],
        "more": 1,
        "unified": "--- old\n+++ new\n@@ -1 +1 @@\n-old text\n+new text\n",
    },
    "changes": {"title": ["Old title", "New title"], "text": {"diff": "-a\n+b\n"}},
}  # fmt: skip
DEADLINE = {"deadline": "comments", "due": "2025-02-03", "days_left": 7, "offset": 7,
            "text": "Comments must be received by February 3, 2025."}  # fmt: skip
MOVED = {"deadline": "comments", "before": ["2025-02-03"], "after": "2025-03-03",
         "by": "2025-00002", "by_title": "Extension of comment period",
         "dockets": ["BIS-1"]}  # fmt: skip
HEALTH = {"source": "example", "kind": "federal_register", "failures": 3, "error": "HTTP 503",
          "failing_since": "2025-01-01T00:00:00+00:00", "last_success": None}  # fmt: skip


def sample_document(**changes: Any) -> Document:
    fields = {
        "document_number": "2025-00001", "title": "Example rule", "type": "Rule",
        "action": "Final rule.", "abstract": "An example abstract.",
        "agencies": [Agency(name="Industry and Security Bureau",
                            slug="industry-and-security-bureau")],
        "publication_date": "2025-01-02", "effective_on": "2025-01-02",
        "comments_close_on": "2025-02-03", "cfr_references": [CfrReference(title=15, part=744)],
        "regulation_id_numbers": ["RIN 0694-AA00"], "citation": "90 FR 1000", "significant": True,
        "publisher": "Example Wire", "related": ["2025-00002"], "version_date": "2025-01-02",
        "filing_type": "special", "filed_at": "2025-01-01T21:15:00Z",
        "public_inspection_pdf_url": "https://public-inspection.federalregister.gov/2025-00001.pdf",
    }  # fmt: skip
    return Document.model_validate({**fields, **changes})


def _event(kind: str, doc: Document | None, payload: dict) -> dict[str, Any]:
    return alert_context(kind, doc, 85, "critical", REASONS, {"customers": ["example"]}, payload,
                         review_url="https://regmonitor.example.com/events/1")  # fmt: skip


def sample_contexts() -> dict[str, dict[str, Any]]:
    """One context per template family but `group` (made of the others)."""
    doc = sample_document(filed_at=None)
    on_desk = sample_document(citation=None)
    news = sample_document(collection="news", document_number="0123456789abcdef",
                           html_url="https://news.example.com/story")  # fmt: skip
    events = {
        "new_document": _event("new_document", doc, PARTS),
        "public_inspection": _event("new_document", on_desk, PARTS),
        "news": _event("new_document", news, PARTS),
        "document_changed": _event("document_changed", doc, PARTS),
        "deadline_reminder": _event("deadline_reminder", doc, {**PARTS, **DEADLINE}),
        "deadline_changed": _event("deadline_changed", doc, {**PARTS, **MOVED}),
        "rule_text_changed": _event("rule_text_changed", doc, PARTS),
        "entity_listed": _event("entity_listed", doc, PARTS),
        "threshold_changed": _event("threshold_changed", doc, PARTS),
        "source_failing": _event("source_failing", None, HEALTH),
        "source_recovered": _event("source_recovered", None, HEALTH),
    }
    return {**events, "digest": sample_digest()}


def sample_digest() -> dict[str, Any]:
    from monitor.digest import (
        Counts,
        DeadlineItem,
        Digest,
        EventItem,
        FailingSource,
        HealthNote,
        NewsItem,
        RuleChange,
        eastern,
    )  # fmt: skip

    until = datetime(2025, 1, 13, 13, tzinfo=UTC)
    item = EventItem(
        event_id=1, kind="new_document", collection="fr", document_number="2025-00001",
        title="Example rule", url="https://www.federalregister.gov/d/2025-00001",
        agency="Industry and Security Bureau", publication_date="2025-01-02", score=85,
        severity="critical", relevant=True, reasons=REASONS, abstract="An example.",
        what="New rule", at=until.isoformat(), routed="digest",
    )  # fmt: skip
    made = Digest(
        since=until - timedelta(days=7), until=until, today="2025-01-13",
        deadlines_until="2025-02-12", threshold=50, top=[item], top_total=1, relevant_total=1,
        deadlines=[DeadlineItem(kind="comments", due="2025-02-03", days_left=21,
                                document_number="2025-00001", title="Example rule",
                                url=item.url, score=85, severity="critical")],
        rule_changes=[RuleChange(label="15 CFR 744.23", title="§ 744.23 Example.", url=None,
                                 change="changed", added_lines=1, removed_lines=1,
                                 version_date="2025-01-10", score=40, severity="medium",
                                 summary="§744.23(a)(3) revised")],
        rule_changes_total=1,
        news=[NewsItem(title="Example story", url=None, publisher="Example Wire",
                       related=["2025-00001"], publication_date="2025-01-03", score=60,
                       severity="high", relevant=True)],
        news_total=1,
        failing_sources=[FailingSource(name="example", kind="federal_register", failures=3,
                                       last_error="HTTP 503", failing_since=until.isoformat(),
                                       last_success=None)],
        health_events=[HealthNote(kind="source_failing", source="example",
                                  at=until.isoformat(), failures=3, error="HTTP 503")],
        sources_total=2,
        counts=Counts(documents_seen=2, documents_new=1, documents_total=10, events=2,
                      relevant_events=1, alerts={"sent": 1, "pending": 0, "failed": 0}),
        reviews_open=[_review_line("in review", note=None)], reviews_open_total=2,
        reviews_decided=[_review_line("action required", note="Hold shipments.")],
    )  # fmt: skip
    return {"digest": made, "eastern": eastern}


def _review_line(status: str, note: str | None) -> Any:
    from monitor.review import ReviewLine

    at = datetime(2025, 1, 10, 15, tzinfo=UTC)
    return ReviewLine(
        event_id=1, kind="new_document", document_number="2025-00001", title="Example rule",
        url="https://regmonitor.example.com/events/1", severity="critical", score=85,
        recorded_at=at, status=status, assignee="analyst", actions=["Re-classify x100"],
        updated_at=at, updated_by="analyst", note=note,
    )  # fmt: skip
