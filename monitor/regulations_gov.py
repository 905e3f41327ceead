"""regulations.gov v4: confirm a document's comment period where comments are filed.

An extension or reopening often shows in regulations.gov's `commentEndDate`
before the extending Federal Register notice is published. With an API key in
the environment, `monitor check` asks, for each open comment deadline of a
relevant document, `GET documents?filter[frDocNum]=NUMBER` and compares.
Dates there are UTC instants (`2021-02-10T04:59:59Z`, i.e. 11:59:59 p.m. on
the 9th in Washington), so they are read as US Eastern calendar days.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from monitor.deadlines import FR_ZONE
from monitor.http import FetchError, api_url, get_json
from monitor.redact import redact_url

LIVE_API = "https://api.regulations.gov/v4/"


class RegulationsGovConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    base_url: str = LIVE_API
    api_key_env: str = Field(
        default="REGULATIONS_GOV_API_KEY", description="variable holding the key"
    )
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    max_checks: int = Field(default=50, ge=1, description="documents asked about per run")

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None


@dataclass(frozen=True)
class CommentPeriod:
    document_number: str
    ends: date | None
    open: bool | None
    docket_ids: tuple[str, ...]


def eastern_day(instant: str | None) -> date | None:
    """The US Eastern day of an ISO instant; ValueError for anything else."""
    if not instant:
        return None
    if not isinstance(instant, str):
        raise ValueError(f"expected an ISO date and time, got {instant!r}")
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    if moment.tzinfo is None:  # a bare date or local time: read it as Eastern
        moment = moment.replace(tzinfo=FR_ZONE)
    return moment.astimezone(FR_ZONE).date()


def parse_documents(body: Any, url: str, number: str) -> CommentPeriod | None:
    """The comment period of an FR document from a JSON:API `documents` answer.

    One FR document may be posted in several dockets (a joint rule): the
    latest end date among them is the one that binds.
    """
    shown = redact_url(url)
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise FetchError(f"{shown}: not a regulations.gov documents answer")
    rows = [_attributes(r, i, shown, number) for i, r in enumerate(body["data"])]
    if not rows:
        return None
    ends: list[date | None] = []
    for i, row in enumerate(rows):
        try:
            ends.append(eastern_day(row.get("commentEndDate")))
        except ValueError:
            value = " ".join(repr(row.get("commentEndDate")).split())[:80]
            raise FetchError(
                f"{shown}: {number}: data[{i}].attributes.commentEndDate is not a date"
                f" ({value}); the deadline is left as it is"
            ) from None
    opened = [r.get("openForComment") for r in rows if isinstance(r.get("openForComment"), bool)]
    dockets = tuple(
        dict.fromkeys(r["docketId"] for r in rows if isinstance(r.get("docketId"), str))
    )
    known = [d for d in ends if d]
    return CommentPeriod(number, max(known, default=None), any(opened) if opened else None, dockets)


def _attributes(row: Any, i: int, shown: str, number: str) -> dict[str, Any]:
    """A result's `attributes` object, or a FetchError naming what the answer holds instead."""
    attributes = row.get("attributes") if isinstance(row, dict) else None
    if attributes is None and isinstance(row, dict):
        return {}
    if not isinstance(attributes, dict):
        what = type(attributes if isinstance(row, dict) else row).__name__
        where = f"data[{i}].attributes" if isinstance(row, dict) else f"data[{i}]"
        raise FetchError(f"{shown}: {number}: {where} is a JSON {what}, not an object")
    return attributes


def comment_period(
    client: httpx.Client, config: RegulationsGovConfig, number: str
) -> CommentPeriod | None:
    url = api_url(config.base_url, "documents")
    params = {"filter[frDocNum]": number, "api_key": config.api_key or ""}
    body = get_json(client, url, params=params, retries=config.retries, backoff=1.0)
    return parse_documents(body, url, number)
