"""A document's impacts on the portfolio: the reading of the document, then one builder per
subject it is about, then the ceilings its action sets (a proposal, a correction or an
extension is at most medium; a meeting notice at most low).

Builders are registered by subject, so a new control subject is a lexicon entry in
`knowledge/data/subjects.yaml` and a function here, and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from monitor import deadlines
from monitor.document import Document
from monitor.knowledge import rule_status
from monitor.knowledge.subjects import lexicon
from monitor.names import portfolio_index
from monitor.portfolio import Portfolio
from monitor.relevance import customers as cust
from monitor.relevance.advanced import advanced_impacts, crossing_impacts
from monitor.relevance.chips import few
from monitor.relevance.context import Context
from monitor.relevance.impact import Assessment, Impact
from monitor.relevance.listing import list_impacts
from monitor.relevance.parties import (
    destination_impacts,
    direct_product_impacts,
    end_user_impacts,
    ownership_impacts,
)
from monitor.relevance.reading import Reading, read
from monitor.severity import Severity

Builder = Callable[[Context], list[Impact]]

# subject -> builder; subjects of other items ("reaches: nothing") have none
BUILDERS: dict[str, Builder] = {}


def builds(*subjects: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        for subject in subjects:
            BUILDERS[subject] = fn
        return fn

    return register


builds("advanced_computing", "foundry_due_diligence")(advanced_impacts)
builds("affiliates_rule")(ownership_impacts)
builds("end_user_controls")(end_user_impacts)
builds("destination_scope")(destination_impacts)
builds("foreign_direct_product")(direct_product_impacts)


@builds("semiconductor_technology")
def technology_impacts(ctx: Context) -> list[Impact]:
    if not ctx.portfolio.chips:
        return []
    terms = ", ".join(ctx.reading.subjects.get("semiconductor_technology", [])[:4])
    return [Impact(
        "technology", "medium",
        f"controls on chip design software and technology ({terms}): they reach the tools and "
        "technology a chip designer uses and shares",
        "check the design tools and technology you export or release to foreign nationals "
        "(deemed exports) against the new entries", in_force_from=ctx.doc.effective_on,
    )]  # fmt: skip


@builds("unstated_ccl")
def unstated_impacts(ctx: Context) -> list[Impact]:
    terms = ", ".join(ctx.reading.subjects.get("unstated_ccl", [])[:3])
    return [Impact(
        "review", "medium",
        f"changes the Commerce Control List ({terms}) without naming its items in the text read: "
        "it may reach the portfolio's chips or their technology",
        "read which ECCNs it adds or revises and check them against your classifications",
    )]  # fmt: skip


# other bodies of law that restrict dealings with a party they name
NAMED_RESTRICTS: dict[str, tuple[Severity, str]] = {
    "sanctions": ("high", "a sanctions designation blocks its property and prohibits dealings "
                          "with it (and with entities it owns 50% or more)"),
    "military_designation": ("medium", "a Chinese military company designation (procurement "
                                       "and investment consequences, not an export licence)"),
}  # fmt: skip


def named_impacts(ctx: Context) -> list[Impact]:
    """Customers and chips a document names, outside an end-user list change."""
    out: list[Impact] = []
    r = ctx.reading
    known = cust.by_id(ctx.portfolio)
    restrictive = r.about("foreign_direct_product", "advanced_computing", "end_user_controls")
    listed_here = r.export_control and r.lists  # the list's own builder speaks of them
    for cid, found in ({} if listed_here else ctx.named["customers"]).items():
        who = cust.label(known[cid])
        if r.export_control:
            severity: Severity = "critical" if restrictive and r.action == "rule" else "high"
            about = ", ".join(lexicon().subjects[s].label for s in r.subjects) or "the EAR"
            out.append(Impact(
                "named", severity, f"{who} is named in an export-control {_what(r)} on {about}",
                f"read what it requires for shipments to {known[cid].name}; hold them until "
                "reviewed", customers=(cid,), evidence=(f"named as {found!r}",),
            ))  # fmt: skip
        elif r.regime in NAMED_RESTRICTS:
            severity, effect = NAMED_RESTRICTS[r.regime]
            out.append(Impact("named", severity, f"{who} is named in {r.regime_label}: {effect}",
                              f"check what it means for dealings with {known[cid].name}",
                              customers=(cid,), evidence=(f"named as {found!r}",)))  # fmt: skip
        else:
            out.append(Impact("context", "low", f"{who} is named in {r.regime_label}: not an "
                              "export control on the portfolio", customers=(cid,),
                              evidence=(f"named as {found!r}",)))  # fmt: skip
    for cid, found in ctx.named["chips"].items():
        chip = next(c for c in ctx.portfolio.chips if c.id == cid)
        label = f"{chip.name} ({cid})"
        if r.export_control:
            out.append(Impact("named", "high", f"{label} is named in an export-control "
                              f"{_what(r)}", f"read what it says of {chip.name}",
                              chips=(cid,), evidence=(f"named as {found!r}",)))  # fmt: skip
        else:
            out.append(Impact("context", "info", f"{label} is named in {r.regime_label}",
                              chips=(cid,)))  # fmt: skip
    return out


def watch_term_impacts(ctx: Context) -> list[Impact]:
    """The portfolio's watch terms a document names: information, never an alert alone."""
    terms = list(ctx.named["watch_terms"])
    if not terms:
        return []
    quoted = ", ".join(repr(t) for t in terms[:3])
    return [Impact("context", "info", f"names the watch term{'s' if len(terms) > 1 else ''} "
                   f"{quoted}")]  # fmt: skip


