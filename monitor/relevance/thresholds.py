"""Chips re-classified by a rule: from the 3A090 text it prints (the rule's own text, or a
changed eCFR section), or, for a rule the knowledge model holds, from its parameters.

Each chip is judged under the rules in force the day before and under the rules with the
new paragraphs, and every chip that changes class is a crossing with its reason in one
line ("A800: not 3A090 -> 3A090.a (TPP 4992 >= 4800; the 600 GB/s interconnect test is
gone)").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from monitor import eccn
from monitor.document import Document
from monitor.eccn import eccn_texts
from monitor.knowledge import controls
from monitor.portfolio import Portfolio


@dataclass(frozen=True)
class Reclassified:
    summary: str  # "3A090 as printed vs <rules>: <moved paragraphs>"
    crossings: list[eccn.Crossing]
    unreadable: str | None = None  # why the printed text could not be read


def reclassify(
    doc: Document, portfolio: Portfolio, previous: Document | None, day: date
) -> Reclassified | None:
    """None when the document prints no 3A090 text and sets no known parameters."""
    printed = _printed(doc, previous)
    if printed is None:
        return _known(doc, portfolio)
    text, old = printed
    try:
        paragraphs = eccn.parse_parameters(text, "3A090")
    except eccn.ParseError as exc:
        return Reclassified("3A090 revised; thresholds not read", [], str(exc))
    reprinted = {t.paragraph for t in paragraphs}
    kept = [t for t in old if t.paragraph not in reprinted]
    new = eccn.RuleSet(doc.document_number, doc.document_number, doc.citation or "",
                       day.isoformat(), tuple(sorted([*paragraphs, *kept],
                                                     key=lambda t: t.paragraph)))  # fmt: skip
    moved = [t for t in paragraphs if not _same(old.get(t.paragraph), t)]
    summary = f"3A090 as printed vs {old.name}: " + (
        "; ".join(str(t) for t in moved) if moved else "no threshold moved"
    )
    return Reclassified(summary, eccn.compare(portfolio, old, new))


def _printed(doc: Document, previous: Document | None) -> tuple[str, eccn.RuleSet] | None:
    """The 3A090 text a document prints, and the rules it is to be compared with."""
    if doc.collection == "ecfr":
        if previous is None:
            return None
        before = eccn_texts(previous.text or "").get("3A090")
        text = eccn_texts(doc.text or "").get("3A090")
        if not text or before == text:
            return None
        old = _read(before, f"{doc.document_number} of {previous.version_date}", previous)
        return text, old or controls.rules_on(doc.version_date)
    text = (doc.rule.eccn_text if doc.rule else {}).get("3A090")
    if not text:
        return None
    return text, controls.before(doc.effective_on or doc.publication_date)


def _known(doc: Document, portfolio: Portfolio) -> Reclassified | None:
    """A rule whose 3A090 parameters the knowledge model holds, judged without its text."""
    version = controls.version(doc.document_number)
    if version is None or not version.thresholds:
        return None
    old, new = controls.before(version.effective), controls.rules_on(version.effective)
    moved = [t for t in new if not _same(old.get(t.paragraph), t)]
    summary = f"3A090 under {version.name} ({version.citation}) vs {old.name}: " + (
        "; ".join(str(t) for t in moved) if moved else "no threshold moved"
    )
    return Reclassified(summary, eccn.compare(portfolio, old, new))


def _read(text: str | None, name: str, doc: Document) -> eccn.RuleSet | None:
    """The thresholds of an earlier 3A090 text; None if it cannot be read."""
    if not text:
        return None
    try:
        found = tuple(eccn.parse_parameters(text, "3A090"))
    except eccn.ParseError:
        return None
    day = (doc.version_date or date.today()).isoformat()
    return eccn.RuleSet(name, doc.document_number, "", day, found) if found else None


def _same(before: eccn.Threshold | None, after: eccn.Threshold) -> bool:
    return before is not None and before.equivalent(after)
