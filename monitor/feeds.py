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
import re
from dataclasses import dataclass, field
from typing import Any

import feedparser

from monitor.http import FetchError
from monitor.redact import redact_url
from monitor.text import one_line

_HTML_START = (b"<!doctype html", b"<html")
_FEED_END = (b"</rss>", b"</feed>", b"</rdf:RDF>")
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));")


def _xml_char(code: int) -> bool:
    """Whether XML 1.0 allows this character (a NUL, a surrogate or U+FFFE it does not)."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def valid_references(body: bytes) -> tuple[bytes, int]:
    """The body with every character reference to no XML character (`&#xD800;`, `&#0;`)
    made `&#xFFFD;`, as an HTML parser reads them, and how many there were: feedparser
    would fail on the whole feed, its good items too."""
    found = 0

    def check(match: re.Match[bytes]) -> bytes:
        nonlocal found
        digits, base = (match.group(1), 16) if match.group(1) else (match.group(2), 10)
        if len(digits.lstrip(b"0")) <= 8 and _xml_char(int(digits, base)):
            return match.group()
        found += 1
        return b"&#xFFFD;"

    return (_CHAR_REF.sub(check, body) if b"&#" in body else body), found


@dataclass
class Feed:
    entries: list[Any]
    title: str
    count: int  # entries in the body, a dropped cut-short one included
    notes: list[str] = field(default_factory=list)
    cut_short: bool = False


def _head(body: bytes) -> str:
    return body[:40].decode("utf-8", "replace").replace("\n", " ")


def _problem(problem: Any) -> str:
    return one_line(f"{type(problem).__name__}: {problem}", 200)


def read_feed(body: bytes, url: str, what: str, limit: int = 1000) -> Feed:
    """The entries of a feed body, at most `limit` of them (the first: feeds list the
    newest first), with a note when it holds more; `what` names the feed in errors."""
    shown = redact_url(url)
    stripped = body.strip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise FetchError(f"{shown}: empty body, not {what}")
    if stripped[:20].lower().startswith(_HTML_START):
        raise FetchError(f"{shown}: an HTML page, not {what} (starts {_head(stripped)!r})")
    if not stripped.startswith(b"<"):
        raise FetchError(f"{shown}: not {what}, not even XML (starts {_head(stripped)!r})")
    body, replaced = valid_references(body)
    try:
        parsed = feedparser.parse(
            io.BytesIO(body),
            response_headers={"content-type": "application/xml", "content-location": url},
        )
    except Exception as exc:  # feedparser's own failure on hostile bytes fails this feed only
        raise FetchError(f"{shown}: the feed could not be read ({_problem(exc)})") from None
    entries = list(parsed.get("entries") or [])
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not entries and (problem or not parsed.get("version")):
        detail = f"malformed feed ({_problem(problem)})" if problem else f"not {what}"
        raise FetchError(f"{shown}: {detail}; starts {_head(stripped)!r}")
    title = " ".join((parsed.get("feed", {}).get("title") or "").split())
    feed = Feed(entries=entries, title=title, count=len(entries))
    if replaced:
        feed.notes.append(
            f"{shown}: {replaced} character reference{'s' * (replaced > 1)} to no character"
            " (such as &#xD800;) read as U+FFFD"
        )
    if problem:
        feed.cut_short = not stripped.endswith(_FEED_END)
        kept = f"kept the {len(entries)} items read"
        if feed.cut_short:
            entries.pop()
            kept = f"cut short: kept the {len(entries)} whole items read"
        feed.notes.append(f"{shown}: malformed feed ({_problem(problem)}); {kept}")
    if len(entries) > limit:
        feed.notes.append(f"{shown}: the feed holds {len(entries)} items, more than the"
                          f" {limit} read from one feed: the first {limit} read")  # fmt: skip
        del entries[limit:]
    return feed
