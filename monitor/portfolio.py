"""The watched portfolio: the company's own chips and customers.

Files are shaped like the demo portfolio (`chips.yaml` with a `chips:` list,
`customers.yaml` with a `customers:` list); a folder of such files, one file,
or the same lists inline in `monitor.yaml` all give one `Portfolio`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.yamlfile import ConfigError, YamlDoc, collector_paused, load_yaml

# the word boundary is checked after the first digit: a pattern that starts with a
# character class is searched for that class first, twice as fast over long texts
ECCN_RE = re.compile(r"([0-9](?<=\b[0-9])[A-E][0-9]{3})((?:\.[a-z](?:\.[0-9]+)?)?)\b")


def _str_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return value


class Chip(BaseModel):
    """A chip and the parameters the rules test. Every parameter is optional: an unknown
    value stays unknown (the rules say what it would decide), it is never guessed."""

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str
    vendor: str | None = None
    aliases: list[str] = Field(default_factory=list)
    part_numbers: list[str] = Field(default_factory=list)
    eccn: str | None = None
    kind: Literal["logic", "hbm"] = "logic"  # hbm: a memory stack, tested by 3A090.c
    datacenter: bool | None = None  # designed or marketed for use in datacenters
    tpp: float | None = Field(default=None, ge=0)
    die_area_mm2: float | None = Field(default=None, gt=0)
    performance_density: float | None = Field(default=None, ge=0)
    dram_bandwidth_gbs: float | None = Field(default=None, ge=0)  # total DRAM bandwidth
    memory_bandwidth_density: float | None = Field(default=None, ge=0)  # GB/s/mm², HBM
    bidirectional_transfer_rate_gbs: float | None = Field(default=None, ge=0)  # interconnect
    process_node_nm: float | None = Field(default=None, gt=0)
    transistors: float | None = Field(default=None, gt=0)  # count, e.g. 80e9

    _lists = field_validator("aliases", "part_numbers", mode="before")(_str_list)

    @property
    def eccns(self) -> list[str]:
        """ECCN codes named in the free-text `eccn` field ("3A991 / 4A994 ..." gives two)."""
        return ["".join(m.groups()) for m in ECCN_RE.finditer(self.eccn or "")]

    @property
    def match_names(self) -> list[str]:
        """Names to look for in text: the name, its bare model, aliases and part numbers."""
        names = [self.name, *self.aliases, *self.part_numbers]
        bare = re.sub(r"\s*\(.*?\)", "", self.name).strip()
        names.append(bare)
        if self.vendor and bare.lower().startswith(self.vendor.lower() + " "):
            names.append(bare[len(self.vendor) + 1 :].strip())
        return list(dict.fromkeys(n for n in names if n))


class Owner(BaseModel):
    """A shareholder of a customer: a portfolio customer's id or a name, and its share."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    name: str | None = None
    percent: float | None = Field(default=None, gt=0, le=100)

    @model_validator(mode="after")
    def _named(self) -> Owner:
        if not (self.id or self.name):
            raise ValueError("an owner needs an id (a portfolio customer) or a name")
        return self


