"""One impact of a document on the portfolio: what changes, for which chips, customers and
destinations, how urgent it is, what to do, and the evidence.

Severity follows the impact, not keywords: a customer listed, or a change to the licensing
of a portfolio chip for a customer's destination, is critical or high and goes at once; a
deadline, briefing or correction of such a rule is medium; what only informs is low or
info and never alerts on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from monitor.severity import SEVERITIES, Severity

ImpactKind = Literal[
    "listed",  # a customer is on an end-user list entry the document adds or revises
    "owner_listed",  # an owner (50% or more) of a customer is listed
    "delisted",  # a customer's entry is removed
    "named",  # a customer or chip is named in an export-control document
    "classification",  # a chip's 3A090 class changes
    "licence",  # licence requirements for the portfolio's chips to customers' destinations
    "licence_policy",  # licence review policy for those chips and destinations
    "licence_exception",  # licence exceptions or authorisations for them
    "due_diligence",  # foundry / OSAT / know-your-customer obligations
    "destination_scope",  # a destination of customers changes Country Group
    "end_user_controls",  # military end-use / end-user controls reaching customers
    "ownership_rule",  # who counts as restricted through ownership
    "rule_status",  # a rule suspended, reinstated, rescinded, not enforced
    "deadline",  # a comment period or compliance date set or moved; a briefing
    "technology",  # controls on chip design software and technology
    "trade_measure",  # import tariffs or investigations of the portfolio's products
    "review",  # may reach the portfolio; the text read cannot say: read or screen it
    "screened",  # the entries were screened and none is a customer
    "context",  # related, not an obligation on the portfolio
]
IMPACT_KINDS: tuple[str, ...] = ImpactKind.__args__  # type: ignore[attr-defined]

POINTS: dict[Severity, int] = {"critical": 90, "high": 70, "medium": 50, "low": 30, "info": 10}


@dataclass(frozen=True)
class Impact:
    kind: ImpactKind
    severity: Severity
    summary: str  # the impact in the words of a compliance analyst, with names (ids)
    action: str = ""  # what to do about it
    chips: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()
    in_force_from: date | None = None
    evidence: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def at_most(self, ceiling: Severity, why: str) -> Impact:
        """The same impact no more severe than `ceiling` (a proposal, a correction)."""
        if SEVERITIES.index(self.severity) <= SEVERITIES.index(ceiling):
            return self
        return replace(self, severity=ceiling, notes=(*self.notes, why))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "summary": self.summary,
            "action": self.action,
            "chips": list(self.chips),
            "customers": list(self.customers),
            "destinations": list(self.destinations),
            "in_force_from": self.in_force_from.isoformat() if self.in_force_from else None,
            "evidence": list(self.evidence),
            "notes": list(self.notes),
        }


@dataclass
class Assessment:
    """Everything a document changes for the portfolio, and the structured findings an
    event carries (the entries screened, the chips re-classified)."""

    impacts: list[Impact] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # what the reading rests on
    screened: list[dict[str, Any]] = field(default_factory=list)  # listed customers
    crossings: list[dict[str, Any]] = field(default_factory=list)  # chips re-classified
    threshold_summary: str | None = None

    def add(self, impact: Impact) -> None:
        self.impacts.append(impact)

    def ranked(self) -> list[Impact]:
        return sorted(self.impacts, key=lambda i: -SEVERITIES.index(i.severity))


def score(impacts: list[Impact], adjust: dict[str, int] | None = None) -> int:
    """0-100: the points of the most severe impact (so the severity band is the impact's),
    plus one per further impact that counts, staying inside the band."""
    if not impacts:
        return 0
    adjust = adjust or {}
    points = sorted((POINTS[i.severity] + adjust.get(i.kind, 0) for i in impacts), reverse=True)
    top = max(0, min(100, points[0]))
    extra = sum(1 for p in points[1:] if p >= POINTS["low"])
    return min(top + min(extra, 9), 100 if top >= 90 else top + 9)
