"""eCFR text of 15 CFR (the EAR, parts 730-774) through the eCFR versioner API.

Each poll asks `versions/title-15.json?part=N` for every configured part: the list
of `content_versions` (one entry per section or appendix per amendment, with
`identifier`, `amendment_date`, `issue_date`, `substantive`, `removed`, `type`,
...). A part whose newest amendment date is later than the one in the cursor, or
which has a version issued after the one in the cursor (a correction dated back),
is read whole as `full/{date}/title-15.xml?part=N`, and every section (`DIV8`) and
appendix or supplement (`DIV9`) in it becomes a `Document` in the `ecfr`
collection, keyed by its label (`15 CFR 744.23`, `15 CFR 744 Supp. 4`). Parts with
nothing new cost one small request and no XML.

A section's `version_date` is the date of its own newest substantive version, not
the part's, so an amendment to one section leaves the other sections of the part
identical to what the store holds (same content hash, no event). A part read for
the first time (on the first poll, or after it is added to `parts`) is a
baseline: the pipeline stores its whole text and raises no event per section.

If any part cannot be read (HTTP error, a body that is not JSON or not eCFR XML),
the poll fails as a whole with a one-line `FetchError`: nothing is half-stored and
the old cursor stays, so the next poll tries every part again.

The XML is read by `monitor.ecfr_xml` (entity resolution, DTD loading and network
access off), which `monitor diff` shares without this module's HTTP and options.

`since` is not used: the eCFR is a text, not a stream of documents.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import Field, field_validator

from monitor.document import CfrReference, Document
from monitor.ecfr_xml import EcfrXMLError, read_part
from monitor.http import Conditional, FetchError, api_url, get_bytes, get_json, parse_json
from monitor.redact import redact_url
from watchers import PollResult, SourceOptions, Watcher, register

LIVE_API = "https://www.ecfr.gov/api/versioner/v1/"

# The parts of the EAR (15 CFR chapter VII, subchapter C) in 730-774; the other
# numbers in that range hold no part.
EAR_PARTS = [
    "730", "732", "734", "736", "738", "740", "742", "743", "744", "745", "746", "748",
    "750", "754", "756", "758", "760", "762", "764", "766", "768", "770", "772", "774",
]  # fmt: skip


class EcfrOptions(SourceOptions):
    kind: Literal["ecfr"] = "ecfr"
    base_url: str = LIVE_API
    title: int = Field(default=15, ge=1, le=50)
    parts: list[str] = Field(default_factory=lambda: list(EAR_PARTS), min_length=1)
    max_pages: int = Field(
        default=20, ge=1, description="safety cap on pages of one part's versions list"
    )

    @field_validator("parts", mode="before")
    @classmethod
    def _parts_as_text(cls, value: Any) -> Any:
        if isinstance(value, list):  # YAML reads 744 as a number
            value = [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value

    @field_validator("parts")
    @classmethod
    def _part_numbers(cls, value: list[str]) -> list[str]:
        for part in value:
            if not re.fullmatch(r"[0-9]+[A-Za-z]?", part):
                raise ValueError(f"expected part numbers like 744, got {part!r}")
        return list(dict.fromkeys(value))  # each part once, in the order given


# --- URLs -------------------------------------------------------------------------


def versions_url(options: EcfrOptions, part: str) -> str:
    path = f"versions/title-{options.title}.json"
    return api_url(options.base_url, path) + f"?part={quote(part)}"


def full_url(options: EcfrOptions, day: date, part: str) -> str:
    path = f"full/{day.isoformat()}/title-{options.title}.xml"
    return api_url(options.base_url, path) + f"?part={quote(part)}"


# --- the versions list ------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One element of `content_versions`: a section or appendix as amended on a date."""

    identifier: str
    amended: date
    issued: date | None
    substantive: bool


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def parse_versions(payload: Any, url: str, part: str) -> tuple[list[Version], int, int]:
    """The versions of `part` on one page, how many entries had no date, and the page count.

    Entries of other parts are dropped: a recorded folder answers every part alike.
    """
    shown = redact_url(url)
    if not isinstance(payload, dict) or not isinstance(payload.get("content_versions"), list):
        what = f"a JSON {type(payload).__name__}"
        if isinstance(payload, dict):
            what = "no 'content_versions' list"
            if "error" in payload or "errors" in payload:
                detail = json.dumps(payload.get("error") or payload.get("errors"))
                what += f"; the API answered with errors: {' '.join(detail.split())[:300]}"
        raise FetchError(f"{shown}: not an eCFR versions answer ({what})")
    versions, undated = [], 0
    for raw in payload["content_versions"]:
        if not isinstance(raw, dict) or str(raw.get("part")) != part:
            continue
        amended = _day(raw.get("amendment_date")) or _day(raw.get("date"))
        if amended is None or not raw.get("identifier"):
            undated += 1
            continue
        versions.append(
            Version(
                identifier=str(raw["identifier"]),
                amended=amended,
                issued=_day(raw.get("issue_date")),
                substantive=raw.get("substantive") is not False,
            )
        )
    meta = payload.get("meta")
    pages = meta.get("total_pages", 1) if isinstance(meta, dict) else 1
    try:
        pages = max(1, int(pages))
    except (TypeError, ValueError):
        pages = 1
    return versions, undated, pages


