"""Relevance of a document to the watched portfolio, 0-100, with its reasons.

Each component adds points and says why; the sum (capped at 100) maps to a
severity band, and `relevant` means the score reached the alert threshold.
Priors (agency, document type, EAR part) alone stay below the default
threshold: a document alerts only when it touches the portfolio (a customer or
chip named, an ECCN covering a chip) or piles up several signals.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from monitor.document import Document
from monitor.portfolio import ECCN_RE, Chip, Portfolio
from monitor.severity import Severity, severity_for

DEFAULT_WEIGHTS: dict[str, int] = {
    "customer": 45,  # a portfolio customer (name or alias) is named
    "chip": 35,  # a portfolio chip (name, model or part number) is named
    "eccn": 25,  # an ECCN covering a portfolio chip is named
    "agency": 15,  # issued by BIS, which administers the EAR
    "rule": 10,  # a rule (final, interim final) rather than a notice
    "proposed_rule": 6,
    "ear_part": 10,  # amends an EAR part that carries chip controls (734/740/742/744/774)
    "watch_term": 5,  # per portfolio watch term found, at most two counted
}

BIS_SLUG = "industry-and-security-bureau"
KEY_EAR_PARTS = {734, 740, 742, 744, 774}
EAR_PARTS = range(730, 775)
# The ".z" paragraphs capture items meeting the 3A090/4A090 parameters (Oct 2023).
ADVANCED_COMPUTING = {"3A090", "4A090"}
Z_PARAGRAPHS = {
    "3A001.z", "4A003.z", "4A004.z", "4A994.z", "5A002.z",
    "5A004.z", "5A992.z", "5D002.z", "5D992.z",
}  # fmt: skip
NEGATED_ECCN = re.compile(r"\bnot\s+(?:[a-z]+\s+)?$", re.IGNORECASE)


@dataclass
class Reason:
    component: str
    points: int
    detail: str

    def __str__(self) -> str:
        return f"+{self.points} {self.component}: {self.detail}"


@dataclass
class Score:
    document_number: str
    score: int
    severity: Severity
    relevant: bool
    reasons: list[Reason] = field(default_factory=list)
    chips: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    eccns: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The stable `monitor score` shape."""
        return {
            "document_number": self.document_number,
            "score": self.score,
            "severity": self.severity,
            "relevant": self.relevant,
            "reasons": [r.__dict__ for r in self.reasons],
            "matches": {"chips": self.chips, "customers": self.customers, "eccns": self.eccns},
        }

    @property
    def why(self) -> str:
        return "; ".join(r.detail for r in self.reasons) or "no signal"


# --- matching -------------------------------------------------------------------

_LEGAL_SUFFIX = re.compile(
    r"\b(co ltd|company limited|co|ltd|limited|inc|incorporated|llc|corp|corporation|"
    r"gmbh|ag|s a|pte ltd|pte|plc|pvt ltd)$",
    re.IGNORECASE,
)


