"""Relevance of a document to the watched portfolio, 0-100, with its reasons.

The score is a consequence of the impact assessment (monitor/relevance): what the
document changes for which chip, customer and destination. The most severe impact sets
the severity band; `relevant` means the score reached the alert threshold. Each impact is
one reason, leading with the impact in words; the evidence it rests on follows as a reason
of 0 points. `scoring.weights` moves an impact kind up or down by a number of points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from monitor.document import Document
from monitor.portfolio import Portfolio
from monitor.relevance.assess import assess
from monitor.relevance.chips import mentioned_eccns, reaches
from monitor.relevance.impact import IMPACT_KINDS, POINTS, Assessment, Impact
from monitor.relevance.impact import score as impact_score
from monitor.severity import Severity, severity_for

if TYPE_CHECKING:  # the config imports the portfolio, not the scorer
    from monitor.config import Config

WEIGHT_KEYS: tuple[str, ...] = IMPACT_KINDS  # `scoring.weights` adjusts these, in points
EVIDENCE = "evidence"
# impacts whose customers the document itself names or lists (matches.customers)
NAMING = frozenset({"listed", "owner_listed", "named", "delisted", "context"})


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
    assessment: Assessment = field(default_factory=Assessment)  # impacts and findings

    @property
    def impacts(self) -> list[Impact]:
        return self.assessment.impacts

    def to_json(self) -> dict[str, Any]:
        """The stable `monitor score` shape, with the impacts' structure."""
        return {
            "document_number": self.document_number,
            "score": self.score,
            "severity": self.severity,
            "relevant": self.relevant,
            "reasons": [r.__dict__ for r in self.reasons],
            "matches": {"chips": self.chips, "customers": self.customers, "eccns": self.eccns},
            "impacts": [i.to_json() for i in self.impacts],
        }

    @property
    def why(self) -> str:
        """The most severe impact in one line, and how many more there are."""
        if not self.impacts:
            return "no impact on the portfolio"
        first = self.impacts[0]
        more = sum(1 for i in self.impacts[1:] if i.severity not in ("info",))
        return first.summary + (f" (+{more} more)" if more else "")


def score_document(
    doc: Document,
    portfolio: Portfolio,
    *,
    threshold: int = 50,
    weights: dict[str, int] | None = None,
    previous: Document | None = None,
    today: date | None = None,
) -> Score:
    """`previous`: the version before `doc` when it changed (an eCFR section's threshold
    text is compared with it)."""
    found = assess(doc, portfolio, previous=previous, today=today)
    adjust = weights or {}
    reasons = [
        Reason(i.kind, max(0, POINTS[i.severity] + adjust.get(i.kind, 0)), _detail(i))
        for i in found.impacts
    ]
    if found.evidence:
        reasons.append(Reason(EVIDENCE, 0, "; ".join(found.evidence)))
    total = impact_score(found.impacts, adjust)
    chips = sorted({c for i in found.impacts for c in i.chips})
    customers = sorted({c for i in found.impacts if i.kind in NAMING for c in i.customers})
    eccns = mentioned_eccns("\n".join(t for t in (doc.title, doc.action, doc.abstract) if t))
    return Score(
        document_number=doc.document_number,
        score=total,
        severity=severity_for(total),
        relevant=total >= threshold,
        reasons=reasons,
        chips=chips,
        customers=customers,
        eccns=eccns,
        assessment=found,
    )


def _detail(impact: Impact) -> str:
    text = impact.summary
    if impact.action:
        text += f". To do: {impact.action}"
    if impact.notes:
        text += f" ({'; '.join(impact.notes)})"
    return text


def score_of(config: Config, doc: Document, previous: Document | None = None) -> Score:
    """`score_document` with the configured portfolio, threshold and weights."""
    return score_document(
        doc, config.portfolio, threshold=config.scoring.threshold,
        weights=config.scoring.weights, previous=previous,
    )  # fmt: skip


__all__ = ["Reason", "Score", "reaches", "score_document", "score_of"]
