"""End-user lists (Entity List, Unverified List, Military End-User List): which customers
a document lists, and what to do when the entries are not known yet.

With the rule's text, every entry (name and aliases) is screened against the customers
and, through ownership, against their owners. With a summary only, a customer named in
it is taken as listed (to confirm in the text); the organisations a summary names are
screened; and when the entries are unknown, additions under a destination where customers
are at home are a "screen this rule" alert, additions elsewhere a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from monitor.document import Listed
from monitor.entities import word_number
from monitor.knowledge import countries, rule_status
from monitor.portfolio import Customer, Portfolio, derived
from monitor.relevance import customers as cust
from monitor.relevance.chips import few
from monitor.relevance.context import Context
from monitor.relevance.impact import Impact
from monitor.severity import Severity

LISTS: dict[str, tuple[str, Severity]] = {
    # list -> its name, and how severe a customer's listing on it is
    "entity_list": ("the Entity List", "critical"),
    "meu_list": ("the Military End-User List", "critical"),
    "unverified_list": ("the Unverified List", "high"),
}
TO_DO = {
    "entity_list": "hold shipments to {who} and stop relying on licence exceptions; a licence is "
    "needed for the items the entry names (often all items subject to the EAR)",
    "meu_list": "hold shipments to {who} of the items in Supplement No. 2 to part 744 pending a "
    "licence",
    "unverified_list": "obtain a UVL statement from {who} before each shipment; licence "
    "exceptions are no longer available",
}
_LEGAL = re.compile(
    r"(?:Co\.,?\s+Ltd\.?|Company,?\s+Ltd\.?|Co\.,?\s+Limited|Ltd\.?|Limited|Inc\.?|"
    r"Corporation|Corp\.?|LLC|L\.L\.C\.|GmbH|AG|S\.A\.|Pte\.?\s+Ltd\.?|PLC|LLP|JSC|OOO)(?!\w)"
)
_WORD = re.compile(r"\(?[A-Z][\w&'.-]*\)?,?|of|and|the|for|de")
_COUNT = re.compile(
    r"\b(?:add(?:s|ing)?|remov(?:es|ing)|revis(?:es|ing))\s+(?:a\s+total\s+of\s+)?"
    r"(\d+|[a-z]+(?:-[a-z]+)?)\s+(?:new\s+)?(?:entit(?:y|ies)|entries|persons?|parties|addresses)\b",
    re.IGNORECASE,
)


def list_impacts(ctx: Context, lists: list[str]) -> list[Impact]:
    main = next((k for k in LISTS if k in lists), lists[0])
    entries = ctx.doc.rule.entities if ctx.doc.rule else []
    if entries and main == "entity_list":
        return screen_entries(ctx, entries)
    found = _named_in_summary(ctx, main)
    if found is not None:
        return found
    return _unread(ctx, main)


# --- entries read ------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    customer: Customer
    score: int
    entry: Listed
    name: str  # the entry's name or alias that matched
    reasons: list[str]


def _screener(portfolio: Portfolio) -> Any:
    from monitor.screening import Screener  # rapidfuzz and the name tables: only when needed

    return derived(portfolio, "screener", Screener)


def screen(portfolio: Portfolio, entries: list[Listed]) -> list[Hit]:
    """The best direct match of each customer among the entries' names and aliases."""
    screener, known = _screener(portfolio), cust.by_id(portfolio)
    best: dict[str, Hit] = {}
    for entry in entries:
        address = entry.addresses[0] if entry.addresses else None
        for name in (entry.name, *entry.aliases):
            for match in screener.screen(name, country=entry.country, address=address):
                seen = best.get(match.customer_id)
                if match.relation == "direct" and (seen is None or match.score > seen.score):
                    customer = known[match.customer_id]
                    best[match.customer_id] = Hit(customer, match.score, entry, name, match.reasons)
    return sorted(best.values(), key=lambda h: -h.score)


