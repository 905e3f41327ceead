"""Severity levels, ordered, and the score bands that map onto them."""

from __future__ import annotations

from typing import Literal

Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")

# lowest score of each band, highest band first
BANDS: tuple[tuple[int, Severity], ...] = (
    (80, "critical"),
    (60, "high"),
    (40, "medium"),
    (20, "low"),
    (0, "info"),
)


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)  # type: ignore[arg-type]


def severity_for(score: int) -> Severity:
    return next(name for floor, name in BANDS if score >= floor)


def at_least(severity: str, minimum: str) -> bool:
    return rank(severity) >= rank(minimum)
