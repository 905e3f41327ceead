"""News feeds (RSS or Atom): the trade press and agency press releases.

News can change the law before any Federal Register text appears (BIS
rescinded the AI Diffusion rule by press release on 2025-05-13), so a news
feed is a primary source. A `news` source lists feeds; each is fetched through
`monitor.http` and parsed by feedparser from the bytes (feedparser never
fetches anything itself). Each item becomes a `Document` in the `news`
collection, known by a hash of its canonical link, with the FR documents its
title and summary name in `related`.

Within one poll the items of all feeds that report the same story
(`monitor.news.same_story`: a shared FR reference, the same canonical link, or
a near-identical title within three days) become one document: the earliest
item's, with the union of the references and every publisher named, so a
story carried by three feeds is one event.

One broken feed (an HTML page served with 200, a body that is no feed) is a
note naming it, and the other feeds still give their items; only when every
feed fails is the poll a FetchError. The cursor is the newest entry time per
feed. Items at or after it are new; older items, back to `overlap_days`
before the earliest feed's cursor, are read again only to recognise a story
that new items continue, so the story keeps its first item's identity and
every publisher that carried it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.document import Document
from monitor.feeds import read_feed
from monitor.http import Conditional, FetchError
from monitor.news import canonical_url, fr_references, news_id, same_story
from monitor.redact import redact_url
from monitor.text import html_to_text
from watchers import PollResult, SourceOptions, Watcher, parse_since, register

_SCHEMES = ("http", "https", "file")


class Feed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, description="the feed; relative to base_url when one is set")
    name: str | None = Field(default=None, description="publisher; default the feed's title")


class NewsOptions(SourceOptions):
    kind: Literal["news"] = "news"
    base_url: str = Field(default="", description="optional; feed URLs are resolved against it")
    feeds: list[Feed] = Field(min_length=1)
    overlap_days: int = Field(
        default=3, ge=0, description="days before the cursor re-read to recognise a story"
    )

    @model_validator(mode="after")
    def _feed_urls(self) -> NewsOptions:
        seen: set[str] = set()
        for i, feed in enumerate(self.feeds):
            url = feed_url(self, feed)
            scheme = urlsplit(url).scheme.lower()
            if scheme not in _SCHEMES:
                raise ValueError(f"feeds[{i}].url: expected an http(s) URL, got {url!r}")
            if scheme == "file" and not self.base_url.startswith("file:"):
                raise ValueError(f"feeds[{i}].url: a file: feed needs base_url: file:FOLDER/")
            if url in seen:
                raise ValueError(f"feeds[{i}].url: {url!r} is listed twice")
            seen.add(url)
        return self


def feed_url(options: NewsOptions, feed: Feed) -> str:
    return urljoin(options.base_url, feed.url.strip()) if options.base_url else feed.url.strip()


# --- one feed -----------------------------------------------------------------------------


@dataclass
class Item:
    document: Document
    moment: datetime | None  # UTC; None when the item is undated
    order: tuple[int, int]  # (feed, item): ties keep the configured order
    new: bool = False


@dataclass
class ParsedFeed:
    publisher: str
    items: list[Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    entries: int = 0
    cut_short: bool = False


def entry_moment(entry: Any) -> tuple[datetime | None, date | None]:
    """When an item was published (UTC) and its date as the publisher wrote it.

    The raw `published`/`updated` string keeps its UTC offset, so an item dated
    `Tue, 13 May 2025 20:30:00 -0400` is of May 13 although it is May 14 in
    UTC; feedparser's parsed tuple (UTC) is the fallback.
    """
    for key in ("published", "updated"):
        raw = (entry.get(key) or "").strip()
        moment = _parse_time(raw) if raw else None
        if moment is not None:
            local = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return local.astimezone(UTC), local.date()
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            moment = datetime(*parsed[:6]).replace(tzinfo=UTC)
            return moment, moment.date()
    return None, None


def _parse_time(raw: str) -> datetime | None:
    try:
        return parsedate_to_datetime(raw)  # RFC 822 (RSS)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(raw)  # RFC 3339 (Atom)
    except ValueError:
        return None


def _text(detail: Any, value: str | None) -> str | None:
    if not value:
        return None
    if (detail or {}).get("type") in ("text/html", "application/xhtml+xml"):
        return html_to_text(value)
    return " ".join(value.split()) or None


def _link(entry: Any) -> str | None:
    link = (entry.get("link") or "").strip()
    if link:
        return link
    guid = (entry.get("id") or "").strip()
    return guid if urlsplit(guid).scheme in ("http", "https") else None


def to_item(entry: Any, publisher: str, order: tuple[int, int]) -> Item | None:
    """An item of one feed, or None when it has no link to know it by."""
    link = _link(entry)
    if link is None:
        return None
    summary = entry.get("summary")
    detail = entry.get("summary_detail")
    contents = entry.get("content") or []
    if not summary and contents:
        summary, detail = contents[0].get("value"), contents[0]
    title = _text(entry.get("title_detail"), entry.get("title"))
    hrefs = [link] + [(x.get("href") or "") for x in entry.get("links") or []]
    raw = [entry.get("title") or "", summary or "", *(c.get("value") or "" for c in contents)]
    moment, day = entry_moment(entry)
    document = Document(
        collection="news",
        document_number=news_id(link),
        title=title,
        abstract=_text(detail, summary),
        publication_date=day,
        publisher=publisher,
        html_url=canonical_url(link),
        related=fr_references("\n".join(raw + hrefs)),
    )
    return Item(document, moment, order)


def parse_feed(body: bytes, url: str, name: str | None, index: int = 0) -> ParsedFeed:
    """The items of a feed body; a FetchError when the body is no feed at all."""
    shown = redact_url(url)
    feed = read_feed(body, url, "a news feed")
    entries = feed.entries
    result = ParsedFeed(publisher=name or feed.title or urlsplit(url).hostname or shown)
    result.entries, result.cut_short, result.notes = feed.count, feed.cut_short, feed.notes
    for i, entry in enumerate(entries):
        item = to_item(entry, result.publisher, (index, i))
        if item is None:
            heading = " ".join((entry.get("title") or "").split())[:80]
            result.notes.append(f"{shown}: item {i} ({heading!r}) skipped: no link")
            continue
        result.items.append(item)
    return result


# --- the window and the stories -------------------------------------------------------------


def _mark_new(items: list[Item], since: date | None, last: str | None, configured: str) -> datetime:
    """Mark the items at or after the window's start; return that start (UTC).

    An explicit `since` is a date, as is the configured first-run window; after
    the first poll the start is the feed's cursor, its newest entry time.
    Undated items are always new: the store makes seeing them again free.
    """
    if since is None and last:
        start = datetime.fromisoformat(last)
        for item in items:
            item.new = item.moment is None or item.moment >= start
        return start
    first = since or parse_since(configured)
    for item in items:
        day = item.document.publication_date
        item.new = day is None or day >= first
    return datetime.combine(first, time(), UTC)


def _earliest(item: Item) -> tuple[bool, datetime, tuple[int, int]]:
    return item.moment is None, item.moment or datetime.max.replace(tzinfo=UTC), item.order


def stories(items: list[Item]) -> list[list[Item]]:
    """Items grouped by `same_story` (transitively), each group earliest first."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if root(i) != root(j) and same_story(items[i].document, items[j].document):
                parent[root(j)] = root(i)
    groups: dict[int, list[Item]] = {}
    for i, item in enumerate(items):
        groups.setdefault(root(i), []).append(item)
    return sorted(
        (sorted(g, key=_earliest) for g in groups.values()), key=lambda g: _earliest(g[0])
    )


