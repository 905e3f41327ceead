"""One table of destinations: ISO codes, the names rules print, and where a text names one.

ISO 3166 codes and names come from pycountry; `data/countries.json` adds the names the
EAR and the Federal Register use ("CHINA, PEOPLE'S REPUBLIC OF", "Korea, South",
"Burma", "Türkiye", "U.A.E.") and the destinations the EAR treats as others (Hong Kong
as China since 2020-12-23). Every module that reads a country name asks this one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache

import pycountry

from monitor.knowledge import DATA
from monitor.phrases import Phrases


@dataclass(frozen=True)
class Names:
    display: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class TreatedAs:
    code: str
    as_: str
    since: date
    citation: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class _File:
    countries: dict[str, Names]
    treated_as: tuple[TreatedAs, ...]


# short forms that are words or abbreviations in running text ("U.S. persons")
_NOT_IN_TEXT = frozenset({"U.S.", "USA", "U.S.A.", "U.K.", "UK", "ROK", "DRC", "Britain"})


@cache
def _file() -> _File:
    """`data/countries.json`, checked: every code a real ISO code, every treatment dated and
    sourced (read with the standard library, so `monitor diff` stays lean)."""
    path = DATA / "countries.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    table: dict[str, Names] = {}
    for code, entry in raw["countries"].items():
        if pycountry.countries.get(alpha_2=code) is None or set(entry) - {"display", "aliases"}:
            raise ValueError(f"{path}: countries.{code}: not an ISO code, or unknown keys")
        table[code] = Names(entry["display"], tuple(entry.get("aliases", ())))
    treated = tuple(
        TreatedAs(t["code"], t["as"], date.fromisoformat(t["since"]), t["citation"],
                  tuple(t["sources"]))
        for t in raw.get("treated_as", [])
    )  # fmt: skip
    if any(not t.sources for t in treated):
        raise ValueError(f"{path}: treated_as: every entry needs its sources")
    return _File(table, treated)


def key(name: str) -> str:
    """A name as looked up: "the People's Republic of China (China)" and "CHINA,
    PEOPLE'S REPUBLIC OF" fold alike; a parenthesis that is a whole alias stays."""
    text = name.replace("’", "'").replace("‘", "'").casefold()
    text = re.sub(r"^\s*the\s+", "", " ".join(text.split()))
    return re.sub(r",\s*the$", "", text).strip(" ,.;:")


@cache
def _index() -> dict[str, str]:
    out: dict[str, str] = {}
    for c in pycountry.countries:
        for name in (c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)):
            if name:
                out.setdefault(key(name), c.alpha_2)
        out[key(c.alpha_2)] = c.alpha_2
    for code, names in _file().countries.items():
        for name in (names.display, *names.aliases):
            out[key(name)] = code
    return out


def code_of(name: str | None) -> str | None:
    """ISO alpha-2 of a country name, heading or code ("CHINA, PEOPLE'S REPUBLIC OF",
    "the United Arab Emirates (UAE)", "hk"); None if it names no country."""
    if not name:
        return None
    index = _index()
    found = index.get(key(name))
    if found is None:  # "(China)", "(UAE)" after the long form
        found = index.get(key(re.sub(r"\s*\([^)]*\)", " ", name)))
    return found


@cache
def name_of(code: str | None) -> str:
    """The short name shown for a code ("CN" -> "China"); the code itself when unknown."""
    if not code:
        return "unknown destination"
    names = _file().countries.get(code.upper())
    if names is not None:
        return names.display
    found = pycountry.countries.get(alpha_2=code.upper())
    if found is None:
        return code
    return getattr(found, "common_name", None) or found.name


def treated_as(code: str, on: date | None = None) -> str:
    """The destination the EAR treats `code` as on `on` (today when None): HK -> CN from
    2020-12-23, anything else itself."""
    day = on or date.today()
    for rule in _file().treated_as:
        if rule.code == code and day >= rule.since:
            return rule.as_
    return code


@cache
def _phrases() -> Phrases:
    names: dict[str, str] = {}
    for c in pycountry.countries:
        for name in (c.name, getattr(c, "common_name", None), getattr(c, "official_name", None)):
            if name:
                names[name] = c.alpha_2
    for code, entry in _file().countries.items():
        for name in (entry.display, *entry.aliases):
            names[name] = code
    return Phrases({n: c for n, c in names.items() if n not in _NOT_IN_TEXT and len(n) > 2})


def named_in(text: str) -> set[str]:
    """ISO codes of the countries `text` names ("the People's Republic of China", "U.A.E.")."""
    return {code for code, _ in _phrases().find(text)}


@cache
def heading_names() -> frozenset[str]:
    """Every name in capitals, as Entity List headings print destinations ("CHINA,
    PEOPLE'S REPUBLIC OF", "KOREA, REPUBLIC OF", "BURMA")."""
    names: set[str] = set()
    for c in pycountry.countries:
        names.update(n for n in (c.name, getattr(c, "common_name", None)) if n)
    for entry in _file().countries.values():
        names.update((entry.display, *entry.aliases))
    return frozenset(n.upper() for n in names if re.search(r"[A-Za-z]{3}", n) and "." not in n)
