"""The eCFR watcher against a real loopback server.

The fixtures in `tests/fixtures/ecfr/` are SYNTHETIC (see their PROVENANCE.md): a
versions list and two dated XML answers for part 744, with placeholder text. An
autouse fixture points every proxy variable at a closed loopback port, so a
request that escaped to the live host would fail instead of leaving the machine.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from monitor import store
from monitor.config import load_config
from monitor.http import FetchError, make_client
from monitor.pipeline import check
from watchers import WATCHERS, load_builtin
from watchers.ecfr import EAR_PARTS, EcfrOptions, parse_part, poll

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ecfr"
API = "/api/versioner/v1/"
VERSIONS = API + "versions/title-15.json"
V1, V2 = "2024-12-05", "2025-01-16"
LABELS_V1 = ["15 CFR 744.1", "15 CFR 744.2", "15 CFR 744.3", "15 CFR 744 Supp. 4"]


# --- serving the fixtures -----------------------------------------------------------


def full_path(day: str) -> str:
    return f"{API}full/{day}/title-15.xml"


def part_xml(day: str) -> bytes:
    return (FIXTURES / f"part-744-{day}.xml").read_bytes()


def versions_until(day: str, part: str = "744") -> dict:
    """The versions list as the API would have answered on `day`."""
    data = json.loads((FIXTURES / "versions-title-15-part-744.json").read_text(encoding="utf-8"))
    entries = [e for e in data["content_versions"] if e["amendment_date"] <= day]
    for entry in entries:
        entry["part"] = part
    meta = {
        **data["meta"],
        "latest_amendment_date": max(e["amendment_date"] for e in entries),
        "latest_issue_date": max(e["issue_date"] for e in entries),
    }
    return {"content_versions": entries, "meta": meta}


def serve(server: HTTPServer, day: str, versions: dict | None = None) -> None:
    """The versions list of `day` and the part's XML on that day (and only that day)."""
    server.expect_request(VERSIONS, query_string={"part": "744"}).respond_with_json(
        versions or versions_until(day)
    )
    server.expect_request(full_path(day), query_string={"part": "744"}).respond_with_data(
        part_xml(day), content_type="application/xml"
    )


def reset(server: HTTPServer) -> None:
    server.clear_all_handlers()
    server.clear_log()


def options(server: HTTPServer, **overrides) -> EcfrOptions:
    values = {"name": "ecfr", "base_url": server.url_for(API), "parts": ["744"], "retries": 0}
    return EcfrOptions(**{**values, "backoff": 0, **overrides})


def run_poll(opts: EcfrOptions, cursor: dict | None = None):
    with make_client(opts.base_url, opts.timeout) as client:
        return poll(opts, dict(cursor or {}), client, None)


def paths(server: HTTPServer) -> list[str]:
    return [request.full_path for request, _ in server.log]


def fails_with(opts: EcfrOptions, url: str, *fragments: str, cursor: dict | None = None) -> str:
    with pytest.raises(FetchError) as info:
        run_poll(opts, cursor)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(url + ": ")
    for fragment in fragments:
        assert fragment in message
    return message


# --- the pipeline -------------------------------------------------------------------


@pytest.fixture
def ecfr_config(httpserver, write_config, tmp_path: Path):
    return load_config(
        write_config(
            f"""
            data_dir: {tmp_path / "state"}
            sources:
              - name: ecfr
                kind: ecfr
                base_url: {httpserver.url_for(API)}
                parts: [744]
                retries: 0
                backoff: 0
            """
        )
    )


def stored(config) -> dict[str, dict]:
    db = store.open_store(config.database_url)
    with db.session() as session:
        query = select(store.DocumentRow).where(store.DocumentRow.key.startswith("ecfr:"))
        return {row.key: row.data for row in session.scalars(query)}


def source_cursor(config) -> dict:
    db = store.open_store(config.database_url)
    with db.session() as session:
        row = session.get(store.SourceRow, "ecfr")
        return dict(row.cursor or {}) if row else {}