def screen_entries(ctx: Context, entries: list[Listed]) -> list[Impact]:
    """Every entry a rule adds, revises or removes, screened against customers and owners."""
    hits = screen(ctx.portfolio, entries)
    out: list[Impact] = []
    for hit in hits:
        out.append(_hit_impact(ctx, hit))
        ctx.assessment.screened.append({
            "customer_id": hit.customer.id, "entry": hit.entry.name, "matched": hit.name,
            "action": hit.entry.action, "country": hit.entry.country, "score": hit.score,
            "reasons": hit.reasons,
        })  # fmt: skip
    out += owner_impacts(ctx, hits, entries)
    out += _missing(ctx, entries)
    if not [i for i in out if i.kind != "review"]:
        counts = ", ".join(f"{countries.name_of(c)} {n}" for c, n in _by_country(entries))
        out.append(Impact(
            "screened", "info",
            f"{len(entries)} Entity List entries screened ({counts}): no portfolio customer "
            "or owner among them",
            evidence=("entries read from the rule's text",),
        ))  # fmt: skip
    return out


def _missing(ctx: Context, entries: list[Listed]) -> list[Impact]:
    """A text that holds fewer entries than its summary counts (a truncated copy, a table
    the reader could not follow): the destinations short of entries are screened as unread."""
    stated = ctx.doc.rule.entity_counts_stated if ctx.doc.rule else {}
    if not stated:
        return []
    held: dict[str, int] = {}
    for e in entries:
        if e.action == "added":
            held[e.country or ""] = held.get(e.country or "", 0) + 1
    short = {c for c, n in stated.items() if held.get(c, 0) < n}
    if not short:
        return []
    homes = cust.unique(cust.at_home_in(ctx.portfolio, short & cust.concern(ctx.day), ctx.day))
    total, have = sum(stated.values()), sum(held.get(c, 0) for c in stated)
    where = ", ".join(sorted(countries.name_of(c) for c in short))
    return [Impact(
        "review", "high" if homes else "low",
        f"the text read holds {have} of the {total} entries its summary counts (short under "
        f"{where})" + (f"; customers at home there: {_grouped(homes)}" if homes else ""),
        "screen the missing entries when the complete text is read",
        customers=tuple(h.customer.id for h in homes),
    )]  # fmt: skip


def _by_country(entries: list[Listed]) -> list[tuple[str | None, int]]:
    counts: dict[str | None, int] = {}
    for e in entries:
        counts[e.country] = counts.get(e.country, 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])


def _hit_impact(ctx: Context, hit: Hit) -> Impact:
    entry, who = hit.entry, cust.label(hit.customer)
    where = entry.country_heading or countries.name_of(entry.country)
    via = "" if hit.name == entry.name else f" (alias {hit.name!r})"
    screening = f"screening {hit.score}" + (f": {hit.reasons[0]}" if hit.reasons else "")
    evidence: tuple[str, ...] = (f"entry {entry.name!r}{via} under {where}", screening)
    if entry.license_requirement:
        evidence += (f"licence requirement: {entry.license_requirement}",)
    if entry.review_policy:
        evidence += (f"review policy: {entry.review_policy}",)
    if entry.action == "removed":
        return Impact("delisted", "medium", f"{who} is removed from the Entity List",
                      "update the screening record; licence requirements of the entry end",
                      customers=(hit.customer.id,), evidence=evidence)  # fmt: skip
    verb = "added to" if entry.action == "added" else "revised on"
    severity: Severity = "critical" if entry.action == "added" else "high"
    return Impact(
        "listed", severity, f"{who} {verb} the Entity List under {where}{_ineffect(ctx)}",
        TO_DO["entity_list"].format(who=hit.customer.name),
        customers=(hit.customer.id,), destinations=(entry.country or "",),
        in_force_from=ctx.doc.effective_on, evidence=evidence,
    )  # fmt: skip


def _ineffect(ctx: Context) -> str:
    doc = ctx.doc
    if doc.on_public_inspection and doc.publication_date:
        return f" (on public inspection, to be published {doc.publication_date})"
    return f", effective {doc.effective_on}" if doc.effective_on else ""


def owner_impacts(ctx: Context, hits: list[Hit], entries: list[Listed]) -> list[Impact]:
    """Customers owned 50% or more by a listed party: restricted while an ownership rule
    for that list is in force (the affiliates rule for the Entity List and MEU list)."""
    listed_ids = {h.customer.id for h in hits if h.entry.action != "removed"}
    outside = [e for e in entries if e.action != "removed"]
    names = _screener_of_names(outside)
    out = []
    for customer in ctx.portfolio.customers:
        for owner, as_customer in cust.owners(customer, ctx.portfolio):
            share = owner.percent
            if share is not None and share < 50:
                continue
            hit = (as_customer is not None and as_customer.id in listed_ids) or (
                owner.name is not None and owner.name.casefold() in names
            )
            if hit:
                out.append(_owner_impact(ctx, customer, owner.name or owner.id or "", share))
    return out


