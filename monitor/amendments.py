"""Amendatory instructions (the FR's `AMDPAR`s) into structured changes.

"Supplement No. 4 to part 744 is amended by adding under CHINA, PEOPLE'S REPUBLIC
OF, in alphabetical order, entries for "A" and "B"" becomes one `Amendment`:
added, "Supp. 4 to Part 744", country CN, entries ("A", "B"). "Section 744.23 is
amended by revising paragraph (a)(3)" becomes revised "15 CFR 744.23(a)(3)".

The FR's amendatory language is formulaic ("by adding", "by revising", "by removing
and reserving", "is revised to read as follows", "Redesignate paragraphs (f) and
(g) as paragraphs (g) and (h), respectively"); this reads that language and no more.
An edit inside a paragraph ("by removing the word "his" and adding in its place
...", "by adding a third sentence to paragraph (a)(1)") is a revision of that
paragraph. Lettered sub-instructions ("a. Amend paragraph (c) ...") take their
section, supplement and country from the numbered instruction above them
("2. In § 21.0:"); use `parse_amdpars` on the whole sequence for that.

Actions: "added", "revised", "removed" (with `reserved` for "removing and
reserving"), and "redesignated" (with `new_unit`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from monitor.fedreg_xml import (
    ENTITY_LIST,
    LABEL_MARK,
    LABEL_TOKEN,
    Document,
    int_to_roman,
    roman_to_int,
    squeeze,
)
from monitor.knowledge import countries as country_table
from monitor.text import skip_back, word_before

CCL = "Supp. 1 to Part 774"
T = TypeVar("T")


@dataclass(frozen=True)
class Amendment:
    action: str  # "added" | "revised" | "removed" | "redesignated"
    unit: str  # "15 CFR 744.23(a)(3)" | "15 CFR 744.23" | "Supp. 4 to Part 744"
    country: str | None = None  # the Entity List heading as printed
    country_code: str | None = None  # its ISO code
    entries: tuple[str, ...] = ()  # quoted entry names, ECCNs, defined terms
    reserved: bool = False  # "removing and reserving"
    new_unit: str | None = None  # where a redesignated unit goes
    text: str = ""  # the instruction as printed


@dataclass(frozen=True)
class Context:
    """What a lettered sub-instruction inherits from the instruction above it."""

    unit: str | None = None
    section: str | None = None  # "15 CFR 744.23" when the unit is a section
    country: str | None = None


# --- lexicon ------------------------------------------------------------------------

_VERB = re.compile(
    r"(?<!newly )(?<!previously )\b(?P<verb>"
    r"removing\s+and\s+reserving|remove\s+and\s+reserve|removed\s+and\s+reserved|"
    r"redesignating|redesignate|redesignated|"
    r"revising|revise|revised|adding|add|added|removing|remove|removed|"
    r"reserving|reserve|reserved)\b",
    re.IGNORECASE,
)
_PASSIVE = ("is", "are", "be", "been")  # a verb after these is passive ("is amended by")
_IN_PLACE = re.compile(r"\s*(?:,\s*)?in\s+(?:its|their)\s+place", re.IGNORECASE)
_WITHIN = re.compile(
    r"\b(?:sentences?|words?|phrases?|abbreviations?|references?|citations?|"
    r"headings?|notes?|footnotes?|terms?|figures?|numbers?|dates?|text)\b",
    re.IGNORECASE,
)
_SUPPLEMENT = re.compile(
    r"supplement\s+no\.?\s*(\d+)\s+to\s+(?:this\s+)?part\s+(\d+)", re.IGNORECASE
)
_APPENDIX = re.compile(r"appendix\s+([A-Z0-9]+)\s+to\s+(?:this\s+)?part\s+(\d+)", re.IGNORECASE)
_SECNUM = r"\d+\.\d+[A-Za-z0-9-]*"
_SECTION = re.compile(
    rf"(?:§§?|\bsections?\b)\s*(?P<first>{_SECNUM})(?P<refs>(?:{LABEL_MARK})*)"
    rf"(?P<more>(?:\s*(?:,|and|through|,\s*and)\s*{_SECNUM}(?:{LABEL_MARK})*)*)",
    re.IGNORECASE,
)
_PARA = re.compile(r"\bparagraphs?\s+", re.IGNORECASE)
_REF = re.compile(rf"(?:{LABEL_MARK})+")
_REF_SEP = re.compile(
    r"(?:\s|,|\band\b|\bor\b|\bparagraphs?\b|\bintroductory\s+text\b|"
    r"\bof\s+this\s+section\b)*",
    re.IGNORECASE,
)
_ECCN = re.compile(r"\b\d[A-E]\d{3}(?:\.[a-z0-9]+)*\b")
_NUMBERING = re.compile(r"^\s*(?:(\d+)|([a-z]{1,4}|[A-Z]))[.)]\s+")
_AUTHORITY = re.compile(r"authority\s+citation", re.IGNORECASE)

_HEADINGS = sorted(country_table.heading_names(), key=len, reverse=True)
_HEADING_ALT = "|".join(re.escape(h) for h in _HEADINGS)
_UPPER_HEADING = re.compile(rf"(?<![A-Za-z])(?:{_HEADING_ALT})(?![A-Za-z])")
_UNDER_HEADING = re.compile(
    rf"\bunder\s+(?:the\s+destinations?\s+of\s+)?(?P<h>{_HEADING_ALT})(?![A-Za-z])",
    re.IGNORECASE,
)
_UNDER_UPPER = re.compile(r"\bunder\s+(?P<h>[A-Z][A-Z'.\-]+(?:,?\s+[A-Z][A-Z'.\-]+)*)")
_NOT_COUNTRY = {"EAR", "ECCN", "ECCNS", "CFR", "BIS", "ITAR", "FR", "OF", "THE"}


def _normalise(text: str) -> str:
    text = text.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    return squeeze(text)


# --- paragraph references -------------------------------------------------------------


def _positions(token: str) -> list[int]:
    """Depths a token can sit at: (a) 0, (1) 1 or 4, (i) 2 or 5, (A) 3."""
    if token.isdigit():
        return [1, 4]
    if token.isupper():
        return [3]
    out = []
    if re.fullmatch(r"[ivxlc]+", token):
        out += [2, 5]
    if len(set(token)) == 1:
        out.append(0)
    return out


def _resolve(ref: list[str], previous: list[str] | None) -> list[str]:
    """ "(3)" after "(f)(2)" is "(f)(3)"; "(ii)" after "(b)(1)(i)" is "(b)(1)(ii)"."""
    if not previous or not ref:
        return ref
    options = [p for p in _positions(ref[0]) if p < len(previous)]
    if not options or max(options) == 0:
        return ref
    depth = max(options)
    return previous[:depth] + ref


def _ordinal(token: str, depth: int) -> int | None:
    if depth in (1, 4):
        return int(token)
    if depth in (2, 5):
        return roman_to_int(token)
    return ord(token[0].lower()) - 96 if len(set(token)) == 1 and len(token) == 1 else None


def _token(n: int, depth: int, like: str) -> str:
    if depth in (1, 4):
        return str(n)
    if depth in (2, 5):
        return int_to_roman(n)
    letter = chr(n + 96)
    return letter.upper() if like.isupper() else letter


def _expand(start: list[str], end: list[str]) -> list[list[str]]:
    """ "(f)(4) through (6)": (f)(4), (f)(5), (f)(6)."""
    if len(start) != len(end) or start[:-1] != end[:-1]:
        return [start, end]
    depth = len(start) - 1
    a, b = _ordinal(start[-1], depth), _ordinal(end[-1], depth)
    if a is None or b is None or not 0 < b - a < 100:
        return [start, end]
    return [[*start[:-1], _token(n, depth, start[-1])] for n in range(a, b + 1)]


def paragraph_refs(text: str) -> list[tuple[int, str]]:
    """Every "paragraph(s) (x)(y) ..." reference: (position, "(x)(y)"), lists and
    "through" ranges expanded, abbreviated members made whole."""
    out: list[tuple[int, str]] = []
    walked = 0  # a keyword inside a list already read starts no list of its own (quadratic)
    for keyword in _PARA.finditer(text):
        if keyword.start() < walked:
            continue
        pos = keyword.end()
        previous: list[str] | None = None
        through = False
        while True:
            sep = _REF_SEP.match(text, pos)
            pos = sep.end() if sep else pos
            if text[pos : pos + 7].lower() == "through":
                through = True
                pos += 7
                continue
            match = _REF.match(text, pos)
            if not match:
                break
            ref = _resolve(LABEL_TOKEN.findall(match.group()), previous)
            if through and previous is not None:
                expanded = _expand(previous, ref)[1:]
                out.extend((match.start(), "".join(f"({t})" for t in r)) for r in expanded)
            else:
                out.append((match.start(), "".join(f"({t})" for t in ref)))
            previous, through = ref, False
            pos = walked = match.end()
    seen: set[str] = set()
    unique: list[tuple[int, str]] = []
    for p, r in out:  # each reference where it is first named
        if r not in seen:
            seen.add(r)
            unique.append((p, r))
    return unique


# --- units ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    unit: str
    section: str | None  # the section id when the unit is a section
    refs: tuple[str, ...] = ()


def _section_id(number: str, title: str | None) -> str:
    return f"{title} CFR {number}" if title else number


def _mentions(text: str, title: str | None) -> list[_Mention]:
    found: list[_Mention] = []
    for m in _SUPPLEMENT.finditer(text):
        found.append(_Mention(m.start(), m.end(), f"Supp. {m.group(1)} to Part {m.group(2)}", None))
    for m in _APPENDIX.finditer(text):
        unit = f"Appendix {m.group(1).upper()} to Part {m.group(2)}"
        found.append(_Mention(m.start(), m.end(), unit, None))
    for m in _SECTION.finditer(text):
        numbers = [(m.group("first"), m.group("refs") or "")]
        numbers += re.findall(rf"({_SECNUM})((?:{LABEL_MARK})*)", m.group("more") or "")
        for number, refs in numbers:
            sid = _section_id(number, title)
            ref = (refs,) if refs else ()
            found.append(_Mention(m.start(), m.end(), sid, sid, ref))
    return sorted(found, key=lambda x: x.start)


# --- countries and entries --------------------------------------------------------------


def _countries(text: str) -> list[tuple[int, int, str]]:
    """(start, end, heading) of every Entity List destination named."""
    spans = [(m.start(), m.end(), m.group()) for m in _UPPER_HEADING.finditer(text)]
    for pattern in (_UNDER_HEADING, _UNDER_UPPER):
        # spans so far do not overlap: sorted by start, their ends rise too, so a new span
        # is free when the last one starting before its end ends before its start
        taken = sorted(spans)
        starts = [s for s, _, _ in taken]
        last_end = -1  # of this pattern's own spans, found in order
        for m in pattern.finditer(text):
            a, b, heading = m.start("h"), m.end("h"), m.group("h")
            if pattern is _UNDER_UPPER:
                words = [w for w in re.split(r"[\s,]+", heading) if w]
                if not words or words[0] in _NOT_COUNTRY:
                    continue
                heading = heading.rstrip(",")
            before = bisect_left(starts, b)
            if a >= last_end and not (before and taken[before - 1][1] > a):
                spans.append((a, b, heading))
                last_end = b
    return sorted(spans)


def _quotes(text: str) -> list[tuple[int, str]]:
    doubles = [(m.start(), m.group(1)) for m in re.finditer(r'"([^"]+)"', text)]
    found = doubles or [
        (m.start(), m.group(1))
        for m in re.finditer(r"(?<![A-Za-z0-9])'(.+?)'(?![A-Za-z0-9])", text)
    ]
    return [(p, squeeze(q).rstrip(",;").strip()) for p, q in found if q.strip(" ,;")]


def _within(spans: list[T], starts: list[int], start: int, end: int) -> list[T]:
    """The spans that start in [start, end); `starts` are theirs, in order."""
    return spans[bisect_left(starts, start) : bisect_left(starts, end)]


def _by_country(
    segment: str,
    offset: int,
    countries: list[tuple[int, int, str]],
    country_starts: list[int],
    inherited: str | None,
) -> list[tuple[str | None, tuple[str, ...]]]:
    """The segment's quoted names, grouped under the destination each belongs to."""
    within = _within(countries, country_starts, offset, offset + len(segment))
    local = [(s - offset, e - offset, h) for s, e, h in within]
    pieces, done = [], 0
    for s, e, _ in local:  # the headings blanked out, so no quote is read inside one
        pieces += [segment[done:s], " " * (e - s)]
        done = e
    quotes = _quotes("".join([*pieces, segment[done:]]))
    if not local:
        return [(inherited, tuple(q for _, q in quotes))]
    groups: dict[str | None, list[str]] = {h: [] for _, _, h in local}
    starts = [s for s, _, _ in local]
    heading_first = not quotes or local[0][0] < quotes[0][0]
    for pos, name in quotes:
        if heading_first:  # the heading before the name, else the first
            before = bisect_left(starts, pos)
            groups[local[before - 1][2] if before else local[0][2]].append(name)
        else:  # the heading after the name, else the last
            after = bisect_left(starts, pos + 1)
            groups[local[after][2] if after < len(local) else local[-1][2]].append(name)
    return [(h, tuple(dict.fromkeys(names))) for h, names in groups.items()]