def events(config) -> list[tuple[str, str, dict]]:
    db = store.open_store(config.database_url)
    with db.session() as session:
        rows = session.execute(
            select(store.EventRow.kind, store.DocumentRow.key, store.EventRow.payload)
            .join(store.DocumentRow, store.EventRow.document_id == store.DocumentRow.id)
            .order_by(store.EventRow.id)
        )
        return [(kind, key, payload) for kind, key, payload in rows]


# --- requests -----------------------------------------------------------------------


def test_each_part_has_its_versions_asked_and_only_parts_with_versions_are_read(httpserver):
    serve(httpserver, V1)
    empty = {"content_versions": [], "meta": {"title": "15"}}
    httpserver.expect_request(VERSIONS, query_string={"part": "746"}).respond_with_json(empty)

    result = run_poll(options(httpserver, parts=["744", "746"]))

    assert paths(httpserver) == [
        f"{VERSIONS}?part=744",
        f"{full_path(V1)}?part=744",
        f"{VERSIONS}?part=746",
    ]
    versions, xml, _ = (request for request, _ in httpserver.log)
    assert versions.headers["Accept"].startswith("application/json")
    assert "application/xml" in xml.headers["Accept"]
    assert result.cursor == {"parts": {"744": V1}, "issued": {"744": "2024-12-06"}}


def test_first_poll_reads_every_section_and_appendix_as_a_baseline(httpserver):
    serve(httpserver, V1)

    result = run_poll(options(httpserver))

    assert result.baseline == {d.key for d in result.documents}
    assert result.fetched == 4
    assert [d.document_number for d in result.documents] == LABELS_V1
    first = result.documents[0]
    assert first.key == "ecfr:15 CFR 744.1"
    assert first.collection == "ecfr"
    assert first.title == "§ 744.1 Test heading for section 744.1."
    assert first.text == (
        "(a) Test heading (a). Test paragraph (a) for section 744.1, version 1.\n"
        "(b) Test paragraph (b) for section 744.1, version 1, with extra white space.\n"
        "[Test citation line for section 744.1.]"
    )
    assert first.version_date == date(2024, 12, 5)
    assert first.html_url == "https://www.ecfr.gov/current/title-15/section-744.1"
    assert [str(r) for r in first.cfr_references] == ["15 CFR 744"]
    by_label = {d.document_number: d for d in result.documents}
    # a non-substantive version (re-issued unchanged) does not date the text
    assert by_label["15 CFR 744.3"].version_date == date(2017, 1, 1)
    assert by_label["15 CFR 744.3"].text.startswith(
        "Test paragraph for section 744.3, version 1, with an inline emphasis and a footnote1."
    )
    supplement = by_label["15 CFR 744 Supp. 4"]
    assert supplement.title == "Supplement No. 4 to Part 744—Test Supplement Heading"
    assert supplement.version_date == date(2024, 12, 5)
    assert supplement.text.splitlines()[1:4] == [
        "Test column A | Test column B",
        "Test row 1, cell A. | Test row 1, cell B.",
        "Test row 2, cell A. | Test row 2, cell B.",
    ]
    assert supplement.html_url == (
        "https://www.ecfr.gov/current/title-15/part-744/"
        "appendix-Supplement%20No.%204%20to%20Part%20744"
    )
    # the part's own authority and source notes belong to no section
    assert not any("authority" in (d.text or "") for d in result.documents)


def test_first_check_stores_the_whole_text_without_an_event(httpserver, ecfr_config):
    serve(httpserver, V1)

    report = check(ecfr_config)

    assert report.errors == {}
    assert report.found == []
    assert report.fetched == {"ecfr": 4}
    assert sorted(stored(ecfr_config)) == sorted(f"ecfr:{label}" for label in LABELS_V1)
    assert events(ecfr_config) == []
    assert source_cursor(ecfr_config)["parts"] == {"744": V1}


