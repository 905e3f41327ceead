"""Relevance of a document to the watched portfolio, 0-100, with its reasons.

Each component adds points and says why; the sum (capped at 100) maps to a
severity band, and `relevant` means the score reached the alert threshold.
Priors (agency, document type, EAR part) alone stay below the default
threshold: a document alerts only when it touches the portfolio (a customer or
chip named, an ECCN covering a chip) or piles up several signals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from monitor.document import Document
from monitor.exposure import BIS_SLUG, Exposure, assess
from monitor.names import portfolio_index
from monitor.portfolio import ECCN_RE, Chip, Portfolio
from monitor.severity import Severity, severity_for

if TYPE_CHECKING:  # the config imports the portfolio, not the scorer
    from monitor.config import Config

DEFAULT_WEIGHTS: dict[str, int] = {
    "customer": 45,  # a portfolio customer (name or alias) is named
    "chip": 35,  # a portfolio chip (name, model or part number) is named
    "eccn": 25,  # an ECCN covering a portfolio chip is named
    "agency": 15,  # issued by BIS, which administers the EAR
    "rule": 10,  # a rule (final, interim final) rather than a notice
    "proposed_rule": 6,
    "ear_part": 10,  # amends an EAR part that carries chip controls (734/740/742/744/774)
    "watch_term": 5,  # per portfolio watch term found, at most two counted
    # from the rule's structured changes (monitor.exposure)
    "listed": 85,  # a portfolio customer is among the Entity List entries a rule adds or revises
    "threshold": 50,  # a threshold change moves a portfolio chip across a line
    "destination": 25,  # Entity List additions, not read, under a D:5/Macau home of customers
    "unscreened": 25,  # Entity List additions whose entries and destinations are unknown
    "country_group": 10,  # names D:1/D:4/D:5, Macau or a D:5 country home to customers
    "chip_class": 20,  # about the control class of portfolio chips (advanced computing ICs)
    "screened": 0,  # information: the entries were screened and none is a customer
}
INFO = {"screened"}  # reasons shown even at 0 points

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
    exposure: Exposure = field(default_factory=Exposure)  # structured findings, for the event

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
    previous: Document | None = None,
) -> Score:
    """`previous`: the version before `doc` when it changed (an eCFR section's threshold
    text is compared with it)."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    text = document_text(doc)
    reasons: list[Reason] = []

    def add(component: str, detail: str, points: int | None = None) -> None:
        points = w[component] if points is None else points
        if points or component in INFO:
            reasons.append(Reason(component, points, detail))

    found = portfolio_index(portfolio).find(text)
    customers = found["customers"]
    for cid, name in customers.items():
        add("customer", f"customer {cid} named ({name!r})")
    chips = found["chips"]
    for cid, name in chips.items():
        add("chip", f"chip {cid} named ({name!r})")

    exposure = assess(doc, portfolio, text, previous)
    for finding in exposure.findings:
        add(finding.component, finding.detail)

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

    terms = found["watch_terms"]
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
        customers=sorted({*customers, *(s["customer_id"] for s in exposure.screened)}),
        eccns=eccns,
        exposure=exposure,
    )


def score_of(config: Config, doc: Document, previous: Document | None = None) -> Score:
    """`score_document` with the configured portfolio, threshold and weights."""
    return score_document(
        doc, config.portfolio, threshold=config.scoring.threshold,
        weights=config.scoring.weights, previous=previous,
    )  # fmt: skip
