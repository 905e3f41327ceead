"""The portfolio's customers: where they are, where their owners are headquartered, who
owns them, and which of them a destination scope reaches.

A customer's exposure follows its own country and its ultimate parent's headquarters
(the headquarters test of § 744.23(a)(3)); Hong Kong counts as China from the day the
EAR treats it so. Owners are portfolio customers (by id, or the `parent`) or names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from monitor.knowledge import countries, country_groups
from monitor.knowledge.controls import Licence
from monitor.portfolio import Customer, Owner, Portfolio, derived


def label(customer: Customer) -> str:
    """How an alert names a customer: its name, then its id."""
    return f"{customer.name} ({customer.id})"


def by_id(portfolio: Portfolio) -> dict[str, Customer]:
    return derived(portfolio, "customers by id", lambda p: {c.id: c for c in p.customers})


def owners(customer: Customer, portfolio: Portfolio) -> list[tuple[Owner, Customer | None]]:
    """The customer's owners, the `parent` first (a parent owns 50% or more), each with the
    portfolio customer it is when it is one."""
    known = by_id(portfolio)
    found: list[Owner] = []
    if customer.parent:
        found.append(Owner(id=customer.parent, percent=None))
    found += [o for o in customer.owners if o.id != customer.parent or o.id is None]
    return [(o, known.get(o.id or "")) for o in found]


def headquarters(customer: Customer, portfolio: Portfolio) -> str | None:
    """The country of the customer's ultimate parent: stated, else the top of its chain of
    parents in the portfolio, else its own country."""
    if customer.ultimate_parent_country:
        return customer.ultimate_parent_country
    known, seen, current = by_id(portfolio), {customer.id}, customer
    while current.parent and current.parent in known and current.parent not in seen:
        seen.add(current.parent)
        current = known[current.parent]
    return current.country if current is not customer else customer.country


@dataclass(frozen=True)
class Home:
    """Why a customer is at home in a destination: located there, or its parent is."""

    customer: Customer
    country: str
    via: str  # "located" | "headquarters"

    def say(self) -> str:
        where = countries.name_of(self.country)
        if self.via == "located":
            return f"{label(self.customer)} in {where}"
        return f"{label(self.customer)}, whose parent is headquartered in {where}"


def homes(customer: Customer, portfolio: Portfolio, day: date | None) -> list[Home]:
    """The destinations that count for the customer, as the EAR reads them on `day`."""
    out = []
    if customer.country:
        out.append(Home(customer, countries.treated_as(customer.country.upper(), day), "located"))
    hq = headquarters(customer, portfolio)
    if hq and hq.upper() != (customer.country or "").upper():
        out.append(Home(customer, countries.treated_as(hq.upper(), day), "headquarters"))
    return out


def at_home_in(portfolio: Portfolio, codes: set[str], day: date | None) -> list[Home]:
    """Customers located in, or headquartered (through their parent) in, any of `codes`."""
    wanted = {countries.treated_as(c, day) for c in codes}
    return [h for c in portfolio.customers for h in homes(c, portfolio, day) if h.country in wanted]


def in_licence_scope(portfolio: Portfolio, licence: Licence, day: date) -> list[Home]:
    """Customers a licence requirement reaches: located in its destinations, or (the
    headquarters test) with an ultimate parent headquartered in Macau or D:5."""
    out = []
    for customer in portfolio.customers:
        for home in homes(customer, portfolio, day):
            if licence.covers(home.country, day) or licence.headquarters(home.country, day):
                out.append(home)
                break
    return out


def concern(day: date | None) -> set[str]:
    """Destinations whose parties end-user listings most often reach: Country Group D:5
    and Macau (the headquarters test's destinations)."""
    return set(country_groups.members("D:5", day)) | {"MO"}


def unique(found: list[Home]) -> list[Home]:
    """One home per customer, the first found."""
    seen: set[str] = set()
    out = []
    for home in found:
        if home.customer.id not in seen:
            seen.add(home.customer.id)
            out.append(home)
    return out


def scope(found: list[Home], shown: int = 8) -> str:
    """A destination scope's customers in one line: how many where, then their ids
    ("18 customers: China 17, Macau 1 (biren, biren-guangzhou, ... and 10 more)")."""
    from monitor.relevance.chips import few

    by: dict[str, int] = {}
    for home in found:
        where = countries.name_of(home.country)
        by[where] = by.get(where, 0) + 1
    where = ", ".join(f"{w} {n}" for w, n in sorted(by.items(), key=lambda kv: -kv[1]))
    ids = few([h.customer.id for h in found], shown)
    noun = "customer" if len(found) == 1 else "customers"
    return f"{len(found)} {noun}: {where} ({ids})"