# --- the parser -------------------------------------------------------------------------


def _action(verb: str) -> tuple[str, bool]:
    verb = verb.lower()
    if "reserv" in verb:
        return "removed", True
    if verb.startswith("redesignat"):
        return "redesignated", False
    if verb.startswith("revis"):
        return "revised", False
    if verb.startswith("add"):
        return "added", False
    return "removed", False


def parse_amdpar(
    text: str, *, title: str | int | None = "15", part: str | int | None = None
) -> list[Amendment]:
    """The changes one amendatory instruction makes."""
    return _parse(text, _str(title), _str(part), Context())[0]


def parse_amdpars(
    texts: Iterable[str], *, title: str | int | None = "15", part: str | int | None = None
) -> list[Amendment]:
    """The changes of a sequence of AMDPARs, lettered ones inheriting the section,
    supplement and destination of the numbered one above them."""
    context = Context()
    out: dict[Amendment, None] = {}  # in order, each once
    for text in texts:
        found, context = _parse(text, _str(title), _str(part), context)
        out.update(dict.fromkeys(found))
    return list(out)


def amendments_of(doc: Document) -> list[Amendment]:
    """The AMDPARs of every REGTEXT block of an FR document, read as structured changes."""
    return [
        a
        for r in doc.regtexts
        for a in parse_amdpars(r.amdpars, title=r.title or "15", part=r.part)
    ]


