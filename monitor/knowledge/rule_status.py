"""Whether a rule is in force, suspended, not enforced or rescinded on a date.

`data/rules.yaml` records the rules whose force is not simply "from the effective
date": the affiliates rule and its one-year suspension, the AI Diffusion rule BIS does
not enforce, OFAC's 50 percent rule. Scoring, owner screening and deadline reminders
ask here rather than assume a rule applies.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.knowledge._files import load

State = Literal["in_force", "suspended", "not_enforced", "rescinded"]


class StatusPeriod(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    state: State
    from_: date = Field(alias="from")
    until: date | None = None
    by: str | None = None
    citation: str | None = None
    source: str
    note: str = ""


class Ownership(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percent: float
    lists: list[str]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    short: str
    citation: str | None = None
    ownership: Ownership | None = None
    states: list[StatusPeriod] = Field(min_length=1)

    def on(self, day: date | None = None) -> StatusPeriod | None:
        """The state on `day` (today when None); None before the rule took effect."""
        when = day or date.today()
        found = None
        for period in self.states:
            if period.from_ <= when and (period.until is None or when <= period.until):
                found = period
        return found

    def next_change(self, day: date | None = None) -> StatusPeriod | None:
        when = day or date.today()
        return next((p for p in self.states if p.from_ > when), None)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rules: dict[str, Rule]


@cache
def _file() -> _File:
    return load("rules.yaml", _File)


def rule(key: str) -> Rule | None:
    """A rule by its FR document number (or key such as "ofac-50-percent")."""
    return _file().rules.get(key)


def state(key: str, day: date | None = None) -> State:
    """The state of a rule on `day`; a rule not recorded here is in force."""
    found = rule(key)
    period = found.on(day) if found else None
    return period.state if period else "in_force"


def ownership_rules() -> dict[str, Rule]:
    """The rules that extend a listing to owned entities, by key."""
    return {k: r for k, r in _file().rules.items() if r.ownership is not None}
