"""Pure helpers for news items: canonical links, FR references, same-story tests.

A news item is known by its canonical link (tracking parameters, fragments and
case differences removed), names Federal Register documents in its text (FR
document numbers, `90 FR 4544` citations, RINs, federalregister.gov links),
and is the same story as another item when they share one of those references,
link to the same page, or carry near-identical titles a few days apart.
Nothing here does I/O: the `news` watcher feeds it what it fetched.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rapidfuzz import fuzz, utils

from monitor.document import Document

# Query parameters that say how a reader arrived, never what the page is.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
    "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "referrer", "cmpid", "cmp", "icid",
    "ncid", "ocid", "s_cid", "sr_share", "spm", "trk", "mkt_tok", "_hsenc", "_hsmi",
    "hsctatracking", "vero_id", "oly_anon_id", "oly_enc_id", "wt.mc_id", "at_medium",
    "at_campaign", "at_source", "cid_source", "ito", "smid", "soc_src", "soc_trk",
})  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "piwik_", "hmb_")
DEFAULT_PORTS = {"http": "80", "https": "443"}

# Same-story thresholds.
TITLE_SIMILARITY = 90  # rapidfuzz token_set_ratio on normalised titles, 0-100
TITLE_MIN_COMMON_TOKENS = 3  # a short title is a subset of many: ask for real overlap
STORY_DAYS = 3


def canonical_url(url: str) -> str:
    """The link with what does not name the page removed.

    Scheme and host lower-cased, user info and default ports dropped, the
    fragment dropped, tracking parameters (`utm_*`, `fbclid`, `gclid`, `mc_cid`,
    `mc_eid`, `ref`, `cmpid` and the like) dropped, the remaining query sorted,
    and trailing slashes stripped from the path. The path keeps its case: it
    can matter to the server.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    netloc = host
    if port is not None and DEFAULT_PORTS.get(scheme) != str(port):
        netloc = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not _tracking(key)
    ]
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def _tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def news_id(url: str) -> str:
    """The 16-hex document number of a news item: a hash of its canonical link."""
    return hashlib.sha256(canonical_url(url).encode()).hexdigest()[:16]


# --- references to Federal Register documents ---------------------------------------

# 2025-00636, and corrections such as C1-2023-27742
_FR_NUMBER = r"(?:[A-Z]\d-)?(?:19|20)\d{2}-\d{5}"
_NUMBER_ONLY = re.compile(_FR_NUMBER)
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "link",
        re.compile(
            r"federalregister\.gov/(?:d|(?:documents|public-inspection)/\d{4}/\d{2}/\d{2})"
            rf"/({_FR_NUMBER})(?![\w-])"
            rf"|public-inspection\.federalregister\.gov/({_FR_NUMBER})\.pdf",
            re.IGNORECASE,
        ),
    ),
    ("number", re.compile(rf"(?<![\w-])({_FR_NUMBER})(?![\w-])")),
    (
        "citation",
        re.compile(
            r"(?<![\w.,-])(\d{1,3})\s+(?:FR|F\.\s?R\.|Fed\.\s?Reg\.|Federal\s+Register)"
            r"\s+(\d{1,3}(?:,\d{3})+|\d{1,6})(?!\d)",
        ),
    ),
    (
        "rin",
        re.compile(r"(?<![\w-])(\d{4})-([A-Z]{2}\d{2})(?![\w-])", re.IGNORECASE),
    ),
]


def fr_references(text: str | None) -> list[str]:
    """FR references named in a text, normalised, in order of first mention.

    FR document numbers (`2025-00636`), citations (`90 FR 4544`, also written
    `90 Fed. Reg. 4,544`), RINs (`RIN 0694-AJ90`, with or without `RIN`) and
    federalregister.gov document links (`/d/<number>`, `/documents/yyyy/mm/dd/
    <number>/...`, the public-inspection PDF), the last reduced to the number.
    Works on plain text and on HTML (links in `href` attributes are found).
    """
    if not text:
        return []
    found: list[tuple[int, str]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if kind in ("link", "number"):
                value = next(g for g in match.groups() if g).upper()
            elif kind == "citation":
                value = f"{int(match.group(1))} FR {int(match.group(2).replace(',', ''))}"
            else:
                value = f"RIN {match.group(1)}-{match.group(2).upper()}"
            found.append((match.start(), value))
    return list(dict.fromkeys(value for _, value in sorted(found)))


# --- the same story -----------------------------------------------------------------------


def title_similarity(a: str | None, b: str | None) -> float:
    """rapidfuzz token-set ratio (0-100) of two titles, case and punctuation ignored.

    0 when either is empty or when they share fewer than three words: the
    token-set ratio of a short title contained in a long one is 100, and "Entity
    List additions" alone does not make two items one story.
    """
    if not a or not b:
        return 0.0
    left, right = utils.default_process(a), utils.default_process(b)
    if len(set(left.split()) & set(right.split())) < TITLE_MIN_COMMON_TOKENS:
        return 0.0
    return fuzz.token_set_ratio(left, right)


def _days_apart(a: date | None, b: date | None) -> int | None:
    return None if a is None or b is None else abs((a - b).days)


def same_story(a: Document, b: Document) -> bool:
    """Do two news items report the same story?

    Yes when they name a common FR reference (`related`), when their canonical
    links are equal, or when their titles are near-duplicates (token-set
    similarity >= 90 with at least three words in common) and they were
    published at most three days apart. Similar titles do not count when both
    items name FR document numbers and none in common: "Commerce adds 11
    entities to the Entity List" and "Commerce adds 16 entities to the Entity
    List" on the same day are two rules (2025-00704 and 2025-00480).
    """
    if set(a.related) & set(b.related):
        return True
    if a.html_url and b.html_url and canonical_url(a.html_url) == canonical_url(b.html_url):
        return True
    numbers_a, numbers_b = document_numbers(a.related), document_numbers(b.related)
    if numbers_a and numbers_b:  # and disjoint, or the first test would have said yes
        return False
    apart = _days_apart(a.publication_date, b.publication_date)
    return (
        apart is not None
        and apart <= STORY_DAYS
        and title_similarity(a.title, b.title) >= TITLE_SIMILARITY
    )


def document_numbers(references: list[str]) -> set[str]:
    """The FR document numbers among `fr_references` results (not citations or RINs)."""
    return {r for r in references if _NUMBER_ONLY.fullmatch(r)}