def test_second_check_reports_the_changed_and_the_added_section(httpserver, ecfr_config):
    serve(httpserver, V1)
    check(ecfr_config)
    reset(httpserver)
    serve(httpserver, V2)

    report = check(ecfr_config)

    assert report.errors == {}
    assert sorted((f.kind, f.document.document_number) for f in report.found) == [
        ("new_document", "15 CFR 744.4"),
        ("rule_text_changed", "15 CFR 744.2"),
    ]
    assert paths(httpserver) == [f"{VERSIONS}?part=744", f"{full_path(V2)}?part=744"]
    documents = stored(ecfr_config)
    assert len(documents) == 5
    assert "version 2." in documents["ecfr:15 CFR 744.2"]["text"]
    assert documents["ecfr:15 CFR 744.2"]["version_date"] == V2
    kinds = [(kind, key) for kind, key, _ in events(ecfr_config)]
    assert sorted(kinds) == [
        ("new_document", "ecfr:15 CFR 744.4"),
        ("rule_text_changed", "ecfr:15 CFR 744.2"),
    ]
    (changed,) = [payload for kind, _, payload in events(ecfr_config) if kind != "new_document"]
    assert set(changed["changes"]) == {"text", "version_date"}
    # the paragraph-level diff: which labelled paragraph changed, and its words
    diff = changed["diff"]
    assert diff["summary"] == "§744.2(a) revised"
    (change,) = diff["changes"]
    assert change["op"] == "modified" and change["id"].endswith("744.2(a)")
    assert "version 1." in change["old"] and "version 2." in change["new"]
    assert diff["more"] == 0 and "version 2." in diff["unified"]
    assert source_cursor(ecfr_config)["parts"] == {"744": V2}


def test_third_poll_without_a_new_date_asks_only_for_the_versions(httpserver, ecfr_config):
    serve(httpserver, V1)
    check(ecfr_config)
    reset(httpserver)
    serve(httpserver, V2)
    check(ecfr_config)
    before = stored(ecfr_config)
    reset(httpserver)
    serve(httpserver, V2)  # the XML is there to be read, and must not be

    report = check(ecfr_config)

    assert report.errors == {}
    assert report.found == []
    assert paths(httpserver) == [f"{VERSIONS}?part=744"]
    assert stored(ecfr_config) == before
    assert source_cursor(ecfr_config)["parts"] == {"744": V2}


# --- bad answers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("respond", "fragment"),
    [
        (
            lambda h: h.respond_with_data(part_xml(V2)[:-200], content_type="application/xml"),
            "not well-formed XML",
        ),
        (
            lambda h: h.respond_with_data(
                "<!DOCTYPE html><html><head><meta charset=utf-8><title>eCFR</title></head>"
                "<body><p>Down for maintenance&nbsp;</p></body></html>",
                content_type="text/html",
            ),
            "not well-formed XML",
        ),
        (
            lambda h: h.respond_with_data(
                "<html><body><p>Down for maintenance</p></body></html>", content_type="text/html"
            ),
            "an HTML page, not eCFR XML",
        ),
        (lambda h: h.respond_with_data("boom", status=500), "HTTP 500"),
    ],
    ids=["malformed-xml", "html-page", "well-formed-html-page", "http-500"],
)
def test_an_unreadable_part_changes_nothing_stored(httpserver, ecfr_config, respond, fragment):
    serve(httpserver, V1)
    check(ecfr_config)
    documents, cursor = stored(ecfr_config), source_cursor(ecfr_config)
    reset(httpserver)
    httpserver.expect_request(VERSIONS, query_string={"part": "744"}).respond_with_json(
        versions_until(V2)
    )
    respond(httpserver.expect_request(full_path(V2), query_string={"part": "744"}))

    report = check(ecfr_config)

    message = report.errors["ecfr"]
    assert "\n" not in message
    assert message.startswith(f"{httpserver.url_for(full_path(V2))}?part=744: ")
    assert fragment in message
    assert report.found == []
    assert stored(ecfr_config) == documents
    assert source_cursor(ecfr_config) == cursor
    assert events(ecfr_config) == []


