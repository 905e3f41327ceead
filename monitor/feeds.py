"""Reading RSS and Atom bodies safely, for every watcher that takes feeds.

feedparser is given the bytes httpx fetched (in a BytesIO, so it never takes
them for a path or a URL to open). A body that is no feed at all (empty, an
HTML page served with 200, JSON) is a FetchError naming the URL. A malformed
feed with items keeps them, with a note; when the body is cut short its last
item may be cut too, so it is dropped and `cut_short` tells the watcher to
keep its cursor and read the rest next time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import feedparser

from monitor.http import FetchError
from monitor.redact import redact_url

_HTML_START = (b"<!doctype html", b"<html")
_FEED_END = (b"</rss>", b"</feed>", b"</rdf:RDF>")


@dataclass
class Feed:
    entries: list[Any]
    title: str
    count: int  # entries in the body, a dropped cut-short one included
    notes: list[str] = field(default_factory=list)
    cut_short: bool = False


def _head(body: bytes) -> str:
    return body[:40].decode("utf-8", "replace").replace("\n", " ")


def _one_line(problem: Any) -> str:
    return " ".join(f"{type(problem).__name__}: {problem}".split())[:200]


def read_feed(body: bytes, url: str, what: str) -> Feed:
    """The entries of a feed body; `what` names the feed in errors ("an RSS feed")."""
    shown = redact_url(url)
    stripped = body.strip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise FetchError(f"{shown}: empty body, not {what}")
    if stripped[:20].lower().startswith(_HTML_START):
        raise FetchError(f"{shown}: an HTML page, not {what} (starts {_head(stripped)!r})")
    if not stripped.startswith(b"<"):
        raise FetchError(f"{shown}: not {what}, not even XML (starts {_head(stripped)!r})")
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-type": "application/xml", "content-location": url},
    )
    entries = list(parsed.get("entries") or [])
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not entries and (problem or not parsed.get("version")):
        detail = f"malformed feed ({_one_line(problem)})" if problem else f"not {what}"
        raise FetchError(f"{shown}: {detail}; starts {_head(stripped)!r}")
    title = " ".join((parsed.get("feed", {}).get("title") or "").split())
    feed = Feed(entries=entries, title=title, count=len(entries))
    if problem:
        feed.cut_short = not stripped.endswith(_FEED_END)
        kept = f"kept the {len(entries)} items read"
        if feed.cut_short:
            entries.pop()
            kept = f"cut short: kept the {len(entries)} whole items read"
        feed.notes.append(f"{shown}: malformed feed ({_one_line(problem)}); {kept}")
    return feed
