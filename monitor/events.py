"""The structured part of an event: what a rule lists, which chips it moves, what a
regulation's text now says. Stored in the event's payload so the alert, the digest
and `monitor alerts` show the change itself, not only that something changed.

Payload keys (each present only when it applies):
- `impacts`: the impact assessment, [{"kind", "severity", "summary", "action", "chips",
  "customers", "destinations", "in_force_from", "evidence", "notes"}]
- `entities`: {"summary", "added", "revised", "removed", "mismatches", "screened"}
- `thresholds`: {"summary", "changes", "chips": [{"chip_id", "before", "after",
  "changed", "explanation"}]}
- `diff`: {"summary", "counts", "changes": [...at most MAX_CHANGES], "more", "unified"}
- `entry_changes`: {"summary", "added", "dropped"}: entries one copy of a rule lists and the
  other does not (the public-inspection copy against the published one)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from monitor.document import Document, RuleFacts
from monitor.scoring import Score

MAX_CHANGES = 20  # paragraph changes kept in an event; the rest are counted
MAX_UNIFIED = 6000  # characters of unified text kept in an event


def structured_kind(doc: Document, score: Score) -> str | None:
    """The event kind a rule's structured changes call for, the Entity List first."""
    if doc.rule is not None and doc.rule.entities:
        return "entity_listed"
    if score.assessment.threshold_summary is not None:
        return "threshold_changed"
    return None


def structured_payload(doc: Document, score: Score) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if score.impacts:
        payload["impacts"] = [i.to_json() for i in score.impacts]
    if doc.rule is not None and doc.rule.entities:
        payload["entities"] = entities_payload(doc.rule, score)
    if score.assessment.threshold_summary is not None:
        moved = [c for c in score.assessment.crossings if c["changed"]]
        payload["thresholds"] = {
            "summary": score.assessment.threshold_summary,
            "changes": [c["explanation"] for c in moved],
            "chips": score.assessment.crossings,
        }
    return payload


def entities_payload(rule: RuleFacts, score: Score) -> dict[str, Any]:
    from monitor.diff import country_name

    by_action: dict[str, list[dict[str, Any]]] = {"added": [], "revised": [], "removed": []}
    for entry in rule.entities:
        by_action.setdefault(entry.action, []).append(entry.model_dump(exclude={"action"}))
    added = Counter(country_name(e["country"]) for e in by_action["added"])
    parts = []
    if added:
        where = ", ".join(f"{c} {n}" for c, n in sorted(added.items(), key=lambda x: (-x[1], x[0])))
        parts.append(f"{sum(added.values())} Entity List {_entries(added)} added: {where}")
    for action in ("revised", "removed"):
        if by_action[action]:
            parts.append(f"{len(by_action[action])} {action}")
    return {
        "summary": "; ".join(parts),
        **by_action,
        "stated": rule.entity_counts_stated,
        "mismatches": rule.entity_mismatches,
        "screened": score.assessment.screened,
    }


def _entries(counts: Counter) -> str:
    return "entry" if sum(counts.values()) == 1 else "entries"


def text_diff_payload(old: Document, new: Document) -> dict[str, Any]:
    """The paragraph-level diff of two versions of a section, cut to fit an event."""
    from monitor.diff import diff_documents

    diff = diff_documents(old, new)
    changes = diff.changes
    unified = diff.render_text()
    if len(unified) > MAX_UNIFIED:
        unified = unified[:MAX_UNIFIED].rsplit("\n", 1)[0] + "\n[... cut; see the full text]"
    return {
        "summary": diff.summary(),
        "counts": diff.counts(),
        "changes": [c.to_json() for c in changes[:MAX_CHANGES]],
        "more": max(0, len(changes) - MAX_CHANGES),
        "unified": unified,
    }


def entry_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """What two copies of a rule list differently, entry by entry (action, country, name)."""

    def entries(rule: dict[str, Any] | None) -> dict[tuple, dict[str, Any]]:
        return {(e["action"], e.get("country"), " ".join(e["name"].casefold().split())): e
                for e in (rule or {}).get("entities") or []}  # fmt: skip

    old, new = entries(before), entries(after)
    added = [new[k] for k in new if k not in old]
    dropped = [old[k] for k in old if k not in new]
    parts = [f"{len(added)} entr{'y' if len(added) == 1 else 'ies'} added" if added else "",
             f"{len(dropped)} dropped" if dropped else ""]  # fmt: skip
    return {
        "summary": "since the copy read before: " + ("; ".join(p for p in parts if p) or "none"),
        "added": [{"action": e["action"], "country": e.get("country"), "name": e["name"]}
                  for e in added],
        "dropped": [{"action": e["action"], "country": e.get("country"), "name": e["name"]}
                    for e in dropped],
    }  # fmt: skip