def _what(r: Reading) -> str:
    return {"proposed": "proposed rule", "rule": "rule", "correction": "correction",
            "notice": "notice"}.get(r.action, "document")  # fmt: skip


_PRODUCTS = ("semiconductor", "semiconductors", "integrated circuit", "integrated circuits",
             "chips", "microchips")  # fmt: skip


def trade_impacts(ctx: Context) -> list[Impact]:
    """An import measure whose title names the portfolio's products."""
    title = (ctx.doc.title or "").lower()
    if not ctx.portfolio.chips or not any(_word_in(p, title) for p in _PRODUCTS):
        return []
    chips = [f"{c.name} ({c.id})" for c in ctx.portfolio.chips]
    return [Impact(
        "trade_measure", "medium",
        f"{ctx.reading.regime_label} on semiconductors: tariffs or import limits may reach "
        f"{few(chips, 4)} when imported into the United States",
        "follow the investigation; comment by its deadline if it concerns your products",
    )]  # fmt: skip


def _word_in(word: str, text: str) -> bool:
    i = text.find(word)
    while i >= 0:
        end = i + len(word)
        if (i == 0 or not text[i - 1].isalnum()) and (end == len(text) or not text[end].isalnum()):
            return True
        i = text.find(word, i + 1)
    return False


def unknown_impacts(ctx: Context) -> list[Impact]:
    """An export-control rule whose subject the record does not give."""
    r = ctx.reading
    if r.subjects or r.action not in ("rule", "proposed", "correction"):
        return []
    if r.countries:
        homes = cust.at_home_in(ctx.portfolio, set(r.countries), ctx.day)
        if not homes:
            return []
    if r.stage != "title":
        return [Impact("context", "low", "an export-control rule on a subject regmonitor does "
                       "not track")]  # fmt: skip
    return [Impact(
        "review", "medium",
        f"a BIS {_what(r)} whose subject the record does not give"
        + (f" ('{ctx.doc.title}')" if ctx.doc.title else " (no title)"),
        "read it: it may change controls on the portfolio's chips or list a customer",
    )]  # fmt: skip


def deadline_impacts(ctx: Context, found: list[Impact]) -> list[Impact]:
    """A comment deadline or briefing of a document that otherwise matters."""
    r = ctx.reading
    if not any(i.severity in ("critical", "high", "medium") for i in found):
        return []
    due = [d for d in deadlines.extract(ctx.doc) if d.kind == "comments"]
    if r.action == "briefing":
        return [Impact("deadline", "medium", "a public briefing on the rule",
                       "attend or follow it with your questions on the rule's scope")]  # fmt: skip
    if due:
        last = max(d.due for d in due)
        verb = "moves the comment deadline to" if r.action == "extension" else "comments due by"
        return [Impact("deadline", "medium", f"{verb} {last}",
                       f"decide whether to comment; if so, file by {last}",
                       in_force_from=last)]  # fmt: skip
    if r.action == "extension":
        return [Impact("deadline", "medium", "extends a comment period or deadline of the rule",
                       "note the new date and decide whether to comment")]  # fmt: skip
    return []


