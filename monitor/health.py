"""Source health as a state machine: ok -> failing(n) -> alerted -> recovered.

One flaky poll must not page anyone, and a source that stays broken must not
fail silently either: a `source_failing` event is raised only after
`alert_after` consecutive failures, raised again every `realert_hours` while
the source stays broken, and a `source_recovered` event follows the first
success after an alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor.severity import Severity

HealthEvent = Literal["source_failing", "source_recovered"]


class HealthPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alert_after: int = Field(default=3, ge=1, description="consecutive failures before alerting")
    realert_hours: float = Field(default=24, gt=0, description="repeat while still failing")
    severity: Severity = "high"


def after_failure(
    failures: int, alerted_at: datetime | None, now: datetime, policy: HealthPolicy
) -> HealthEvent | None:
    """The event a failure raises, given the failures in a row (this one included)."""
    if failures < policy.alert_after:
        return None
    if alerted_at is None or now - alerted_at >= timedelta(hours=policy.realert_hours):
        return "source_failing"
    return None


def after_success(alerted_at: datetime | None) -> HealthEvent | None:
    return "source_recovered" if alerted_at is not None else None
