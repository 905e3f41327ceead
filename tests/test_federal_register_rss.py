"""The Federal Register RSS watcher against a real loopback server.

The feed served is tests/fixtures/fr_rss/documents.rss: a synthetic feed in the
FR's RSS layout whose items are real documents from examples/demo/records/
(see its PROVENANCE.md), or items cut from it. Nothing here talks to a live
site: every proxy variable points at a closed loopback port.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request

from monitor import store
from monitor.config import load_config
from monitor.document import Document
from monitor.http import FetchError, make_client
from monitor.pipeline import check
from tests import loopback
from tests.conftest import ROOT, record
from watchers.federal_register_rss import FederalRegisterRssOptions, poll

API = "/api/v1/"
RSS = "/api/v1/documents.rss"
FIXTURE = ROOT / "tests" / "fixtures" / "fr_rss" / "documents.rss"
FEED = FIXTURE.read_text(encoding="utf-8")
ITEMS = re.findall(r"    <item>\n.*?</item>\n", FEED, flags=re.S)
HEADER = FEED[: FEED.index(ITEMS[0])]
FOOTER = "  </channel>\n</rss>\n"

# The fixture's items, newest first, and their publication dates.
NUMBERS = [
    "2024-00582", "2024-00422", "2024-00359", "2024-00190", "2023-27189", "2023-27019",
    "2023-28767", "2023-28964", "2023-28810", "2023-28822", "2023-28935", "C1-2023-27742",
]  # fmt: skip
DATES = ["2024-01-12", "2024-01-11", "2024-01-10", "2024-01-09", "2024-01-04"]
DATES += ["2024-01-03"] * 3 + ["2024-01-02"] * 4


def options(server: HTTPServer, **overrides) -> FederalRegisterRssOptions:
    values = {"name": "fr-rss", "base_url": server.url_for(API), "retries": 0, "backoff": 0}
    return FederalRegisterRssOptions(**{**values, **overrides})


def run_poll(opts, since: date | None = date(2024, 1, 1), cursor: dict | None = None):
    with make_client(opts.base_url, opts.timeout) as client:
        return poll(opts, dict(cursor or {}), client, since)


def item(number: str) -> str:
    """The fixture's item for one document number."""
    (found,) = [i for i in ITEMS if f"/{number}/" in i]
    return found


def feed(*items: str) -> str:
    return HEADER + "".join(items) + FOOTER


def serve(server: HTTPServer, body: str | bytes, content_type="application/rss+xml") -> None:
    server.expect_request(RSS).respond_with_data(body, content_type=content_type)


def requests_to(server: HTTPServer, path: str = RSS) -> list[Request]:
    return loopback.requests_to(server, path)


def fails_with(opts: FederalRegisterRssOptions, *fragments: str) -> str:
    """Poll, expect a FetchError, and check it is one line naming the feed's URL."""
    with pytest.raises(FetchError) as info:
        run_poll(opts)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(opts.base_url + "documents.rss: ")
    for fragment in fragments:
        assert fragment in message
    return message


# --- the request --------------------------------------------------------------------


def test_request_carries_the_conditions_to_documents_rss(httpserver):
    serve(httpserver, FEED)
    opts = options(
        httpserver, agencies=["industry-and-security-bureau", "commerce-department"],
        types=["RULE", "NOTICE"], term="entity list", cfr={"title": 15, "part": "744"},
        per_page=50, order="oldest",
    )  # fmt: skip

    run_poll(opts, date(2024, 1, 2))

    assert len(httpserver.log) == 1
    (request,) = requests_to(httpserver)
    args = request.args
    assert args.getlist("conditions[agencies][]") == [
        "industry-and-security-bureau", "commerce-department"
    ]  # fmt: skip
    assert args.getlist("conditions[type][]") == ["RULE", "NOTICE"]
    assert args["conditions[term]"] == "entity list"
    assert args["conditions[cfr][title]"] == "15"
    assert args["conditions[cfr][part]"] == "744"
    assert args["conditions[publication_date][gte]"] == "2024-01-02"
    assert args["per_page"] == "50"
    assert args["order"] == "oldest"
    assert "fields[]" not in args  # an RSS item has the fields it has


