"""The normalised Federal Register document every watcher produces.

Watchers see a document through different windows (the API, RSS, the public
inspection desk, a news link); all of them are reduced to this one shape so the
store can key it by document number and hash only what matters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Agency(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    slug: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _raw_name(cls, value: Any) -> Any:
        # agencies the FR has no page for come with only `raw_name`
        if isinstance(value, dict) and not value.get("name") and value.get("raw_name"):
            return {**value, "name": value["raw_name"].title()}
        return value


class CfrReference(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: int
    part: int | None = None

    def __str__(self) -> str:
        return f"{self.title} CFR {self.part}" if self.part is not None else f"{self.title} CFR"


def none_to_list(value: Any) -> Any:
    return [] if value is None else value


Collection = Literal["fr", "news", "ecfr"]


class Listed(BaseModel):
    """One Entity List entry a rule adds or revises (or, name only, removes)."""

    action: str  # "added" | "revised" | "removed"
    country: str | None = None
    country_heading: str | None = None
    name: str
    aliases: list[str] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)
    license_requirement: str = ""
    footnotes: list[int] = Field(default_factory=list)
    review_policy: str = ""
    citation: str = ""


class RuleFacts(BaseModel):
    """The structured changes of one rule's full text, read from its Federal Register XML
    (`source` "xml") or from its public-inspection manuscript ("inspection")."""

    source: Literal["xml", "inspection"] = "xml"
    action: str | None = None
    summary: str | None = None
    dates: str | None = None  # placeholders resolved against the publication date
    cfr_parts: list[int] = Field(default_factory=list)  # title 15
    dockets: list[str] = Field(default_factory=list)
    rins: list[str] = Field(default_factory=list)
    entities: list[Listed] = Field(default_factory=list)
    entity_counts_stated: dict[str, int] = Field(default_factory=dict)
    entity_mismatches: list[str] = Field(default_factory=list)
    amended: list[str] = Field(default_factory=list, description='"Supp. 4 to Part 744 added"')
    eccn_text: dict[str, str] = Field(
        default_factory=dict, description="ECCN -> its text as the rule prints it (3A090, 4A090)"
    )
    entity_list_amended: bool = False


class Document(BaseModel):
    """One document as a source saw it: a Federal Register document (the API's
    `results` element), a news item, or an eCFR section.

    `collection` and `document_number` make the identity: the FR document
    number for `fr` wherever it is seen (API, RSS, public inspection), a hash of
    the canonical link for `news`, the section label (`15 CFR 744.23`) for `ecfr`.
    """

    model_config = ConfigDict(extra="ignore")

    collection: Collection = "fr"
    document_number: str
    title: str | None = None
    type: str | None = None
    action: str | None = None
    abstract: str | None = None
    agencies: list[Agency] = Field(default_factory=list)
    publication_date: date | None = None
    effective_on: date | None = None
    comments_close_on: date | None = None
    dates: str | None = None
    cfr_references: list[CfrReference] = Field(default_factory=list)
    docket_ids: list[str] = Field(default_factory=list)
    regulation_id_numbers: list[str] = Field(default_factory=list)
    citation: str | None = None
    html_url: str | None = None
    pdf_url: str | None = None
    full_text_xml_url: str | None = None
    raw_text_url: str | None = None
    public_inspection_pdf_url: str | None = None
    significant: bool | None = None
    # public inspection: filed before publication
    filing_type: Literal["regular", "special"] | None = None
    filed_at: datetime | None = None
    withdrawn_on: date | None = None  # left the desk before its publication, unpublished
    # news items and sections of text
    publisher: str | None = None
    related: list[str] = Field(default_factory=list, description="FR numbers referred to")
    text: str | None = None
    version_date: date | None = None
    # what the rule text changes (the FR watcher reads it for the rules it is told to)
    rule: RuleFacts | None = None

    _lists = field_validator(
        "agencies", "cfr_references", "docket_ids", "regulation_id_numbers", "related",
        mode="before",
    )(none_to_list)  # fmt: skip

    @property
    def key(self) -> str:
        """Identity across every source that sights this document."""
        return f"{self.collection}:{self.document_number}"

    @property
    def on_public_inspection(self) -> bool:
        """Seen on the inspection desk and not yet seen published."""
        return self.filed_at is not None and self.citation is None

    @property
    def agency_names(self) -> list[str]:
        return [a.name for a in self.agencies]

    @property
    def url(self) -> str | None:
        if self.html_url or self.collection != "fr":
            return self.html_url
        return f"https://www.federalregister.gov/d/{self.document_number}"

    def content_hash(self) -> str:
        """Hash of the normalised content: volatile API fields never reach it."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def _union(known: list, value: list) -> list:
    return list(dict.fromkeys([*(known or []), *(value or [])]))


def _joined(known: str | None, value: str | None) -> str | None:
    names = [n.strip() for text in (known, value) if text for n in text.split(",")]
    return ", ".join(dict.fromkeys(n for n in names if n)) or None


# fields that collect every sighting's values (a news story seen in several feeds)
ACCUMULATED: dict[str, Callable[[Any, Any], Any]] = {"related": _union, "publisher": _joined}


def merge(old: Document, new: Document) -> tuple[Document, list[str]]:
    """Fold a new sighting into what is known; return the result and the changed fields.

    A value that fills an empty field (the published copy adds the citation and
    abstract the inspection copy lacked) enriches the document; only a value
    that differs from a known one is a change. An empty value never erases one,
    and a list that is part of the known one (a feed naming one agency of two)
    adds nothing. The inspection desk's values are provisional: the published
    copy replaces them (its title is often worded differently) without a change,
    except what the rule lists: an entry the published copy adds or drops is a change.
    """
    provisional = old.on_public_inspection and not new.on_public_inspection
    if new.withdrawn_on is not None and (old.citation or not old.filed_at):
        new = new.model_copy(update={"withdrawn_on": None})  # it was published after all
    merged = old.model_dump()
    changed = []
    for name, value in new.model_dump().items():
        known = merged[name]
        if name in ACCUMULATED:  # a story gains references and publishers: no change
            merged[name] = ACCUMULATED[name](known, value)
            continue
        if _empty(value) or (isinstance(value, list) and _subset(value, known)):
            continue
        if _changes(name, known, value, provisional):
            changed.append(name)
        merged[name] = value
    return Document.model_validate(merged), changed


def _changes(name: str, known: Any, value: Any, provisional: bool) -> bool:
    if name == "withdrawn_on":  # news of its own, once: the desk withdrew the document
        return _empty(known)
    if provisional:  # the published copy after the inspection copy
        return name == "rule" and bool(known) and _entries(known) != _entries(value)
    return not _empty(known) and known != value


def _entries(rule: dict[str, Any]) -> set[tuple[str, str | None, str]]:
    """What a rule lists, as two copies of it can be compared: action, country, name."""
    return {(e["action"], e["country"], " ".join(e["name"].casefold().split()))
            for e in rule.get("entities") or []}  # fmt: skip


def _subset(part: list, whole: Any) -> bool:
    return isinstance(whole, list) and all(item in whole for item in part)
