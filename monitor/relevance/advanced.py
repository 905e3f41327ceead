"""The advanced-computing controls: what a rule on them changes for the portfolio's chips
and the customers their licences are about.

A rule on these controls reaches the portfolio's chips of the class (3A090/4A090, the .z
items) and the customers in the destinations the licence requirement covers (or that the
rule names). What it changes is worded by what the rule is about: licence review policy,
licence exceptions, due diligence, thresholds; for a rule the knowledge model holds, by
its own parameters (which chips move class, which are below the case-by-case lines).
"""

from __future__ import annotations

from monitor.knowledge import controls, countries, country_groups
from monitor.relevance import customers as cust
from monitor.relevance.chips import ChipClass, advanced_computing, few
from monitor.relevance.context import Context
from monitor.relevance.customers import Home
from monitor.relevance.impact import Impact, ImpactKind
from monitor.relevance.thresholds import reclassify
from monitor.severity import Severity

# what a rule on the controls changes, by the words it uses (first match wins)
_ASPECTS: tuple[tuple[ImpactKind, tuple[str, ...], str], ...] = (
    ("licence_policy", ("license review policy", "presumption of denial", "case-by-case"),
     "changes the licence review policy for"),
    ("licence_exception", ("license exception", "validated end user", "veu", "authorization",
                           "authorized"), "changes the licence exceptions and authorisations for"),
    ("due_diligence", ("due diligence", "foundr", "osat", "red flag", "know your customer"),
     "sets due-diligence duties for"),
    ("classification", ("total processing performance", "performance density", "parameters",
                        "thresholds", "3a090", "4a090"), "changes the classification of"),
)  # fmt: skip
DEFAULT = ("licence", "changes the licence requirements for")
EXCEPTION_KINDS = ("licence", "licence_exception")
# what a document that is not itself the rule does about the controls on the chips
ABOUT = {
    "briefing": "holds a public briefing on a rule on the controls on",
    "extension": "extends a deadline of a rule on the controls on",
    "correction": "corrects a rule on the controls on",
    "proposed": "proposes to change the controls on",
    "request_for_information": "asks for comments on the controls on",
    "meeting": "holds a meeting on the controls on",
    "information_collection": "collects information under the controls on",
}


def advanced_impacts(ctx: Context) -> list[Impact]:
    day = ctx.day
    chips = advanced_computing(ctx.portfolio, day)
    out: list[Impact] = []
    moved = crossing_impacts(ctx)
    if moved:
        out += moved
    if not chips:
        return out or [Impact(
            "context", "low", "concerns the advanced-computing controls; no portfolio chip is "
            "in their class", evidence=_terms(ctx))]  # fmt: skip
    homes, where = _customers(ctx)
    known = _known_policy(ctx, chips, homes)
    if known is not None:
        return [*out, known]
    kind, verb = _aspect(ctx)
    verb = ABOUT.get(ctx.reading.action, verb)
    chip_labels = [c.label for c in chips]
    if homes:
        severity: Severity = "high"
        who = f"customers {where}: {cust.scope(homes)}"
        todo = ("check each affected shipment's licence, licence exception and due diligence "
                "under the new text before it leaves")  # fmt: skip
    else:
        severity = "medium"
        who = "no customer in the destinations its licences cover"
        todo = "check the new text against your classifications"
    notes = _caveats(ctx) + (_exceptions(ctx) if homes and kind in EXCEPTION_KINDS else ())
    out.append(Impact(
        kind, severity,
        f"{verb} {few(chip_labels, 6)} (the advanced-computing class); {who}",
        todo, chips=tuple(c.chip.id for c in chips),
        customers=tuple(h.customer.id for h in homes),
        destinations=tuple(sorted({h.country for h in homes})),
        in_force_from=ctx.doc.effective_on, evidence=_terms(ctx), notes=notes,
    ))  # fmt: skip
    if ctx.reading.about("foundry_due_diligence"):
        out.append(_foundry(ctx, chips))
    return out