def test_since_comes_from_the_cursor_less_the_overlap(httpserver):
    serve(httpserver, FEED)

    cursor = {"last_publication_date": "2024-01-10"}

    result = run_poll(options(httpserver), since=None, cursor=cursor)

    (request,) = requests_to(httpserver)
    assert request.args["conditions[publication_date][gte]"] == "2024-01-07"
    assert [d.document_number for d in result.documents] == NUMBERS[:4]  # windowed here too
    assert result.cursor == {"last_publication_date": "2024-01-12"}


# --- items to documents -------------------------------------------------------------


def test_items_map_to_documents(httpserver):
    serve(httpserver, FEED)

    result = run_poll(options(httpserver))

    documents = result.documents
    assert [d.document_number for d in documents] == NUMBERS
    assert [d.key for d in documents] == [f"fr:{n}" for n in NUMBERS]
    assert [d.publication_date.isoformat() for d in documents] == DATES
    assert result.fetched == 12
    assert result.notes == []
    assert result.cursor == {"last_publication_date": "2024-01-12"}
    pecsea = documents[3]
    assert pecsea.title == (
        "Notice of Reestablishment of the President's Export Council Subcommittee on Export "
        "Administration and Solicitation of Nominations for Membership"
    )
    # the description is the abstract HTML-escaped once more: decoded to text
    assert "reestablishment of the President's Export Council" in pecsea.abstract
    assert "&" not in pecsea.abstract
    assert pecsea.html_url == (
        "https://www.federalregister.gov/documents/2024/01/09/2024-00190/"
        "notice-of-reestablishment-of-the-presidents-export-council-subcommittee-on-export-"
        "administration-and"
    )
    assert [(a.name, a.slug) for a in pecsea.agencies] == [
        ("Commerce Department", "commerce-department"),
        ("Industry and Security Bureau", "industry-and-security-bureau"),
    ]
    assert documents[0].abstract is None  # an empty description
    # <category> holds topics, not agencies
    marine = documents[4]
    assert "<category>Marine mammals</category>" in item(marine.document_number)
    assert marine.agency_names == [
        "Commerce Department", "National Oceanic and Atmospheric Administration"
    ]  # fmt: skip


def test_an_item_has_the_key_and_fields_of_the_api_record(httpserver):
    serve(httpserver, FEED)

    result = run_poll(options(httpserver))

    for document in result.documents:
        api = Document.model_validate(record(document.document_number))
        assert document.key == api.key
        assert document.title == api.title
        assert document.abstract == api.abstract
        assert document.publication_date == api.publication_date
        assert document.html_url == api.html_url
        assert document.agencies == api.agencies


@pytest.mark.parametrize(
    ("pub_date", "expected"),
    [
        ("Fri, 12 Jan 2024 05:00:00 GMT", "2024-01-12"),  # midnight in Washington, the FR's form
        ("Sat, 13 Jan 2024 02:30:00 GMT", "2024-01-12"),  # 21:30 on the 12th in Washington
        ("Fri, 12 Jan 2024 21:30:00 -0500", "2024-01-12"),  # the same instant, stated in EST
        ("Mon, 01 Jul 2024 03:30:00 GMT", "2024-06-30"),  # 23:30 EDT
        ("Mon, 01 Jul 2024 04:30:00 GMT", "2024-07-01"),  # 00:30 EDT (UTC-4, not -5)
    ],
)
def test_pubdate_is_read_as_a_us_eastern_date(httpserver, pub_date, expected):
    # a /d/ link names no date: the date can only come from pubDate
    one = re.sub(r"<pubDate>[^<]*</pubDate>", f"<pubDate>{pub_date}</pubDate>", item("2024-00582"))
    one = re.sub(r"https://www\.federalregister\.gov/documents/[^<]*",
                 "https://www.federalregister.gov/d/2024-00582", one)  # fmt: skip
    serve(httpserver, feed(one))

    result = run_poll(options(httpserver))

    (document,) = result.documents
    assert document.document_number == "2024-00582"
    assert document.html_url == "https://www.federalregister.gov/d/2024-00582"
    assert document.publication_date == date.fromisoformat(expected)
    assert result.cursor == {"last_publication_date": expected}


