"""What a document is, before any portfolio: its regime, action, subjects and destinations.

A record arrives at one of three stages: the public-inspection desk gives a title, a type
and an agency (`title`); the documents API adds the action line, the summary, the CFR
parts (`abstract`); the rule's own text adds the entries it lists and the ECCN text it
prints (`full`). The reading uses whatever is there and never needs a field to be
present: a null `cfr_references` or a missing title leaves the other fields to speak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from monitor.document import Document
from monitor.knowledge import countries, country_groups
from monitor.knowledge.subjects import (
    action_terms,
    lexicon,
    regime_terms,
    status_terms,
    subject_terms,
    weak_subject_terms,
)

Stage = Literal["title", "abstract", "full"]
ListAction = Literal["added", "revised", "corrected", "removed"]

_UNDER = re.compile(r"\bunder\s+(?:the\s+)?destinations?\s+of\b([^.;]*)", re.IGNORECASE)
_LIST_VERBS: tuple[tuple[ListAction, re.Pattern[str]], ...] = (
    # present tense: this document's own changes, not "were added" in its background
    ("added", re.compile(r"\b(?:add(?:s|ing)?|additions?|(?:is|are)\s+(?:being\s+)?added|"
                         r"(?:will\s+be|are|is)\s+listed)\b", re.IGNORECASE)),
    ("corrected", re.compile(r"\bcorrect(?:s|ed|ing|ions?)\b", re.IGNORECASE)),
    ("revised", re.compile(r"\b(?:revis(?:es|ed|ing|ions?)|modif(?:y|ies|ied|ying|ications?))\b",
                           re.IGNORECASE)),
    ("removed", re.compile(r"\b(?:remov(?:es|ed|ing|als?|e)|delist(?:s|ed|ing)?)\b",
                           re.IGNORECASE)),
)  # fmt: skip
_TITLE_VERBS = (*_LIST_VERBS, ("revised", re.compile(r"\bAmendments?\b")))
_GROUP_CHANGE = re.compile(
    r"\b(?:add(?:s|ed|ing)?|remov(?:es|ed|ing|e)|mov(?:es|ed|ing|e)|no longer|"
    r"transfer(?:s|red)?)\b",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"(?<=[.;])\s+")
_AMENDING = re.compile(r"(?:and\s+)?(?:Amendments?|Revisions?|Clarifications?|Additions?)\b")
_SUBSTANTIVE = re.compile(
    r"\b(?:amend(?:s|ing)|revis(?:es|ing)|add(?:s|ing)|impos(?:es|ing)|implement(?:s|ing)|"
    r"establish(?:es|ing)|expand(?:s|ing)|remov(?:es|ing))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reading:
    stage: Stage
    regime: str  # a key of the lexicon's regimes, or "other"
    action: str  # correction, extension, briefing, meeting, ..., proposed, rule, notice
    subjects: dict[str, list[str]]  # subject -> the terms that named it
    status: dict[str, list[str]]  # suspended / reinstated / rescinded / delayed -> terms
    countries: frozenset[str]  # destinations the text names (ISO codes)
    groups: frozenset[str]  # Country Group labels it names ("D:5")
    list_actions: frozenset[ListAction]  # what it does to list entries: added, revised...
    # the destinations each action names ("adding ... under the destinations of China"),
    # empty for an action whose destinations the text does not state
    list_destinations: dict[ListAction, frozenset[str]]
    changed_destinations: frozenset[str]  # countries whose group membership it changes
    text: str = field(repr=False)

    @property
    def regime_label(self) -> str:
        found = lexicon().regimes.get(self.regime)
        return found.label if found else "another body of law"

    @property
    def export_control(self) -> bool:
        return self.regime == "export_control"

    @property
    def lists(self) -> list[str]:
        """The end-user lists whose entries the document changes (entity_list, ...): a
        document that only mentions the Entity List changes none."""
        if not self.list_actions:
            return []
        known = lexicon().subjects
        return [s for s in self.subjects if known[s].end_user_list]

    def about(self, *subjects: str) -> bool:
        return any(s in self.subjects for s in subjects)


def document_text(doc: Document) -> str:
    return "\n".join(t for t in (doc.title, doc.action, doc.abstract) if t)


def stage_of(doc: Document) -> Stage:
    if doc.rule is not None:
        return "full"
    return "abstract" if doc.abstract else "title"


def read(doc: Document) -> Reading:
    text = document_text(doc)
    regime = regime_of(doc, text)
    subjects = subjects_of(text) if regime == "export_control" else {}
    countries_named = frozenset(countries.named_in(text))
    # what the document does to list entries: from its summary, else from its title
    actions, destinations = _list_changes(doc.abstract or "")
    if not actions:  # a title's "Amendments to ... the Entity List" revises entries
        actions, destinations = _list_changes(doc.title or "", _TITLE_VERBS)
    if regime == "export_control" and doc.rule is not None and doc.rule.entities:
        # the rule's text amends the Entity List, whatever its title and summary say
        subjects.setdefault("entity_list", ["the rule's text amends Supp. No. 4 to part 744"])
        actions = actions | {e.action for e in doc.rule.entities}  # type: ignore[misc]
    return Reading(
        stage=stage_of(doc),
        regime=regime,
        action=action_of(doc, text),
        subjects=subjects,
        status=status_terms().find(text),
        countries=countries_named,
        groups=frozenset(country_groups.named_in(text)),
        list_actions=actions,
        list_destinations=destinations,
        changed_destinations=_changed_destinations(text)
        if "Country Group" in text
        else frozenset(),
        text=text,
    )


def regime_of(doc: Document, text: str) -> str:
    """The first regime whose agency issued the document; else whose CFR title and part it
    amends; else whose terms it uses. BIS also administers import investigations (section
    232) and ICT supply-chain rules: their titles or parts take a BIS document there."""
    regimes = lexicon().regimes
    slugs = {a.slug for a in doc.agencies if a.slug}
    by_agency = next((k for k, r in regimes.items() if slugs & set(r.agencies)), None)
    title = doc.title or ""
    refs = [(r.title, r.part) for r in doc.cfr_references]
    if by_agency == "export_control":
        in_title = regime_terms().find(title)
        for other in ("import_trade", "ict_supply_chain"):
            if other in in_title or any(regimes[other].covers_cfr(t, p) for t, p in refs):
                return other
        return by_agency
    if by_agency is not None:
        return by_agency
    for key, regime in regimes.items():
        if any(regime.covers_cfr(t, p) for t, p in refs):
            return key
    found = regime_terms().find(text)
    return next((k for k in regimes if k in found), "other")


def action_of(doc: Document, text: str) -> str:
    """What kind of document it is: the first of the lexicon's actions that fits."""
    actions = lexicon().actions
    title = (doc.title or "").strip().rstrip(".")
    last = re.split(r";\s*", title)[-1].removeprefix("and ").strip()
    line = (doc.action or "").lower()
    found = action_terms().find(f"{title}\n{line}")
    summary = action_terms().find(doc.abstract or "")
    for name, action in actions.items():
        if any(last.lower() == end.lower() for end in action.title_ends):
            return name
        if any(term in line for term in action.action):
            return name
        if name == "extension" and _extension_only(doc, title, last, summary):
            return name
        if name not in ("extension",) and name in found:
            return name
        if doc.type in action.types:
            return name
    return "notice" if doc.type == "Notice" else "other"


