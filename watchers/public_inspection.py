"""Federal Register public-inspection desk (`public-inspection-documents/current.json`).

Documents are on public inspection before they are published: the day before,
or earlier when the agency asks. Regular filings go up at 8:45 am Eastern, special
filings at 4:15 pm (and at other times when urgent). Each poll reads the whole
current desk, keeps the configured agencies (and only special filings if asked) and
returns each entry as a `Document` keyed by its FR document number, so the published
copy the `federal_register` source reads later is the same document (`fr:<number>`).
`publication_date` is the scheduled publication date; `filing_type` and `filed_at`
(in UTC) say it is on inspection.

The inspection copy carries only what the published copy repeats unchanged, so that
the published copy enriches it instead of changing it: the desk's own page, PDF and
raw-text links differ from the published ones and are left out (`url` falls back to
the `/d/<number>` link). The one exception is the inspection PDF: the documents API
gives it as `public_inspection_pdf_url` with the PDF's update time appended
(`...pdf?<epoch>`), and the desk gives that time as `pdf_updated_at`, so the same
value can be built here.

The desk is a snapshot, not a window: `since` is not used, and the store makes
re-reading the same desk free. `current.json` answers with the whole desk whatever
the query (the API's `PublicInspectionDocumentsController#current` ignores
conditions), so `conditions[agencies][]` is sent for servers that honour it and the
agency filter is applied here. The cursor records the newest `filed_at` (UTC) among
the documents kept.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.deadlines import FR_ZONE
from monitor.document import Agency, CfrReference, Document, RuleFacts, none_to_list
from monitor.http import Conditional, FetchError, api_url, fetch, parse_json
from monitor.redact import redact_url
from watchers import PollResult, SourceOptions, Watcher, register

LIVE_API = "https://www.federalregister.gov/api/v1/"
EASTERN = FR_ZONE  # the desk's clock; its times carry their offset
FILING_TYPES = ("regular", "special")


class PublicInspectionOptions(SourceOptions):
    kind: Literal["public_inspection"] = "public_inspection"
    base_url: str = LIVE_API
    # just after the desk's regular (8:45 am) and special (4:15 pm) filings, Eastern
    schedule: list[str] | None = Field(default_factory=lambda: ["08:50", "16:20"])
    agencies: list[str] = Field(
        default_factory=lambda: ["industry-and-security-bureau"],
        description="agency slugs to keep; an empty list keeps every agency",
    )
    special_only: bool = Field(default=False, description="keep only special filings")
    texts: list[str] = Field(
        default_factory=lambda: ["industry-and-security-bureau"],
        description="agency slugs whose documents' texts are read on the desk (raw text, or "
        "the PDF when there is none); an empty list reads none",
    )


class InspectionEntry(BaseModel):
    """One element of the desk's `results`.

    `docket_numbers`, `editorial_note`, `num_pages` and the desk's links stay here:
    `Document` has no field for some, and the published copy words the others
    differently (see the module docstring).
    """

    model_config = ConfigDict(extra="ignore")

    document_number: str = Field(min_length=1)
    title: str | None = None
    subject_1: str | None = None
    subject_2: str | None = None
    subject_3: str | None = None
    type: str | None = None
    agencies: list[Agency] = Field(default_factory=list)
    docket_numbers: list[str] = Field(default_factory=list)
    publication_date: date | None = None
    filing_type: str | None = None  # "regular" or "special"
    filed_at: datetime | None = None
    pdf_updated_at: datetime | None = None
    editorial_note: str | None = None
    num_pages: int | None = None
    html_url: str | None = None
    pdf_url: str | None = None
    raw_text_url: str | None = None

    _lists = field_validator("agencies", "docket_numbers", mode="before")(none_to_list)

    @field_validator("document_number")
    @classmethod
    def _number(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("empty document number")
        return value

    @field_validator("filed_at", "pdf_updated_at")
    @classmethod
    def _eastern_if_naive(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=EASTERN)
        return value

    @property
    def special(self) -> bool:
        return self.filing_type == "special"

    @property
    def agency_slugs(self) -> set[str]:
        return {a.slug for a in self.agencies if a.slug}

    @property
    def display_title(self) -> str | None:
        """The title without the desk's padding (it joins subject_1..3 with spaces)."""
        text = self.title if self.title and self.title.strip() else None
        if text is None:
            text = " ".join(s for s in (self.subject_1, self.subject_2, self.subject_3) if s)
        return " ".join(text.split()) or None

    @property
    def version(self) -> str:
        """Which filing this is: the desk replaces a filing's PDF and text and says when."""
        return self.pdf_updated_at.isoformat() if self.pdf_updated_at else ""

    @property
    def withdrawn(self) -> bool:
        return "withdrawn" in (self.editorial_note or "").lower()

    @property
    def published_pdf_url(self) -> str | None:
        """The inspection PDF as the documents API names it: `<pdf_url>?<update epoch>`."""
        if not self.pdf_url or self.pdf_updated_at is None or "?" in self.pdf_url:
            return None
        return f"{self.pdf_url}?{int(self.pdf_updated_at.timestamp())}"

    def document(self, facts: RuleFacts | None = None) -> Document:
        """The inspection copy; with the facts its text gives, its summary, dates, CFR
        parts, docket and RIN too (provisional: the published copy replaces them)."""
        if facts is not None:
            return self.document().model_copy(update={
                "action": facts.action, "abstract": facts.summary, "dates": facts.dates,
                "cfr_references": [CfrReference(title=15, part=p) for p in facts.cfr_parts],
                "docket_ids": facts.dockets, "regulation_id_numbers": facts.rins, "rule": facts,
            })  # fmt: skip
        return Document(
            document_number=self.document_number,
            title=self.display_title,
            type=self.type,
            agencies=self.agencies,
            publication_date=self.publication_date,
            filing_type=self.filing_type if self.filing_type in FILING_TYPES else None,
            filed_at=self.filed_at.astimezone(UTC) if self.filed_at else None,
            public_inspection_pdf_url=self.published_pdf_url,
        )


