"""When each source is polled next, following the Federal Register's rhythm.

The FR publishes on federal business days (Monday to Friday, not federal
holidays); the public-inspection desk posts regular filings at 8:45 a.m. and
special filings at 4:15 p.m. US Eastern. A source with `schedule` times is
polled at those Eastern times on publication days; other sources every
`every_minutes`. A bounded jitter, fixed per source, keeps many monitors (and
many sources) from hitting a server in the same second.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from monitor.deadlines import FR_ZONE


@lru_cache(maxsize=16)
def _federal_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("US", years=year)


def is_publication_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _federal_holidays(day.year)


def jitter(name: str, bound: int) -> timedelta:
    """The same offset for a source every time: stable, but different across sources."""
    if bound <= 0:
        return timedelta(0)
    digest = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    return timedelta(seconds=digest % (bound + 1))


def next_run(
    name: str,
    times: list[str] | None,
    every_minutes: float,
    jitter_seconds: int,
    after: datetime,
) -> datetime:
    """The first scheduled poll strictly after `after` (an aware datetime)."""
    offset = jitter(name, jitter_seconds)
    if not times:
        return after + timedelta(minutes=every_minutes) + offset
    local = after.astimezone(FR_ZONE)
    for days in range(0, 15):
        day = local.date() + timedelta(days=days)
        if not is_publication_day(day):
            continue
        for text in sorted(times):
            at = datetime.combine(day, time.fromisoformat(text), FR_ZONE) + offset
            if at > local:
                return at
    raise ValueError(f"no publication day in the 15 days after {local.date()}")