class Customer(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    city: str | None = None
    parent: str | None = None  # a portfolio customer owning 50% or more (the parent company)
    owners: list[Owner] = Field(default_factory=list)
    ultimate_parent_country: str | None = Field(default=None, min_length=2, max_length=2)
    addresses: list[str] = Field(default_factory=list)

    _lists = field_validator("aliases", "addresses", mode="before")(_str_list)

    @property
    def match_names(self) -> list[str]:
        return list(dict.fromkeys([self.name, *self.aliases]))


class Portfolio(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chips: list[Chip] = Field(default_factory=list)
    customers: list[Customer] = Field(default_factory=list)
    watch_terms: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)

    def merged(self, other: Portfolio) -> Portfolio:
        return Portfolio(
            chips=[*self.chips, *other.chips],
            customers=[*self.customers, *other.customers],
            watch_terms=[*self.watch_terms, *other.watch_terms],
            countries=[*self.countries, *other.countries],
        )


PORTFOLIO_KEYS = set(Portfolio.model_fields)


def portfolio_from_yaml(doc: YamlDoc, data: Any, prefix: tuple[str | int, ...] = ()) -> Portfolio:
    """Validate portfolio lists taken from `doc`; errors name the file, line and field."""
    if data is None:
        return Portfolio()
    if not isinstance(data, dict):
        raise doc.error(prefix, "expected a mapping with chips:/customers: lists")
    try:
        portfolio = Portfolio.model_validate(data)
    except ValidationError as exc:
        raise doc.validation_error(exc, prefix) from None
    _check_unique(doc, prefix, "chips", [c.id for c in portfolio.chips])
    _check_unique(doc, prefix, "customers", [c.id for c in portfolio.customers])
    for field, model in (("chips", Chip), ("customers", Customer)):
        _check_keys(doc, prefix, field, data.get(field), set(model.model_fields))
    return portfolio


def _check_keys(doc: YamlDoc, prefix: tuple, field: str, items: Any, known: set[str]) -> None:
    """Keys of one's own are allowed, but a key that is a known field misspelt
    (`memory_bandwith_density`, `TPP`) is an error: the rules would never see it."""
    if not isinstance(items, list):
        return
    lowered = {k.lower(): k for k in known}
    for i, item in enumerate(items):
        for key in item if isinstance(item, dict) else ():
            if not isinstance(key, str) or key in known:
                continue
            close = lowered.get(key.lower()) or next(
                iter(get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.85)), None
            )
            if close is not None:
                name = lowered.get(close, close)
                raise doc.error((*prefix, field, i, key), f"unknown key; did you mean {name!r}?")


def _check_unique(doc: YamlDoc, prefix: tuple, field: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            raise doc.error((*prefix, field, i, "id"), f"duplicate id {ident!r}")
        seen.add(ident)


def load_portfolio(path: Path) -> Portfolio:
    """Load one portfolio file, or every *.yaml / *.yml file in a folder."""
    if path.is_dir():
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        if not files:
            raise ConfigError(f"{path}: no portfolio *.yaml files in this folder")
    elif path.exists():
        files = [path]
    else:
        raise ConfigError(f"{path}: portfolio file or folder not found")
    portfolio = Portfolio()
    with collector_paused():  # 100,000 customers are millions of objects, none cyclic
        for file in files:
            doc = load_yaml(file)
            portfolio = merge_checked(portfolio, portfolio_from_yaml(doc, doc.data), doc, ())
    return portfolio


def merge_checked(
    base: Portfolio, more: Portfolio, doc: YamlDoc, prefix: tuple[str | int, ...]
) -> Portfolio:
    """`base` plus `more` (read from `doc`); an id defined in both is an error in `doc`."""
    for field in ("chips", "customers"):
        known = {item.id for item in getattr(base, field)}
        for i, item in enumerate(getattr(more, field)):
            if item.id in known:
                raise doc.error((*prefix, field, i, "id"), f"duplicate id {item.id!r}")
    return base.merged(more)


T = TypeVar("T")
_DERIVED: dict[tuple[str, int], tuple[Portfolio, tuple[int, ...], Any]] = {}
_KEEP = 16  # (name, portfolio) entries kept


def derived(portfolio: Portfolio, name: str, build: Callable[[Portfolio], T]) -> T:
    """What `build` makes of a portfolio (a name index, a screener, customers by
    country), built on first use and kept per portfolio object.

    Rebuilt when one of its lists is replaced or changes length (`model_copy(update=...)`,
    an appended customer); a customer's names edited in place are not seen.
    """
    lists = (portfolio.customers, portfolio.chips, portfolio.watch_terms)
    shape = tuple(f(items) for items in lists for f in (id, len))
    key = (name, id(portfolio))
    found = _DERIVED.get(key)
    if found is not None and found[1] == shape:
        return found[2]
    value = build(portfolio)
    _DERIVED.pop(key, None)
    if len(_DERIVED) >= _KEEP:
        del _DERIVED[next(iter(_DERIVED))]
    _DERIVED[key] = (portfolio, shape, value)  # holding it keeps its id unique
    return value
