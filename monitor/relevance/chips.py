"""The portfolio's chips against the advanced-computing controls of a given day.

A chip's class comes from its parameters under the 3A090 rules in force (Note 2 to 3A090
applied: a chip not designed or marketed for datacenters with a TPP below 4800 is not
3A090), else from the ECCN the portfolio declares for it (3A090.a, 4A090, 5A992.z...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from monitor import eccn
from monitor.knowledge import controls
from monitor.portfolio import ECCN_RE, Chip, Portfolio

_NEGATED = re.compile(r"\bnot\s+(?:[a-z]+\s+)?$", re.IGNORECASE)


def declared_eccns(chip: Chip) -> set[str]:
    """ECCNs a chip is classified under; "not 3A090" in the free text is not a claim."""
    text = chip.eccn or ""
    return {c for c in chip.eccns if not _NEGATED.search(text[: text.find(c)])}


def advanced_family(code: str) -> bool:
    """3A090, 4A090 and their paragraphs, or a .z paragraph (5A992.z...)."""
    return code[:5] in controls.families() or code in controls.z_paragraphs()


def reaches(code: str, chip: Chip) -> bool:
    """Does a change to ECCN `code` reach this chip?

    3A090.a, 4A090 and the .z paragraphs are one family for threshold rules; a bare
    ECCN (3A090) reaches every paragraph of it.
    """
    own = declared_eccns(chip)
    if any(advanced_family(c) for c in own) and advanced_family(code):
        return True
    return code in own or ("." not in code and code in {c[:5] for c in own})


def mentioned_eccns(text: str) -> list[str]:
    return list(dict.fromkeys("".join(m.groups()) for m in ECCN_RE.finditer(text)))


@dataclass(frozen=True)
class ChipClass:
    chip: Chip
    result: str | None  # "3A090.a", None (not 3A090), eccn.UNKNOWN
    why: str  # the figures behind it, or the declared ECCN
    notes: tuple[str, ...] = ()

    @property
    def advanced(self) -> bool:
        return self.result is not None and self.result != eccn.UNKNOWN

    @property
    def label(self) -> str:
        return f"{eccn.chip_label(self.chip)} ({self.chip.id})"


def classify(chip: Chip, day: date | None) -> ChipClass:
    """The chip's 3A090 class under the rules in force on `day`."""
    rules = controls.rules_on(day)
    found = eccn.assess(chip, rules)
    notes = list(found.notes)
    result, why = found.result, found.why
    line = controls.datacenter_line(day)
    tpp = chip.tpp
    if result and result != eccn.UNKNOWN and line is not None and tpp is not None and tpp < line:
        if chip.datacenter is False:
            notes.append(f"not designed for datacenters and TPP {tpp:g} < {line:g}: Note 2 to "
                         "3A090 excludes it")  # fmt: skip
            result = None
        elif chip.datacenter is None:
            notes.append(
                f"if it is not designed or marketed for datacenters, Note 2 to 3A090 excludes "
                f"it (TPP {tpp:g} < {line:g}); `datacenter` is not recorded"
            )
    if result in (None, eccn.UNKNOWN):
        declared = sorted(c for c in declared_eccns(chip) if advanced_family(c))
        if declared and (result == eccn.UNKNOWN or not found.values):
            return ChipClass(chip, declared[0], f"declared {declared[0]}", tuple(notes))
    return ChipClass(chip, result, why, tuple(notes))


def advanced_computing(portfolio: Portfolio, day: date | None) -> list[ChipClass]:
    """The portfolio's chips in the advanced-computing class on `day` (under the first
    rules for a day before 3A090 existed: a text about the class is about these chips)."""
    if not controls.rules_on(day).thresholds:
        day = controls.versions()[0].effective
    return [c for c in (classify(chip, day) for chip in portfolio.chips) if c.advanced]


def few(labels: list[str], shown: int = 5) -> str:
    """ "A, B, C and 4 more": names enough to read, never hiding that there are more."""
    more = len(labels) - shown
    head = ", ".join(labels[:shown])
    return f"{head} and {more} more" if more > 0 else head