def merge_story(group: list[Item]) -> Document:
    """One document for a story: the earliest item's, naming every publisher and reference."""
    first = group[0].document
    publishers = dict.fromkeys(i.document.publisher for i in group if i.document.publisher)
    related = dict.fromkeys(r for i in group for r in i.document.related)
    return first.model_copy(
        update={"publisher": ", ".join(publishers) or None, "related": list(related)}
    )


# --- the poll -------------------------------------------------------------------------------


def poll(
    options: NewsOptions,
    cursor: dict[str, Any],
    client: httpx.Client,
    since: date | None = None,
) -> PollResult:
    last_seen: dict[str, str] = dict(cursor.get("feeds") or {})
    result = PollResult(documents=[], cursor=dict(cursor))
    failures: list[str] = []
    items: list[Item] = []
    starts: list[datetime] = []
    conditional = Conditional.from_cursor(cursor)
    for index, feed in enumerate(options.feeds):
        url = feed_url(options, feed)
        key = redact_url(url)  # the cursor is stored: no secrets in it
        try:
            answer = conditional.fetch(client, url, **options.fetch_limits)
            if answer.not_modified:  # nothing new in this feed (the store joins its stories)
                continue
            parsed = parse_feed(answer.body, url, feed.name, index)
        except FetchError as exc:
            failures.append(str(exc))
            continue
        result.fetched += parsed.entries
        result.notes += parsed.notes
        starts.append(_mark_new(parsed.items, since, last_seen.get(key), options.since))
        items += parsed.items
        moments = [i.moment for i in parsed.items if i.moment is not None]
        if moments and not parsed.cut_short:  # cut short: read the missing items again
            newest = max(moments)
            if key not in last_seen or newest > datetime.fromisoformat(last_seen[key]):
                last_seen[key] = newest.isoformat()
    if failures and len(failures) == len(options.feeds):
        if len(failures) == 1:
            raise FetchError(failures[0])
        raise FetchError(f"all {len(failures)} feeds failed: " + "; ".join(failures))
    conditional.save(result.cursor)
    result.notes += failures
    if not starts:  # every feed answered 304
        result.not_modified = not failures
        return result
    # Older items of every feed, back to `overlap_days` before the earliest
    # window, are read again only to recognise the stories new items continue.
    context = min(starts) - timedelta(days=options.overlap_days)
    items = [i for i in items if i.new or i.moment is None or i.moment >= context]
    result.documents = [merge_story(g) for g in stories(items) if any(i.new for i in g)]
    result.cursor["feeds"] = last_seen
    if last_seen:  # what `monitor status` shows as the newest date seen
        newest_day = max(datetime.fromisoformat(v).date() for v in last_seen.values())
        result.cursor["last_publication_date"] = newest_day.isoformat()
    return result


register(
    Watcher(
        kind="news",
        options=NewsOptions,
        poll=poll,
        description="news feeds (RSS or Atom): trade press and press releases",
    )
)
