"""The Federal Register watcher and the HTTP seam against a real loopback server.

Every test serves the recorded real API pages (or small pages cut from them)
with pytest-httpserver; nothing here talks to a live site: an autouse fixture
points every proxy variable at a closed loopback port, so a request that
escaped to the live host would fail instead of leaving the machine.
"""

from __future__ import annotations

import copy
import gzip
import json
import socket
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from monitor import store
from monitor.config import load_config
from monitor.http import FetchError, get_json, make_client
from monitor.pipeline import check
from tests import loopback
from tests.conftest import RECORDED
from watchers.federal_register import FIELDS, FederalRegisterOptions, poll

API = "/api/v1/"
DOCS = "/api/v1/documents.json"


def options(server: HTTPServer, **overrides) -> FederalRegisterOptions:
    values = {"name": "fr", "base_url": server.url_for(API), "retries": 0, "backoff": 0}
    return FederalRegisterOptions(**{**values, **overrides})


def run_poll(opts: FederalRegisterOptions, since: date | None = None, cursor: dict | None = None):
    with make_client(opts.base_url, opts.timeout) as client:
        return poll(opts, dict(cursor or {}), client, since)


def small_page(page1: dict, dates: list[str]) -> dict:
    """A one-page result: the first real page-1 record published on each date."""
    first = {}
    for record in page1["results"]:
        first.setdefault(record["publication_date"], record)
    results = [copy.deepcopy(first[day]) for day in dates]
    return {"count": len(results), "total_pages": 1, "next_page_url": None, "results": results}


def fails_with(opts: FederalRegisterOptions, *fragments: str) -> str:
    """Poll, expect a FetchError, and check it is one line naming the endpoint."""
    with pytest.raises(FetchError) as info:
        run_poll(opts, date(2024, 1, 1))
    message = str(info.value)
    assert "\n" not in message
    assert opts.base_url + "documents.json" in message
    for fragment in fragments:
        assert fragment in message
    return message


def requests_to(server: HTTPServer, path: str = DOCS) -> list[Request]:
    return loopback.requests_to(server, path)


# --- pagination and the query -------------------------------------------------------


def serve_recorded(server: HTTPServer) -> None:
    """The real recorded pages: page 1 without `page`, page 2 for `page=2`, else 404."""
    pages = {
        None: (RECORDED / "documents.json").read_bytes(),
        "2": (RECORDED / "documents.page2.json").read_bytes(),
    }

    def handler(request: Request) -> Response:
        body = pages.get(request.args.get("page"))
        if body is None:
            return Response("no such page", status=404)
        return Response(body, content_type="application/json")

    server.expect_request(DOCS).respond_with_handler(handler)


def test_poll_follows_next_page_url_on_the_configured_base(httpserver, page1, page2):
    serve_recorded(httpserver)
    since = date(2024, 1, 10)

    result = run_poll(options(httpserver), since)

    everything = page1["results"] + page2["results"]
    # a record without a publication date is kept: the window cannot say it is older
    wanted = [r["document_number"] for r in everything
              if (r["publication_date"] or "9999") >= "2024-01-10"]  # fmt: skip
    assert [d.document_number for d in result.documents] == wanted
    assert len(wanted) == 508 + 23  # page 1 from 2024-01-10, and page 2's 23 later ones
    assert result.fetched == len(page1["results"]) + len(page2["results"]) == 1064
    assert result.notes == []
    first, second = requests_to(httpserver)
    assert len(httpserver.log) == 2
    assert "page" not in first.args
    # page 2 is asked of our server, with the live next_page_url's query as it stands
    next_url = urlsplit(page1["next_page_url"])
    assert next_url.netloc == "www.federalregister.gov"
    assert sorted(parse_qsl(second.query_string.decode())) == sorted(parse_qsl(next_url.query))
    assert second.args["page"] == "2"
    assert result.cursor == {"last_publication_date": "2026-01-15"}  # newest, from page 2


def test_poll_stops_at_max_pages_with_a_note(httpserver, page1):
    serve_recorded(httpserver)

    result = run_poll(options(httpserver, max_pages=1), date(2024, 1, 1))

    assert len(httpserver.log) == 1
    assert result.fetched == len(page1["results"])
    assert result.notes == [f"{httpserver.url_for(DOCS)}: stopped after max_pages=1"]


