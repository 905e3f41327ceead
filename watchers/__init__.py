"""Watchers: one module per source kind, each registered under its `kind:` name.

A watcher declares its options (a pydantic model, validated from the source's
entry in `monitor.yaml`) and a `poll` function that turns responses into
`Document`s and a new cursor, nothing else. Built-in watchers register exactly
as a third-party one would: `register(Watcher(...))` at import time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from monitor.document import Document


class SourceOptions(BaseModel):
    """Options every source has; watchers subclass this with their own."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: str
    enabled: bool = True
    base_url: str
    since: str = Field(
        default="7d", description="first-run window: an ISO date or a lookback like 7d"
    )
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=3, ge=0, le=10)
    backoff: float = Field(default=1.0, ge=0, description="seconds; doubled on each retry")
    max_bytes: int = Field(default=50_000_000, gt=0)
    schedule: list[str] | None = Field(
        default=None, description="poll at these US Eastern times (HH:MM) on publication days"
    )
    every_minutes: float = Field(
        default=60, gt=0, description="poll interval without a schedule (0.5: 30 seconds)"
    )
    jitter_seconds: int = Field(default=120, ge=0, le=3600)
    redirect_hosts: list[str] = Field(
        default_factory=list,
        description="hosts a redirect may lead to; by default it stays on the host asked",
    )

    @property
    def fetch_limits(self) -> dict[str, Any]:
        """The keyword arguments of `monitor.http.fetch` that every request of the source takes."""
        return {"retries": self.retries, "backoff": self.backoff, "max_bytes": self.max_bytes}

    @field_validator("schedule")
    @classmethod
    def _times_parse(cls, value: list[str] | None) -> list[str] | None:
        for text in value or []:
            if not _HHMM.match(text):
                raise ValueError(f"expected times like 08:45, got {text!r}")
        return value

    @field_validator("since", mode="before")
    @classmethod
    def _since_parses(cls, value: Any) -> Any:
        if isinstance(value, date):  # YAML reads 2025-01-15 as a date
            value = value.isoformat()
        if isinstance(value, str):
            parse_since(value)
        return value


_LOOKBACK = re.compile(r"^(\d+)d$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def parse_since(value: str, today: date | None = None) -> date:
    """`2025-01-15` or `30d` (30 days before today)."""
    match = _LOOKBACK.match(value.strip())
    if match:
        return (today or date.today()) - timedelta(days=int(match.group(1)))
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"expected a date (YYYY-MM-DD) or a lookback like 7d, got {value!r}"
        ) from None


@dataclass
class PollResult:
    documents: list[Document]
    cursor: dict[str, Any]
    fetched: int = 0
    notes: list[str] = field(default_factory=list)
    not_modified: bool = False  # answered 304: the source has nothing new
    # documents to store without events: the first copy of a whole text (an eCFR
    # part seen for the first time), so a first run does not alert on every section
    baseline: set[str] = field(default_factory=set)  # document keys


PollFn = Callable[[Any, dict[str, Any], httpx.Client, date | None], PollResult]
# From a source's cursor: how many documents' texts it read, will try again, gave up on
TextCounts = Callable[[dict[str, Any]], dict[str, int]]


@dataclass(frozen=True)
class Watcher:
    kind: str
    options: type[SourceOptions]
    poll: PollFn
    description: str
    texts: TextCounts | None = None  # for a source that reads documents' texts


WATCHERS: dict[str, Watcher] = {}


def register(watcher: Watcher) -> Watcher:
    WATCHERS[watcher.kind] = watcher
    return watcher


def load_builtin() -> None:
    """Import the built-in watcher modules so they register themselves."""
    from watchers import (
        ecfr,  # noqa: F401
        federal_register,  # noqa: F401
        federal_register_rss,  # noqa: F401
        news,  # noqa: F401
        public_inspection,  # noqa: F401
    )
