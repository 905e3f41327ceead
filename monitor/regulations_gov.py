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
    if not instant:
        return None
    moment = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.astimezone(FR_ZONE).date()


def parse_documents(body: Any, url: str, number: str) -> CommentPeriod | None:
    """The comment period of an FR document from a JSON:API `documents` answer.

    One FR document may be posted in several dockets (a joint rule): the
    latest end date among them is the one that binds.
    """
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise FetchError(f"{redact_url(url)}: not a regulations.gov documents answer")
    rows = [r.get("attributes") or {} for r in body["data"] if isinstance(r, dict)]
    if not rows:
        return None
    ends = [d for d in (eastern_day(r.get("commentEndDate")) for r in rows) if d]
    opened = [r.get("openForComment") for r in rows if r.get("openForComment") is not None]
    dockets = tuple(dict.fromkeys(r["docketId"] for r in rows if r.get("docketId")))
    return CommentPeriod(number, max(ends, default=None), any(opened) if opened else None, dockets)


def comment_period(
    client: httpx.Client, config: RegulationsGovConfig, number: str
) -> CommentPeriod | None:
    url = api_url(config.base_url, "documents")
    params = {"filter[frDocNum]": number, "api_key": config.api_key or ""}
    body = get_json(client, url, params=params, retries=config.retries, backoff=1.0)
    return parse_documents(body, url, number)