def test_request_carries_the_conditions(httpserver, page1):
    httpserver.expect_request(DOCS).respond_with_json(small_page(page1, ["2024-01-02"]))
    opts = options(
        httpserver, per_page=25, order="oldest", types=["RULE", "NOTICE"],
        term="entity list", cfr={"title": 15, "part": "744"},
    )  # fmt: skip

    run_poll(opts, date(2024, 1, 2))

    (request,) = requests_to(httpserver)
    args = request.args
    assert args.getlist("conditions[agencies][]") == ["industry-and-security-bureau"]
    assert args["conditions[publication_date][gte]"] == "2024-01-02"
    assert args["per_page"] == "25"
    assert args["order"] == "oldest"
    assert args.getlist("conditions[type][]") == ["RULE", "NOTICE"]
    assert args["conditions[term]"] == "entity list"
    assert args["conditions[cfr][title]"] == "15"
    assert args["conditions[cfr][part]"] == "744"
    assert args.getlist("fields[]") == FIELDS


def test_default_query_is_bis_newest_first(httpserver, page1):
    httpserver.expect_request(DOCS).respond_with_json(small_page(page1, ["2024-01-02"]))

    run_poll(options(httpserver), date(2024, 1, 2))

    (request,) = requests_to(httpserver)
    assert request.args.getlist("conditions[agencies][]") == ["industry-and-security-bureau"]
    assert request.args["per_page"] == "100"
    assert request.args["order"] == "newest"
    assert "conditions[term]" not in request.args
    assert "conditions[type][]" not in request.args


@pytest.mark.parametrize(
    ("cursor", "configured", "expected_gte"),
    [
        ({}, "2024-01-05", "2024-01-05"),  # first run: the configured window
        ({"last_publication_date": "2024-01-15"}, "2016-01-01", "2024-01-12"),  # cursor - 3d
    ],
)
def test_since_comes_from_config_then_cursor_minus_overlap(
    httpserver, page1, cursor, configured, expected_gte
):
    httpserver.expect_request(DOCS).respond_with_json(small_page(page1, ["2024-01-16"]))

    result = run_poll(options(httpserver, since=configured), cursor=cursor)

    (request,) = requests_to(httpserver)
    assert request.args["conditions[publication_date][gte]"] == expected_gte
    assert result.cursor["last_publication_date"] == "2024-01-16"


# --- the since window ---------------------------------------------------------------


def test_documents_before_since_are_dropped_client_side(httpserver, page1):
    dates = ["2024-01-02", "2024-01-05", "2024-01-10", "2024-01-17", "2024-01-08"]
    page = small_page(page1, dates)
    httpserver.expect_request(DOCS).respond_with_json(page)  # the server ignores the window

    result = run_poll(options(httpserver), date(2024, 1, 8))

    kept = [r["document_number"] for r in page["results"] if r["publication_date"] >= "2024-01-08"]
    assert len(kept) == 3
    assert [d.document_number for d in result.documents] == kept
    assert all(d.publication_date >= date(2024, 1, 8) for d in result.documents)
    assert result.fetched == 5  # read and validated, then windowed
    assert result.cursor["last_publication_date"] == "2024-01-17"


def test_cursor_never_moves_back(httpserver, page1):
    httpserver.expect_request(DOCS).respond_with_json(small_page(page1, ["2024-01-10"]))

    result = run_poll(
        options(httpserver), date(2024, 1, 1), cursor={"last_publication_date": "2024-03-01"}
    )

    assert len(result.documents) == 1
    assert result.cursor["last_publication_date"] == "2024-03-01"


# --- errors: one line, naming the URL -------------------------------------------------


def test_html_body_is_not_json(httpserver):
    httpserver.expect_request(DOCS).respond_with_data(
        "<!DOCTYPE html>\n<html><body>Service Unavailable</body></html>", content_type="text/html"
    )
    fails_with(options(httpserver), "not JSON", "<!DOCTYPE html>")