def _fold(text: str) -> str:
    """Punctuation to spaces, whitespace collapsed, case kept (CJK is kept as word chars)."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _has_cjk(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" for ch in text)


@functools.lru_cache(maxsize=4096)
def _pattern(name: str) -> tuple[str, re.Pattern[str]] | None:
    """A lower-case needle to pre-filter with, and the pattern that decides.

    None for a name that is only a legal form ("Ltd.", often a YAML flow list
    split at the comma of "Co., Ltd.") : it names nobody.
    """
    folded = _fold(name)
    if _has_cjk(folded):
        return folded.lower(), re.compile(re.escape(folded))
    bare = _LEGAL_SUFFIX.sub("", folded).strip()
    if not bare:
        return None
    if len(folded) <= 5:
        # short forms (MTT, SMIC, A100) must match exactly, case included
        return folded.lower(), re.compile(rf"(?<!\w){re.escape(folded)}(?!\w)")
    return bare.lower(), re.compile(rf"(?<!\w){re.escape(bare)}(?!\w)", re.IGNORECASE)


@dataclass
class _Hit:
    owner: str
    name: str
    start: int
    end: int

    def inside(self, other: _Hit) -> bool:
        return (
            other.owner != self.owner
            and other.start <= self.start
            and self.end <= other.end
            and other.end - other.start > self.end - self.start
        )


def named(text: str, entries: list[tuple[str, list[str]]]) -> dict[str, str]:
    """Which entries `text` names, and by which of their names.

    A hit inside a longer hit of another entry is a look-alike, not a match:
    "Biren Capital Partners" names the decoy, not Biren Technology.
    """
    folded = _fold(text)
    lower = folded.lower()
    hits = [
        _Hit(owner, name, m.start(), m.end())
        for owner, names in entries
        for name in names
        if (found := _pattern(name)) is not None and found[0] in lower
        for m in found[1].finditer(folded)
    ]
    kept: dict[str, str] = {}
    for hit in hits:
        if not any(hit.inside(other) for other in hits):
            kept.setdefault(hit.owner, hit.name)
    return kept


def chip_eccns(chip: Chip) -> set[str]:
    """ECCNs a chip is classified under; "not 3A090" in the free text is not a claim."""
    text = chip.eccn or ""
    return {c for c in chip.eccns if not NEGATED_ECCN.search(text[: text.find(c)])}


def reaches(code: str, chip: Chip) -> bool:
    """Does a change to ECCN `code` reach this chip?

    3A090.a, 4A090 and the .z paragraphs are one family for threshold rules; a
    bare ECCN (3A090) reaches every paragraph of it.
    """
    own = chip_eccns(chip)
    families = {c[:5] for c in own}
    if families & ADVANCED_COMPUTING and (code[:5] in ADVANCED_COMPUTING or code in Z_PARAGRAPHS):
        return True
    return code in own or ("." not in code and code in families)


def mentioned_eccns(text: str) -> list[str]:
    return list(dict.fromkeys("".join(m.groups()) for m in ECCN_RE.finditer(text)))


# --- scoring ----------------------------------------------------------------------


def document_text(doc: Document) -> str:
    return "\n".join(t for t in (doc.title, doc.action, doc.abstract) if t)


def score_document(
    doc: Document,
    portfolio: Portfolio,
    *,
    threshold: int = 50,
    weights: dict[str, int] | None = None,
) -> Score:
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    text = document_text(doc)
    reasons: list[Reason] = []

    def add(component: str, detail: str, points: int | None = None) -> None:
        points = w[component] if points is None else points
        if points:
            reasons.append(Reason(component, points, detail))

    customers = named(text, [(c.id, c.match_names) for c in portfolio.customers])
    for cid, name in customers.items():
        add("customer", f"customer {cid} named ({name!r})")
    chips = named(text, [(c.id, c.match_names) for c in portfolio.chips])
    for cid, name in chips.items():
        add("chip", f"chip {cid} named ({name!r})")

    eccns = mentioned_eccns(text)
    for code in eccns:
        reached = [c.id for c in portfolio.chips if reaches(code, c)]
        if reached:
            add("eccn", f"ECCN {code} covers chips {', '.join(reached)}")
            break

    slugs = {a.slug for a in doc.agencies}
    if BIS_SLUG in slugs:
        add("agency", "issued by BIS")
    if doc.type == "Rule":
        add("rule", (doc.action or "Rule").rstrip("."))
    elif doc.type == "Proposed Rule":
        add("proposed_rule", (doc.action or "Proposed rule").rstrip("."))

    parts = sorted({r.part for r in doc.cfr_references if r.title == 15 and r.part in EAR_PARTS})
    if parts:
        key = [p for p in parts if p in KEY_EAR_PARTS]
        points = w["ear_part"] if key else w["ear_part"] // 2
        label = "part" if len(parts) == 1 else "parts"
        add("ear_part", f"EAR {label} {', '.join(str(p) for p in parts)}", points)

    terms = named(text, [(t, [t]) for t in portfolio.watch_terms])
    for term in list(terms)[:2]:
        add("watch_term", f"term {term!r}")

    total = min(100, sum(r.points for r in reasons))
    return Score(
        document_number=doc.document_number,
        score=total,
        severity=severity_for(total),
        relevant=total >= threshold,
        reasons=reasons,
        chips=sorted(chips),
        customers=sorted(customers),
        eccns=eccns,
    )
