"""Federal Register search results as RSS (`documents.rss`).

The same search as the documents API (`federal_register`: agencies, term, CFR
title and part, type, from a publication date onward), asked of the RSS
rendition beside `documents.json`. Each item becomes a `Document` keyed by its
FR document number, taken from the item's link
(`/documents/2024/01/12/2024-00582/slug` or `/d/2024-00582`) or guid, so a
document seen here and through the API is one document in the store.

What an item carries: title, link, the abstract as an HTML-escaped description,
the publication date as an RFC 822 `pubDate` (midnight US Eastern in the FR's
own template, so it is read back as an Eastern calendar date), and the agency
as `dc:creator`. The FR's template fills `<category>` with the document's
*topics*, not its agencies, so categories are not read as agencies.

One request per poll: the feed has no next page, so a feed as long as
`per_page` says that older documents in the window may be missing. The cursor
is the newest publication date seen, as for `federal_register`, and stays where
it was when the feed was cut short (the next poll asks for the rest again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import httpx

from monitor.deadlines import FR_ZONE
from monitor.document import Document
from monitor.feeds import read_feed
from monitor.http import Conditional, api_url
from monitor.redact import redact_url
from monitor.text import html_to_text
from watchers import PollResult, Watcher, register
from watchers.federal_register import (
    PAGE_LIMIT,
    DocumentsQuery,
    advance_cursor,
    query,
    window_start,
)

# 2024-00582, C1-2023-27742 (a correction), E9-1777 (older numbering)
_NUMBER = re.compile(r"(?:[A-Z]\d-)?[A-Z]?\d{1,4}-\d{3,6}")
_DOCUMENT_PATH = re.compile(r"/(?:documents/(\d{4})/(\d{2})/(\d{2})|d)/([^/?#]+)")


class FederalRegisterRssOptions(DocumentsQuery):
    """The documents API's options and search conditions, asked of `documents.rss`."""

    kind: Literal["federal_register_rss"] = "federal_register_rss"
    max_pages: ClassVar[int] = 1  # not an option here: a feed has no next page


def rss_endpoint(base_url: str) -> str:
    return api_url(base_url, "documents.rss")  # beside documents.json


def rss_query(options: FederalRegisterRssOptions, since: date) -> list[tuple[str, str]]:
    """The API query without `fields[]`: an RSS item has the fields it has."""
    return [(key, value) for key, value in query(options, since) if key != "fields[]"]


def document_number(url: str | None) -> tuple[str, date | None] | None:
    """The FR number in a document link or guid, and the date a `/documents/` link names."""
    if not url:
        return None
    url = url.strip()
    if _NUMBER.fullmatch(url):  # a guid may be the bare number
        return url, None
    match = _DOCUMENT_PATH.search(urlsplit(url).path)
    if not match or not _NUMBER.fullmatch(match.group(4)):
        return None
    year, month, day, number = match.groups()
    try:
        named = date(int(year), int(month), int(day)) if year else None
    except ValueError:
        named = None
    return number, named


def eastern_date(parsed: Any) -> date | None:
    """The US Eastern calendar date of feedparser's UTC time tuple."""
    if not parsed:
        return None
    return datetime(*parsed[:6]).replace(tzinfo=UTC).astimezone(FR_ZONE).date()


def _slug(name: str) -> str:
    # The FR's agency slugs are their names, lowercased and hyphenated
    # ("Industry and Security Bureau" -> industry-and-security-bureau).
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _agencies(entry: Any) -> list[dict[str, str]]:
    names = [a.get("name") for a in entry.get("authors") or []] or [entry.get("author")]
    names = [" ".join(n.split()) for n in names if n and n.strip()]
    return [{"name": name, "slug": _slug(name)} for name in dict.fromkeys(names)]


def to_document(entry: Any) -> Document | None:
    """A `Document` for one feed item, or None when it names no FR document."""
    link, guid = entry.get("link"), entry.get("id")
    found = document_number(link) or document_number(guid)
    if found is None:
        return None
    number, named_date = found
    title = " ".join((entry.get("title") or "").split()) or None
    return Document(
        document_number=number,
        title=title,
        abstract=html_to_text(entry.get("summary")),
        agencies=_agencies(entry),
        publication_date=eastern_date(entry.get("published_parsed")) or named_date,
        html_url=link or None,
    )


@dataclass
class Parsed:
    documents: list[Document]
    notes: list[str]
    items: int  # items in the feed, with or without a document number
    cut_short: bool = False  # the body ends before </rss>: later items are missing


def parse_feed(body: bytes, url: str, limit: int = PAGE_LIMIT) -> Parsed:
    """The documents of a feed body, with a note for each problem.

    Not a feed (an empty body, an HTML page, a feed broken before its first
    item) is a FetchError. A malformed feed with items keeps them, with a note;
    when the body is cut short, its last item may be cut too and is dropped. At most
    `limit` items are read (the largest `per_page`), with a note when it holds more.
    """
    shown = redact_url(url)
    feed = read_feed(body, url, "an RSS feed", limit)
    entries = feed.entries
    parsed = Parsed(documents=[], notes=feed.notes, items=feed.count, cut_short=feed.cut_short)
    for i, entry in enumerate(entries):
        document = to_document(entry)
        if document is None:
            title = " ".join((entry.get("title") or "").split())[:80]
            parsed.notes.append(
                f"{shown}: item {i} ({title!r}) skipped: no FR document number in its link or guid"
            )
            continue
        parsed.documents.append(document)
    return parsed


def poll(
    options: FederalRegisterRssOptions,
    cursor: dict[str, Any],
    client: httpx.Client,
    since: date | None = None,
) -> PollResult:
    since = since or window_start(options, cursor)
    url = rss_endpoint(options.base_url)
    conditional = Conditional.from_cursor(cursor)
    answer = conditional.fetch(
        client, url, params=rss_query(options, since), **options.fetch_limits
    )
    if answer.not_modified:
        return PollResult(documents=[], cursor=dict(cursor), not_modified=True)
    parsed = parse_feed(answer.body, url)
    result = PollResult(
        documents=[], cursor=dict(cursor), fetched=len(parsed.documents), notes=parsed.notes
    )
    conditional.save(result.cursor)
    if parsed.items >= options.per_page:
        result.notes.append(
            f"{redact_url(url)}: the feed holds {parsed.items} items, the per_page limit; "
            "older documents in the window may be missing (raise per_page)"
        )
    # A recorded folder ignores the query: apply the window here too.
    result.documents = [
        d for d in parsed.documents if d.publication_date is None or d.publication_date >= since
    ]
    if not parsed.cut_short:  # else the cursor stays: the next poll asks for the rest again
        advance_cursor(result, since)
    return result


register(
    Watcher(
        kind="federal_register_rss",
        options=FederalRegisterRssOptions,
        poll=poll,
        description="Federal Register search results as RSS (documents.rss)",
    )
)