def test_truncated_json_body(httpserver, page1):
    body = json.dumps(small_page(page1, ["2024-01-02", "2024-01-03"])).encode()
    httpserver.expect_request(DOCS).respond_with_data(
        body[: len(body) // 2], content_type="application/json"
    )
    fails_with(options(httpserver), "truncated JSON")


def test_body_cut_short_on_the_wire(httpserver, page1):
    body = json.dumps(small_page(page1, ["2024-01-02"])).encode()

    def handler(request: Request) -> Response:
        response = Response(body[:200], content_type="application/json")
        response.headers["Content-Length"] = str(len(body))  # promises more than it sends
        return response

    httpserver.expect_request(DOCS).respond_with_handler(handler)
    fails_with(options(httpserver), "body cut short")


def test_http_500_without_retries(httpserver):
    httpserver.expect_request(DOCS).respond_with_data("boom", status=500)
    fails_with(options(httpserver, retries=0), "HTTP 500")
    assert len(requests_to(httpserver)) == 1


def test_http_500_is_retried_then_reported(httpserver):
    httpserver.expect_request(DOCS).respond_with_data("boom", status=500)
    fails_with(options(httpserver, retries=2, backoff=0), "HTTP 500")
    assert len(requests_to(httpserver)) == 3


def test_http_404_is_not_retried(httpserver):
    httpserver.expect_request(DOCS).respond_with_data("gone", status=404)
    fails_with(options(httpserver, retries=2, backoff=0), "HTTP 404")
    assert len(requests_to(httpserver)) == 1


@pytest.mark.parametrize(
    "retry_after",
    ["0", format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)],
    ids=["seconds", "http-date-in-the-past"],
)
def test_429_honours_retry_after_then_succeeds(httpserver, page1, retry_after):
    httpserver.expect_oneshot_request(DOCS).respond_with_data(
        "slow down", status=429, headers={"Retry-After": retry_after}
    )
    httpserver.expect_request(DOCS).respond_with_json(small_page(page1, ["2024-01-05"]))
    # a backoff of 10 s would blow the time budget: only Retry-After keeps it short
    opts = options(httpserver, retries=1, backoff=10)

    started = time.monotonic()
    result = run_poll(opts, date(2024, 1, 1))

    assert time.monotonic() - started < 5
    assert [d.publication_date for d in result.documents] == [date(2024, 1, 5)]
    statuses = [response.status_code for _, response in httpserver.log]
    assert statuses == [429, 200]


def test_body_over_max_bytes_by_content_length(httpserver, page1):
    page = small_page(page1, ["2024-01-02", "2024-01-03", "2024-01-04"])
    httpserver.expect_request(DOCS).respond_with_json(page)
    fails_with(options(httpserver, max_bytes=1000), "exceeds the 1000-byte limit")


def test_body_over_max_bytes_while_streaming(httpserver):
    def handler(request: Request) -> Response:
        chunks = (b" " * 65536 for _ in range(64))  # 4 MiB with no Content-Length
        return Response(chunks, content_type="application/json")

    httpserver.expect_request(DOCS).respond_with_handler(handler)
    message = fails_with(options(httpserver, max_bytes=100_000), "exceeds the 100000-byte limit")
    assert "body exceeds" in message  # found while reading, not from a header


@pytest.mark.parametrize(
    "body",
    [[{"document_number": "2024-00001"}], {"results": "none"}, "a string", {"status": "ok"}],
    ids=["list", "results-not-a-list", "string", "object-without-results-or-count"],
)
def test_json_that_is_not_a_documents_page(httpserver, body):
    httpserver.expect_request(DOCS).respond_with_json(body)
    fails_with(options(httpserver), "not a documents.json page")


def test_api_errors_body_is_reported(httpserver):
    body = {"errors": {"conditions": ["publication_date is not a valid date"]}}
    httpserver.expect_request(DOCS).respond_with_json(body, status=200)
    fails_with(options(httpserver), "the API answered with errors")


def test_empty_answer_without_results_is_an_empty_page(httpserver):
    httpserver.expect_request(DOCS).respond_with_json({"count": 0, "description": "none"})
    result = run_poll(options(httpserver), date(2024, 1, 1))
    assert result.documents == [] and result.fetched == 0


def test_error_on_page_2_names_page_2(httpserver, page1):
    first = small_page(page1, ["2024-01-02"])
    first["next_page_url"] = "https://www.federalregister.gov/api/v1/documents?page=2&per_page=1"

    def handler(request: Request) -> Response:
        if request.args.get("page") == "2":
            return Response("<html>oops</html>", status=200, content_type="text/html")
        return Response(json.dumps(first), content_type="application/json")

    httpserver.expect_request(DOCS).respond_with_handler(handler)
    with pytest.raises(FetchError) as info:
        run_poll(options(httpserver), date(2024, 1, 1))
    assert str(info.value).startswith(httpserver.url_for(DOCS) + "?page=2")
    assert "not JSON" in str(info.value)


def test_timeout_is_reported_after_every_attempt():
    with socket.socket() as listener:  # accepts connections into the backlog, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        base = f"http://127.0.0.1:{listener.getsockname()[1]}{API}"
        opts = FederalRegisterOptions(name="fr", base_url=base, retries=1, backoff=0, timeout=0.2)
        with pytest.raises(FetchError) as info:
            run_poll(opts, date(2024, 1, 1))
    assert (
        str(info.value) == f"{base}documents.json: timed out (the 0.2 s deadline) after 2 attempts"
    )