@pytest.mark.parametrize(
    ("respond", "fragment"),
    [
        (
            lambda h: h.respond_with_data("<html><body>maintenance</body></html>"),
            "not JSON",
        ),
        (lambda h: h.respond_with_data('{"content_versions": [{"ide'), "truncated JSON"),
        (lambda h: h.respond_with_json({"meta": {}}), "no 'content_versions' list"),
        (
            lambda h: h.respond_with_json({"error": "Part not found"}),
            "the API answered with errors",
        ),
        (lambda h: h.respond_with_json(["not", "an", "answer"]), "a JSON list"),
        (lambda h: h.respond_with_data("boom", status=500), "HTTP 500"),
    ],
    ids=["html", "truncated", "no-list", "api-error", "list", "http-500"],
)
def test_an_unreadable_versions_list_is_a_one_line_error(httpserver, respond, fragment):
    respond(httpserver.expect_request(VERSIONS, query_string={"part": "744"}))
    url = f"{httpserver.url_for(VERSIONS)}?part=744"
    fails_with(options(httpserver), url, fragment)
    assert paths(httpserver) == [f"{VERSIONS}?part=744"]


def test_a_failing_part_stores_nothing_of_the_others(httpserver, write_config, tmp_path):
    serve(httpserver, V1)
    httpserver.expect_request(VERSIONS, query_string={"part": "746"}).respond_with_data(
        "boom", status=500
    )
    config = load_config(
        write_config(
            f"""
            data_dir: {tmp_path / "state"}
            sources:
              - {{name: ecfr, kind: ecfr, base_url: "{httpserver.url_for(API)}",
                  parts: [744, 746], retries: 0, backoff: 0}}
            """
        )
    )

    report = check(config)

    assert report.errors["ecfr"].startswith(f"{httpserver.url_for(VERSIONS)}?part=746: HTTP 500")
    assert f"{full_path(V1)}?part=744" in paths(httpserver)  # part 744 was read...
    assert stored(config) == {}  # ...and not stored, so the next poll retries it all
    assert source_cursor(config) == {}


