"""Country groups of the EAR that the advanced-computing controls turn on, and where
a document names them.

After October 2023, 3A090/4A090 and the .z items need a license to D:1, D:4 and D:5
destinations and Macau, and worldwide for parties headquartered in (or with an
ultimate parent in) Macau or D:5 (../shared/DOMAIN.md, section 3). So a customer's
exposure follows its own country and its parent's.

Membership is the project's reading of Supplement No. 1 to part 740, limited to the
countries DOMAIN.md names; it is not the full supplement. DOMAIN.md marks group
membership "verify": check the current supplement before relying on it, and extend
`GROUPS` for a portfolio with customers elsewhere.
"""

from __future__ import annotations

import re

from monitor.phrases import Phrases
from monitor.portfolio import Customer, Portfolio, derived

GROUPS: dict[str, frozenset[str]] = {
    "D:1": frozenset({"CN", "RU", "BY", "KP", "VE"}),
    "D:4": frozenset({"CN", "RU", "BY", "KP", "VE", "IR"}),
    "D:5": frozenset({"CN", "RU", "BY", "KP", "VE", "IR"}),
    "Macau": frozenset({"MO"}),
}
# presumption of denial, and the headquarters test of § 744.23(a)(3)
CONCERN = GROUPS["D:5"] | GROUPS["Macau"]

# country names as rules print them, for the countries above and the usual others
NAMES: dict[str, str] = {
    "China": "CN", "People's Republic of China": "CN", "PRC": "CN", "Hong Kong": "HK",
    "Macau": "MO", "Macao": "MO", "Taiwan": "TW", "Russia": "RU",
    "Russian Federation": "RU", "Belarus": "BY", "Iran": "IR", "North Korea": "KP",
    "Venezuela": "VE", "India": "IN", "Singapore": "SG", "Malaysia": "MY",
    "United Arab Emirates": "AE", "U.A.E.": "AE", "UAE": "AE", "Japan": "JP",
    "Germany": "DE", "Ireland": "IE", "Canada": "CA", "United Kingdom": "GB",
    "Argentina": "AR", "Pakistan": "PK", "Vietnam": "VN", "Turkey": "TR",
}  # fmt: skip
_GROUP_RE = re.compile(r"D:\s?([145])(?!\w)")  # "Country Group D:5", "D:1"
_COUNTRIES = Phrases(NAMES)


def named_countries(text: str) -> set[str]:
    """ISO codes of the countries `text` names (country names, not group labels)."""
    return {code for code, _ in _COUNTRIES.find(text)}


def named_groups(text: str, countries: set[str] | None = None) -> set[str]:
    """The country groups `text` names: "Country Group D:5", "D:1", "Macau" (pass the
    `named_countries` already found to save a scan)."""
    found = {f"D:{m.group(1)}" for m in _GROUP_RE.finditer(text)}
    if "MO" in (named_countries(text) if countries is None else countries):
        found.add("Macau")
    return found


def home_countries(customer: Customer, by_id: dict[str, Customer]) -> list[str]:
    """The countries that count for this customer: its own, and its parent's headquarters."""
    parent = by_id.get(customer.parent or "")
    found = [customer.country, parent.country if parent is not None else None]
    return list(dict.fromkeys(c for c in found if c))


def exposed(portfolio: Portfolio, countries: set[str]) -> dict[str, list[str]]:
    """Customers at home in any of `countries` (own country or parent's), by country."""
    homes = derived(portfolio, "homes", _homes)
    return {code: homes[code] for code in sorted(countries) if code in homes}


def _homes(portfolio: Portfolio) -> dict[str, list[str]]:
    by_id = {c.id: c for c in portfolio.customers}
    out: dict[str, list[str]] = {}
    for customer in portfolio.customers:
        for code in home_countries(customer, by_id):
            out.setdefault(code, []).append(customer.id)
    return out