def _terms(ctx: Context) -> tuple[str, ...]:
    terms = [t for s in ("advanced_computing", "foundry_due_diligence")
             for t in ctx.reading.subjects.get(s, [])]  # fmt: skip
    return (f"terms: {', '.join(terms[:6])}",) if terms else ()


def _aspect(ctx: Context) -> tuple[ImpactKind, str]:
    lower = ctx.reading.text.lower()
    for kind, words, verb in _ASPECTS:
        if any(w in lower for w in words):
            return kind, verb
    return DEFAULT  # type: ignore[return-value]


def _customers(ctx: Context) -> tuple[list[Home], str]:
    """The customers the rule's licences are about: those in the destinations it names
    (countries or Country Groups), else those in the licence scope in force on its day."""
    day = ctx.day
    named = set(ctx.reading.countries)
    for group in ctx.reading.groups:
        named |= country_groups.members(group, day)
    if named:
        homes = cust.unique(cust.at_home_in(ctx.portfolio, named, day))
        if homes:
            return homes, "in destinations it names"
    licence, version = controls.licence_on(day)
    scope = cust.in_licence_scope(ctx.portfolio, licence, day)
    return scope, f"in the licence scope in force ({licence.describe()}; {version.citation})"


def _exceptions(ctx: Context) -> tuple[str, ...]:
    """The licence exceptions for the class in force on the rule's day, as the knowledge
    model words where each applies."""
    return tuple(
        f"License Exception {e.name} ({e.title}): {e.where}; {e.needs}; not for {e.not_for}"
        for e in controls.exceptions()
        if e.effective <= ctx.day and e.name != "HBM"
    )


def _caveats(ctx: Context) -> tuple[str, ...]:
    """Country Group changes taken from one secondary source that concern customers."""
    codes = {c.country.upper() for c in ctx.portfolio.customers if c.country}
    return tuple(f"{c} (from one secondary source: verify)"
                 for c in country_groups.caveats(codes, ctx.day))  # fmt: skip


def crossing_impacts(ctx: Context) -> list[Impact]:
    """Chips that change class under the 3A090 text the rule prints (or, for a rule the
    knowledge model holds, under its parameters)."""
    found = reclassify(ctx.doc, ctx.portfolio, ctx.previous, ctx.day)
    if found is None:
        return []
    ctx.assessment.threshold_summary = found.summary
    if found.unreadable:
        return [Impact("classification", "high", "3A090 is revised but its thresholds could "
                       f"not be read ({found.unreadable}): re-classify the chips by hand",
                       evidence=(found.summary,))]  # fmt: skip
    known = {c.id: c for c in ctx.portfolio.chips}
    out = []
    for crossing in found.crossings:
        ctx.assessment.crossings.append({
            "chip_id": crossing.chip_id, "before": crossing.before, "after": crossing.after,
            "changed": crossing.changed, "explanation": crossing.reason,
        })  # fmt: skip
        if not crossing.changed:
            continue
        chip = known.get(crossing.chip_id)
        label = f"{chip.name} ({chip.id})" if chip else crossing.chip_id
        into = crossing.after not in (None, "unknown")
        homes, _ = _customers(ctx)
        if into and crossing.before is None and homes:
            places = " and ".join(sorted({countries.name_of(h.country) for h in homes}))
            summary = (f"{label} to customers in {places} now needs a licence: {crossing.after} "
                       f"under the rule in force from {ctx.doc.effective_on or ctx.day} "
                       f"({crossing.reason}); {cust.scope(homes)}")  # fmt: skip
            severity: Severity = "critical"
        else:  # out of the class, between paragraphs, or from a class a figure left open
            summary = f"{label} is re-classified: {crossing.reason}"
            severity = "high"
        out.append(Impact(
            "classification", severity, summary,
            f"re-classify {chip.name if chip else crossing.chip_id} and review open orders and "
            "licences for it", chips=(crossing.chip_id,),
            customers=tuple(h.customer.id for h in homes) if into else (),
            in_force_from=ctx.doc.effective_on, evidence=(found.summary,),
        ))  # fmt: skip
    return out


