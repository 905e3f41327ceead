"""The advanced-computing controls on a date: 3A090 thresholds, where a licence is needed,
review policies, licence exceptions and the foundry presumption.

Read from `data/controls.yaml`, where each version of the rules carries the document that
set it, its effective date and its sources. `rules_on(day)` is the 3A090 rule set in force
on a day (each paragraph as last set), so a rule printing new 3A090 text is compared with
the one in force before it.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor import eccn
from monitor.knowledge import country_groups
from monitor.knowledge._files import load

Tests = dict[str, str | list[str]]  # parameter -> ">= 4800" or [">= 2400", "< 4800"]


class Paragraph(BaseModel):
    model_config = ConfigDict(extra="forbid")

    any_of: list[Tests] = Field(min_length=1)
    applies_to: eccn.ItemKind = "logic"

    def threshold(self, label: str) -> eccn.Threshold:
        alternatives = []
        for tests in self.any_of:
            comparisons = []
            for parameter, spec in tests.items():
                for one in [spec] if isinstance(spec, str) else spec:
                    op, _, value = one.partition(" ")
                    comparisons.append(eccn.Comparison(parameter, op, float(value)))
            alternatives.append(eccn.all_of(*comparisons))
        return eccn.Threshold(label, eccn.any_of(*alternatives), applies_to=self.applies_to)


class Licence(BaseModel):
    """Where 3A090/4A090/.z items need a licence under one version of the rules."""

    model_config = ConfigDict(extra="forbid")

    groups: list[str] = Field(default_factory=list)
    except_groups: list[str] = Field(default_factory=list)
    destinations: list[str] = Field(default_factory=list)
    headquarters_groups: list[str] = Field(default_factory=list)
    headquarters_destinations: list[str] = Field(default_factory=list)
    note: str = ""

    def covers(self, code: str, on: date) -> bool:
        """Does a licence apply for a party located in `code` on `on`?"""
        if code in self.destinations:
            return True
        groups = country_groups.groups_of(code, on)
        return bool(groups & set(self.groups)) and not groups & set(self.except_groups)

    def headquarters(self, code: str, on: date) -> bool:
        """Does the headquarters test reach a party whose (ultimate parent's) headquarters
        are in `code`, wherever it is located?"""
        if code in self.headquarters_destinations:
            return True
        return bool(country_groups.groups_of(code, on) & set(self.headquarters_groups))

    def describe(self) -> str:
        parts = []
        if self.groups:
            scope = "/".join(self.groups)
            if self.except_groups:
                scope += f" (not also in {'/'.join(self.except_groups)})"
            parts.append(scope)
        parts += self.destinations
        where = " and ".join(parts) or "no destination"
        if self.headquarters_groups or self.headquarters_destinations:
            hq = "/".join([*self.headquarters_groups, *self.headquarters_destinations])
            where += f", and worldwide for parties headquartered in {hq}"
        return where


class TransistorLine(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    below: float
    from_: date | None = Field(default=None, alias="from")
    without_hbm: bool = False


class FoundryPresumption(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node_nm_at_most: float
    transistor_lines: list[TransistorLine]
    designer_list: str
    osat_list: str

    def line_on(self, day: date, has_hbm: bool | None) -> float:
        """The transistor count below which the presumption is overcome on `day`."""
        best = 0.0
        for line in self.transistor_lines:
            if (line.from_ is None or day >= line.from_) and not (line.without_hbm and has_hbm):
                best = max(best, line.below)
        return best


class Version(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    name: str
    citation: str
    effective: date
    compliance: date | None = None
    thresholds: dict[str, Paragraph] = Field(default_factory=dict)
    not_datacenter_below_tpp: float | None = None
    licence: Licence | None = None
    foundry_presumption: FoundryPresumption | None = None
    sources: list[str] = Field(min_length=1)


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    citation: str | None = None
    effective: date
    destinations: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    policy: str
    below: dict[str, float] = Field(default_factory=dict)
    otherwise: str | None = None
    not_for: str | None = None
    sources: list[str] = Field(min_length=1)


class Exception_(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    rule: str
    revised_by: str | None = None
    effective: date
    where: str
    needs: str
    not_for: str
    sources: list[str] = Field(min_length=1)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    families: list[str]
    z_paragraphs: list[str]
    z_sources: list[str] = Field(min_length=1)
    versions: list[Version]
    policies: list[Policy]
    exceptions: list[Exception_]

    @field_validator("versions")
    @classmethod
    def _in_order(cls, value: list[Version]) -> list[Version]:
        days = [v.effective for v in value]
        if days != sorted(days):
            raise ValueError("versions must be in order of effective date")
        return value


@cache
def _file() -> _File:
    return load("controls.yaml", _File)


def families() -> frozenset[str]:
    """The advanced-computing ECCNs themselves: 3A090, 4A090."""
    return frozenset(_file().families)


def z_paragraphs() -> frozenset[str]:
    """ECCNs classified elsewhere that meet the 3A090/4A090 parameters (3A001.z, 5A992.z...)."""
    return frozenset(_file().z_paragraphs)


def versions() -> list[Version]:
    return list(_file().versions)


def version(rule: str) -> Version | None:
    return next((v for v in _file().versions if v.rule == rule), None)


@cache
def rules_on(day: date | None) -> eccn.RuleSet:
    """The 3A090 paragraphs in force on `day` (the latest when None), each as last set.

    Before the first rule there was no 3A090: the rule set is empty.
    """
    known = [v for v in _file().versions if v.thresholds]
    upto = [v for v in known if day is None or v.effective <= day]
    if not upto:
        return eccn.RuleSet("before 3A090", "", "", "", ())
    paragraphs: dict[str, eccn.Threshold] = {}
    for v in upto:
        for label, paragraph in v.thresholds.items():
            paragraphs[label] = paragraph.threshold(label)
    last = upto[-1]
    ordered = tuple(paragraphs[p] for p in sorted(paragraphs))
    return eccn.RuleSet(last.name, last.rule, last.citation, last.effective.isoformat(), ordered)


def before(day: date | None) -> eccn.RuleSet:
    """The 3A090 paragraphs in force the day before `day`: what a rule of that day changes."""
    if day is None:
        return rules_on(None)
    return rules_on(date.fromordinal(day.toordinal() - 1))


def datacenter_line(day: date | None) -> float | None:
    """TPP below which a chip not designed or marketed for datacenters is not 3A090
    (Note 2 to 3A090), on `day`; None before the note existed."""
    line = None
    for v in _file().versions:
        if (day is None or v.effective <= day) and v.not_datacenter_below_tpp is not None:
            line = v.not_datacenter_below_tpp
    return line


def licence_on(day: date | None) -> tuple[Licence, Version]:
    """Where a licence is required for the advanced-computing items on `day`, and the
    version of the rules that says so."""
    found = [v for v in _file().versions if v.licence and (day is None or v.effective <= day)]
    chosen = found[-1] if found else next(v for v in _file().versions if v.licence)
    assert chosen.licence is not None
    return chosen.licence, chosen


def foundry_presumption(day: date | None) -> tuple[FoundryPresumption, Version] | None:
    for v in reversed(_file().versions):
        if v.foundry_presumption and (day is None or v.effective <= day):
            return v.foundry_presumption, v
    return None


def policy(rule: str) -> Policy | None:
    return next((p for p in _file().policies if p.rule == rule), None)


def exceptions() -> list[Exception_]:
    return list(_file().exceptions)
