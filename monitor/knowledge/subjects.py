"""The words of the Federal Register for regimes, actions and control subjects.

`data/subjects.yaml` lists them; this module turns each list into one whole-word
phrase automaton (acronyms in capitals only, other terms in any case), so reading a
document is one scan per list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.knowledge._files import load
from monitor.phrases import Phrases

Reach = Literal[
    "advanced_computing_chips", "chip_designer", "customers", "customers_and_chips",
    "owned_customers", "customers_in_changed_destinations", "unknown_items", "nothing",
]  # fmt: skip


class Regime(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    agencies: list[str] = Field(default_factory=list)
    cfr: dict[int, list[str | int]] = Field(default_factory=dict)
    terms: list[str] = Field(default_factory=list)

    def covers_cfr(self, title: int, part: int | None) -> bool:
        if title not in self.cfr:
            return False
        parts = self.cfr[title]
        return not parts or (part is not None and any(_in(part, p) for p in parts))


def _in(part: int, spec: str | int) -> bool:
    if isinstance(spec, int):
        return part == spec
    low, _, high = spec.partition("-")
    return int(low) <= part <= int(high or low)


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title_ends: list[str] = Field(default_factory=list)
    action: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)
    types: list[str] = Field(default_factory=list)


class Subject(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    label: str
    reaches: Reach
    end_user_list: str | None = Field(default=None, alias="list")
    terms: list[str] = Field(min_length=1)
    weak_terms: list[str] = Field(default_factory=list)
    subsumes: list[str] = Field(default_factory=list)  # subjects it speaks for


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    regimes: dict[str, Regime]
    actions: dict[str, Action]
    status_words: dict[str, list[str]]
    subjects: dict[str, Subject]


@cache
def lexicon() -> _File:
    return load("subjects.yaml", _File)


def _acronym(term: str) -> bool:
    return bool(re.fullmatch(r"[A-Z0-9.]{2,8}s?", term))


@dataclass(frozen=True)
class Matcher:
    """Finds the terms of several named lists in a text: (name, term) per hit."""

    exact: Phrases  # acronyms, matched as written
    folded: Phrases  # everything else, matched on the lower-cased text

    @classmethod
    def of(cls, lists: Mapping[str, Iterable[str]]) -> Matcher:
        exact: dict[str, str] = {}
        folded: dict[str, str] = {}
        for name, terms in lists.items():
            for term in terms:
                if _acronym(term):
                    exact[term] = name
                else:
                    folded[term.lower()] = name
        return cls(Phrases(exact), Phrases(folded))

    def find(self, text: str) -> dict[str, list[str]]:
        """Each list's name with the terms of it found, in text order, once each."""
        out: dict[str, list[str]] = {}
        for name, term in (*self.exact.find(text), *self.folded.find(text.lower())):
            found = out.setdefault(name, [])
            if term not in found:
                found.append(term)
        return out


@cache
def regime_terms() -> Matcher:
    return Matcher.of({k: r.terms for k, r in lexicon().regimes.items()})


@cache
def action_terms() -> Matcher:
    return Matcher.of({k: a.terms for k, a in lexicon().actions.items() if a.terms})


@cache
def status_terms() -> Matcher:
    return Matcher.of(lexicon().status_words)


@cache
def subject_terms() -> Matcher:
    return Matcher.of({k: s.terms for k, s in lexicon().subjects.items()})


@cache
def weak_subject_terms() -> Matcher:
    return Matcher.of({k: s.weak_terms for k, s in lexicon().subjects.items() if s.weak_terms})