def test_entities_declared_in_a_doctype_are_not_resolved(httpserver, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-FILE-CONTENT", encoding="utf-8")
    remote = httpserver.url_for("/entity")
    httpserver.expect_request("/entity").respond_with_data("REMOTE-ENTITY-CONTENT")
    hostile = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE DIV5 [
<!ENTITY leak SYSTEM "{secret.as_uri()}">
<!ENTITY remote SYSTEM "{remote}">
<!ENTITY word "EXPANDED-INTERNAL-ENTITY">
]>
<DIV5 N="744" TYPE="PART"><HEAD>PART 744&#x2014;TEST</HEAD>
<DIV8 N="744.1" TYPE="SECTION"><HEAD>&#xA7; 744.1 Test heading &word; for 744.1.</HEAD>
<P>Before &leak; middle &remote; after &word; end.</P>
</DIV8>
</DIV5>
"""
    httpserver.expect_request(VERSIONS, query_string={"part": "744"}).respond_with_json(
        versions_until(V1)
    )
    httpserver.expect_request(full_path(V1), query_string={"part": "744"}).respond_with_data(
        hostile, content_type="application/xml"
    )

    result = run_poll(options(httpserver))

    (document,) = result.documents
    assert document.text == "Before middle after end."
    assert document.title == "§ 744.1 Test heading for 744.1."
    dumped = json.dumps([d.model_dump(mode="json") for d in result.documents])
    for leaked in ("TOP-SECRET-FILE-CONTENT", "REMOTE-ENTITY-CONTENT", "EXPANDED-INTERNAL"):
        assert leaked not in dumped
    assert not [p for p in paths(httpserver) if p.startswith("/entity")]


# --- the XML's shapes ---------------------------------------------------------------


def test_sections_are_found_in_subparts_and_subject_groups_of_the_part_only():
    xml = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<DLPSTEXTCLASS><TEXT><BODY><ECFRBRWS><DIV1 N="1" TYPE="TITLE">
<DIV5 N="744" TYPE="PART"><HEAD>PART 744</HEAD>
<DIV6 N="A" TYPE="SUBPART"><HEAD>Subpart A</HEAD>
<DIV7 N="G1" TYPE="SUBJGRP"><HEAD>Test group</HEAD>
<DIV8 N="\xa7 744.6" TYPE="SECTION"><HEAD>\xa7 744.6   Test heading.</HEAD>
<P>Test paragraph for 744.6.</P><NOTE><HED>Note:</HED><P>Test note.</P></NOTE></DIV8>
</DIV7>
<DIV8 N="744.7" TYPE="SECTION"><HEAD>\xa7 744.7 [Reserved]</HEAD></DIV8>
</DIV6>
<DIV9 N="Appendix A to Part 744" TYPE="APPENDIX"><HEAD>Appendix A to Part 744</HEAD>
<P>Test appendix paragraph.</P></DIV9>
</DIV5>
<DIV5 N="746" TYPE="PART"><DIV8 N="746.1" TYPE="SECTION"><HEAD>\xa7 746.1 X.</HEAD>
<P>Another part.</P></DIV8></DIV5>
</DIV1></ECFRBRWS></BODY></TEXT></DLPSTEXTCLASS>
"""
    documents, notes = parse_part(xml, "http://example.test/full", 15, "744", {})

    assert notes == []
    assert [(d.document_number, d.text) for d in documents] == [
        ("15 CFR 744.6", "Test paragraph for 744.6.\nNote:\nTest note."),
        ("15 CFR 744.7", None),
        ("15 CFR 744 App. A", "Test appendix paragraph."),
    ]
    assert documents[1].title == "§ 744.7 [Reserved]"


def test_xml_of_another_vocabulary_is_refused():
    with pytest.raises(FetchError) as info:
        parse_part(b"<rss><channel/></rss>", "http://example.test/full?part=744", 15, "744", {})
    assert str(info.value) == "http://example.test/full?part=744: not eCFR XML (root element <rss>)"


# --- dates and the cursor ------------------------------------------------------------


def test_a_paged_versions_list_is_read_to_its_last_page(httpserver):
    everything = versions_until(V2)
    first = copy.deepcopy(everything)
    first["content_versions"] = [e for e in everything["content_versions"] if e["date"] <= V1]
    first["meta"]["total_pages"] = "2"
    second = {"content_versions": [e for e in everything["content_versions"] if e["date"] > V1]}
    second["meta"] = first["meta"]

    def handler(request: Request) -> Response:
        page = second if request.args.get("page") == "2" else first
        return Response(json.dumps(page), content_type="application/json")

    httpserver.expect_request(VERSIONS).respond_with_handler(handler)
    httpserver.expect_request(full_path(V2), query_string={"part": "744"}).respond_with_data(
        part_xml(V2), content_type="application/xml"
    )

    result = run_poll(options(httpserver))

    assert paths(httpserver) == [
        f"{VERSIONS}?part=744",
        f"{VERSIONS}?part=744&page=2",
        f"{full_path(V2)}?part=744",
    ]
    assert result.cursor["parts"] == {"744": V2}
    assert len(result.documents) == 5


def test_more_pages_than_max_pages_is_an_error(httpserver):
    answer = versions_until(V1)
    answer["meta"]["total_pages"] = "3"
    httpserver.expect_request(VERSIONS).respond_with_json(answer)
    url = f"{httpserver.url_for(VERSIONS)}?part=744"
    fails_with(options(httpserver, max_pages=2), url, "more than 2 pages")
    assert len(httpserver.log) == 2


def test_a_correction_issued_later_rereads_the_part(httpserver):
    answer = versions_until(V2)
    answer["content_versions"][3]["issue_date"] = "2025-01-20"  # 744.2, dated back to V2
    serve(httpserver, V2, answer)
    cursor = {"parts": {"744": V2}, "issued": {"744": "2025-01-17"}}

    result = run_poll(options(httpserver), cursor)

    assert f"{full_path(V2)}?part=744" in paths(httpserver)
    assert result.baseline == set()
    assert len(result.documents) == 5
    assert result.cursor == {"parts": {"744": V2}, "issued": {"744": "2025-01-20"}}


def test_a_version_dated_after_today_waits_for_its_date(httpserver):
    answer = versions_until(V1)
    future = dict(answer["content_versions"][0], date="2999-01-01", amendment_date="2999-01-01")
    answer["content_versions"].append(future)
    serve(httpserver, V1, answer)

    result = run_poll(options(httpserver))

    assert f"{full_path(V1)}?part=744" in paths(httpserver)
    assert result.cursor["parts"] == {"744": V1}
    (note,) = result.notes
    assert "2999-01-01" in note and "after today" in note


# --- options and registration ---------------------------------------------------------


def test_options_defaults_and_part_numbers():
    opts = EcfrOptions(name="ecfr")
    assert opts.base_url == "https://www.ecfr.gov/api/versioner/v1/"
    assert opts.title == 15
    assert opts.parts == EAR_PARTS
    assert {"730", "744", "774"} <= set(opts.parts) and "731" not in opts.parts
    assert EcfrOptions(name="e", parts=[744, "746", 744]).parts == ["744", "746"]
    with pytest.raises(ValidationError):
        EcfrOptions(name="e", parts=["74 4"])
    with pytest.raises(ValidationError):
        EcfrOptions(name="e", parts=[])


def test_the_kind_is_registered_and_configurable(ecfr_config):
    load_builtin()
    assert WATCHERS["ecfr"].options is EcfrOptions
    (source,) = ecfr_config.sources
    assert isinstance(source, EcfrOptions)
    assert source.parts == ["744"]


def test_a_second_node_with_the_same_label_is_skipped_with_a_note():
    xml = b"""<DIV5 N="744" TYPE="PART">
<DIV8 N="744.1" TYPE="SECTION"><HEAD>\xc2\xa7 744.1 First.</HEAD><P>One.</P></DIV8>
<DIV8 N="744.1" TYPE="SECTION"><HEAD>\xc2\xa7 744.1 Again.</HEAD><P>Two.</P></DIV8>
</DIV5>"""
    documents, notes = parse_part(xml, "http://example.test/full", 15, "744", {})
    assert [(d.document_number, d.text) for d in documents] == [("15 CFR 744.1", "One.")]
    assert notes == ["http://example.test/full: a second '15 CFR 744.1' skipped"]


def test_a_recorded_folder_serves_as_the_api(tmp_path, write_config):
    """`base_url: file:FOLDER/` ignores the query: entries and parts are filtered here."""
    folder = tmp_path / "recorded"
    (folder / "versions").mkdir(parents=True)
    answer = versions_until(V1)
    other = dict(answer["content_versions"][0], part="746", date=V2, amendment_date=V2)
    answer["content_versions"].append(other)  # another part's newer version: not ours
    (folder / "versions" / "title-15.json").write_text(json.dumps(answer), encoding="utf-8")
    (folder / "full" / V1).mkdir(parents=True)
    (folder / "full" / V1 / "title-15.xml").write_bytes(part_xml(V1))
    config = load_config(
        write_config(
            """
            sources:
              - {name: ecfr, kind: ecfr, base_url: "file:recorded/", parts: [744]}
            """
        )
    )

    result = run_poll(config.sources[0])

    assert [d.document_number for d in result.documents] == LABELS_V1
    assert result.cursor["parts"] == {"744": V1}