def _screener_of_names(entries: list[Listed]) -> set[str]:
    return {n.casefold() for e in entries for n in (e.name, *e.aliases)}


def _owner_impact(ctx: Context, customer: Customer, owner: str, share: float | None) -> Impact:
    rule = rule_status.rule("2025-19001")
    who = cust.label(customer)
    held = f"{share:g}%" if share is not None else "50% or more (its parent)"
    today = ctx.today
    period = rule.on(today) if rule else None
    if period is not None and period.state == "in_force":
        short = rule.short if rule else "the affiliates rule"
        return Impact(
            "owner_listed", "critical",
            f"{who} is owned {held} by {owner}, now on the Entity List: under {short} it is "
            "restricted as if listed",
            TO_DO["entity_list"].format(who=customer.name), customers=(customer.id,),
            evidence=(f"{short}: in force since {period.from_}",),
        )  # fmt: skip
    ends = period.until if period else None
    back = f" when the suspension ends on {date.fromordinal(ends.toordinal() + 1)}" if ends else ""
    return Impact("owner_listed", "high",
                  f"{who} is owned {held} by {owner}, now on the Entity List: it would be "
                  f"restricted{back} ({rule.short if rule else 'the affiliates rule'} is "
                  f"{period.state.replace('_', ' ') if period else 'not in force'})",
                  f"review shipments to {customer.name}; plan for the restriction{back}",
                  customers=(customer.id,))  # fmt: skip


# --- summary only ---------------------------------------------------------------------------


def _named_in_summary(ctx: Context, main: str) -> list[Impact] | None:
    """Customers a list document's title or summary names, or the organisations it names
    screened; None when it names none (the entries are unknown)."""
    name, severity = LISTS.get(main, ("the list", "high"))
    actions = ctx.reading.list_actions
    removal = actions == {"removed"}
    out: list[Impact] = []
    for cid, found in ctx.named["customers"].items():
        customer = cust.by_id(ctx.portfolio)[cid]
        if removal:
            out.append(Impact("delisted", "medium", f"{cust.label(customer)} is named in a "
                              f"removal from {name}", customers=(cid,),
                              evidence=(f"named as {found!r} in the summary",)))  # fmt: skip
        else:
            out.append(Impact(
                "listed", severity,
                f"{cust.label(customer)} is named in a change to {name}{_ineffect(ctx)}",
                TO_DO.get(main, "review shipments to {who}").format(who=customer.name)
                + "; confirm the entry in the rule's text",
                customers=(cid,), evidence=(f"named as {found!r} in the title or summary",),
            ))  # fmt: skip
    if out:
        return out
    orgs = organisations(ctx.doc.abstract or "")
    stated = stated_count(ctx.doc.abstract or "")
    if not orgs:
        return None
    listed = [Listed(action="added", name=o) for o in orgs]
    hits = screen(ctx.portfolio, listed)
    for hit in hits:
        out.append(Impact("listed", severity, f"{cust.label(hit.customer)} matches "
                          f"{hit.name!r}, named in a change to {name}",
                          TO_DO.get(main, "review shipments to {who}").format(who=hit.customer.name)
                          + "; confirm the entry in the rule's text",
                          customers=(hit.customer.id,),
                          evidence=(f"screening {hit.score}",)))  # fmt: skip
    if out:
        return out
    if (stated is not None and stated <= len(orgs)) or _named_as_object(ctx.doc.abstract or ""):
        said = (f"the party the summary names ({orgs[0]}) is not a portfolio customer"
                if len(orgs) == 1 else
                f"the {len(orgs)} parties the summary names ({few(orgs, 3)}) are not portfolio "
                "customers")  # fmt: skip
        return [Impact("screened", "info", said, evidence=("names read from the summary",))]
    return None


_OBJECT = re.compile(
    r"\b(?:add(?:s|ing)|remov(?:es|ing))\s+([^;]{1,300}?)\s+(?:to|from)\s+the\s+"
    r"(?:Entity|Unverified|Military End-User|Military End User)\s+List",
    re.IGNORECASE,
)
_COUNTED = re.compile(r"\b(?:entit(?:y|ies)|entries|persons?|parties|addresses|aliases)\b",
                      re.IGNORECASE)  # fmt: skip


