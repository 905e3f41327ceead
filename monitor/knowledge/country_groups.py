"""Country Groups of the EAR on any date, and where a text names one.

`data/country_groups.yaml` holds each group as of its `as_of` date and every dated
amendment since; the membership on an earlier date is the current one with the later
amendments undone. Hong Kong is looked up as China from the day the EAR treats it so.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitor.knowledge import countries
from monitor.knowledge._files import load


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    members: list[str]


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group: str
    country: str
    change: Literal["added", "removed"]
    effective: date
    citation: str | None = None
    document: str | None = None
    note: str | None = None
    verify: bool = False
    source: str

    def __str__(self) -> str:
        word = "added to" if self.change == "added" else "removed from"
        cite = f" ({self.citation})" if self.citation else ""
        return f"{countries.name_of(self.country)} {word} {self.group} on {self.effective}{cite}"


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: date
    sources: list[str] = Field(min_length=1)
    groups: dict[str, Group]
    changes: list[Change] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> _File:
        """Undoing the changes newest first must always find what it undoes."""
        held = {name: set(g.members) for name, g in self.groups.items()}
        for change in sorted(self.changes, key=lambda c: c.effective, reverse=True):
            if change.group not in held:
                raise ValueError(f"change for unknown group {change.group!r}")
            if change.effective > self.as_of:
                raise ValueError(f"change of {change.effective} after as_of {self.as_of}")
            present = change.country in held[change.group]
            if present != (change.change == "added"):
                raise ValueError(f"{change}: not consistent with the later membership")
            (held[change.group].discard if present else held[change.group].add)(change.country)
        return self


@cache
def _file() -> _File:
    return load("country_groups.yaml", _File)


@cache
def members(group: str, on: date | None = None) -> frozenset[str]:
    """The ISO codes in `group` on `on` (the data's date when None)."""
    data = _file()
    held = set(data.groups[group].members)
    if on is not None:
        for change in sorted(data.changes, key=lambda c: c.effective, reverse=True):
            if change.group == group and change.effective > on:
                (held.discard if change.change == "added" else held.add)(change.country)
    return frozenset(held)


def groups_of(code: str, on: date | None = None) -> set[str]:
    """The groups a destination is in on `on` (Hong Kong as China from 2020-12-23)."""
    as_country = countries.treated_as(code, on)
    return {g for g in _file().groups if as_country in members(g, on)}


def caveats(codes: set[str], on: date | None = None) -> list[Change]:
    """Unconfirmed amendments (`verify`) in force on `on` that concern `codes`."""
    day = on or date.today()
    return [c for c in _file().changes if c.verify and c.country in codes and c.effective <= day]


_LABEL = re.compile(r"\b(?:Country\s+Groups?\s+)?([A-E]):\s?([1-6])(?!\w)")


def named_in(text: str) -> set[str]:
    """The group labels a text names: "Country Group D:5", "D:1 or D:4" -> {"D:5", "D:1", "D:4"}."""
    known = set(_file().groups)
    return {label for m in _LABEL.finditer(text) if (label := f"{m[1]}:{m[2]}") in known}
