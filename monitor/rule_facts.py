"""What a rule's full text changes, in structured form: Entity List entries and ECCN
threshold text, read from its Federal Register XML.

The documents API gives a title and a summary; the rule text itself says which
parties are listed and what a threshold now reads. The Federal Register watcher
fetches the XML of the rules it is told to (`full_text:`), and this module turns it
into `RuleFacts`, stored on the document, so the scorer can screen every listed
party and re-classify every chip, and the alert can show the entries.
"""

from __future__ import annotations

import re

from monitor.amendments import CCL, amendments_of
from monitor.document import Listed, RuleFacts
from monitor.eccn import eccn_texts
from monitor.entities import EntityEntry, parse_rule
from monitor.fedreg_xml import ENTITY_LIST, parse_document
from monitor.fedreg_xml import Document as XmlDocument


def listed(action: str, entry: EntityEntry) -> Listed:
    return Listed(
        action=action, country=entry.country, country_heading=entry.country_heading,
        name=entry.name, aliases=list(entry.aliases), addresses=list(entry.addresses),
        license_requirement=entry.license_requirement, footnotes=list(entry.footnotes),
        review_policy=entry.review_policy, citation=entry.citation,
    )  # fmt: skip


def from_xml(data: bytes) -> RuleFacts:
    """RuleFacts of one document's FR XML; raises FedRegXMLError on XML that is not FR."""
    return from_document(parse_document(data))


def from_document(doc: XmlDocument) -> RuleFacts:
    amendments = amendments_of(doc)
    entity_list = any(a.unit == ENTITY_LIST for a in amendments) or any(
        s.id == ENTITY_LIST for s in doc.sections
    )
    facts = RuleFacts(
        source="xml",
        action=doc.action,
        summary=doc.summary,
        dates=doc.dates,
        cfr_parts=sorted({int(p) for c in doc.cfr for p in re.findall(r"\b(7[3-7]\d)\b", c)}),
        dockets=list(doc.dockets),
        rins=[re.sub(r"^RIN\s+", "", r) for r in doc.rins],
        amended=list(dict.fromkeys(f"{a.unit} {a.action}" for a in amendments)),
        eccn_text=threshold_text(doc),
        entity_list_amended=entity_list,
    )
    if not entity_list:
        return facts
    rule = parse_rule(doc)
    facts.entities = [
        *(listed("added", e) for e in rule.added),
        *(listed("revised", e) for e in rule.revised),
        *(Listed(action="removed", country=c, name=n) for c, n in rule.removed),
    ]
    if rule.counts is not None:
        facts.entity_counts_stated = dict(rule.counts.by_country)
    facts.entity_mismatches = [str(m) for m in rule.mismatches]
    return facts


def threshold_text(doc: XmlDocument) -> dict[str, str]:
    """The text of the 3A090/4A090 entries a rule prints in the CCL, by ECCN."""
    out: dict[str, str] = {}
    for section in doc.sections:
        if section.id == CCL:
            for code, text in eccn_texts(section.text).items():
                out[code] = (out.get(code, "") + "\n" + text).strip()
    return out