def test_not_a_page_error_redacts_credentials(httpserver):
    httpserver.expect_request(DOCS).respond_with_json(["not", "a", "page"])
    port = urlsplit(httpserver.url_for("/")).port
    opts = options(httpserver, base_url=f"http://reader:s3cret-pass@localhost:{port}{API}")

    with pytest.raises(FetchError) as info:
        run_poll(opts, date(2024, 1, 1))

    assert "not a documents.json page" in str(info.value)
    assert "s3cret-pass" not in str(info.value)


def test_http_errors_redact_credentials(httpserver):
    httpserver.expect_request(DOCS).respond_with_data("boom", status=500)
    port = urlsplit(httpserver.url_for("/")).port
    opts = options(httpserver, base_url=f"http://reader:s3cret-pass@localhost:{port}{API}")

    with pytest.raises(FetchError) as info:
        run_poll(opts, date(2024, 1, 1))

    assert str(info.value).startswith(f"http://reader:***@localhost:{port}{DOCS}: HTTP 500")
    # the credentials were still sent, as basic auth
    assert requests_to(httpserver)[0].authorization.username == "reader"


def test_get_json_parses_a_real_page_over_http(httpserver, page2):
    httpserver.expect_request("/page.json").respond_with_data(
        (RECORDED / "documents.page2.json").read_bytes(), content_type="application/json"
    )
    with make_client(httpserver.url_for("/"), 5) as client:
        assert get_json(client, httpserver.url_for("/page.json"), retries=0) == page2
    (request,) = requests_to(httpserver, "/page.json")
    assert request.headers["User-Agent"].startswith("regmonitor/")
    assert request.headers["Accept"].startswith("application/json")


# --- records that fail validation -------------------------------------------------------


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (lambda r: r.pop("document_number"), "document_number"),
        (lambda r: r.update(publication_date="sometime in January"), "publication_date"),
        (lambda r: r.update(cfr_references=[{"title": "fifteen"}]), "cfr_references.0.title"),
    ],
    ids=["no-document-number", "bad-date", "bad-cfr"],
)
def test_invalid_record_is_skipped_with_a_note(httpserver, page1, spoil, field):
    page = small_page(page1, ["2024-01-02", "2024-01-03", "2024-01-04"])
    numbers = [r["document_number"] for r in page["results"]]
    spoil(page["results"][1])
    httpserver.expect_request(DOCS).respond_with_json(page)

    result = run_poll(options(httpserver), date(2024, 1, 1))

    assert [d.document_number for d in result.documents] == [numbers[0], numbers[2]]
    assert result.fetched == 2
    (note,) = result.notes
    assert note.startswith(f"{httpserver.url_for(DOCS)}: results[1] ")
    assert f"skipped: {field}: " in note
    assert "\n" not in note


def test_non_object_record_is_skipped(httpserver, page1):
    page = small_page(page1, ["2024-01-02", "2024-01-03"])
    page["results"].insert(1, None)
    httpserver.expect_request(DOCS).respond_with_json(page)

    result = run_poll(options(httpserver), date(2024, 1, 1))

    assert len(result.documents) == 2
    (note,) = result.notes
    assert "results[1] (?) skipped" in note


# --- through the whole pipeline ---------------------------------------------------------


@pytest.fixture
def fr_config(httpserver, write_config, tmp_path: Path):
    path = write_config(
        f"""
        data_dir: {tmp_path / "state"}
        sources:
          - name: fr
            kind: federal_register
            base_url: {httpserver.url_for(API)}
            since: 2024-01-01
            retries: 0
            backoff: 0
        """
    )
    return load_config(path)


def db_state(config) -> tuple[int, store.SourceRow]:
    db = store.open_store(config.database_url)
    with db.session() as session:
        documents = session.scalar(select(func.count()).select_from(store.DocumentRow))
        return documents, session.get(store.SourceRow, "fr")


