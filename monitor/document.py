"""The normalised Federal Register document every watcher produces.

Watchers see a document through different windows (the API, RSS, the public
inspection desk, a news link); all of them are reduced to this one shape so the
store can key it by document number and hash only what matters.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

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


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


class Document(BaseModel):
    """One Federal Register document, as the API's `results` element describes it."""

    model_config = ConfigDict(extra="ignore")

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

    _lists = field_validator(
        "agencies", "cfr_references", "docket_ids", "regulation_id_numbers", mode="before"
    )(_none_to_list)

    @property
    def key(self) -> str:
        """Identity across every source that sights this document."""
        return f"fr:{self.document_number}"

    @property
    def agency_names(self) -> list[str]:
        return [a.name for a in self.agencies]

    @property
    def url(self) -> str:
        return self.html_url or f"https://www.federalregister.gov/d/{self.document_number}"

    def content_hash(self) -> str:
        """Hash of the normalised content: volatile API fields never reach it."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()