def test_without_a_pubdate_the_date_comes_from_the_documents_link(httpserver):
    one = re.sub(r"\s*<pubDate>[^<]*</pubDate>", "", item("2024-00190"))
    serve(httpserver, feed(one))

    (document,) = run_poll(options(httpserver)).documents

    assert "pubDate" not in one
    assert document.publication_date == date(2024, 1, 9)  # /documents/2024/01/09/2024-00190/


def test_item_without_a_number_is_skipped_with_a_note(httpserver):
    stray = (
        "    <item>\n      <title>Using the Federal Register</title>\n"
        "      <link>https://www.federalregister.gov/reader-aids/using-federalregister-gov</link>\n"
        "      <pubDate>Thu, 11 Jan 2024 05:00:00 GMT</pubDate>\n    </item>\n"
    )
    serve(httpserver, feed(item("2024-00582"), stray, item("2024-00422")))

    result = run_poll(options(httpserver))

    assert [d.document_number for d in result.documents] == ["2024-00582", "2024-00422"]
    assert result.fetched == 2
    (note,) = result.notes
    assert note == (
        f"{httpserver.url_for(RSS)}: item 1 ('Using the Federal Register') skipped: "
        "no FR document number in its link or guid"
    )


def test_guid_gives_the_number_when_the_link_does_not(httpserver):
    one = item("2024-00422").replace(
        "<link>https://www.federalregister.gov/documents/2024/01/11/2024-00422/",
        "<link>https://www.federalregister.gov/public-inspection/2024/01/10/",
    )
    serve(httpserver, feed(one))

    (document,) = run_poll(options(httpserver)).documents

    assert document.key == "fr:2024-00422"


def test_documents_before_since_are_dropped_and_the_cursor_never_moves_back(httpserver):
    serve(httpserver, FEED)  # the server ignores the window

    result = run_poll(
        options(httpserver), date(2024, 1, 4), cursor={"last_publication_date": "2024-03-01"}
    )

    assert [d.document_number for d in result.documents] == NUMBERS[:5]
    assert result.fetched == 12
    assert result.cursor == {"last_publication_date": "2024-03-01"}


def test_a_feed_as_long_as_per_page_says_some_may_be_missing(httpserver):
    serve(httpserver, FEED)

    result = run_poll(options(httpserver, per_page=12))

    assert len(result.documents) == 12
    (note,) = result.notes
    assert note.startswith(f"{httpserver.url_for(RSS)}: the feed holds 12 items, the per_page")


def test_a_valid_feed_without_items_is_no_documents(httpserver):
    serve(httpserver, feed())

    result = run_poll(options(httpserver), date(2024, 1, 5))

    assert result.documents == [] and result.fetched == 0 and result.notes == []
    assert result.cursor == {"last_publication_date": "2024-01-05"}
    assert len(requests_to(httpserver)) == 1


# --- a feed that is not one -----------------------------------------------------------


def test_html_served_with_200_is_an_error_naming_the_url(httpserver):
    serve(
        httpserver,
        "<!DOCTYPE html>\n<html><head><title>Federal Register :: Maintenance</title></head>"
        "<body><p>We will be back shortly.</p></body></html>",
        content_type="text/html",
    )
    fails_with(options(httpserver), "an HTML page, not an RSS feed", "<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("", "empty body"),
        ("  \n", "empty body"),
        ('{"count": 0, "description": "none"}', "not an RSS feed, not even XML"),
        (FEED[:200], "malformed feed"),  # cut before the first item
        ('<?xml version="1.0"?><opml version="2.0"><body/></opml>', "not an RSS feed"),
    ],
    ids=["empty", "blank", "json", "truncated-before-items", "xml-not-a-feed"],
)
def test_a_body_without_a_feed_is_an_error(httpserver, body, fragment):
    serve(httpserver, body)
    fails_with(options(httpserver), fragment)


def test_truncated_feed_keeps_the_whole_items_with_a_note(httpserver):
    # cut inside the 4th item's description: its abstract would be half an abstract
    cut = FEED.index("<description>Pursuant to provisions") + 60
    serve(httpserver, FEED[:cut])

    result = run_poll(
        options(httpserver), since=None, cursor={"last_publication_date": "2024-01-05"}
    )

    assert [d.document_number for d in result.documents] == NUMBERS[:3]
    (note,) = result.notes
    assert note.startswith(f"{httpserver.url_for(RSS)}: malformed feed (SAXParseException: ")
    assert note.endswith("); cut short: kept the 3 whole items read")
    assert "\n" not in note
    # the items after the cut are missing: the next poll asks for the same window again
    assert result.cursor == {"last_publication_date": "2024-01-05"}