def _known_policy(ctx: Context, chips: list[ChipClass], homes: list[Home]) -> Impact | None:
    """A licence review policy the knowledge model holds: which chips fall below its lines."""
    policy = controls.policy(ctx.doc.document_number)
    if policy is None or not policy.below:
        return None
    below, unknown, above, near = [], [], [], []
    for c in chips:
        tests = []
        for parameter, line in policy.below.items():
            value = getattr(c.chip, parameter, None)
            tests.append(None if value is None else value < line)
            if value is not None and 0 <= line - value <= 0.02 * line:
                near.append(f"{c.label}: {_param(parameter)} {value:,g} is within 2% of the "
                            f"{line:,g} line, confirm the figure")  # fmt: skip
        if all(t is True for t in tests):
            below.append(c.label)
        elif any(t is False for t in tests):
            above.append(c.label)
        else:
            unknown.append(c.label)
    lines = " and ".join(f"{_param(p)} below {v:,g}" for p, v in policy.below.items())
    dests = " and ".join(countries.name_of(d) for d in policy.destinations)
    in_scope = [h for h in homes if h.country in set(policy.destinations)] or homes
    parts = []
    if below:
        parts.append(f"below the lines: {few(below, 6)}")
    if unknown:
        parts.append(f"possibly below, a figure is not recorded: {few(unknown, 6)}")
    if above:
        parts.append(f"above them ({policy.otherwise or 'unchanged'}): {few(above, 6)}")
    return Impact(
        "licence_policy", "high" if in_scope and (below or unknown) else "medium",
        f"licences to {dests} move to {policy.policy} for chips with {lines}; "
        + "; ".join(parts)
        + (f"; customers there: {cust.scope(in_scope)}" if in_scope else ""),
        "for chips below the lines, licence applications for these customers can now be made "
        "on the rule's conditions (US supply, security procedures, third-party testing in the "
        "United States); record the figures that are missing",
        chips=tuple(c.chip.id for c in chips), customers=tuple(h.customer.id for h in in_scope),
        destinations=tuple(policy.destinations), in_force_from=policy.effective,
        evidence=(f"{policy.rule} ({policy.citation})",), notes=tuple(near),
    )  # fmt: skip


def _param(name: str) -> str:
    return {"tpp": "TPP", "dram_bandwidth_gbs": "total DRAM bandwidth (GB/s)"}.get(name, name)


def _foundry(ctx: Context, chips: list[ChipClass]) -> Impact:
    found = controls.foundry_presumption(ctx.day) or controls.foundry_presumption(None)
    if found is None:  # pragma: no cover - the data holds one
        return Impact("due_diligence", "high", "sets foundry due-diligence duties")
    rule, version = found
    line = rule.line_on(ctx.day, None)
    caught: list[str] = []
    open_: list[str] = []
    for c in chips:
        node, count = c.chip.process_node_nm, c.chip.transistors
        if (node is not None and node > rule.node_nm_at_most) or (
            count is not None and count < line
        ):
            continue
        (caught if node is not None and count is not None else open_).append(c.label)
    said = []
    if caught:
        said.append(f"presumed 3A090.a at the foundry: {few(caught, 6)}")
    if open_:
        said.append(f"node or transistor count not recorded: {few(open_, 6)}")
    return Impact(
        "due_diligence", "high",
        f"foundries and OSATs must presume logic ICs at {rule.node_nm_at_most:g} nm or below "
        f"(or non-planar) with {line / 1e9:g} billion transistors or more are 3A090.a unless the "
        f"designer is approved or authorized; " + "; ".join(said or ["no chip caught"]),
        f"make sure your company is on the approved IC designer list ({rule.designer_list}) "
        "and your foundry has your attestations", chips=tuple(c.chip.id for c in chips),
        in_force_from=version.effective, evidence=(f"{version.rule} ({version.citation})",),
    )  # fmt: skip