CEILINGS: dict[str, tuple[Severity, str]] = {
    "proposed": ("medium", "a proposal: not in force until a final rule"),
    "request_for_information": ("medium", "a request for information: no obligation yet"),
    "correction": ("medium", "a correction of an earlier rule"),
    "extension": ("medium", "an extension of an earlier rule's deadline"),
    "briefing": ("medium", "a briefing on an earlier rule"),
    "meeting": ("low", "a meeting notice"),
    "information_collection": ("low", "an information collection"),
}


def assess(
    doc: Document,
    portfolio: Portfolio,
    *,
    previous: Document | None = None,
    today: date | None = None,
) -> Assessment:
    """Everything `doc` changes for `portfolio`, most severe first."""
    reading = read(doc)
    day = doc.effective_on or doc.publication_date or doc.version_date or today or date.today()
    text = reading.text
    named: dict[str, Any] = portfolio_index(portfolio).find(text) if text else {
        "customers": {}, "chips": {}, "watch_terms": {}}  # fmt: skip
    ctx = Context(doc, reading, portfolio, day, today or date.today(), previous, named)
    impacts: list[Impact] = []
    done: set[Builder] = set()
    if reading.export_control and reading.lists:
        impacts += list_impacts(ctx, reading.lists)
    for subject in reading.subjects:
        builder = BUILDERS.get(subject)
        if builder is not None and builder not in done:
            done.add(builder)
            impacts += builder(ctx)
    prints_3a090 = doc.collection == "ecfr" or bool(doc.rule and doc.rule.eccn_text)
    if prints_3a090 and advanced_impacts not in done:
        impacts += crossing_impacts(ctx)  # the 3A090 text it prints, whatever its words
    impacts += named_impacts(ctx)
    impacts += watch_term_impacts(ctx)
    if reading.regime == "import_trade":
        impacts += trade_impacts(ctx)
    if reading.export_control:
        impacts += unknown_impacts(ctx)
    impacts += deadline_impacts(ctx, impacts)
    ceiling = CEILINGS.get(reading.action)
    if ceiling is not None:
        impacts = [i.at_most(*ceiling) for i in impacts]
    status = status_today(doc, ctx.today)
    if status:
        impacts = [replace(i, notes=(*i.notes, status)) for i in impacts]
    ctx.assessment.impacts = _merged(impacts)
    ctx.assessment.evidence = evidence(doc, reading)
    return ctx.assessment


def status_today(doc: Document, today: date) -> str | None:
    """A rule the knowledge model knows is no longer simply in force: say so on its impacts."""
    rule = rule_status.rule(doc.document_number)
    period = rule.on(today) if rule else None
    if rule is None or period is None or period.state == "in_force":
        return None
    until = f" until {period.until}" if period.until else ""
    return f"today {rule.short} is {period.state.replace('_', ' ')} since {period.from_}{until}"


def _merged(impacts: list[Impact]) -> list[Impact]:
    """Drop repeats (the same summary twice), most severe first."""
    seen: set[tuple[str, str]] = set()
    out = []
    for impact in impacts:
        key = (impact.kind, impact.summary)
        if key not in seen:
            seen.add(key)
            out.append(impact)
    order = ("critical", "high", "medium", "low", "info")
    return sorted(out, key=lambda i: order.index(i.severity))


def evidence(doc: Document, reading: Reading) -> list[str]:
    """What the judgement rests on, in one line each."""
    out = [f"{reading.regime_label}; {_what(reading)}; read at the {reading.stage} stage"]
    parts = sorted({r.part for r in doc.cfr_references if r.title == 15 and r.part})
    if parts:
        out.append(f"15 CFR part{'s' if len(parts) > 1 else ''} {', '.join(map(str, parts))}")
    if doc.action:
        out.append(doc.action.rstrip("."))
    subjects = [lexicon().subjects[s].label for s in reading.subjects]
    if subjects:
        out.append("about " + "; ".join(subjects))
    return out