def _extension_only(doc: Document, title: str, last: str, summary: dict) -> bool:
    """A document that only moves a comment period or deadline, not a rule that also does
    (whose title names its own amendments: "...; Amendments and Clarifications; and
    Extension of Comment Period"), nor an extension of a suspension."""
    words = f"{title} {doc.abstract or ''}".lower()
    if "comment" not in words and "deadline" not in words and "date" not in words:
        return False
    if title.lower().startswith("extension") or last.lower().startswith("extension"):
        if doc.abstract:
            return not _SUBSTANTIVE.search(doc.abstract)
        segments = re.split(r";\s*", title)[:-1]
        return not any(_AMENDING.match(s) for s in segments)
    return "extension" in summary and not _SUBSTANTIVE.search(doc.abstract or "")


def subjects_of(text: str) -> dict[str, list[str]]:
    """The control subjects a text names. Weak terms ("integrated circuits") count only
    when no subject is named by its own terms; a CCL change of unstated scope
    (Wassenaar, section 1758) only when no item subject is named."""
    found = subject_terms().find(text)
    if not found:
        found = weak_subject_terms().find(text)
    items = set(found) - {"unstated_ccl"} - set(_list_subjects())
    if items and "unstated_ccl" in found:
        del found["unstated_ccl"]
    known = lexicon().subjects
    spoken_for = {s for key in found for s in known[key].subsumes}
    return {k: v for k, v in found.items() if k not in spoken_for}


def _list_subjects() -> list[str]:
    return [k for k, s in lexicon().subjects.items() if s.end_user_list]


def _list_changes(
    text: str, verbs: tuple[tuple[ListAction, re.Pattern[str]], ...] | None = None
) -> tuple[frozenset[ListAction], dict[ListAction, frozenset[str]]]:
    """What a list document does to entries, and under which destinations, sentence by
    sentence: "adding fourteen entities ... under the destinations of Germany, Russia, and
    Switzerland. This rule also corrects ... five under the destination of China." gives
    additions under DE, RU, CH and corrections under DE, CN."""
    actions: set[ListAction] = set()
    where: dict[ListAction, set[str]] = {}
    last: ListAction | None = None
    for sentence in _SENTENCES.split(text):
        found = [a for a, pattern in verbs or _LIST_VERBS if pattern.search(sentence)]
        actions.update(found)
        current = found[0] if found else last
        under = _UNDER.findall(sentence)
        if under and current is not None:
            where.setdefault(current, set()).update(countries.named_in(" ".join(under)))
        last = current
    return frozenset(actions), {a: frozenset(c) for a, c in where.items()}


def _changed_destinations(text: str) -> frozenset[str]:
    """Countries whose Country Group membership a sentence changes ("removing the UAE from
    Country Groups D:3 and D:4", "Cambodia is no longer a Country Group D:5 country")."""
    out: set[str] = set()
    for sentence in _SENTENCES.split(text):
        if "Country Group" in sentence and _GROUP_CHANGE.search(sentence):
            out |= countries.named_in(sentence)
    return frozenset(out)