MAX_RESULTS = 5000  # entries read from one answer of the desk


def endpoint(base_url: str) -> str:
    return api_url(base_url, "public-inspection-documents/current.json")


def parse_page(page: Any, url: str) -> tuple[list[InspectionEntry], list[str]]:
    """Entries and per-result problems; FetchError if the body is not a results page.

    An empty desk is `{"count": 0, "results": []}`; anything without a `results`
    list (an `{"errors": ...}` body, a bare list, a string) is not a page.
    """
    url = redact_url(url)
    if not isinstance(page, dict):
        raise FetchError(f"{url}: not a public-inspection page (a JSON {type(page).__name__})")
    if "errors" in page:
        detail = " ".join(json.dumps(page["errors"], ensure_ascii=False).split())[:300]
        raise FetchError(f"{url}: the API answered with errors: {detail}")
    if not isinstance(page.get("results", []), list) or not ({"results", "count"} & set(page)):
        raise FetchError(f"{url}: not a public-inspection page (no 'results' list)")
    entries: dict[str, InspectionEntry] = {}
    notes = []
    results = page.get("results") or []
    if len(results) > MAX_RESULTS:  # the desk holds a few hundred; a million is an attack
        notes.append(
            f"{url}: the page holds {len(results)} results, more than the {MAX_RESULTS}"
            f" read from one page: the first {MAX_RESULTS} read"
        )
    for i, raw in enumerate(results[:MAX_RESULTS]):
        try:
            entry = InspectionEntry.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "result"
            number = raw.get("document_number", "?") if isinstance(raw, dict) else "?"
            notes.append(f"{url}: results[{i}] ({number}) skipped: {field}: {err['msg']}")
            continue
        if entry.filing_type not in (None, *FILING_TYPES):
            notes.append(
                f"{url}: results[{i}] ({entry.document_number}): unknown filing_type "
                f"{entry.filing_type!r}, kept as neither regular nor special"
            )
        # A document listed twice (refiled, corrected) counts once: the latest filing.
        known = entries.get(entry.document_number)
        if known is None or _later(entry.filed_at, known.filed_at):
            entries[entry.document_number] = entry
    return list(entries.values()), notes


def _later(new: datetime | None, old: datetime | None) -> bool:
    return new is not None and (old is None or new >= old)


def wanted(entry: InspectionEntry, options: PublicInspectionOptions) -> bool:
    if options.special_only and not entry.special:
        return False
    return not options.agencies or bool(entry.agency_slugs & set(options.agencies))


def poll(
    options: PublicInspectionOptions,
    cursor: dict[str, Any],
    client: httpx.Client,
    since: date | None = None,  # not used: the desk is a snapshot, not a window
) -> PollResult:
    url = endpoint(options.base_url)
    params = [("conditions[agencies][]", a) for a in options.agencies]
    conditional = Conditional.from_cursor(cursor)
    answer = conditional.fetch(client, url, params=params, **options.fetch_limits)
    if answer.not_modified:  # the desk has not changed since the last poll
        return PollResult(documents=[], cursor=dict(cursor), not_modified=True)
    entries, notes = parse_page(parse_json(answer.body, url), url)
    kept = [e for e in entries if wanted(e, options)]
    result = PollResult(documents=[], cursor=dict(cursor), fetched=len(entries))
    conditional.save(result.cursor)
    result.notes += notes
    texts = read_texts(options, client, kept, result)
    result.documents = [e.document(texts.get(e.document_number)) for e in kept]
    result.documents += withdrawn(kept, result)
    newest = _previous(cursor)
    for entry in kept:
        if _later(entry.filed_at, newest):
            newest = entry.filed_at
    if newest is not None:
        result.cursor["last_filed_at"] = newest.astimezone(UTC).isoformat()
    return result


TEXTS_KEPT = 500  # documents whose text state the cursor remembers
TEXT_TRIES = 5  # polls that try a text that fails before it is given up