def test_malformed_but_whole_feed_keeps_every_item_with_a_note(httpserver):
    # an HTML entity XML does not define: the strict parser stops, the loose one reads on
    body = FEED.replace("Sensors and Instrumentation", "Sensors&nbsp;and Instrumentation")
    serve(httpserver, body)

    result = run_poll(options(httpserver))

    assert [d.document_number for d in result.documents] == NUMBERS
    assert result.documents[1].title == record("2024-00422")["title"]  # spaces normalised
    (note,) = result.notes
    assert note.startswith(f"{httpserver.url_for(RSS)}: malformed feed (SAXParseException: ")
    assert note.endswith("undefined entity); kept the 12 items read")
    assert result.cursor == {"last_publication_date": "2024-01-12"}


def test_http_error_names_the_feed_without_credentials(httpserver):
    httpserver.expect_request(RSS).respond_with_data("boom", status=503)
    port = httpserver.port
    opts = options(httpserver, base_url=f"http://reader:s3cret-pass@localhost:{port}{API}")

    with pytest.raises(FetchError) as info:
        run_poll(opts)

    shown = f"http://reader:***@localhost:{port}{RSS}"
    assert str(info.value) == f"{shown}: HTTP 503 SERVICE UNAVAILABLE"
    assert requests_to(httpserver)[0].authorization.username == "reader"


# --- through the whole pipeline ---------------------------------------------------------


def count_documents(config) -> int:
    db = store.open_store(config.database_url)
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(store.DocumentRow))


def source_cursor(config, name: str) -> dict:
    db = store.open_store(config.database_url)
    with db.session() as session:
        return session.get(store.SourceRow, name).cursor


def test_kind_loads_from_monitor_yaml_and_check_stores_the_documents(
    httpserver, write_config, tmp_path: Path
):
    serve(httpserver, FEED)
    config = load_config(
        write_config(
            f"""
            data_dir: {tmp_path / "state"}
            sources:
              - name: bis-rss
                kind: federal_register_rss
                base_url: {httpserver.url_for(API)}
                agencies: [industry-and-security-bureau]
                since: 2024-01-01
                retries: 0
            """
        )
    )
    (source,) = config.sources
    assert isinstance(source, FederalRegisterRssOptions)

    first = check(config)

    assert first.errors == {}
    assert first.fetched == {"bis-rss": 12}
    assert sorted(f.document.document_number for f in first.found) == sorted(NUMBERS)
    assert count_documents(config) == 12
    assert source_cursor(config, "bis-rss") == {"last_publication_date": "2024-01-12"}
    (request,) = requests_to(httpserver)
    assert request.args.getlist("conditions[agencies][]") == ["industry-and-security-bureau"]

    second = check(config)  # the same feed again: nothing new

    assert second.errors == {} and second.found == []
    assert count_documents(config) == 12
    assert requests_to(httpserver)[1].args["conditions[publication_date][gte]"] == "2024-01-09"


def test_api_and_rss_sightings_are_one_document_each(httpserver, write_config, tmp_path):
    """The same documents through both kinds: one stored row per FR number."""
    serve(httpserver, FEED)
    page = {"count": 12, "total_pages": 1, "next_page_url": None,
            "results": [record(n) for n in NUMBERS]}  # fmt: skip
    httpserver.expect_request(f"{API}documents.json").respond_with_json(page)
    base = httpserver.url_for(API)
    config = load_config(
        write_config(
            f"""
            data_dir: {tmp_path / "state"}
            sources:
              - {{name: fr, kind: federal_register, base_url: "{base}", since: 2024-01-01}}
              - {{name: fr-rss, kind: federal_register_rss, base_url: "{base}", since: 2024-01-01}}
            """
        )
    )

    report = check(config)

    assert report.errors == {}
    assert report.fetched == {"fr": 12, "fr-rss": 12}
    assert count_documents(config) == 12
    # the API saw them first; the RSS copies agree with it, so they are no new events
    assert sorted(f.document.document_number for f in report.found) == sorted(NUMBERS)
    assert {f.source for f in report.found} == {"fr"}
