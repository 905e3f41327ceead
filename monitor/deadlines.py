"""Deadlines: comment-close, effective and compliance dates, and when to remind.

The API fields (`comments_close_on`, `effective_on`) are the start, but
interim final rules often leave `comments_close_on` empty and state the date
only in the free-text DATES paragraph ("Comments must be received by BIS no
later than December 18, 2023"), and may have several effective dates; so the
paragraph is read too. Comment periods are extended or reopened by separate,
later documents: `extension_targets` finds the earlier documents a notice
extends (by cited document number or FR citation, else by shared RIN or docket).

Dates are Federal Register dates: calendar days in US Eastern time. "Today"
is therefore today in New York, wherever the monitor runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from monitor.document import Document
from monitor.knowledge import rule_status

FR_ZONE = ZoneInfo("America/New_York")
DEFAULT_OFFSETS = (30, 14, 7, 1)

DeadlineKind = Literal["comments", "effective", "compliance"]

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(rf"\b({_MONTHS})\s+(\d{{1,2}}),\s*(\d{{4}})\b")
_SENTENCE = re.compile(r"(?<=[.;])\s+(?=[A-Z])")
_KINDS: tuple[tuple[DeadlineKind, re.Pattern[str]], ...] = (
    ("compliance", re.compile(r"\bcompl(y|iance)\b", re.IGNORECASE)),
    ("comments", re.compile(r"\bcomment", re.IGNORECASE)),
    ("effective", re.compile(r"\beffective\b", re.IGNORECASE)),
)
_EXTENSION = re.compile(
    r"\b(extension of (the )?comment period|comment period[^.]{0,120}\b(is|are|be) "
    r"(extended|reopened)|reopening of (the )?comment period|extend(s|ing)? the comment period|"
    r"reopen(s|ing)? the comment period)",
    re.IGNORECASE,
)
_CITATION = re.compile(r"\b(\d{1,3})\s+FR\s+(\d{1,6})\b")
_NUMBER = re.compile(r"\b(?:C\d-)?(?:19|20)\d{2}-\d{5}\b")


@dataclass(frozen=True)
class Deadline:
    kind: DeadlineKind
    due: date
    origin: str  # the API field, or "dates" for the DATES paragraph
    text: str | None = None  # the sentence it was read from


def _dates_in(sentence: str) -> list[date]:
    found = []
    for month, day, year in _DATE.findall(sentence):
        try:
            found.append(datetime.strptime(f"{month} {day} {year}", "%B %d %Y").date())
        except ValueError:  # "February 30, 2025" in a typo'd notice
            continue
    return found


def from_dates_text(text: str) -> list[Deadline]:
    """Deadlines stated in a DATES paragraph, one per date, kind by the sentence's words.

    In a sentence about comments on an earlier document ("the comment period for
    the proposal published October 31, 2023 is extended until April 1, 2024")
    the deadline is the last date, not the publication date it cites.
    """
    deadlines = []
    for sentence in _SENTENCE.split(" ".join(text.split())):
        dates = _dates_in(sentence)
        kind = next((k for k, pattern in _KINDS if pattern.search(sentence)), None)
        if not dates or kind is None:
            continue
        chosen = dates[-1:] if kind == "comments" else dates
        deadlines += [Deadline(kind, d, "dates", sentence) for d in chosen]
    return deadlines


def extract(doc: Document) -> list[Deadline]:
    """Every deadline a document states, the API fields first, without duplicates."""
    found: list[Deadline] = []
    if doc.comments_close_on:
        found.append(Deadline("comments", doc.comments_close_on, "comments_close_on"))
    if doc.effective_on:
        found.append(Deadline("effective", doc.effective_on, "effective_on"))
    if doc.dates:
        found += from_dates_text(doc.dates)
    unique: dict[tuple[str, date], Deadline] = {}
    for deadline in found:
        unique.setdefault((deadline.kind, deadline.due), deadline)
    return list(unique.values())


def fr_today(now: datetime | None = None) -> date:
    """Today's date in US Eastern time, the Federal Register's calendar."""
    return (now or datetime.now(FR_ZONE)).astimezone(FR_ZONE).date()


def reminder_offset(due: date, today: date, offsets: tuple[int, ...]) -> int | None:
    """The reminder due now: the smallest offset not below the days left.

    A missed run does not lose a reminder: with 10 days left the 14-day one
    fires; with 0 days left (due today) the 1-day one still does.
    """
    left = (due - today).days
    if left < 0:
        return None
    candidates = [o for o in offsets if o >= left]
    return min(candidates) if candidates else None


def is_extension(doc: Document) -> bool:
    text = " ".join(t for t in (doc.title, doc.action, doc.abstract, doc.dates) if t)
    return bool(_EXTENSION.search(text))


def cited(doc: Document) -> tuple[set[str], set[str]]:
    """FR document numbers and citations ("88 FR 74379") a document's text names."""
    text = " ".join(t for t in (doc.title, doc.abstract, doc.dates) if t)
    numbers = set(_NUMBER.findall(text)) - {doc.document_number}
    citations = {f"{vol} FR {page}" for vol, page in _CITATION.findall(text)}
    citations.discard(doc.citation or "")
    return numbers, citations


def not_live(kind: str, document_number: str, due: date) -> str | None:
    """Why a deadline does not bind, or None: the compliance or effective date of a rule
    that is not enforced, rescinded or suspended on that day (a comment period stays open
    whatever the rule's status)."""
    if kind == "comments":
        return None
    rule = rule_status.rule(document_number)
    period = rule.on(due) if rule else None
    if rule is None or period is None or period.state == "in_force":
        return None
    return f"{rule.short} is {period.state.replace('_', ' ')} on {due}"