def _str(value: str | int | None) -> str | None:
    return str(value) if value else None


def _parse(
    raw: str, title: str | None, part: str | None, context: Context
) -> tuple[list[Amendment], Context]:
    text = _normalise(raw)
    numbering = _NUMBERING.match(text)
    numbered = bool(numbering and numbering.group(1))
    if numbering:
        text = text[numbering.end() :]
    if numbered:
        context = Context()
    if _AUTHORITY.search(text):
        if re.search(r"continues?\s+to\s+read", text, re.IGNORECASE):
            return [], context
        found_part = re.search(r"\bpart\s+(\d+)", text, re.IGNORECASE)
        authority = (
            f"{title} CFR Part {found_part.group(1) if found_part else part} authority citation"
        )
        return [Amendment("revised", authority, text=squeeze(raw))], context

    verbs = list(_VERB.finditer(text))
    mentions = _mentions(text, title)
    countries = _countries(text)
    mention_starts, country_starts = [m.start for m in mentions], [s for s, _, _ in countries]
    head_end = verbs[0].start() if verbs else len(text)
    head_mentions = [m for m in mentions if m.start < head_end]
    head_unit = head_mentions[0] if head_mentions else None
    head_countries = [h for s, _, h in countries if s < head_end]
    base = Context(
        unit=head_unit.unit if head_unit else context.unit,
        section=head_unit.section if head_unit else context.section,
        country=head_countries[-1] if head_countries else context.country,
    )
    if not verbs:  # "2. In § 21.0:", "Supplement No. 4 to part 744 is amended by:"
        return [], base
    next_context = base if numbered or not context.unit else context

    # segments: (verb match, start, end), "removing X and adding in its place Y" merged
    segments: list[tuple[str, bool, int, int, bool]] = []  # verb, passive, start, end, in_place
    i = 0
    while i < len(verbs):
        verb = verbs[i]
        end = verbs[i + 1].start() if i + 1 < len(verbs) else len(text)
        in_place = False
        if (
            i + 1 < len(verbs)
            and verb.group("verb").lower().startswith("remov")
            and verbs[i + 1].group("verb").lower().startswith("add")
            and _IN_PLACE.match(text, verbs[i + 1].end())
        ):
            end = verbs[i + 2].start() if i + 2 < len(verbs) else len(text)
            in_place = True
            i += 1
        before = skip_back(text, verb.start(), "", space=True)
        passive = bool(word_before(text, before, _PASSIVE, ignore_case=True))
        segments.append((verb.group("verb"), passive, verb.end(), end, in_place))
        i += 1

    head_refs = [r for p, r in paragraph_refs(text[:head_end])]
    if head_unit is not None and head_unit.refs:
        head_refs = [*head_refs, *head_unit.refs]
    out: list[Amendment] = []
    last_country = base.country
    source = squeeze(raw)
    for verb_text, passive, start, end, in_place in segments:
        action, reserved = _action(verb_text)
        segment = text[start:end]
        seg_mentions = _within(mentions, mention_starts, start, end)
        unit_mention = seg_mentions[0] if seg_mentions else None
        unit = unit_mention.unit if unit_mention else base.unit
        section = unit_mention.section if unit_mention else base.section
        refs = [r for _, r in paragraph_refs(segment)]
        if unit_mention is not None and unit_mention.refs:
            refs = [*unit_mention.refs, *refs]

        if action == "redesignated":
            out.extend(_redesignations(segment, section, unit, source))
            continue
        if in_place:
            action = "revised"
        elif refs and _edits_within(segment):
            action = "revised"  # "adding a third sentence to paragraph (a)(1)"
        if not refs and head_refs and not (unit_mention and unit_mention.section):
            refs = head_refs
            if not passive:
                action = "revised"  # "Amend paragraph (c) by removing the word ..."

        if unit == ENTITY_LIST or (unit is None and _within(countries, country_starts, start, end)):
            groups = _by_country(segment, start, countries, country_starts, last_country)
            for heading, names in groups:
                if heading is not None:
                    last_country = heading
                out.append(
                    Amendment(
                        action,
                        unit or ENTITY_LIST,
                        country=heading,
                        country_code=country_table.code_of(heading),
                        entries=names,
                        reserved=reserved,
                        text=source,
                    )
                )
            continue
        if unit == CCL or (_ECCN.search(segment) and re.search(r"\bECCN", segment)):
            eccns = tuple(dict.fromkeys(e.rstrip(".") for e in _ECCN.findall(segment)))
            out.append(Amendment(action, unit or CCL, entries=eccns, text=source))
            continue
        prefix = section or unit or ""
        if refs:
            for ref in refs:
                out.append(Amendment(action, f"{prefix}{ref}", reserved=reserved, text=source))
            continue
        entries = () if in_place else tuple(q for _, q in _quotes(segment))
        if unit is not None:
            out.append(Amendment(action, unit, entries=entries, reserved=reserved, text=source))
    return list(dict.fromkeys(out)), next_context


