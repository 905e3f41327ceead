"""Who counts as restricted: the ownership (affiliates) rule and its status, the military
end-use and end-user controls, and changes of Country Group for customers' destinations.
"""

from __future__ import annotations

from datetime import date

from monitor.knowledge import countries, rule_status
from monitor.relevance import customers as cust
from monitor.relevance.chips import advanced_computing, few
from monitor.relevance.context import Context
from monitor.relevance.impact import Impact
from monitor.severity import Severity

AFFILIATES = "2025-19001"


def ownership_impacts(ctx: Context) -> list[Impact]:
    """A rule on who is restricted through ownership, or on that rule's status."""
    if not ctx.portfolio.customers:
        return [Impact("context", "low", "changes who counts as restricted through ownership; "
                       "the portfolio has no customers")]  # fmt: skip
    rule = rule_status.rule(AFFILIATES)
    short = rule.short if rule else "the affiliates rule"
    with_owners = [c for c in ctx.portfolio.customers if c.owners or c.parent]
    unknown = len(ctx.portfolio.customers) - len(with_owners)
    owned = (f"{len(with_owners)} customer{'s have' if len(with_owners) != 1 else ' has'} "
             "owners recorded" + (f", {unknown} have none" if unknown else ""))  # fmt: skip
    status = ctx.reading.status
    evidence = tuple(f"{k}: {', '.join(v)}" for k, v in status.items())
    if "suspended" in status or "reinstated" in status or "rescinded" in status:
        period = rule.on(ctx.day) if rule else None
        change = next(iter(status))
        until = f" until {period.until}" if period and period.until else ""
        back = (f"; it returns on {date.fromordinal(period.until.toordinal() + 1)} absent an "
                "extension" if period and period.until else "")  # fmt: skip
        return [Impact(
            "rule_status", "high",
            f"{short} is {change}{until}: entities 50% or more owned by listed parties are "
            f"{'not ' if change != 'reinstated' else ''}restricted by it{back}; {owned}",
            "keep screening owners: plan shipments to affiliates of listed parties for the day "
            "the rule applies again", customers=tuple(c.id for c in with_owners),
            in_force_from=ctx.doc.effective_on, evidence=evidence,
        )]  # fmt: skip
    return [Impact(
        "ownership_rule", "high",
        "entities 50% or more owned, directly or indirectly, by listed parties are restricted "
        f"as if listed themselves; {owned}",
        "record each customer's owners and their shares, and screen the owners as well as the "
        "customers", customers=tuple(c.id for c in with_owners),
        in_force_from=ctx.doc.effective_on, evidence=_terms(ctx, "affiliates_rule"),
    )]  # fmt: skip


def _terms(ctx: Context, subject: str) -> tuple[str, ...]:
    terms = ctx.reading.subjects.get(subject, [])
    return (f"terms: {', '.join(terms[:6])}",) if terms else ()


def end_user_impacts(ctx: Context) -> list[Impact]:
    """Military end-use and end-user controls: all items subject to the EAR listed for
    them (3A991, 4A994 and 5A992 chips among them) to military end users in China and the
    other destinations of concern."""
    concern = cust.concern(ctx.day)
    named = set(ctx.reading.countries) - {"US"}
    homes = cust.unique(cust.at_home_in(ctx.portfolio, concern & named if named else concern,
                                        ctx.day))  # fmt: skip
    if not homes:
        return [Impact("context", "low", "changes the military end-use and end-user controls; "
                       "no customer in a destination they cover")]  # fmt: skip
    return [Impact(
        "end_user_controls", "high",
        "changes the military end-use and end-user controls for customers in destinations of "
        f"concern: {cust.scope(homes)}",
        "check which of these customers could be military or military-support end users, and "
        "the licence needs of the items you ship them",
        customers=tuple(h.customer.id for h in homes),
        destinations=tuple(sorted({h.country for h in homes})), in_force_from=ctx.doc.effective_on,
        evidence=_terms(ctx, "end_user_controls"),
    )]  # fmt: skip


def destination_impacts(ctx: Context) -> list[Impact]:
    """A destination moving between Country Groups: the licences for the portfolio's
    advanced-computing chips to customers there change."""
    changed = set(ctx.reading.changed_destinations)
    if not changed:
        return []
    names = ", ".join(countries.name_of(c) for c in sorted(changed))
    homes = cust.unique(cust.at_home_in(ctx.portfolio, changed, ctx.day))
    if not homes:
        return [Impact("context", "low", f"changes the Country Groups of {names}; no customer "
                       "there")]  # fmt: skip
    chips = advanced_computing(ctx.portfolio, ctx.day)
    severity: Severity = "high" if chips else "medium"
    return [Impact(
        "destination_scope", severity,
        f"{names} changes Country Group: licence requirements and exceptions for "
        f"{few([c.label for c in chips], 6) or 'the portfolio’s chips'} to customers there "
        f"change: {cust.scope(homes)}",
        "re-check the licence requirement, licence exceptions and review policy for each "
        "shipment to these customers", chips=tuple(c.chip.id for c in chips),
        customers=tuple(h.customer.id for h in homes), destinations=tuple(sorted(changed)),
        in_force_from=ctx.doc.effective_on,
        evidence=(f"Country Groups named: {', '.join(sorted(ctx.reading.groups))}",),
    )]  # fmt: skip


def direct_product_impacts(ctx: Context) -> list[Impact]:
    """A foreign direct product rule: items made abroad with US technology (the portfolio's
    chips from foreign fabs) become subject to the EAR for the destinations or listed
    parties it names."""
    if not ctx.portfolio.chips or not ctx.portfolio.customers:
        return []
    named = set(ctx.reading.countries) - {"US"}
    if named:
        homes = cust.unique(cust.at_home_in(ctx.portfolio, named, ctx.day))
        if not homes:
            return [Impact("context", "low", "changes foreign direct product rules for "
                           f"{', '.join(countries.name_of(c) for c in sorted(named))}; no "
                           "customer there")]  # fmt: skip
        return [Impact(
            "licence", "high",
            "foreign-made items with US technology (the portfolio's chips made abroad) to "
            f"customers in the destinations it names need a licence: {cust.scope(homes)}",
            "check where each chip is made and whether the new rule reaches shipments to these "
            "customers", customers=tuple(h.customer.id for h in homes),
            destinations=tuple(sorted({h.country for h in homes})),
            in_force_from=ctx.doc.effective_on,
        )]  # fmt: skip
    return [Impact(
        "review", "medium",
        "changes the foreign direct product rules: foreign-made chips may come under licence for "
        "listed parties or destinations of concern",
        "read which parties and destinations it names and check them against your customers",
    )]  # fmt: skip