def read_versions(
    client: httpx.Client, options: EcfrOptions, part: str, conditional: Conditional
) -> tuple[list[Version], list[str]] | None:
    """Every version of one part, following `meta.total_pages` when the list is paged.

    None when the list is unchanged since the last poll (its first page answered 304).
    """
    url = versions_url(options, part)
    limits = options.fetch_limits
    versions: list[Version] = []
    undated = 0
    page_url = url
    for page in range(1, options.max_pages + 1):
        if page == 1:
            answer = conditional.fetch(client, page_url, **limits)
            if answer.not_modified:
                return None
            body = parse_json(answer.body, page_url)
        else:
            body = get_json(client, page_url, **limits)
        found, missing, pages = parse_versions(body, page_url, part)
        versions += found
        undated += missing
        if page >= pages:
            break
        page_url = f"{url}&page={page + 1}"
    else:
        # a list read in part could miss the newest date: better no answer than a wrong one
        limit = options.max_pages
        raise FetchError(f"{redact_url(url)}: the versions list has more than {limit} pages")
    notes = [f"{redact_url(url)}: {undated} versions without a date skipped"] if undated else []
    return versions, notes


def section_dates(versions: list[Version], on: date) -> dict[str, date]:
    """Each identifier's newest substantive amendment on or before `on`."""
    dates: dict[str, date] = {}
    for v in versions:
        if v.substantive and v.amended <= on and v.amended > dates.get(v.identifier, date.min):
            dates[v.identifier] = v.amended
    return dates


# --- the part's XML ---------------------------------------------------------------


def parse_part(
    body: bytes, url: str, title: int, part: str, dates: dict[str, date]
) -> tuple[list[Document], list[str]]:
    """Every section and appendix of `part` in a versioner XML answer, as documents
    (`monitor.ecfr_xml` reads them), each dated by its own newest amendment."""
    try:
        sections, notes = read_part(body, redact_url(url), title, part)
    except EcfrXMLError as exc:
        raise FetchError(str(exc)) from None
    documents = [
        Document(
            collection="ecfr",
            document_number=s.label,
            title=s.title,
            text=s.text,
            version_date=dates.get(s.identifier),
            html_url=s.link,
            cfr_references=[CfrReference(title=title, part=int(part))] if part.isdigit() else [],
        )
        for s in sections
    ]
    return documents, notes


# --- polling ----------------------------------------------------------------------


def _later(a: date | None, b: date | None) -> date | None:
    return max((d for d in (a, b) if d is not None), default=None)


def poll(
    options: EcfrOptions,
    cursor: dict[str, Any],
    client: httpx.Client,
    since: date | None = None,
) -> PollResult:
    amended: dict[str, str] = dict(cursor.get("parts") or {})
    issued: dict[str, str] = dict(cursor.get("issued") or {})
    result = PollResult(documents=[], cursor=dict(cursor))
    today = date.today()
    conditional = Conditional.from_cursor(cursor)
    for part in options.parts:
        listed = read_versions(client, options, part, conditional)
        if listed is None:  # unchanged since the last poll
            continue
        versions, notes = listed
        result.notes += notes
        current = [v for v in versions if v.amended <= today]
        future = max((v.amended for v in versions if v.amended > today), default=None)
        if future:
            result.notes.append(
                f"{redact_url(versions_url(options, part))}: part {part} has a version dated "
                f"{future.isoformat()}, after today; it is read once that date has come"
            )
        if not current:
            continue
        newest = max(v.amended for v in current)
        newest_issued = max((v.issued for v in current if v.issued), default=None)
        known, known_issued = _day(amended.get(part)), _day(issued.get(part))
        # a later amendment, or a version issued since (a correction dated back)
        reissued = (
            newest_issued is not None and known_issued is not None and newest_issued > known_issued
        )
        due = known is None or newest > known or reissued
        if due:
            url = full_url(options, newest, part)
            body = get_bytes(client, url, **options.fetch_limits)
            documents, notes = parse_part(
                body, url, options.title, part, section_dates(current, newest)
            )
            result.documents += documents
            if known is None:  # a part seen for the first time: its text is the baseline
                result.baseline |= {d.key for d in documents}
            result.fetched += len(documents)
            result.notes += notes
        amended[part] = max(newest, known or newest).isoformat()
        latest_issued = _later(known_issued, newest_issued)
        if latest_issued:
            issued[part] = latest_issued.isoformat()
    result.cursor["parts"] = amended
    if issued:
        result.cursor["issued"] = issued
    conditional.save(result.cursor)
    return result


register(
    Watcher(
        kind="ecfr",
        options=EcfrOptions,
        poll=poll,
        description="eCFR versioner API: section text of 15 CFR parts (versions list, full XML)",
    )
)
