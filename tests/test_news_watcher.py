"""The `news` watcher against a real loopback server (pytest-httpserver).

The two feeds in tests/fixtures/news/ are SYNTHETIC (fictional publishers under
`.example`, see PROVENANCE.md) reporting on real FR documents and events. They
are served over HTTP on 127.0.0.1; nothing here mocks the HTTP seam, and an
autouse fixture sends anything but loopback to a closed port.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from monitor import store
from monitor.config import load_config
from monitor.http import FetchError, make_client
from monitor.news import news_id
from monitor.pipeline import check
from monitor.yamlfile import ConfigError
from watchers.news import NewsOptions, poll

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "news"
RSS = (FIXTURES / "tradewire.rss").read_bytes()
ATOM = (FIXTURES / "exportdesk.atom").read_bytes()
RSS_PATH, ATOM_PATH = "/feeds/tradewire.rss", "/feeds/exportdesk.atom"

ARTICLE = "https://tradewire.example/2025/05/13/ai-diffusion-rescinded"
BOTH = "Example Trade Wire, Export Desk Digest"
HTML = b"<!DOCTYPE html>\n<html><head><title>Subscribe</title></head><body>Paywall</body></html>"


def serve(server: HTTPServer, rss: bytes | None = RSS, atom: bytes | None = ATOM) -> None:
    if rss is not None:
        server.expect_request(RSS_PATH).respond_with_data(rss, content_type="application/rss+xml")
    if atom is not None:
        server.expect_request(ATOM_PATH).respond_with_data(
            atom, content_type="application/atom+xml"
        )


def options(server: HTTPServer, **overrides) -> NewsOptions:
    values = {
        "name": "news",
        "feeds": [{"url": server.url_for(RSS_PATH)}, {"url": server.url_for(ATOM_PATH)}],
        "retries": 0,
        "backoff": 0,
    }
    return NewsOptions(**{**values, **overrides})


def run_poll(opts: NewsOptions, since: date | None = None, cursor: dict | None = None):
    with make_client(opts.base_url, opts.timeout) as client:
        return poll(opts, dict(cursor or {}), client, since)


def by_title(result) -> dict[str, object]:
    return {d.title: d for d in result.documents}


def rescission(result):
    (story,) = [d for d in result.documents if d.html_url == ARTICLE]
    return story


# --- both feeds, one story ------------------------------------------------------------------


def test_both_feeds_are_polled_and_each_story_is_one_document(httpserver):
    serve(httpserver)

    result = run_poll(options(httpserver), date(2023, 1, 1))

    assert sorted(r.path for r, _ in httpserver.log) == [ATOM_PATH, RSS_PATH]
    assert result.fetched == 6  # three items in each feed
    assert result.notes == []
    assert [(d.publication_date.isoformat(), d.publisher) for d in result.documents] == [
        ("2023-11-21", "Example Trade Wire"),
        ("2025-03-28", "Export Desk Digest"),
        ("2025-05-13", BOTH),  # the story in both feeds: one document
        ("2025-05-14", "Example Trade Wire"),
        ("2025-09-26", "Export Desk Digest"),
    ]
    assert all(d.collection == "news" for d in result.documents)
    assert len({d.document_number for d in result.documents}) == 5


def test_cross_feed_story_is_one_document_with_both_publishers(httpserver):
    serve(httpserver)

    story = rescission(run_poll(options(httpserver), date(2025, 5, 1)))

    assert story.publisher == BOTH
    # the earliest item's: Trade Wire's of May 13 17:45 -0400 (21:45 UTC), not Export
    # Desk's of May 14 07:30 UTC
    assert story.title.startswith("Commerce rescinds AI Diffusion rule, issues guidance")
    assert story.publication_date == date(2025, 5, 13)
    assert story.document_number == news_id(ARTICLE)
    assert len(story.document_number) == 16
    assert story.key == f"news:{news_id(ARTICLE)}"
    # the union of both items' references, the earliest item's first
    assert story.related == ["2025-00636", "90 FR 4544"]
    assert story.abstract.startswith("The Bureau of Industry and Security said on May 13")


def test_a_configured_name_is_the_publisher(httpserver):
    serve(httpserver)
    feeds = [{"url": httpserver.url_for(RSS_PATH), "name": "Wire (test)"},
             {"url": httpserver.url_for(ATOM_PATH)}]  # fmt: skip

    result = run_poll(options(httpserver, feeds=feeds), date(2025, 5, 1))

    assert rescission(result).publisher == "Wire (test), Export Desk Digest"


def test_links_are_canonical_without_tracking_parameters(httpserver):
    serve(httpserver)

    result = run_poll(options(httpserver), date(2023, 1, 1))

    assert sorted(d.html_url for d in result.documents) == [
        "https://exportdesk.example/digest/2025-03-28/entity-list-inspur",
        "https://exportdesk.example/digest/2025-09-26/ostp-ai-rfi",
        "https://tradewire.example/2023/11/21/entity-list-four-entities",
        ARTICLE,
        "https://tradewire.example/2025/05/14/gp10-ascend-guidance",
    ]
    for doc in result.documents:
        assert doc.document_number == news_id(doc.html_url)
        for tracker in ("utm_", "mc_cid", "mc_eid", "fbclid", "ref=", "#"):
            assert tracker not in doc.html_url


def test_related_references_and_plain_text_abstracts(httpserver):
    serve(httpserver)

    docs = by_title(run_poll(options(httpserver), date(2023, 1, 1)))

    related = {title: doc.related for title, doc in docs.items()}
    assert related == {
        "BIS adds four entities to the Entity List under nine entries":
            ["88 FR 80955", "RIN 0694-AJ45"],  # a citation and a RIN
        "BIS adds 12 entities to the Entity List, including Inspur subsidiaries":
            ["2025-05427", "90 FR 14046"],  # a number, a citation and a related link
        "Commerce rescinds AI Diffusion rule, issues guidance on advanced computing chips":
            ["2025-00636", "90 FR 4544"],
        "BIS guidance warns that using Huawei Ascend chips anywhere may violate General "
        "Prohibition 10": [],  # no FR reference
        "OSTP asks which federal rules hinder AI development and adoption":
            ["2025-18737"],  # a federalregister.gov link inside the summary's HTML
    }  # fmt: skip
    for doc in docs.values():
        assert "<" not in doc.abstract and "&#" not in doc.abstract
    ostp = docs["OSTP asks which federal rules hinder AI development and adoption"]
    assert ostp.abstract.endswith("on October 27, 2025. Read the notice.")


def test_the_parser_fetches_nothing_itself(httpserver):
    """Only the configured feeds are requested: no external entity, DTD or stylesheet."""
    leak = httpserver.url_for("/leak")
    httpserver.expect_request("/leak").respond_with_data("<x>leaked</x>")
    hostile = RSS.replace(
        b"<rss ",
        f'<?xml-stylesheet href="{leak}.xsl"?>\n<!DOCTYPE rss [<!ENTITY ext SYSTEM "{leak}">]>\n'
        f"<rss ".encode(),
        1,
    ).replace(b"<title>Example Trade Wire</title>", b"<title>Example Trade Wire&ext;</title>")
    serve(httpserver, rss=hostile)

    result = run_poll(options(httpserver), date(2023, 1, 1))

    assert sorted(r.path for r, _ in httpserver.log) == [ATOM_PATH, RSS_PATH]
    assert len(result.documents) == 5
    assert "leaked" not in repr(result.documents)


# --- the window and the cursor ---------------------------------------------------------------


def test_since_window_and_cursor_per_feed(httpserver):
    serve(httpserver)

    result = run_poll(options(httpserver), date(2025, 5, 1))

    assert [d.publication_date.isoformat() for d in result.documents] == [
        "2025-05-13", "2025-05-14", "2025-09-26",
    ]  # fmt: skip
    assert result.fetched == 6  # all read, the older ones then windowed out
    assert result.cursor == {
        "feeds": {
            httpserver.url_for(RSS_PATH): "2025-05-14T14:15:00+00:00",
            httpserver.url_for(ATOM_PATH): "2025-09-26T13:00:00+00:00",
        },
        "last_publication_date": "2025-09-26",
    }


def test_next_poll_reads_from_the_cursor_and_a_follow_up_joins_its_story(httpserver):
    serve(httpserver)
    first = run_poll(options(httpserver), date(2025, 5, 1))

    again = run_poll(options(httpserver), cursor=first.cursor)

    # only each feed's newest item is at the cursor; the store makes re-reading it free
    assert sorted(d.title[:30] for d in again.documents) == [
        "BIS guidance warns that using ", "OSTP asks which federal rules ",
    ]  # fmt: skip
    assert again.cursor == first.cursor

    follow_up = RSS.replace(
        b"<item>",
        b"""<item>
      <title>What the AI Diffusion rescission means for exporters</title>
      <link>https://tradewire.example/2025/05/15/ai-diffusion-what-now/?utm_source=rss</link>
      <pubDate>Thu, 15 May 2025 08:00:00 -0400</pubDate>
      <description>Until a notice amends it, 2025-00636 stays in the CFR.</description>
    </item>
    <item>""",
        1,
    )
    httpserver.clear()
    serve(httpserver, rss=follow_up)

    later = run_poll(options(httpserver), cursor=first.cursor)

    # the follow-up shares 2025-00636 with the story of May 13-14 (items before
    # the cursor, re-read for context): it continues that story, under its id
    story = rescission(later)
    assert story.document_number == news_id(ARTICLE)
    assert story.publisher == BOTH
    assert story.related == ["2025-00636", "90 FR 4544"]
    assert story.title.startswith("Commerce rescinds AI Diffusion rule")
    assert "What the AI Diffusion rescission means for exporters" not in by_title(later)
    assert later.cursor["feeds"][httpserver.url_for(RSS_PATH)] == "2025-05-15T12:00:00+00:00"


# --- broken feeds -----------------------------------------------------------------------------


def test_one_feed_serving_html_is_a_note_and_the_other_still_counts(httpserver):
    serve(httpserver, atom=None)
    httpserver.expect_request(ATOM_PATH).respond_with_data(HTML, content_type="text/html")

    result = run_poll(options(httpserver), date(2023, 1, 1))

    assert [d.publisher for d in result.documents] == ["Example Trade Wire"] * 3
    assert rescission(result).related == ["2025-00636"]  # Trade Wire's item alone
    (note,) = result.notes
    assert note.startswith(httpserver.url_for(ATOM_PATH) + ": an HTML page, not a news feed")
    assert "\n" not in note
    # the broken feed's cursor does not move
    assert list(result.cursor["feeds"]) == [httpserver.url_for(RSS_PATH)]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</ti', "malformed feed"),
        (b'{"items": []}', "not a news feed"),
        (b"", "empty body"),
    ],
    ids=["bozo-without-entries", "json", "empty"],
)
def test_a_malformed_feed_is_a_note_naming_it(httpserver, body, fragment):
    serve(httpserver, rss=None)
    httpserver.expect_request(RSS_PATH).respond_with_data(body, content_type="application/xml")

    result = run_poll(options(httpserver), date(2023, 1, 1))

    assert {d.publisher for d in result.documents} == {"Export Desk Digest"}
    (note,) = result.notes
    assert note.startswith(httpserver.url_for(RSS_PATH) + ": ")
    assert fragment in note


def test_a_reference_to_no_character_is_read_as_fffd_and_every_feed_counts(httpserver):
    """`&#xD800;` (a surrogate, which XML forbids) made feedparser fail on the whole feed and
    the news source with it: it is read as U+FFFD, as a browser reads it, with a note."""
    title = b"<title>BIS guidance warns that using Huawei Ascend chips"
    assert title in RSS
    serve(httpserver, rss=RSS.replace(title, title[:7] + b"&#xD800;&#0; " + title[7:], 1))

    result = run_poll(options(httpserver), date(2023, 1, 1))

    assert len(result.documents) == 5 and result.fetched == 6  # both feeds, every item
    (bad,) = [d for d in result.documents if "Ascend" in (d.title or "")]
    assert bad.title.startswith("\ufffd\ufffd BIS guidance")
    (note,) = result.notes
    assert note == (
        f"{httpserver.url_for(RSS_PATH)}: 2 character references to no character"
        " (such as &#xD800;) read as U+FFFD"
    )


def test_a_feed_cut_short_keeps_its_whole_items_and_its_cursor(httpserver):
    cut = ATOM[: ATOM.index(b"<title>BIS adds 12 entities")]  # inside the third entry
    serve(httpserver, atom=cut)
    cursor = {"feeds": {httpserver.url_for(ATOM_PATH): "2025-01-01T00:00:00+00:00"}}

    result = run_poll(options(httpserver), date(2023, 1, 1), cursor=cursor)

    exportdesk = [d for d in result.documents if "Export Desk Digest" in d.publisher]
    assert [d.publication_date.isoformat() for d in exportdesk] == ["2025-05-13", "2025-09-26"]
    (note,) = result.notes
    assert note.startswith(httpserver.url_for(ATOM_PATH) + ": malformed feed")
    assert "cut short: kept the 2 whole items read" in note
    assert result.cursor["feeds"][httpserver.url_for(ATOM_PATH)] == "2025-01-01T00:00:00+00:00"


def test_all_feeds_failing_is_a_fetch_error_naming_each(httpserver):
    httpserver.expect_request(RSS_PATH).respond_with_data(HTML, content_type="text/html")
    httpserver.expect_request(ATOM_PATH).respond_with_data("gone", status=404)

    with pytest.raises(FetchError) as info:
        run_poll(options(httpserver), date(2023, 1, 1))

    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("all 2 feeds failed: ")
    assert f"{httpserver.url_for(RSS_PATH)}: an HTML page, not a news feed" in message
    assert f"{httpserver.url_for(ATOM_PATH)}: HTTP 404" in message


def test_feed_credentials_are_redacted_in_notes_and_cursor(httpserver):
    serve(httpserver, rss=None)
    httpserver.expect_request(RSS_PATH).respond_with_data(HTML, content_type="text/html")
    port = urlsplit(httpserver.url_for("/")).port
    secret_rss = f"http://reader:s3cret-pass@localhost:{port}{RSS_PATH}"
    secret_atom = f"http://localhost:{port}{ATOM_PATH}?token=s3cret-token"
    opts = options(httpserver, feeds=[{"url": secret_rss}, {"url": secret_atom}])

    result = run_poll(opts, date(2023, 1, 1))

    assert len(result.documents) == 3
    assert "s3cret" not in " ".join(result.notes) + repr(result.cursor)
    assert result.notes[0].startswith(f"http://reader:***@localhost:{port}{RSS_PATH}: ")
    assert list(result.cursor["feeds"]) == [f"http://localhost:{port}{ATOM_PATH}?token=***"]


def test_feed_urls_are_resolved_against_base_url(httpserver):
    serve(httpserver)
    opts = options(
        httpserver, base_url=httpserver.url_for("/feeds/"),
        feeds=[{"url": "tradewire.rss"}, {"url": "exportdesk.atom"}],
    )  # fmt: skip

    result = run_poll(opts, date(2025, 5, 1))

    assert rescission(result).publisher == BOTH


# --- monitor.yaml and the pipeline ------------------------------------------------------------


@pytest.fixture
def news_config(httpserver, write_config, tmp_path: Path):
    path = write_config(
        f"""
        data_dir: {tmp_path / "state"}
        sources:
          - name: press
            kind: news
            since: 2023-01-01
            retries: 0
            backoff: 0
            feeds:
              - url: {httpserver.url_for(RSS_PATH)}
              - url: {httpserver.url_for(ATOM_PATH)}
                name: Export Desk Digest (newsletter)
        """
    )
    return load_config(path)


def test_news_source_from_monitor_yaml_runs_through_check(httpserver, news_config):
    serve(httpserver)
    (source,) = news_config.sources
    assert isinstance(source, NewsOptions)
    assert [f.name for f in source.feeds] == [None, "Export Desk Digest (newsletter)"]

    first = check(news_config)

    assert first.errors == {}
    assert first.fetched == {"press": 6}
    assert [f.kind for f in first.found] == ["new_document"] * 5
    assert {f.source for f in first.found} == {"press"}
    story = next(f.document for f in first.found if f.document.html_url == ARTICLE)
    assert story.publisher == "Example Trade Wire, Export Desk Digest (newsletter)"
    db = store.open_store(news_config.database_url)
    with db.session() as session:
        rows = session.scalars(select(store.DocumentRow)).all()
        assert len(rows) == 5
        assert {r.key for r in rows} >= {f"news:{news_id(ARTICLE)}"}
        state = session.get(store.SourceRow, "press")
        assert state.cursor["last_publication_date"] == "2025-09-26"
        assert state.consecutive_failures == 0

    second = check(news_config)

    assert second.errors == {}
    assert second.found == []
    with db.session() as session:  # re-read items hashed the same: no new version stored
        versions = session.scalar(select(func.count()).select_from(store.DocumentVersionRow))
        assert versions == 5


def test_check_reports_every_feed_failing_as_the_source_error(httpserver, news_config):
    httpserver.expect_request(RSS_PATH).respond_with_data(HTML, content_type="text/html")
    httpserver.expect_request(ATOM_PATH).respond_with_data(HTML, content_type="text/html")

    report = check(news_config)

    assert report.found == []
    assert report.errors["press"].startswith("all 2 feeds failed: ")


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ("feeds: []", "feeds"),
        ("feeds: [{url: 'https://a.example/f'}, {url: 'https://a.example/f'}]", "listed twice"),
        ("feeds: [{url: 'file:feeds/a.xml'}]", "needs base_url: file:FOLDER/"),
        ("feeds: [{url: 'ftp://a.example/f'}]", "expected an http(s) URL"),
        ("feeds: [{url: 'https://a.example/f', title: X}]", "title"),
    ],
    ids=["none", "twice", "file-without-base", "ftp", "unknown-option"],
)
def test_bad_news_options_are_one_line_config_errors(write_config, entry, fragment):
    path = write_config(
        f"""
        sources:
          - name: press
            kind: news
            {entry}
        """
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "\n" not in str(info.value)
    assert fragment in str(info.value)


def test_a_story_continued_after_its_item_left_the_feed_joins_the_stored_story(
    httpserver, news_config
):
    """Poll 2: the Trade Wire feed has rolled the story off, and the Digest reports it
    under its own link. Only the store can tell it is the same story (same FR
    references, near-identical title, a day apart), so it raises no second event."""
    item = re.compile(rb"<item>(?:(?!</item>).)*ai-diffusion-rescinded.*?</item>", re.S)
    rss_rolled = item.sub(b"", RSS, count=1)
    assert rss_rolled != RSS
    atom_own_link = ATOM.replace(
        b"https://TradeWire.example/2025/05/13/ai-diffusion-rescinded?utm_source=exportdesk",
        b"https://exportdesk.example/digest/2025-05-14/ai-diffusion?utm_source=exportdesk",
    )
    serve(httpserver, atom=None)  # the Digest is down: a note, the Trade Wire counts
    first = check(news_config)
    assert len(first.found) == 3 and first.errors == {}
    httpserver.clear()
    serve(httpserver, rss=rss_rolled, atom=atom_own_link)

    second = check(news_config)

    titles = [f.document.title for f in second.found]  # the Digest's two other stories
    assert len(titles) == 2 and not any("Rescind" in t for t in titles), titles
    db = store.open_store(news_config.database_url)
    with db.session() as session:
        story = session.scalar(
            select(store.DocumentRow).where(store.DocumentRow.key == f"news:{news_id(ARTICLE)}")
        )
        assert story.document.publisher == "Example Trade Wire, Export Desk Digest (newsletter)"