def _edits_within(segment: str) -> bool:
    """Whether the object of the verb is something inside the paragraphs named
    ("a third sentence to paragraph (a)(1)", "a paragraph (f) subject heading")."""
    first = _PARA.search(segment)
    if first is None:
        return False
    if _WITHIN.search(segment[: first.start()]):
        return True
    after = _REF.sub(" ", segment[first.end() :].split(",")[0])
    after = re.sub(r"introductory\s+text", " ", after, flags=re.IGNORECASE)
    return bool(re.match(r"\s*(?:subject\s+)?(?:headings?|sentences?|notes?)\b", after, re.I))


def _redesignations(
    segment: str, section: str | None, unit: str | None, source: str
) -> list[Amendment]:
    """ "paragraphs (f) and (g) as paragraphs (g) and (h), respectively"."""
    old_text, _, new_text = segment.partition(" as ")
    prefix = section or unit or ""
    olds = [r for _, r in paragraph_refs(old_text)]
    news = [r for _, r in paragraph_refs(new_text)]
    if olds and len(olds) == len(news):
        return [
            Amendment("redesignated", f"{prefix}{o}", new_unit=f"{prefix}{n}", text=source)
            for o, n in zip(olds, news, strict=True)
        ]
    sections = list(_SECTION.finditer(segment))
    if len(sections) >= 2:
        title = (section or "").split(" CFR ")[0] if section and " CFR " in section else None
        a, b = sections[0].group("first"), sections[1].group("first")
        return [
            Amendment(
                "redesignated", _section_id(a, title), new_unit=_section_id(b, title), text=source
            )
        ]
    return []