def _named_as_object(text: str) -> bool:
    """A summary whose verb takes the organisations themselves as its object ("adds Fujian
    Jinhua Integrated Circuit Company, Ltd. (Jinhua) to the Entity List"): they are all."""
    found = _OBJECT.search(text)
    return bool(found and organisations(found.group(1)) and not _COUNTED.search(found.group(1)))


def organisations(text: str) -> list[str]:
    """Names of organisations in a text: capitalised words ending in a legal form."""
    out = []
    for m in _LEGAL.finditer(text):
        words = text[max(0, m.start() - 200) : m.start()].split()
        name: list[str] = []
        for word in reversed(words):
            if not _WORD.fullmatch(word):
                break
            name.insert(0, word)
        while name and name[0] in ("of", "and", "the", "for", "de"):
            name.pop(0)
        if name:
            out.append(" ".join([*name, m.group(0)]).strip(" ,"))
    return list(dict.fromkeys(out))


def stated_count(text: str) -> int | None:
    """The number of entries a summary says it adds, revises or removes, summed."""
    total, seen = 0, False
    for m in _COUNT.finditer(text):
        n = word_number(m.group(1))
        if n is not None:
            total, seen = total + n, True
    return total if seen else None


# --- entries unknown ------------------------------------------------------------------------


# how urgent unread changes of each kind are when customers are at home under them
_UNREAD: tuple[tuple[str, Severity, str], ...] = (
    ("added", "high", "adds entries to"),
    ("revised", "medium", "revises entries on"),
    ("corrected", "low", "corrects entries on"),
    ("removed", "low", "removes entries from"),
)


def _unread(ctx: Context, main: str) -> list[Impact]:
    """Entries not known: each kind of change (additions, revisions, corrections, removals)
    under the destinations the text gives for it, or, when it gives none, under every
    destination of concern, against the customers at home there."""
    r, name = ctx.reading, LISTS.get(main, ("the list", "high"))[0]
    actions = r.list_actions or frozenset({"added"})
    concern = cust.concern(ctx.day)
    # an action without destinations of its own takes those the text gives elsewhere
    anywhere = set().union(*r.list_destinations.values()) or (set(r.countries) - {"US"})
    out: list[Impact] = []
    for action, severity, verb in _UNREAD:
        if action not in actions:
            continue
        stated = set(r.list_destinations.get(action, frozenset())) or anywhere
        where = ", ".join(sorted(countries.name_of(c) for c in stated))
        homes = cust.unique(cust.at_home_in(ctx.portfolio, stated & concern if stated else concern,
                                            ctx.day))  # fmt: skip
        if homes:
            scope = f"under {where}" if stated else "(destinations not given)"
            out.append(Impact(
                "review", severity, f"{verb} {name} {scope}; customers at home there: "
                + _grouped(homes),
                "screen the rule's entries against these customers as soon as its text is "
                "available", customers=tuple(h.customer.id for h in homes),
                destinations=tuple(sorted({h.country for h in homes})),
                in_force_from=ctx.doc.effective_on,
                evidence=(f"entries not read ({r.stage} stage)",),
            ))  # fmt: skip
            continue
        elsewhere = cust.unique(cust.at_home_in(ctx.portfolio, stated, ctx.day)) if stated else []
        if elsewhere:
            out.append(Impact("review", "low", f"{verb} {name} under {where}, home to "
                              f"{_grouped(elsewhere)} (not a destination of concern): screen "
                              "when the text is read",
                              customers=tuple(h.customer.id for h in elsewhere)))  # fmt: skip
    return out


def _grouped(homes: list[cust.Home]) -> str:
    """Customers by destination, every one named ("China: Biren (biren), ...; Macau: ..."),
    or, when there are many, counted by destination with their ids."""
    if len(homes) > 8:
        return cust.scope(homes, shown=12)
    by: dict[str, list[str]] = {}
    for h in homes:
        via = "" if h.via == "located" else " (through its parent)"
        by.setdefault(countries.name_of(h.country), []).append(f"{cust.label(h.customer)}{via}")
    return "; ".join(f"{where}: {', '.join(names)}" for where, names in by.items())
