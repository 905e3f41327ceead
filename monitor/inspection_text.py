"""What a rule says, read from the plain text of its public-inspection manuscript.

The public-inspection desk serves each document's text a day or more before it is
published: the typed manuscript with the agency's header (billing code, CFR parts,
docket, RIN, title), the AGENCY / ACTION / SUMMARY / DATES paragraphs, the preamble, the
amendatory instructions and the regulatory text they print, here the Entity List
supplement as plain lines and the 3A090 entry. Dates not yet known are placeholders
("[INSERT DATE OF PUBLICATION IN THE FEDERAL REGISTER]", "[INSERT DATE 30 DAYS AFTER
DATE OF PUBLICATION IN THE FEDERAL REGISTER]"), resolved here against the scheduled
publication date.

`read(text, publication_date)` gives the same `RuleFacts` the rule's XML gives
(monitor/rule_facts.py), so scoring and events need not know which copy they read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from monitor.amendments import CCL, parse_amdpars
from monitor.document import Listed, RuleFacts
from monitor.eccn import eccn_texts
from monitor.entities import (
    ENTITY_LIST,
    country_code,
    cross_check,
    footnotes_in,
    normalise_name,
    parse_entity_cell,
    preamble_counts,
    word_number,
)
from monitor.entities import EntityEntry as _Entry
from monitor.knowledge import countries

_MONTHS = "January February March April May June July August September October November December"
_PUBLICATION = re.compile(
    r"\[\s*INSERT\s+DATE\s+OF\s+PUBLICATION\s+IN\s+THE\s+FEDERAL\s+REGISTER\s*\]", re.IGNORECASE
)
_AFTER = re.compile(
    r"\[\s*INSERT\s+DATE\s+(\w+(?:[\s-]\w+)?)\s+DAYS\s+AFTER\s+(?:THE\s+)?DATE\s+OF\s+"
    r"PUBLICATION\s+IN\s+THE\s+FEDERAL\s+REGISTER\s*\]",
    re.IGNORECASE,
)
# the paragraph headings of a manuscript's front matter, in their usual order
_HEADINGS = ("AGENCY", "ACTION", "SUMMARY", "DATES", "ADDRESSES",
             "FOR FURTHER INFORMATION CONTACT", "SUPPLEMENTARY INFORMATION")  # fmt: skip
_HEADING = re.compile(rf"^\s*({'|'.join(_HEADINGS)})\s*:\s*", re.MULTILINE)
_CFR = re.compile(r"^\s*(\d{1,2})\s+CFR\s+Parts?\s+([\d,\sand]{1,80})$", re.MULTILINE | re.I)
_DOCKET = re.compile(r"\[\s*Docket\s+No\.?\s*([^\]\n]{1,60})\]", re.IGNORECASE)
_RIN = re.compile(r"\bRIN\s+(\d{4}-[A-Z]{2}\d{2})\b")
_INSTRUCTION = re.compile(r"^\s*(?:\d{1,3}|[a-z]{1,2})\.\s+(?=\S)", re.MULTILINE)
_SUPP_4 = re.compile(
    r"^\s*Supplement\s+No\.\s*4\s+to\s+Part\s+744\s*(?:[-—–]+\s*Entity\s+List)?\s*$",
    re.MULTILINE | re.IGNORECASE,
)
_STARS = re.compile(r"^[\s*]+$")
_TABLE_HEAD = re.compile(r"^\s*Country\b.*\bEntity\b.*\bLicense\b", re.IGNORECASE)
_LICENSE = re.compile(r"\bFor\s+(?:all\s+)?(?:items?|the\s+items?)\b", re.IGNORECASE)
_POLICY = re.compile(
    r"\b(?:Presumption\s+of\s+(?:denial|approval)|Case[-\s]by[-\s]case|Policy\s+of\s+denial|"
    r"See\s+§+\s*744\.\d+\([a-z]\)|Approval\s+for)",
    re.IGNORECASE,
)
_CITATION_START = re.compile(r"\b\d{2,3}\s+FR\s+\d{1,6}\b|\[\s*INSERT\s+FR\b", re.IGNORECASE)
_CITATION_END = re.compile(
    r"(?:\[\s*INSERT\s+FR[^\]]{0,40}\]\s*(?:\[[^\]]{0,80}\]|[A-Za-z]+\s+\d{1,2},\s+\d{4})|"
    r"\b\d{2,3}\s+FR\s+\d{1,6}(?:,\s*\d{1,2}/\d{1,2}/\d{2,4})?)[\s.;]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Manuscript:
    """The parts of a manuscript the reader uses, placeholders resolved."""

    text: str
    action: str | None
    summary: str | None
    dates: str | None
    cfr_parts: tuple[int, ...]
    dockets: tuple[str, ...]
    rins: tuple[str, ...]


def long_date(day: date) -> str:
    return f"{_MONTHS.split()[day.month - 1]} {day.day}, {day.year}"


def resolve_placeholders(text: str, published: date | None) -> str:
    """Dates a manuscript leaves to the Federal Register, filled in from the scheduled
    publication date ("[INSERT DATE 30 DAYS AFTER ...]" -> the date 30 days later); the FR
    page number, not known before printing, stays a placeholder."""
    if published is not None:
        text = _PUBLICATION.sub(long_date(published), text)

        def after(match: re.Match[str]) -> str:
            days = word_number(match.group(1))
            return match.group(0) if days is None else long_date(published + timedelta(days))

        text = _AFTER.sub(after, text)
    return text


def front_matter(text: str) -> dict[str, str]:
    """The AGENCY / ACTION / SUMMARY / DATES ... paragraphs, each up to the next heading."""
    found = list(_HEADING.finditer(text))
    out: dict[str, str] = {}
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        name = match.group(1).upper()
        if name == "SUPPLEMENTARY INFORMATION":
            break
        out.setdefault(name, " ".join(text[match.end() : end].split()))
    return out


def manuscript(text: str, published: date | None) -> Manuscript:
    text = resolve_placeholders(text.replace("\r\n", "\n").replace("\r", "\n"), published)
    head = front_matter(text)
    parts: list[int] = []
    for title, numbers in _CFR.findall(text[: text.find("SUMMARY")] if "SUMMARY" in text else text):
        if title == "15":
            parts += [int(n) for n in re.findall(r"\d{3}", numbers)]
    return Manuscript(
        text=text,
        action=head.get("ACTION"),
        summary=head.get("SUMMARY"),
        dates=head.get("DATES"),
        cfr_parts=tuple(dict.fromkeys(parts)),
        dockets=tuple(dict.fromkeys(d.strip() for d in _DOCKET.findall(text[:4000]))),
        rins=tuple(dict.fromkeys(_RIN.findall(text[:4000]))),
    )


def instructions(text: str) -> list[str]:
    """The amendatory instructions, numbered and lettered ("2. Supplement no. 4 to part 744
    is amended by:", "a. Adding under CHINA, PEOPLE'S REPUBLIC OF ..."), each up to its first
    line that ends in a colon or the next one; read from where the rule says it amends the
    regulations to the regulatory text it prints."""
    begin = re.search(r"\bamend(?:s|ed)?\s+(?:\w+\s+){0,6}?(?:as\s+follows|parts?\s+\d{3})",
                      text, re.IGNORECASE)  # fmt: skip
    table = _SUPP_4.search(text)
    text = text[begin.start() if begin else 0 : table.start() if table else len(text)]
    out = []
    starts = list(_INSTRUCTION.finditer(text))
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        body = text[match.end() : end]
        stop = body.find(":\n")
        paragraph = " ".join((body[: stop + 1] if stop >= 0 else body.split("\n\n")[0]).split())
        if re.search(r"\b(?:amended|amend|revis|add|remov)\w*", paragraph, re.IGNORECASE):
            out.append(paragraph)
    return out


def entity_entries(text: str) -> list[_Entry]:
    """The entries of the Entity List supplement as the manuscript prints them: a country
    heading line, then for each entry its name, aliases and addresses, its licence
    requirement ("For all items subject to the EAR..."), review policy ("Presumption of
    denial.") and citation (the FR page placeholder and the publication date)."""
    start = _SUPP_4.search(text)
    if start is None:
        return []
    headings = countries.heading_names()
    out: list[_Entry] = []
    country: str | None = None
    block: list[str] = []
    for raw in text[start.end() :].splitlines():
        line = raw.strip()
        if not line or _STARS.match(line) or _TABLE_HEAD.match(line):
            continue
        if line.upper() == line and line.rstrip(" ,.") in headings:
            country, block = line.rstrip(" ,."), []  # a new destination; lines before it
            continue  # that never reached a citation were no entry
        block.append(line)
        if _CITATION_END.search(line):
            entry = _entry(block, country)
            if entry is not None:
                out.append(entry)
            block = []
    return out


def _cell_lines(text: str) -> list[str]:
    """The entity cell's lines as the table's cell would break them: an alias line starts
    with a dash (a hyphen in plain text), and a line that does not end a sentence or an
    alias continues on the next."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("-"):
            out.append("—" + line.lstrip("-").lstrip())
        elif out and not out[-1].endswith((".", ":", ";")):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return out


def _entry(lines: list[str], heading: str | None) -> _Entry | None:
    text = "\n".join(lines)
    licence = _LICENSE.search(text)
    if licence is None:
        return None
    policy = _POLICY.search(text, licence.end())
    citation = _CITATION_START.search(text, policy.end() if policy else licence.end())
    end = citation.start() if citation else len(text)
    cell = text[: licence.start()].strip()
    requirement = text[licence.start() : policy.start() if policy else end]
    review = text[policy.start() : end] if policy else ""
    name, aliases, addresses = parse_entity_cell(_cell_lines(cell))
    if not name:
        return None
    return _Entry(
        country=country_code(heading) if heading else None,
        name=name,
        aliases=aliases,
        addresses=addresses,
        license_requirement=" ".join(requirement.split()),
        footnotes=footnotes_in(re.sub(r"(\))\s+(\d)\b", r"\1\2", requirement)),
        review_policy=" ".join(review.split()).rstrip(" ;"),
        citation=" ".join(text[citation.start() :].split()).strip(" .") if citation else "",
        country_heading=heading,
        source="inspection",
    )


def read(text: str, published: date | None) -> RuleFacts:
    """RuleFacts of a manuscript, as `rule_facts.from_xml` gives them for the XML."""
    from monitor.rule_facts import listed

    ms = manuscript(text, published)
    amendments = parse_amdpars(instructions(ms.text), part="744")
    entries = entity_entries(ms.text)
    entity_list = any(a.unit == ENTITY_LIST for a in amendments) or bool(entries)
    actions = {(a.country_code or "", normalise_name(name)): a.action for a in amendments
               if a.unit == ENTITY_LIST for name in a.entries}  # fmt: skip
    removed = [(a.country_code, n) for a in amendments if a.unit == ENTITY_LIST
               and a.action == "removed" for n in a.entries]  # fmt: skip
    facts = RuleFacts(
        source="inspection",
        action=ms.action,
        summary=ms.summary,
        dates=ms.dates,
        cfr_parts=list(ms.cfr_parts),
        dockets=list(ms.dockets),
        rins=list(ms.rins),
        amended=list(dict.fromkeys(f"{a.unit} {a.action}" for a in amendments)),
        eccn_text=eccn_texts(ms.text),
        entity_list_amended=entity_list,
    )
    if amendments and not any(a.unit in (ENTITY_LIST, CCL) for a in amendments) and not entries:
        return facts
    facts.entities = [
        *(
            listed(actions.get((e.country or "", normalise_name(e.name)), "added"), e)
            for e in entries
        ),
        *(Listed(action="removed", country=c, name=n) for c, n in removed),
    ]
    counts = preamble_counts(ms.summary or "")
    if counts is not None:
        facts.entity_counts_stated = dict(counts.by_country)
        added = [
            e
            for e in entries
            if actions.get((e.country or "", normalise_name(e.name))) != "revised"
        ]
        facts.entity_mismatches = [str(m) for m in cross_check(counts, added)]
    return facts
