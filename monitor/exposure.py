"""How a rule's structured changes reach the portfolio: listed customers, chips moved
across a threshold, destinations and country groups holding customers.

The scorer turns each finding into points and a reason; the pipeline puts the
structured findings (screened entries, crossings) into the event for the alert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from monitor import country_groups
from monitor.document import Document, Listed
from monitor.phrases import Phrases
from monitor.portfolio import Portfolio, derived

_ADDS_ENTITIES = re.compile(
    r"\b(?:add(?:s|ing|ed)?|addition\s+of)\b[^.]{0,120}?\bentit(?:y|ies)\b[^.]{0,80}?"
    r"\bEntity\s+List\b",
    re.IGNORECASE,
)
_DESTINATIONS = re.compile(r"\bunder\s+the\s+destinations?\s+of\b([^.]*)", re.IGNORECASE)
SHOWN = 5  # customers named in one reason before "and N more"


@dataclass
class Finding:
    component: str
    detail: str


@dataclass
class Exposure:
    findings: list[Finding] = field(default_factory=list)
    screened: list[dict[str, Any]] = field(default_factory=list)  # listed customers
    crossings: list[dict[str, Any]] = field(default_factory=list)  # chips re-classified
    threshold_summary: str | None = None
    countries_reported: set[str] = field(default_factory=set)  # said once, not again

    def add(self, component: str, detail: str) -> None:
        self.findings.append(Finding(component, detail))


def _few(ids: list[str]) -> str:
    more = len(ids) - SHOWN
    return ", ".join(ids[:SHOWN]) + (f" and {more} more" if more > 0 else "")


def assess(
    doc: Document, portfolio: Portfolio, text: str, previous: Document | None = None
) -> Exposure:
    """`previous`: the version before this one, for a changed eCFR section."""
    out = Exposure()
    lower = text.lower()
    countries: set[str] | None = None  # the countries named: scanned only when needed
    if doc.rule is not None and doc.rule.entities:
        screen_entries(doc.rule.entities, portfolio, out)
    elif "entity list" in lower and _ADDS_ENTITIES.search(text):
        countries = country_groups.named_countries(text)
        unscreened_additions(text, countries, portfolio, out)
    thresholds(doc, portfolio, out, previous)
    if export_control(doc, lower):
        if countries is None:
            countries = country_groups.named_countries(text)
        groups(text, countries, portfolio, out)
    chip_class(lower, portfolio, out)
    return out


# --- the Entity List ----------------------------------------------------------------


def screen_entries(entries: list[Listed], portfolio: Portfolio, out: Exposure) -> None:
    """Screen every entry (name and aliases) a rule adds, revises or removes."""
    from monitor.screening import Screener

    screener = derived(portfolio, "screener", Screener)
    best: dict[str, tuple[int, Listed, str, list[str]]] = {}
    for entry in entries:
        address = entry.addresses[0] if entry.addresses else None
        for name in (entry.name, *entry.aliases):
            for match in screener.screen(name, country=entry.country, address=address):
                if match.relation != "direct":
                    continue
                seen = best.get(match.customer_id)
                if seen is None or match.score > seen[0]:
                    best[match.customer_id] = (match.score, entry, name, match.reasons)
    for cid, (score, entry, name, reasons) in sorted(best.items(), key=lambda kv: -kv[1][0]):
        where = entry.country_heading or entry.country or "no country"
        via = "" if name == entry.name else f" (alias {name!r})"
        verb = {"added": "added to", "revised": "revised on", "removed": "removed from"}
        out.add(
            "listed" if entry.action != "removed" else "customer",
            f"customer {cid} {verb.get(entry.action, 'named on')} the Entity List as "
            f"{entry.name!r}{via} under {where} (screening {score}: {reasons[0]})",
        )
        out.screened.append({
            "customer_id": cid, "entry": entry.name, "matched": name, "action": entry.action,
            "country": entry.country, "score": score, "reasons": reasons,
        })  # fmt: skip
    if not best:
        out.add("screened", f"{len(entries)} Entity List entries screened: no portfolio customer")


def destinations(text: str, countries: set[str]) -> set[str]:
    """Countries an Entity List preamble lists entries under ("under the destinations of
    China, Bulgaria, ..."), else every country the text names (`countries`)."""
    listed = _DESTINATIONS.findall(text)
    return country_groups.named_countries(" ".join(listed)) if listed else countries


def unscreened_additions(
    text: str, countries: set[str], portfolio: Portfolio, out: Exposure
) -> None:
    """Entity List additions whose entries were not read (no full text): exposed when
    listed under a country of concern that is home to customers, or when the text
    read does not say where."""
    found = destinations(text, countries)
    if not found:
        out.add(
            "unscreened",
            "adds entities to the Entity List; the text read names neither the entries nor"
            " their destinations: screen the rule",
        )
        return
    homes = country_groups.exposed(portfolio, found & country_groups.CONCERN)
    out.countries_reported |= set(homes)
    if homes:
        where = "; ".join(f"{code}: {_few(ids)}" for code, ids in sorted(homes.items()))
        out.add(
            "destination",
            f"adds Entity List entries under a destination of concern home to customers"
            f" ({where}); the entries were not read: screen them",
        )


# --- thresholds ------------------------------------------------------------------------


def rules_in_force(on: date | None):  # -> eccn.RuleSet
    """The newest known 3A090 rules in force before `on` (the latest when unknown)."""
    from monitor.eccn import KNOWN_RULES

    known = [r for r in KNOWN_RULES if on is None or date.fromisoformat(r.effective) < on]
    return (known or list(KNOWN_RULES[:1]))[-1]


def thresholds(
    doc: Document, portfolio: Portfolio, out: Exposure, previous: Document | None
) -> None:
    """Re-classify every chip under the 3A090 thresholds a rule prints, against the rules
    in force before it; for an eCFR section, the new text against the previous one."""
    from monitor.eccn import ParseError, RuleSet, compare, parse_parameters
    from monitor.rule_facts import eccn_texts

    if doc.collection == "ecfr":
        if previous is None:
            return
        before = eccn_texts(previous.text or "").get("3A090")
        text = eccn_texts(doc.text or "").get("3A090")
        if not text or before == text:
            return
        old = _read(before, f"{doc.document_number} of {previous.version_date}", previous)
        old = old or rules_in_force(doc.version_date)
    else:
        text = (doc.rule.eccn_text if doc.rule else {}).get("3A090")
        if not text:
            return
        old = rules_in_force(doc.publication_date)
    try:
        printed = parse_parameters(text, "3A090")
    except ParseError as exc:
        out.add("threshold", f"3A090 text changed but its thresholds could not be read ({exc})")
        out.threshold_summary = "3A090 revised; thresholds not read"
        return
    reprinted = {t.paragraph for t in printed}
    kept = [t for t in old if t.paragraph not in reprinted]
    day = doc.effective_on or doc.version_date or doc.publication_date or date.today()
    new = RuleSet(doc.document_number, doc.document_number, doc.citation or "", day.isoformat(),
                  tuple(sorted([*printed, *kept], key=lambda t: t.paragraph)))  # fmt: skip
    moved = [t for t in printed if not _same(old.get(t.paragraph), t)]
    out.threshold_summary = f"3A090 as printed vs {old.name}: " + (
        "; ".join(str(t) for t in moved) if moved else "no threshold moved"
    )
    for crossing in compare(portfolio, old, new):
        out.crossings.append({"chip_id": crossing.chip_id, "before": crossing.before,
                              "after": crossing.after, "changed": crossing.changed,
                              "explanation": crossing.reason})  # fmt: skip
        if crossing.changed:
            out.add("threshold", crossing.reason)


def _read(text: str | None, name: str, doc: Document) -> Any:
    """The thresholds of an earlier 3A090 text as a RuleSet; None if it cannot be read."""
    from monitor.eccn import ParseError, RuleSet, parse_parameters

    if not text:
        return None
    try:
        found = tuple(parse_parameters(text, "3A090"))
    except ParseError:
        return None
    day = (doc.version_date or date.today()).isoformat()
    return RuleSet(name, doc.document_number, "", day, found) if found else None


def _same(before: Any, after: Any) -> bool:
    return before is not None and before.equivalent(after)


# --- country groups --------------------------------------------------------------------


_EXPORT_CONTROL = Phrases({t: t for t in (
    "export administration regulations", "export control", "export controls",
    "entity list", "commerce control list", "license requirement", "license requirements",
)})  # fmt: skip
BIS_SLUG = "industry-and-security-bureau"


def export_control(doc: Document, lower: str) -> bool:
    """Destinations matter in an export-control text (BIS, the EAR), not in a trade-remedy
    notice that names China as the origin of bearings."""
    if any(a.slug == BIS_SLUG for a in doc.agencies):
        return True
    if any(r.title == 15 and r.part and 730 <= r.part <= 774 for r in doc.cfr_references):
        return True
    return next(_EXPORT_CONTROL.find(lower), None) is not None


def groups(text: str, countries: set[str], portfolio: Portfolio, out: Exposure) -> None:
    """A country group (D:1/D:4/D:5), Macau or a D:5 country named in the text that is
    home to a customer or its parent."""
    from monitor.diff import country_name  # a heavy import, for export-control texts only

    named = sorted(country_groups.named_groups(text, countries))
    covered = set().union(*(country_groups.GROUPS[g] for g in named))
    concern = countries & country_groups.CONCERN - covered - out.countries_reported
    labels: list[str] = []
    homes: dict[str, list[str]] = {}
    for label, members in [
        *((g, country_groups.GROUPS[g]) for g in named),
        *((country_name(c), {c}) for c in sorted(concern)),
    ]:
        found = country_groups.exposed(portfolio, set(members))
        if found:
            labels.append(label)
            homes |= found
    if homes:
        who = "; ".join(f"{code}: {_few(ids)}" for code, ids in sorted(homes.items()))
        out.add("country_group", f"names {', '.join(labels)}, home to customers ({who})")


# --- the chips' control class -----------------------------------------------------------

# the advanced-computing control class, as rules and notices word it (lower case)
CLASS_TERMS = Phrases({term: term for term in (
    "advanced computing", "advanced-computing", "supercomputer", "supercomputers",
    "artificial intelligence", "ai chip", "ai chips", "ai model", "ai models", "ai diffusion",
    "graphics processing", "high bandwidth memory", "high-bandwidth memory",
    "data center", "data centers", "datacenter", "datacenters", "data centre",
    "data centres", "model weights",
)})  # fmt: skip


def chip_class(lower: str, portfolio: Portfolio, out: Exposure) -> None:
    """The (lower-cased) text is about the control class of portfolio chips
    (advanced-computing ICs, 3A090/4A090 and the .z items), though it names no chip."""
    chips = derived(portfolio, "advanced-computing chips", _advanced_chips)
    found = next(CLASS_TERMS.find(lower), None) if chips else None
    if found:
        out.add(
            "chip_class",
            f"concerns {found[1]}: the control class (3A090/4A090) of chips {_few(chips)}",
        )


def _advanced_chips(portfolio: Portfolio) -> list[str]:
    from monitor.scoring import ADVANCED_COMPUTING, chip_eccns

    return [c.id for c in portfolio.chips if {e[:5] for e in chip_eccns(c)} & ADVANCED_COMPUTING]
