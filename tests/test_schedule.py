"""Polls follow the Federal Register's rhythm: Eastern times on publication days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.deadlines import FR_ZONE
from monitor.schedule import is_publication_day, jitter, next_run
from monitor.yamlfile import ConfigError


def eastern(*args: int) -> datetime:
    return datetime(*args, tzinfo=FR_ZONE)


def test_publication_days_skip_weekends_and_federal_holidays():
    assert is_publication_day(date(2026, 11, 25))  # Wednesday
    assert not is_publication_day(date(2026, 11, 26))  # Thanksgiving
    assert not is_publication_day(date(2026, 11, 28))  # Saturday
    assert not is_publication_day(date(2025, 12, 25))
    assert not is_publication_day(date(2025, 7, 4))


def test_next_run_skips_the_holiday_and_the_weekend():
    times = ["06:15", "12:15", "17:15"]
    run = next_run("fr", times, 60, 0, eastern(2026, 11, 25, 18, 0))
    assert run == eastern(2026, 11, 27, 6, 15)  # not Thanksgiving Thursday
    assert next_run("fr", times, 60, 0, eastern(2026, 11, 27, 17, 30)) == eastern(
        2026, 11, 30, 6, 15
    )  # Friday evening -> Monday morning
    assert next_run("fr", times, 60, 0, eastern(2026, 11, 30, 6, 15)) == eastern(
        2026, 11, 30, 12, 15
    )  # strictly after


def test_public_inspection_times_and_the_dst_change():
    times = ["08:45", "16:15"]
    assert next_run("pi", times, 60, 0, eastern(2025, 1, 15, 9, 0)) == eastern(2025, 1, 15, 16, 15)
    # the Monday after clocks moved (2025-03-09): 08:45 EDT is 12:45 UTC, not 13:45
    run = next_run("pi", times, 60, 0, datetime(2025, 3, 8, 12, tzinfo=UTC))
    assert run.astimezone(UTC) == datetime(2025, 3, 10, 12, 45, tzinfo=UTC)


def test_jitter_is_bounded_stable_and_differs_between_sources():
    assert jitter("fr", 120) == jitter("fr", 120) <= timedelta(seconds=120)
    assert len({jitter(name, 120) for name in ("fr", "pi", "rss", "news", "ecfr")}) > 1
    assert jitter("fr", 0) == timedelta(0)
    run = next_run("fr", ["06:15"], 60, 120, eastern(2026, 11, 30, 5, 0))
    assert eastern(2026, 11, 30, 6, 15) <= run <= eastern(2026, 11, 30, 6, 17)


def test_sources_without_schedule_run_every_n_minutes():
    after = datetime(2026, 11, 28, 10, tzinfo=UTC)  # a Saturday: news never sleeps
    assert next_run("news", None, 30, 0, after) == after + timedelta(minutes=30)


def test_bad_schedule_time_is_a_config_error(write_config):
    from monitor.config import load_config

    path = write_config(
        """
        sources:
          - name: fr
            kind: federal_register
            schedule: ["8:45am"]
        """
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert ":5: sources[0].schedule" in str(info.value) and "08:45" in str(info.value)
