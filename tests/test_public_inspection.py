"""The public-inspection watcher against a real loopback HTTP server.

The desk is served from `fixtures/public_inspection/current.json`: a SYNTHETIC
`current.json` in the real API layout whose results describe real documents from
`examples/demo/records/` (see the PROVENANCE.md beside it). Nothing here talks to a
live site: every proxy variable points at a closed loopback port.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request

from monitor import store
from monitor.config import load_config
from monitor.http import FetchError, make_client
from monitor.pipeline import check
from tests import loopback
from tests.conftest import read_outbox, record
from watchers.public_inspection import PublicInspectionOptions, poll

API = "/api/v1/"
CURRENT = "/api/v1/public-inspection-documents/current.json"
DOCS = "/api/v1/documents.json"
FIXTURE = Path(__file__).parent / "fixtures" / "public_inspection" / "current.json"
ALL = ["2024-25445", "2023-28767", "2023-27189", "2024-00190", "2024-00359", "2024-00422"]
BIS = ["2024-25445", "2024-00190", "2024-00359", "2024-00422"]


@pytest.fixture(scope="module")
def desk() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def options(server: HTTPServer, **overrides) -> PublicInspectionOptions:
    # the desk alone: its texts are read in tests/test_inspection_texts.py
    values = {"name": "pi", "base_url": server.url_for(API), "retries": 0, "backoff": 0,
              "texts": []}  # fmt: skip
    return PublicInspectionOptions(**{**values, **overrides})


def run_poll(opts: PublicInspectionOptions, cursor: dict | None = None):
    with make_client(opts.base_url, opts.timeout) as client:
        return poll(opts, dict(cursor or {}), client, None)


def numbers(result) -> list[str]:
    return [d.document_number for d in result.documents]


def requests_to(server: HTTPServer, path: str = CURRENT) -> list[Request]:
    return loopback.requests_to(server, path)


def fails_with(opts: PublicInspectionOptions, *fragments: str) -> str:
    """Poll, expect a FetchError, and check it is one line naming the endpoint."""
    with pytest.raises(FetchError) as info:
        run_poll(opts)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(opts.base_url + "public-inspection-documents/current.json: ")
    for fragment in fragments:
        assert fragment in message
    return message


# --- the request ------------------------------------------------------------------------


@pytest.mark.parametrize("base", [API, API.rstrip("/")], ids=["slash", "no-slash"])
def test_request_path_and_default_agency_condition(httpserver, desk, base):
    httpserver.expect_request(CURRENT).respond_with_json(desk)

    run_poll(options(httpserver, base_url=httpserver.url_for(base)))

    (request,) = requests_to(httpserver)
    assert len(httpserver.log) == 1
    assert request.args.getlist("conditions[agencies][]") == ["industry-and-security-bureau"]
    assert set(request.args) == {"conditions[agencies][]"}


def test_every_configured_agency_is_sent(httpserver, desk):
    httpserver.expect_request(CURRENT).respond_with_json(desk)
    agencies = ["industry-and-security-bureau", "commerce-department"]

    run_poll(options(httpserver, agencies=agencies))

    (request,) = requests_to(httpserver)
    assert request.args.getlist("conditions[agencies][]") == agencies


# --- mapping -----------------------------------------------------------------------------


def test_results_map_to_documents_keyed_by_fr_number(httpserver, desk):
    httpserver.expect_request(CURRENT).respond_with_json(desk)

    result = run_poll(options(httpserver, agencies=[]))

    assert numbers(result) == ALL
    assert result.fetched == 6 and result.notes == []
    for doc, raw in zip(result.documents, desk["results"], strict=True):
        real = record(doc.document_number)
        assert doc.key == f"fr:{real['document_number']}"
        assert raw["title"] != real["title"]  # the desk pads its titles...
        assert doc.title == real["title"]  # ...the document does not
        assert doc.publication_date == date.fromisoformat(real["publication_date"])  # scheduled
        assert [(a.name, a.slug) for a in doc.agencies] == [
            (a["name"], a["slug"]) for a in real["agencies"]
        ]
        assert doc.type == real["type"]
        assert doc.filing_type == raw["filing_type"]
        assert doc.filed_at == datetime.fromisoformat(raw["filed_at"])
        assert doc.filed_at.utcoffset().total_seconds() == 0  # stored in UTC
        assert doc.on_public_inspection and doc.citation is None
        # the desk's own links are not the published ones: the short link stands in
        assert doc.html_url is None
        assert doc.url == f"https://www.federalregister.gov/d/{doc.document_number}"
        # the inspection PDF is named as the documents API names it
        assert doc.public_inspection_pdf_url == real.get("public_inspection_pdf_url")


def test_special_filing_and_its_time(httpserver, desk):
    httpserver.expect_request(CURRENT).respond_with_json(desk)

    special = run_poll(options(httpserver)).documents[0]

    assert special.document_number == "2024-25445"
    assert special.filing_type == "special"
    assert special.filed_at == datetime(2024, 10, 31, 20, 15, tzinfo=UTC)  # 4:15 pm EDT
    assert special.publication_date == date(2024, 11, 1)


# --- filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agencies", "expected"),
    [
        (None, BIS),  # the default: BIS
        (["commerce-department"], ["2024-25445", "2023-27189", *BIS[1:]]),
        (["commodity-futures-trading-commission"], ["2023-28767"]),
        (["no-such-agency"], []),
        ([], ALL),  # no filter
    ],
    ids=["default", "commerce", "cftc", "unknown", "all"],
)
def test_agency_filter_is_applied_here(httpserver, desk, agencies, expected):
    httpserver.expect_request(CURRENT).respond_with_json(desk)  # ignores the condition
    overrides = {} if agencies is None else {"agencies": agencies}

    result = run_poll(options(httpserver, **overrides))

    assert numbers(result) == expected
    assert result.fetched == 6  # every entry read and validated, then filtered


@pytest.mark.parametrize(
    ("agencies", "expected"),
    [(None, ["2024-25445"]), (["commodity-futures-trading-commission"], []), ([], ["2024-25445"])],
    ids=["bis", "cftc", "all"],
)
def test_special_only(httpserver, desk, agencies, expected):
    httpserver.expect_request(CURRENT).respond_with_json(desk)
    overrides = {} if agencies is None else {"agencies": agencies}

    result = run_poll(options(httpserver, special_only=True, **overrides))

    assert numbers(result) == expected
    assert all(d.filing_type == "special" for d in result.documents)


# --- the cursor --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "cursor", "expected"),
    [
        ({}, {}, "2024-10-31T20:15:00+00:00"),
        ({"agencies": ["commodity-futures-trading-commission"]}, {}, "2024-01-02T13:45:00+00:00"),
        ({}, {"last_filed_at": "2025-01-10T21:15:00+00:00"}, "2025-01-10T21:15:00+00:00"),
        ({"agencies": ["no-such-agency"]}, {}, None),
    ],
    ids=["newest-kept", "cftc", "never-back", "nothing-kept"],
)
def test_cursor_is_the_newest_filed_at(httpserver, desk, overrides, cursor, expected):
    httpserver.expect_request(CURRENT).respond_with_json(desk)

    result = run_poll(options(httpserver, **overrides), cursor)

    assert result.cursor.get("last_filed_at") == expected


# --- errors: one line, naming the URL ------------------------------------------------------


def test_html_served_with_200(httpserver):
    httpserver.expect_request(CURRENT).respond_with_data(
        "<!DOCTYPE html>\n<html><body>Public Inspection is unavailable</body></html>",
        content_type="text/html",
    )
    fails_with(options(httpserver), "not JSON", "<!DOCTYPE html>")


def test_truncated_json(httpserver, desk):
    body = json.dumps(desk).encode()
    httpserver.expect_request(CURRENT).respond_with_data(
        body[: len(body) // 2], content_type="application/json"
    )
    fails_with(options(httpserver), "truncated JSON")


def test_http_500_without_retries(httpserver):
    httpserver.expect_request(CURRENT).respond_with_data("boom", status=500)
    fails_with(options(httpserver, retries=0), "HTTP 500")
    assert len(requests_to(httpserver)) == 1


@pytest.mark.parametrize(
    "body",
    [[{"document_number": "2024-00190"}], {"results": "none"}, "a string", {"status": "ok"}],
    ids=["list", "results-not-a-list", "string", "object-without-results-or-count"],
)
def test_json_that_is_not_a_results_page(httpserver, body):
    httpserver.expect_request(CURRENT).respond_with_json(body)
    fails_with(options(httpserver), "not a public-inspection page")


def test_api_errors_body_is_reported(httpserver):
    httpserver.expect_request(CURRENT).respond_with_json({"errors": {"format": ["not json"]}})
    fails_with(options(httpserver), "the API answered with errors", "not json")


def test_errors_redact_credentials(httpserver):
    httpserver.expect_request(CURRENT).respond_with_json(["not", "a", "page"])
    port = urlsplit(httpserver.url_for("/")).port
    opts = options(httpserver, base_url=f"http://reader:s3cret-pass@localhost:{port}{API}")

    with pytest.raises(FetchError) as info:
        run_poll(opts)

    assert str(info.value).startswith(f"http://reader:***@localhost:{port}{CURRENT}: ")
    assert "s3cret-pass" not in str(info.value)


def test_empty_desk(httpserver):
    empty = {"count": 0, "results": []}
    httpserver.expect_request(CURRENT).respond_with_json(empty)
    result = run_poll(options(httpserver), {"last_filed_at": "2024-01-10T13:45:00+00:00"})
    assert result.documents == [] and result.fetched == 0 and result.notes == []
    assert result.cursor == {"last_filed_at": "2024-01-10T13:45:00+00:00"}


# --- results that fail validation ------------------------------------------------------------


@pytest.mark.parametrize(
    ("spoil", "fragment"),
    [
        (lambda r: r.pop("document_number"), "results[3] (?) skipped: document_number: "),
        (lambda r: r.update(document_number="  "), "results[3] (  ) skipped: document_number: "),
        (lambda r: r.update(filed_at="yesterday"), "results[3] (2024-00190) skipped: filed_at: "),
    ],
    ids=["no-document-number", "blank-document-number", "bad-filed-at"],
)
def test_invalid_result_is_skipped_with_a_note(httpserver, desk, spoil, fragment):
    page = copy.deepcopy(desk)
    assert page["results"][3]["document_number"] == "2024-00190"
    spoil(page["results"][3])
    httpserver.expect_request(CURRENT).respond_with_json(page)

    result = run_poll(options(httpserver))

    assert numbers(result) == ["2024-25445", "2024-00359", "2024-00422"]
    assert result.fetched == 5
    (note,) = result.notes
    assert note.startswith(f"{httpserver.url_for(CURRENT)}: {fragment}")
    assert "\n" not in note


def test_unknown_filing_type_is_kept_without_it_and_noted(httpserver, desk):
    page = copy.deepcopy(desk)
    page["results"][3]["filing_type"] = "emergency"
    httpserver.expect_request(CURRENT).respond_with_json(page)

    result = run_poll(options(httpserver))

    assert numbers(result) == BIS
    assert result.documents[1].filing_type is None
    (note,) = result.notes
    assert "results[3] (2024-00190): unknown filing_type 'emergency'" in note


def test_a_document_listed_twice_counts_once_as_its_latest_filing(httpserver, desk):
    page = copy.deepcopy(desk)
    refiled = copy.deepcopy(page["results"][3])
    refiled.update(filed_at="2024-01-08T16:15:00.000-05:00", filing_type="special")
    page["results"].append(refiled)
    httpserver.expect_request(CURRENT).respond_with_json(page)

    result = run_poll(options(httpserver))

    assert numbers(result) == BIS
    again = result.documents[1]
    assert (again.filing_type, again.filed_at) == (
        "special",
        datetime(2024, 1, 8, 21, 15, tzinfo=UTC),
    )


# --- through monitor.yaml and the pipeline ----------------------------------------------------


def write_monitor_yaml(write_config, httpserver, tmp_path: Path, with_fr: bool = False) -> Path:
    fr = f"""
          - name: fr
            kind: federal_register
            base_url: {httpserver.url_for(API)}
            since: 2024-01-01
            retries: 0
            backoff: 0"""
    return write_config(
        f"""
        data_dir: {tmp_path / "state"}
        sources:
          - name: pi
            kind: public_inspection
            base_url: {httpserver.url_for(API)}
            texts: []
            retries: 0
            backoff: 0{fr if with_fr else ""}
        portfolio:  # a made-up customer where the desk's BIS rule applies
          customers: [{{id: volga, name: Volga Compute LLC, country: RU}}]
        channels:
          - name: out
            url: outbox://{tmp_path / "outbox.jsonl"}
            min_severity: low
            immediate: low
        scoring:
          threshold: 20
        """
    )


def document_rows(config) -> list[store.DocumentRow]:
    db = store.open_store(config.database_url)
    with db.session() as session:
        return list(session.scalars(select(store.DocumentRow).order_by(store.DocumentRow.key)))


def test_kind_loads_from_monitor_yaml_and_runs_end_to_end(httpserver, desk, write_config, tmp_path):
    httpserver.expect_request(CURRENT).respond_with_json(desk)
    config = load_config(write_monitor_yaml(write_config, httpserver, tmp_path))

    (source,) = config.sources
    assert isinstance(source, PublicInspectionOptions)
    assert source.agencies == ["industry-and-security-bureau"] and not source.special_only

    report = check(config)

    assert report.errors == {} and report.notes == []
    assert report.fetched == {"pi": 6}
    assert sorted(f.document.document_number for f in report.found) == sorted(BIS)
    assert {f.kind for f in report.found} == {"new_document"}
    rows = document_rows(config)
    assert [r.key for r in rows] == sorted(f"fr:{n}" for n in BIS)
    assert {r.source for r in rows} == {"pi"}
    db = store.open_store(config.database_url)
    with db.session() as session:
        state = session.get(store.SourceRow, "pi")
        assert state.kind == "public_inspection"
        assert state.cursor["last_filed_at"] == "2024-10-31T20:15:00+00:00"
        assert set(state.cursor["on_desk"]) == set(BIS)  # for withdrawals
    # the one relevant document (a BIS rule on Russia, home to the customer) alerts, worded
    # as an inspection copy
    (alert,) = read_outbox(tmp_path / "outbox.jsonl")
    assert "Rule on public inspection, to be published 2024-11-01" in alert["title"]
    assert "2024-10-31 20:15 UTC (special filing)" in alert["body"]
    assert report.sent == 1

    again = check(config)  # the same desk again: nothing new

    assert again.found == [] and again.sent == 0
    assert len(document_rows(config)) == 4


def test_inspection_copy_then_published_copy_is_one_row(httpserver, desk, write_config, tmp_path):
    published = [record("2024-00190"), record("2024-25445")]
    httpserver.expect_request(CURRENT).respond_with_json(desk)
    httpserver.expect_request(DOCS).respond_with_json(
        {"count": 2, "total_pages": 1, "next_page_url": None, "results": published}
    )
    config = load_config(write_monitor_yaml(write_config, httpserver, tmp_path, with_fr=True))

    first = check(config, only=["pi"])
    second = check(config, only=["fr"])

    assert first.errors == {} and second.errors == {}
    assert len(first.found) == 4
    assert second.fetched == {"fr": 2}
    # the published copy only fills in what the inspection copy lacked: no event
    assert second.found == []
    db = store.open_store(config.database_url)
    with db.session() as session:
        for real in published:
            key = f"fr:{real['document_number']}"
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(store.DocumentRow)
                    .where(store.DocumentRow.key == key)
                )
                == 1
            )
            row = session.scalar(select(store.DocumentRow).where(store.DocumentRow.key == key))
            doc = row.document
            assert doc.citation == real["citation"]  # from the published copy
            assert doc.abstract == real["abstract"]
            assert doc.filing_type in ("regular", "special")  # from the inspection copy
            assert doc.filed_at is not None and not doc.on_public_inspection
            assert row.publication_date == real["publication_date"]
            versions = store.document_versions(session, row.id)
            assert [v.source for v in versions] == ["pi", "fr"]
        assert session.scalar(select(func.count()).select_from(store.DocumentRow)) == 4
        assert session.scalar(select(func.count()).select_from(store.EventRow)) == 4