@pytest.mark.parametrize(
    ("respond", "fragment"),
    [
        (lambda h: h.respond_with_data("boom", status=500), "HTTP 500"),
        (lambda h: h.respond_with_data("<html>maintenance</html>", content_type="text/html"),
         "not JSON"),
        (lambda h: h.respond_with_data('{"count": 3, "results": [{"docu'), "truncated JSON"),
    ],
    ids=["http-500", "html", "truncated"],
)  # fmt: skip
def test_failed_run_keeps_documents_and_cursor(httpserver, fr_config, page1, respond, fragment):
    page = small_page(page1, ["2024-01-02", "2024-01-05", "2024-01-09", "2024-01-12"])
    httpserver.expect_request(DOCS).respond_with_json(page)

    first = check(fr_config)

    assert first.errors == {}
    assert first.fetched == {"fr": 4}
    documents, source = db_state(fr_config)
    assert documents == 4
    assert source.cursor == {"last_publication_date": "2024-01-12"}
    assert source.consecutive_failures == 0
    succeeded_at = source.last_success_at

    httpserver.clear()  # the site goes bad
    respond(httpserver.expect_request(DOCS))

    second = check(fr_config)

    error = second.errors["fr"]
    assert "\n" not in error
    assert error.startswith(httpserver.url_for(DOCS) + ": ")
    assert fragment in error
    assert second.found == []
    (request,) = requests_to(httpserver)  # asked from the cursor, less the overlap
    assert request.args["conditions[publication_date][gte]"] == "2024-01-09"
    documents, source = db_state(fr_config)
    assert documents == 4
    assert source.last_error == error
    assert source.consecutive_failures == 1
    assert source.cursor == {"last_publication_date": "2024-01-12"}
    assert source.last_success_at == succeeded_at


def test_recovery_resets_the_failure_count(httpserver, fr_config, page1):
    httpserver.expect_request(DOCS).respond_with_data("boom", status=503)
    failed = check(fr_config)
    assert "HTTP 503" in failed.errors["fr"]
    assert db_state(fr_config)[1].consecutive_failures == 1

    httpserver.clear()
    httpserver.expect_request(DOCS).respond_with_json(small_page(page1, ["2024-01-03"]))
    recovered = check(fr_config)

    assert recovered.errors == {}
    documents, source = db_state(fr_config)
    assert documents == 1
    assert source.consecutive_failures == 0
    assert source.cursor == {"last_publication_date": "2024-01-03"}


def test_unchanged_poll_is_one_304_and_stores_nothing(httpserver, write_config, page1):
    """ETag: once the window is steady, polling the same query is a conditional GET."""
    body = json.dumps(small_page(page1, ["2024-01-10", "2024-01-12"]))
    etag = '"fr-page-v1"'
    answered: list[int] = []

    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            answered.append(304)
            return Response(status=304, headers={"ETag": etag})
        answered.append(200)
        return Response(body, content_type="application/json", headers={"ETag": etag})

    httpserver.expect_request(DOCS).respond_with_handler(handler)
    config = load_config(
        write_config(
            f"""
            data_dir: state
            sources:
              - {{name: fr, kind: federal_register, base_url: "{httpserver.url_for(API)}",
                 since: 2024-01-10, overlap_days: 0, retries: 0}}
            """
        )
    )
    reports = [check(config) for _ in range(3)]
    assert [len(r.found) for r in reports] == [2, 0, 0]
    assert all(r.errors == {} for r in reports)
    # 1st: the configured window; 2nd: the window moved to the newest date (a new
    # query, so unconditional); 3rd: the same query again, answered 304
    assert answered == [200, 200, 304]
    sent = requests_to(httpserver)
    assert "If-None-Match" not in sent[1].headers
    assert sent[2].headers["If-None-Match"] == etag
    since = [dict(parse_qsl(urlsplit(r.url).query))["conditions[publication_date][gte]"]
             for r in sent]  # fmt: skip
    assert since == ["2024-01-10", "2024-01-12", "2024-01-12"]


def test_redirect_loop_is_one_line_error(httpserver):
    httpserver.expect_request(DOCS).respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for(DOCS)}
    )
    fails_with(options(httpserver), "redirect loop")


def test_gzip_body_is_decoded(httpserver, page1):
    body = gzip.compress(json.dumps(small_page(page1, ["2024-01-10"])).encode())
    httpserver.expect_request(DOCS).respond_with_data(
        body, content_type="application/json", headers={"Content-Encoding": "gzip"}
    )
    result = run_poll(options(httpserver), date(2024, 1, 1))
    assert [d.publication_date for d in result.documents] == [date(2024, 1, 10)]
    assert "gzip" in requests_to(httpserver)[0].headers["Accept-Encoding"]


def test_a_page_served_as_text_plain_is_still_read(httpserver, page1):
    body = json.dumps(small_page(page1, ["2024-01-10"]))
    httpserver.expect_request(DOCS).respond_with_data(body, content_type="text/plain")
    assert len(run_poll(options(httpserver), date(2024, 1, 1)).documents) == 1
