"""The kinds of alert: an event's kind, with a new document told apart by where it was
seen. A leaf module (it imports only the document model), so the configuration, routing
and rendering all read the same list without importing one another."""

from __future__ import annotations

from typing import Literal, get_args

from monitor.document import Document

# What an alert is about: an event's kind, with a new document told apart by where it
# was seen. One set of templates per kind (templates/<kind>.*), and channels filter on it.
AlertKind = Literal[
    "new_document", "public_inspection", "news", "document_changed", "deadline_reminder",
    "deadline_changed", "rule_text_changed", "entity_listed", "threshold_changed",
    "source_failing", "source_recovered",
]  # fmt: skip
ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)
NEW_DOCUMENT_KIND = {"news": "news"}  # collection -> the kind of a new document in it


def alert_kind(kind: str, doc: Document | None) -> str:
    """`new_document` becomes `news` or `public_inspection` where that is what it is."""
    if kind != "new_document" or doc is None:
        return kind
    if doc.on_public_inspection:
        return "public_inspection"
    return NEW_DOCUMENT_KIND.get(doc.collection, kind)
