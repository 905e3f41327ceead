"""Routing: which channels take an event, at once or in the weekly digest, in which message.

A channel takes a relevant event at or above its `min_severity` that passes its
filters (`kinds`, `tags`, `customers`: each filter given must match one of its
values). At or above the channel's `immediate` severity the event goes out at
once; below, it waits for the channel's weekly digest, so a busy week is one
readable email rather than forty.

What goes out at once after one pass (a poll, the deadline scan) is grouped per
channel: events that share a document or a Federal Register reference (a rule,
its deadline, a news story citing it) are one message, and more than
`alerting.group_above` messages for one channel become one grouped message.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from monitor.document import Document
from monitor.event_kinds import alert_kind
from monitor.news import document_numbers
from monitor.severity import at_least

if TYPE_CHECKING:
    from monitor.config import ChannelConfig

Route = Literal["immediate", "digest"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def tags_of(doc: Document | None, source: str | None, matches: dict) -> set[str]:
    """An event's tags: where it comes from and what it touches (see the README)."""
    tags = {f"source:{source}"} if source else set()
    tags |= {f"chip:{c}" for c in matches.get("chips") or []}
    tags |= {f"eccn:{e}" for e in matches.get("eccns") or []}
    if doc is None:
        return tags | {"health"}
    tags.add(doc.collection)
    tags |= {f"agency:{a.slug}" for a in doc.agencies if a.slug}
    tags |= {f"part:{r.part}" for r in doc.cfr_references if r.part is not None}
    if doc.type:
        tags.add(f"type:{_slug(doc.type)}")
    return tags


def customers_of(matches: dict, payload: dict) -> set[str]:
    """Customers an event names: scored matches and Entity List screening hits."""
    screened = (payload.get("entities") or {}).get("screened") or []
    return set(matches.get("customers") or []) | {s["customer_id"] for s in screened}


def subjects_of(matches: dict, payload: dict) -> set[str]:
    """The customers and chips an event touches, as `customer:<id>` and `chip:<id>`: those
    it names (`customers_of`) and those its impacts reach (a rule's destinations can
    reach a customer it does not name)."""
    impacts = payload.get("impacts") or []
    customers = customers_of(matches, payload) | {c for i in impacts for c in i["customers"]}
    chips = set(matches.get("chips") or []) | {c for i in impacts for c in i["chips"]}
    return {f"customer:{c}" for c in customers} | {f"chip:{c}" for c in chips}


def refs_of(doc: Document | None, payload: dict) -> set[str]:
    """What an event is about, for grouping: its document and the FR documents it cites."""
    if doc is None:
        return set()
    cited = document_numbers([*doc.related, str(payload.get("by") or "")])
    return {doc.key} | {f"fr:{number}" for number in cited}


@dataclass(frozen=True)
class Facts:
    """What routing reads of an event."""

    kind: str  # an ALERT_KINDS value
    severity: str
    tags: frozenset[str]
    customers: frozenset[str]


def facts_of(event: Any, doc: Document | None, source: str | None) -> Facts:
    payload, matches = event.payload or {}, event.matches or {}
    if doc is None and payload.get("source"):
        source = str(payload["source"])
    return Facts(
        kind=alert_kind(event.kind, doc),
        severity=event.severity,
        tags=frozenset(tags_of(doc, source, matches)),
        customers=frozenset(customers_of(matches, payload)),
    )


def passes(channel: ChannelConfig, facts: Facts) -> bool:
    """Every filter the channel sets matches (any one of its values)."""
    wanted = (
        (channel.kinds, {facts.kind}),
        (channel.tags, facts.tags),
        (channel.customers, facts.customers),
    )
    return all(values is None or set(values) & set(have) for values, have in wanted)


def route_for(channel: ChannelConfig, facts: Facts) -> Route | None:
    """`immediate`, `digest`, or None when the channel does not take the event."""
    if not at_least(facts.severity, channel.min_severity) or not passes(channel, facts):
        return None
    return "immediate" if at_least(facts.severity, channel.immediate) else "digest"


T = TypeVar("T")


def group(items: Iterable[tuple[T, Iterable[Hashable]]], above: int) -> list[list[T]]:
    """Messages for one channel: items sharing a reference are one (transitively), and
    more than `above` messages are one. Items keep their order."""
    groups: list[tuple[set[Hashable], list[int]]] = []
    listed = list(items)
    for index, (_, refs) in enumerate(listed):
        keys, members = set(refs), [index]
        for other in [g for g in groups if g[0] & keys]:
            groups.remove(other)
            keys |= other[0]
            members += other[1]
        groups.append((keys, sorted(members)))
    messages = sorted((members for _, members in groups), key=lambda m: m[0])
    if len(messages) > above:
        messages = [sorted(i for members in messages for i in members)]
    return [[listed[i][0] for i in members] for members in messages]
