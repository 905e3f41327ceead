"""The pure news helpers: canonical links, FR references, and the same-story test."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.document import Document
from monitor.news import (
    canonical_url,
    document_numbers,
    fr_references,
    news_id,
    same_story,
    title_similarity,
)
from monitor.text import html_to_text

ARTICLE = "https://tradewire.example/2025/05/13/ai-diffusion-rescinded"

# --- canonical_url ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (ARTICLE + "/?utm_source=rss&utm_medium=feed&utm_campaign=daily-brief", ARTICLE),
        ("HTTPS://TradeWire.Example/2025/05/13/ai-diffusion-rescinded#guidance", ARTICLE),
        (ARTICLE + "?fbclid=IwAR0&gclid=Cj0&mc_cid=5f2a9c&mc_eid=0b7d13", ARTICLE),
        (ARTICLE + "?ref=homepage&cmpid=nl-0513&UTM_Content=top", ARTICLE),
        ("https://tradewire.example:443/2025/05/13/ai-diffusion-rescinded//", ARTICLE),
        ("  " + ARTICLE + "  ", ARTICLE),
        # the remaining query is kept, sorted
        ("https://news.example/story?page=2&id=7&utm_term=x", "https://news.example/story?id=7&page=2"),
        ("https://news.example/story?b=2&a=1&a=0", "https://news.example/story?a=0&a=1&b=2"),
        # the path keeps its case; a non-default port stays
        ("http://News.Example:8080/Story/ABC/", "http://news.example:8080/Story/ABC"),
        ("https://news.example/", "https://news.example"),
    ],
)  # fmt: skip
def test_canonical_url(url, expected):
    assert canonical_url(url) == expected


def test_canonical_url_keeps_what_names_the_page():
    assert canonical_url("https://news.example/a?id=1") != canonical_url(
        "https://news.example/a?id=2"
    )
    assert canonical_url("https://news.example/a") != canonical_url("https://news.example/b")


def test_news_id_is_16_hex_of_the_canonical_link():
    tracked = ARTICLE + "/?utm_source=exportdesk&mc_cid=5f2a9c#top"
    assert news_id(tracked) == news_id(ARTICLE)
    assert len(news_id(ARTICLE)) == 16
    assert int(news_id(ARTICLE), 16) >= 0
    assert news_id(ARTICLE) != news_id("https://tradewire.example/2025/05/14/gp10-ascend-guidance")


# --- fr_references ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the interim final rule (FR Doc. 2025-00636)", ["2025-00636"]),
        ("a correction, C1-2023-27742, to the plan", ["C1-2023-27742"]),
        ("published at 90 FR 4544 on January 15", ["90 FR 4544"]),
        ("see 88 Fed. Reg. 80,955 and 89 F.R. 2200", ["88 FR 80955", "89 FR 2200"]),
        ("the rule (RIN 0694-AJ45)", ["RIN 0694-AJ45"]),
        ("Regulation Identifier Number 0694-aj90", ["RIN 0694-AJ90"]),
        ("https://www.federalregister.gov/d/2025-18737", ["2025-18737"]),
        (
            '<a href="https://www.federalregister.gov/documents/2025/01/15/2025-00636/'
            'framework-for-artificial-intelligence-diffusion">the rule</a>',
            ["2025-00636"],
        ),
        ("https://public-inspection.federalregister.gov/2025-00636.pdf", ["2025-00636"]),
        (
            "FR Doc. 2025-05427 (90 FR 14046; RIN 0694-AJ99) amends 2025-05427",
            ["2025-05427", "90 FR 14046", "RIN 0694-AJ99"],
        ),
        ("no reference: on 2025-05-13 BIS issued guidance on 3A090 chips", []),
        ("call 202-482-4811 or see ZIP 20230-0001, years 2024-2025", []),
        ("", []),
        (None, []),
    ],
)
def test_fr_references(text, expected):
    assert fr_references(text) == expected


def test_fr_references_order_of_first_mention():
    text = (
        "RIN 0694-AJ45 first, then 88 FR 80955, then https://www.federalregister.gov/d/2023-25684"
    )
    assert fr_references(text) == ["RIN 0694-AJ45", "88 FR 80955", "2023-25684"]


def test_document_numbers_are_the_numbers_only():
    refs = ["2025-00636", "90 FR 4544", "RIN 0694-AJ90", "C1-2023-27742"]
    assert document_numbers(refs) == {"2025-00636", "C1-2023-27742"}


def test_html_to_text():
    html = "<p>Huawei&#8217;s <b>Ascend</b> chips</p><p>red&nbsp;flags</p><script>x()</script>"
    assert html_to_text(html) == "Huawei\u2019s Ascend chips red flags"
    assert html_to_text("") is None
    assert html_to_text("<p> </p>") is None


# --- same_story ---------------------------------------------------------------------------


def item(
    title: str,
    day: date | None,
    url: str = "https://news.example/a",
    related: list[str] | None = None,
) -> Document:
    return Document(
        collection="news", document_number=news_id(url), title=title, publication_date=day,
        html_url=canonical_url(url), related=related or [],
    )  # fmt: skip


RESCINDS = "Commerce rescinds AI Diffusion rule, issues guidance on advanced computing chips"
RESCINDS_TOO = "Commerce Rescinds AI Diffusion Rule and Issues Guidance on Advanced Computing Chips"


def test_same_story_by_a_shared_fr_reference():
    a = item("BIS pulls AI chip rule", date(2025, 5, 13), "https://a.example/1", ["2025-00636"])
    b = item("What the rescission means", date(2025, 6, 30), "https://b.example/2",
             ["90 FR 4544", "2025-00636"])  # fmt: skip
    assert same_story(a, b) and same_story(b, a)


def test_same_story_by_the_canonical_link():
    a = item("One title", date(2025, 5, 13), ARTICLE + "/?utm_source=rss")
    same = "https://TradeWire.example/2025/05/13/ai-diffusion-rescinded?mc_cid=5f#top"
    b = item("A quite different headline", date(2025, 8, 1), same)
    assert same_story(a, b)
    assert not same_story(a, item("A quite different headline", date(2025, 8, 1)))


def test_same_story_by_near_duplicate_titles_within_three_days():
    a = item(RESCINDS, date(2025, 5, 13), "https://a.example/1")
    b = item(RESCINDS_TOO, date(2025, 5, 16), "https://b.example/2")
    assert title_similarity(RESCINDS, RESCINDS_TOO) >= 90
    assert same_story(a, b)


def test_similar_titles_too_far_apart_are_two_stories():
    a = item(RESCINDS, date(2025, 5, 13), "https://a.example/1")
    b = item(RESCINDS_TOO, date(2025, 5, 17), "https://b.example/2")
    assert not same_story(a, b)


def test_similar_titles_without_dates_are_two_stories():
    a = item(RESCINDS, None, "https://a.example/1")
    b = item(RESCINDS_TOO, date(2025, 5, 13), "https://b.example/2")
    assert not same_story(a, b)


def test_different_stories_on_the_same_day():
    a = item(RESCINDS, date(2025, 5, 13), "https://a.example/1", ["2025-00636"])
    b = item("BIS guidance warns that using Huawei Ascend chips anywhere may violate "
             "General Prohibition 10", date(2025, 5, 13), "https://a.example/2")  # fmt: skip
    assert title_similarity(a.title, b.title) < 90
    assert not same_story(a, b)


def test_a_short_title_inside_a_long_one_is_not_enough():
    # the token-set ratio of a subset is 100; two words in common are not a story
    assert title_similarity("Entity List", "Commerce adds 12 entities to the Entity List") == 0
    a = item("Entity List", date(2025, 3, 28), "https://a.example/1")
    b = item("Commerce adds 12 entities to the Entity List", date(2025, 3, 28),
             "https://b.example/2")  # fmt: skip
    assert not same_story(a, b)


def test_similar_titles_naming_different_fr_documents_are_two_stories():
    # 2025-00704 and 2025-00480: two Entity List rules published the same day
    a = item("Commerce adds 11 entities to the Entity List", date(2025, 1, 16),
             "https://a.example/1", ["2025-00704"])  # fmt: skip
    b = item("Commerce adds 16 entities to the Entity List", date(2025, 1, 16),
             "https://b.example/2", ["2025-00480", "90 FR 4621"])  # fmt: skip
    assert title_similarity(a.title, b.title) >= 90
    assert not same_story(a, b)
    # an item naming no document number does not veto the title match
    c = item("Commerce adds 16 entities to the Entity List", date(2025, 1, 17),
             "https://c.example/3", ["RIN 0694-AJ99"])  # fmt: skip
    assert same_story(b, c)
