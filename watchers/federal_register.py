"""Federal Register documents API (`documents.json`).

Queries by agency, term, CFR part and document type from a publication date
onward, follows `next_page_url`, and normalises each result into a `Document`.
The cursor is the newest publication date seen; the next poll asks again from
a few days before it (`overlap_days`), so documents added late and metadata
the FR fills in after publication are not missed; the store's content hash
makes the overlap free.

For the document types in `full_text` (rules and proposed rules by default) of the
agencies in `full_text_agencies` (BIS by default) the watcher also reads the
document's XML (`full_text_xml_url`, re-based on the configured endpoint's host so
a recorded copy serves it too) and stores what it changes (`monitor.rule_facts`:
Entity List entries, 3A090/4A090 text). Each document's XML is read once. A fetch
failure is a note and the next poll tries again; so is a text the parsers fail on (a
parser bug must not leave a rule unscreened for good), up to FULL_TEXT_TRIES polls,
after which it is given up with a note and counted in `monitor status`.
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.document import Document
from monitor.http import Conditional, FetchError, api_url, fetch, parse_json
from monitor.redact import redact_url
from monitor.text import one_line
from watchers import PollResult, SourceOptions, Watcher, parse_since, register

LIVE_API = "https://www.federalregister.gov/api/v1/"

# Only what Document keeps: smaller pages, and volatile fields never asked for.
FIELDS = [
    "document_number", "title", "type", "action", "abstract", "agencies",
    "publication_date", "effective_on", "comments_close_on", "dates", "cfr_references",
    "docket_ids", "regulation_id_numbers", "citation", "html_url", "pdf_url",
    "full_text_xml_url", "raw_text_url", "public_inspection_pdf_url", "significant",
]  # fmt: skip


class CfrCondition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: int = Field(ge=1, le=50)
    part: str | None = Field(default=None, pattern=r"^\d+(-\d+)?$", description="744 or 730-774")


DocType = Literal["RULE", "PRORULE", "NOTICE", "PRESDOCU"]


def _rules_and_proposals() -> list[DocType]:
    return ["RULE", "PRORULE"]


class DocumentsQuery(SourceOptions):
    """What the documents API is asked (its JSON here, its RSS in federal_register_rss)."""

    base_url: str = LIVE_API
    # documents are published by 6 a.m. Eastern; later runs catch late corrections
    schedule: list[str] | None = Field(default_factory=lambda: ["06:15", "12:15", "17:15"])
    agencies: list[str] = Field(default_factory=lambda: ["industry-and-security-bureau"])
    term: str | None = None
    cfr: CfrCondition | None = None
    types: list[DocType] = Field(default_factory=list)
    per_page: int = Field(default=100, ge=1, le=1000)
    order: Literal["newest", "oldest"] = "newest"
    overlap_days: int = Field(
        default=3, ge=0, description="re-read this many days before the cursor for late edits"
    )
    full_text: list[DocType] = Field(
        default_factory=_rules_and_proposals,
        description="read the XML of these document types (Entity List entries, ECCN text)",
    )
    full_text_agencies: list[str] = Field(
        default_factory=lambda: ["industry-and-security-bureau"],
        description="... when one of these agencies (slugs) issued them",
    )


class FederalRegisterOptions(DocumentsQuery):
    kind: Literal["federal_register"] = "federal_register"
    max_pages: int = Field(default=50, ge=1)


PAGE_LIMIT = 1000  # the API's largest page (per_page): results read from one page at most


def query(options: DocumentsQuery, since: date) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = [("fields[]", f) for f in FIELDS]
    params += [("conditions[agencies][]", a) for a in options.agencies]
    params += [("conditions[type][]", t) for t in options.types]
    if options.term:
        params.append(("conditions[term]", options.term))
    if options.cfr:
        params.append(("conditions[cfr][title]", str(options.cfr.title)))
        if options.cfr.part:
            params.append(("conditions[cfr][part]", options.cfr.part))
    params += [
        ("conditions[publication_date][gte]", since.isoformat()),
        ("per_page", str(options.per_page)),
        ("order", options.order),
    ]
    return params


def endpoint(base_url: str) -> str:
    return api_url(base_url, "documents.json")


def parse_page(
    page: Any, url: str, limit: int = PAGE_LIMIT
) -> tuple[list[Document], list[str], str | None]:
    """Documents, per-result problems, and the next page's query string.

    An empty answer has `count: 0` and no `results`; anything else without a
    `results` list (an `{"errors": ...}` body, a bare list) is not a page. At most
    `limit` results are read from one page, with a note when it holds more: a page of
    a million tiny results is not a million documents.
    """
    url = redact_url(url)
    if not isinstance(page, dict):
        raise FetchError(f"{url}: not a documents.json page (a JSON {type(page).__name__})")
    if "errors" in page:
        detail = " ".join(json.dumps(page["errors"], ensure_ascii=False).split())[:300]
        raise FetchError(f"{url}: the API answered with errors: {detail}")
    if not isinstance(page.get("results", []), list) or not ({"results", "count"} & set(page)):
        raise FetchError(f"{url}: not a documents.json page (no 'results' list)")
    documents, notes = [], []
    results = page.get("results") or []
    if len(results) > limit:
        notes.append(f"{url}: the page holds {len(results)} results, more than the API's"
                     f" largest page of {limit}: the first {limit} read")  # fmt: skip
    for i, raw in enumerate(results[:limit]):
        try:
            documents.append(Document.model_validate(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"])
            number = raw.get("document_number", "?") if isinstance(raw, dict) else "?"
            notes.append(f"{url}: results[{i}] ({number}) skipped: {field}: {err['msg']}")
    next_url = page.get("next_page_url")
    return documents, notes, urlsplit(next_url).query if next_url else None


def poll(
    options: FederalRegisterOptions,
    cursor: dict[str, Any],
    client: httpx.Client,
    since: date | None = None,
) -> PollResult:
    since = since or window_start(options, cursor)
    url = endpoint(options.base_url)
    limits = options.fetch_limits
    result = PollResult(documents=[], cursor=dict(cursor))
    page_url = url
    params: list[tuple[str, str]] | None = query(options, since)
    conditional = Conditional.from_cursor(cursor)
    for page in range(options.max_pages):
        if page == 0:  # the same query as last time may be answered 304: nothing new
            answer = conditional.fetch(client, page_url, params=params, **limits)
            if answer.not_modified:
                result.not_modified = True
                return result
            conditional.save(result.cursor)
        else:
            answer = fetch(client, page_url, params=params, **limits)
        documents, notes, next_query = parse_page(parse_json(answer.body, page_url), page_url)
        result.fetched += len(documents)
        result.notes += notes
        # A recorded folder ignores the query: apply the window here too.
        result.documents += [
            d for d in documents if d.publication_date is None or d.publication_date >= since
        ]
        if not next_query:
            break
        # Follow next_page_url's query on our own endpoint, so a recorded or
        # proxied copy keeps serving the later pages.
        page_url, params = f"{url}?{next_query}", None
    else:
        result.notes.append(f"{redact_url(url)}: stopped after max_pages={options.max_pages}")
    read_full_texts(options, client, result)
    advance_cursor(result, since)
    return result


TYPES = {"Rule": "RULE", "Proposed Rule": "PRORULE", "Notice": "NOTICE",
         "Presidential Document": "PRESDOCU"}  # fmt: skip
READ_KEPT = 2000  # document numbers remembered as read, newest last
FULL_TEXT_TRIES = 5  # polls on which a text the parsers fail on is read again
log = logging.getLogger(__name__)


def read_full_texts(options: DocumentsQuery, client: httpx.Client, result: PollResult) -> None:
    """Attach `RuleFacts` to the documents of the `full_text` types not read before."""
    from monitor.rule_facts import from_xml

    read = list(result.cursor.get("full_text_read", []))
    failed: dict[str, dict[str, Any]] = dict(result.cursor.get("full_text_failed") or {})
    done = set(read)
    for doc in result.documents:
        number = doc.document_number
        if (
            not doc.full_text_xml_url
            or number in done
            or TYPES.get(doc.type or "") not in options.full_text
            or not {a.slug for a in doc.agencies} & set(options.full_text_agencies)
        ):
            continue
        url = full_text_url(options.base_url, doc.full_text_xml_url)
        try:
            body = fetch(client, url, **options.fetch_limits).body
        except FetchError as exc:
            result.notes.append(f"full text of {number} not read: {exc}")
            continue
        try:
            doc.rule = from_xml(body)
        except Exception as exc:  # FedRegXMLError, a table it cannot read, or a parser bug
            if not isinstance(exc, ValueError):
                log.exception("%s: full text of %s: parser error", redact_url(url), number)
            tries = failed.get(number, {}).get("tries", 0) + 1
            failed[number] = {
                "tries": tries,
                "error": one_line(f"{type(exc).__name__}: {exc}", 300),
            }
            where = f"{redact_url(url)}: full text of {number} not read: {failed[number]['error']}"
            if tries < FULL_TEXT_TRIES:
                result.notes.append(f"{where}; tried {tries} of {FULL_TEXT_TRIES} times, "
                                    "again on the next poll")  # fmt: skip
                continue
            result.notes.append(f"{where}; given up after {tries} tries: its Entity List "
                                "entries and 3A090 text are not read, read it by hand")  # fmt: skip
        else:
            failed.pop(number, None)
        read.append(number)
        done.add(number)
    if read:
        result.cursor["full_text_read"] = read[-READ_KEPT:]
    if failed or "full_text_failed" in result.cursor:
        result.cursor["full_text_failed"] = dict(list(failed.items())[-READ_KEPT:])


def full_text_counts(cursor: dict[str, Any]) -> dict[str, int]:
    """Full texts read, to be tried again (a parser failed on them), and given up."""
    failed = (cursor.get("full_text_failed") or {}).values()
    given_up = sum(1 for f in failed if f.get("tries", 0) >= FULL_TEXT_TRIES)
    return {
        "read": len(cursor.get("full_text_read") or []) - given_up,
        "pending": sum(1 for f in failed if f.get("tries", 0) < FULL_TEXT_TRIES),
        "failed": given_up,
    }


def full_text_url(base_url: str, url: str) -> str:
    """The XML link on the configured endpoint's host: the path before `api/v1/` in
    the base URL (a recorded copy's folder) is kept, the link's own path follows."""
    base = urlsplit(base_url)
    root = base.path.split("api/v1", 1)[0]
    path = urlsplit(url).path.lstrip("/")
    return urlunsplit((base.scheme, base.netloc, root.rstrip("/") + "/" + path, "", ""))


def window_start(options: DocumentsQuery, cursor: dict[str, Any]) -> date:
    """A few days before the newest date seen, or the configured first-run window."""
    last = cursor.get("last_publication_date")
    if last:
        return date.fromisoformat(last) - timedelta(days=options.overlap_days)
    return parse_since(options.since)


def advance_cursor(result: PollResult, since: date) -> None:
    """Move the cursor to the newest publication date kept; it never moves back."""
    seen = [d.publication_date for d in result.documents if d.publication_date]
    last = result.cursor.get("last_publication_date")
    newest = max([since, *seen, *([date.fromisoformat(last)] if last else [])])
    result.cursor["last_publication_date"] = newest.isoformat()


register(
    Watcher(
        kind="federal_register",
        options=FederalRegisterOptions,
        poll=poll,
        description="Federal Register documents API (documents.json)",
        texts=full_text_counts,
    )
)