def read_texts(
    options: PublicInspectionOptions,
    client: httpx.Client,
    entries: list[InspectionEntry],
    result: PollResult,
) -> dict[str, RuleFacts]:
    """Read the text of each document of the `texts` agencies, once per filing (a replaced
    filing, `pdf_updated_at` changed, is read again): the raw text, else the PDF. A failure
    is a note and the next poll tries again, up to TEXT_TRIES times. The cursor's `texts`
    says per document which filing was read, is pending or failed, for `monitor status`."""
    from monitor.inspection_text import read

    state: dict[str, dict[str, Any]] = dict(result.cursor.get("texts", {}))
    out: dict[str, RuleFacts] = {}
    for entry in entries:
        if not entry.agency_slugs & set(options.texts):
            continue
        known = state.get(entry.document_number, {})
        if known.get("version") == entry.version and (
            known.get("status") == "read" or known.get("tries", 0) >= TEXT_TRIES
        ):
            continue
        tries = known.get("tries", 0) + 1 if known.get("version") == entry.version else 1
        try:
            text, kind = text_of(entry, options, client)
            out[entry.document_number] = read(text, entry.publication_date)
            state[entry.document_number] = {"version": entry.version, "status": "read",
                                            "from": kind}  # fmt: skip
        except FetchError as exc:
            result.notes.append(f"text of {entry.document_number} not read: {exc}")
            state[entry.document_number] = {"version": entry.version, "status": "failed",
                                            "tries": tries, "error": str(exc)[:300]}  # fmt: skip
    if state:
        result.cursor["texts"] = dict(list(state.items())[-TEXTS_KEPT:])
    return out


def text_counts(cursor: dict[str, Any]) -> dict[str, int]:
    """How many texts the desk source read, will try again, and gave up on."""
    counts = {"read": 0, "pending": 0, "failed": 0}
    for state in (cursor.get("texts") or {}).values():
        if state.get("status") == "read":
            counts["read"] += 1
        elif state.get("tries", 0) >= TEXT_TRIES:
            counts["failed"] += 1
        else:
            counts["pending"] += 1
    return counts


def text_of(
    entry: InspectionEntry, options: PublicInspectionOptions, client: httpx.Client
) -> tuple[str, str]:
    """The document's text from the desk, re-based on the configured host: the raw text,
    else the PDF's text; FetchError when there is neither or it cannot be read."""
    if entry.raw_text_url:
        url = rebased(options.base_url, entry.raw_text_url)
        body = fetch(client, url, **options.fetch_limits).body
        return body.decode("utf-8", errors="replace"), "raw text"
    if entry.pdf_url:
        url = rebased(options.base_url, entry.pdf_url)
        body = fetch(client, url, **options.fetch_limits).body
        return pdf_text(body, url), "pdf"
    raise FetchError(f"{entry.document_number}: the desk gives no raw text and no PDF")


def pdf_text(data: bytes, url: str) -> str:
    """The text of a PDF, page after page (pypdf); FetchError naming the URL if it is none."""
    from io import BytesIO

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        return "\n".join(page.extract_text() or "" for page in PdfReader(BytesIO(data)).pages)
    except (PyPdfError, ValueError, KeyError) as exc:
        raise FetchError(f"{redact_url(url)}: not a readable PDF ({exc})") from None


def rebased(base_url: str, url: str) -> str:
    """A desk link (www.federalregister.gov/..., public-inspection.federalregister.gov/...)
    on the configured host, so recorded desks and tests serve their own texts."""
    target, base = httpx.URL(url), httpx.URL(base_url)
    if target.host == base.host or not base.host:
        return url
    return str(target.copy_with(scheme=base.scheme, host=base.host, port=base.port))


def withdrawn(entries: list[InspectionEntry], result: PollResult) -> list[Document]:
    """Documents that left the desk before their publication date, or that the desk marks
    withdrawn: each reported once (the cursor remembers what was on the desk)."""
    today = datetime.now(EASTERN).date()
    seen = {e.document_number: e for e in entries}
    before: dict[str, str] = dict(result.cursor.get("on_desk", {}))
    out = [Document(document_number=n, withdrawn_on=today) for n, e in seen.items() if e.withdrawn]
    for number, scheduled in before.items():
        if number not in seen and scheduled and date.fromisoformat(scheduled) > today:
            out.append(Document(document_number=number, withdrawn_on=today))
    on_desk = {n: e.publication_date.isoformat() if e.publication_date else ""
               for n, e in seen.items() if not e.withdrawn}  # fmt: skip
    if on_desk or before:
        result.cursor["on_desk"] = on_desk
    return out


def _previous(cursor: dict[str, Any]) -> datetime | None:
    try:
        value = datetime.fromisoformat(cursor["last_filed_at"])
    except (KeyError, TypeError, ValueError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=EASTERN)


register(
    Watcher(
        kind="public_inspection",
        options=PublicInspectionOptions,
        poll=poll,
        description="Federal Register public-inspection desk (current.json)",
        texts=text_counts,
    )
)
