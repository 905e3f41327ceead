"""Federal Register full-text XML (the GPO/OFR "FEDREG" format) into documents,
amendatory instructions, sections and labelled paragraphs.

Reads a whole daily issue (root `FEDREG`, as published on govinfo) or one document
(root `RULE`, `PRORULE`, `NOTICE` or `PRESDOCU`, as in federalregister.gov's
`full_text_xml_url`). The XML is parsed from bytes with entity resolution, DTD
loading and network access off, so a hostile `DOCTYPE` expands nothing and fetches
nothing.

The shapes, in the FR's own element names:

- a document (`RULE`/`PRORULE`/`NOTICE`/`PRESDOCU`) has a `PREAMB` (`AGENCY`, `SUBAGY`,
  `CFR`, `DEPDOC`, `RIN`, `SUBJECT`, then the captioned blocks `AGY`, `ACT`, `SUM`,
  `DATES`/`EFFDATE`, ...), a `SUPLINF`, and an `FRDOC` line
  ("[FR Doc. 2016-08717 Filed 4-14-16; 8:45 am]") that carries its document number;
- the regulatory text sits in `REGTEXT TITLE="15" PART="744"` blocks: `AMDPAR`
  amendatory instructions, `SECTION`s (`SECTNO`, `SUBJECT`, `P`...), and headed
  supplements and appendices (`HD` "Supplement No. 4 to Part 744—Entity List"
  followed by `STARS` and a `GPOTABLE`);
- `PRTPAGE` marks a printed page break anywhere, even mid-sentence; it is dropped
  from text (its page number is kept in `Document.pages`). `SU` is a superscript
  (a footnote mark), rendered as a Unicode superscript digit in text and kept as is
  in table cells' `footnotes`.

Paragraph ids follow the CFR paragraph hierarchy (a) > (1) > (i) > (A) > italic (1)
> italic (i): "(b)" then "(1)" then "(i)" in section 324.403 of title 12 is
"12 CFR 324.403(b)(1)(i)". Text without a paragraph label (a section's lead-in, a
note) gets the id of the paragraph it sits under plus "#p<n>".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

DOCUMENT_TAGS = ("RULE", "PRORULE", "NOTICE", "PRESDOCU")
ENTITY_LIST = "Supp. 4 to Part 744"  # the section id this reader gives the Entity List
# inline elements: their text belongs to the line they sit in
INLINE = frozenset({"E", "SU", "FTREF", "PRTPAGE", "AC", "B", "I", "LI", "FR", "GID"})
# dropped from text altogether (page breaks, graphics, footnote anchors)
DROPPED = frozenset({"PRTPAGE", "FTREF", "GPH", "GID", "BILCOD"})
SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

_FRDOC = re.compile(r"FR\s+Doc\.?\s*(?:No\.?\s*)?([A-Z0-9][\w-]*\d)")
_FILED = re.compile(r"Filed\s+([^\]]+)")
_SUPPLEMENT = re.compile(r"Supplement\s+No\.?\s*(\d+)\s+to\s+Part\s+(\d+)", re.I)
_APPENDIX = re.compile(r"Appendix\s+([A-Z0-9]+(?:-\d+)?)\s+to\s+Part\s+(\d+)", re.I)
_PART_HD = re.compile(r"^\s*PART\s+(\d+)", re.I)
_CFR = re.compile(r"(?<!\d)(\d+)\s+CFR", re.I)  # from a run's first digit: linear


class FedRegXMLError(ValueError):
    """The bytes are not Federal Register XML (malformed, empty, or another format)."""


# --- the parsed shapes ----------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One `ENT` of a `GPOTABLE` row."""

    text: str  # whitespace collapsed, superscripts as Unicode digits, no page markers
    lines: tuple[str, ...]  # split at the `LI` line breaks inside the cell
    footnotes: tuple[str, ...] = ()  # the `SU` marks in the cell, as written ("4")


@dataclass
class Table:
    """A `GPOTABLE`: leaf column headings (`CHED`) and rows of cells."""

    headers: list[str]
    rows: list[list[Cell]]
    title: str | None = None

    def text(self) -> str:
        """One line per row, cells joined by " | "."""
        lines = [" | ".join(h for h in self.headers if h)] if self.headers else []
        for row in self.rows:
            cells = [c.text for c in row if c.text]
            if cells:
                lines.append(" | ".join(cells))
        return "\n".join(lines)


@dataclass(frozen=True)
class Paragraph:
    id: str  # "15 CFR 744.23(a)(3)"; unlabelled text: "15 CFR 744.23(a)#p1"
    label: str | None  # the full label path, "(a)(3)"; None for unlabelled text
    text: str


@dataclass
class Section:
    """A CFR section, or a supplement or appendix, as printed in a REGTEXT block."""

    id: str  # "15 CFR 744.23" | "Supp. 4 to Part 744" | "Appendix B to Part 4022"
    kind: str  # "section" | "supplement" | "appendix"
    number: str  # "744.23" | "4" | "B"
    title: str | None  # CFR title ("15")
    part: str | None
    subject: str  # the section's SUBJECT, or the rest of the heading
    paragraphs: list[Paragraph] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    def paragraph(self, pid: str) -> Paragraph | None:
        return next((p for p in self.paragraphs if p.id == pid), None)

    @property
    def text(self) -> str:
        parts = [p.text for p in self.paragraphs]
        parts.extend(t.text() for t in self.tables)
        return "\n".join(p for p in parts if p)


@dataclass
class RegText:
    """One `REGTEXT` block (or the amendatory text of a proposed rule printed
    without one, `implicit`)."""

    title: str | None
    part: str | None
    amdpars: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    part_heading: str | None = None
    authority: str | None = None
    implicit: bool = False


@dataclass
class Document:
    type: str  # RULE | PRORULE | NOTICE | PRESDOCU
    document_number: str | None
    filed: str | None = None  # "4-14-16; 8:45 am"
    agency: str | None = None  # AGENCY as printed: "DEPARTMENT OF COMMERCE"
    subagency: str | None = None  # SUBAGY: "Bureau of Industry and Security"
    subject: str | None = None
    cfr: list[str] = field(default_factory=list)  # "15 CFR Part 744"
    dockets: list[str] = field(default_factory=list)  # DEPDOC
    rins: list[str] = field(default_factory=list)  # "0694-AJ90"
    action: str | None = None
    summary: str | None = None
    dates: str | None = None
    preamble: str = ""  # the PREAMB text, one block per line
    supplementary: str = ""  # the SUPLINF text without the REGTEXT blocks
    regtexts: list[RegText] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # PRTPAGE numbers met inside

    @property
    def amdpars(self) -> list[str]:
        return [a for r in self.regtexts for a in r.amdpars]

    @property
    def sections(self) -> list[Section]:
        return [s for r in self.regtexts for s in r.sections]

    def section(self, sid: str) -> Section | None:
        return next((s for s in self.sections if s.id == sid), None)

    @property
    def text(self) -> str:
        return "\n".join(t for t in (self.preamble, self.supplementary) if t)


@dataclass
class Issue:
    """A parsed XML file: a daily issue or a single document."""

    documents: list[Document]
    volume: str | None = None
    number: str | None = None
    date: str | None = None

    def by_number(self, number: str) -> Document | None:
        return next((d for d in self.documents if d.document_number == number), None)

    def counts(self) -> dict[str, int]:
        return dict(Counter(d.type for d in self.documents))


# --- parsing ------------------------------------------------------------------------


def safe_parser() -> etree.XMLParser:
    """No entity expansion, no DTD, no network, no huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes) -> Any:
    """The root element of Federal Register XML bytes, or `FedRegXMLError`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or data.isspace():  # not strip(): that copies the bytes
        raise FedRegXMLError("empty document: no Federal Register XML")
    try:
        root = etree.fromstring(data, parser=safe_parser())
    except etree.XMLSyntaxError as exc:
        raise FedRegXMLError(f"malformed Federal Register XML: {exc}") from exc
    if root is None:
        raise FedRegXMLError("no root element")
    return root


def parse_issue(data: bytes) -> Issue:
    """Every document in a FEDREG daily issue, or the one document of a single-document
    file. Documents are in the order they are printed."""
    root = parse_xml(data)
    if root.tag not in ("FEDREG", *DOCUMENT_TAGS) and not root.findall(".//FRDOC"):
        raise FedRegXMLError(f"not Federal Register XML: root element <{root.tag}>")
    docs = [_document(el) for el in _document_elements(root)]
    return Issue(
        documents=docs,
        volume=_child_text(root, "VOL"),
        number=_child_text(root, "NO"),
        date=_child_text(root, "DATE"),
    )


def parse_document(data: bytes) -> Document:
    """The single document of a file (the first one of an issue)."""
    issue = parse_issue(data)
    if not issue.documents:
        raise FedRegXMLError("no RULE, PRORULE, NOTICE or PRESDOCU element found")
    return issue.documents[0]


def _document_elements(root: Any) -> Iterator[Any]:
    if root.tag in DOCUMENT_TAGS:
        yield root
        return
    for el in root.iter(*DOCUMENT_TAGS):
        # a document inside another one (never in practice) is the outer one's text
        if not any(a.tag in DOCUMENT_TAGS for a in el.iterancestors()):
            yield el


def _document(el: Any) -> Document:
    # one pass over the document for what lies anywhere in it (FRDOC and FILED at its
    # end): each pass over a daily issue's 36,000 elements costs ~6 ms
    found: dict[str, list[Any]] = {"FRDOC": [], "FILED": [], "PRTPAGE": [], "REGTEXT": []}
    for child in el.iter(*found):
        found[child.tag].append(child)
    frdoc = found["FRDOC"][0] if found["FRDOC"] else None
    frdoc_text = squeeze(inline_text(frdoc)) if frdoc is not None else ""
    filed_el = found["FILED"][0] if found["FILED"] else None
    filed_text = frdoc_text + " " + (squeeze(inline_text(filed_el)) if filed_el is not None else "")
    number = _FRDOC.search(frdoc_text)
    filed = _FILED.search(filed_text)
    preamb = el.find("PREAMB")
    head = preamb if preamb is not None else el
    doc = Document(
        type=el.tag,
        document_number=number.group(1) if number else None,
        filed=filed.group(1).strip().rstrip("]").strip() if filed else None,
        agency=_child_text(head, "AGENCY"),
        subagency=_child_text(head, "SUBAGY"),
        subject=_child_text(head, "SUBJECT"),
        cfr=[squeeze(inline_text(c)) for c in head.findall("CFR")],
        dockets=[squeeze(inline_text(c)) for c in head.findall("DEPDOC")],
        rins=[re.sub(r"^RIN\s*", "", squeeze(inline_text(c))) for c in head.findall("RIN")],
        action=_caption(head, "ACT"),
        summary=_caption(head, "SUM"),
        dates=_caption(head, "DATES") or _caption(head, "EFFDATE"),
        preamble=block_text(preamb) if preamb is not None else "",
        pages=[p.get("P", "") for p in found["PRTPAGE"] if p.get("P")],
    )
    if el.tag == "PRESDOCU":
        doc.subject = doc.subject or _presidential_subject(el)
    suplinf = el.find("SUPLINF")
    body = suplinf if suplinf is not None else (el if preamb is None else None)
    if body is not None:
        doc.supplementary = block_text(body, skip=("REGTEXT",))
    title = next((m.group(1) for c in doc.cfr if (m := _CFR.search(c))), None)
    doc.regtexts = [_regtext(r, title) for r in found["REGTEXT"]]
    if body is not None and not doc.regtexts:
        implicit = _implicit_regtext(body, title)
        if implicit is not None:
            doc.regtexts.append(implicit)
    return doc


def _presidential_subject(el: Any) -> str | None:
    for tag in ("HD", "PROC", "EXECORDR", "PSIG"):
        found = el.find(f".//{tag}")
        if found is not None and (text := squeeze(inline_text(found))):
            return text
    return None


def _child_text(el: Any, tag: str) -> str | None:
    child = el.find(tag)
    return (squeeze(inline_text(child)) or None) if child is not None else None


def _caption(el: Any, tag: str) -> str | None:
    """The text of a captioned preamble block (`SUM`, `ACT`, ...) without its HD."""
    block = el.find(tag)
    if block is None:
        return None
    return block_text(block, skip=("HD",)) or None


# --- text ---------------------------------------------------------------------------


def squeeze(text: str) -> str:
    return " ".join(text.split())


def _tag(el: Any) -> str | None:
    """The element name; None for entity references, comments and the like."""
    return el.tag if isinstance(el.tag, str) else None


def inline_text(el: Any, *, lines: bool = False) -> str:
    """The text of an element and its inline children.

    Page markers and footnote anchors add nothing (their tails are kept); an
    unexpanded entity reference adds nothing; `SU` becomes superscript digits;
    with `lines`, an `LI` starts a new line.
    """
    if not len(el):  # most elements: text only
        return el.text or ""
    chunks = [el.text or ""]
    for child in el:
        tag = _tag(child)
        if tag is None or tag in DROPPED:
            pass
        elif tag == "SU":
            chunks.append(inline_text(child).translate(SUPERSCRIPT))
        elif tag == "LI":
            chunks.append(("\n" if lines else " ") + inline_text(child, lines=lines) + " ")
        else:
            chunks.append(inline_text(child, lines=lines))
        chunks.append(child.tail or "")
    return "".join(chunks)


def _is_block(el: Any) -> bool:
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and tag not in INLINE:
            return True
    return False


def _blocks(el: Any, skipped: frozenset[str], out: list[str]) -> None:
    """Appends the text of each block of `el` to `out` (a daily issue has ~30,000: a
    plain loop, with text-only elements read directly)."""
    text = el.text
    if text and not text.isspace():
        out.append(text)
    for child in el:
        tag = child.tag
        if not isinstance(tag, str) or tag in skipped:
            pass
        elif tag == "GPOTABLE":
            out.append(parse_table(child).text())
        elif not len(child):
            out.append(child.text or "")
        elif _is_block(child):
            _blocks(child, skipped, out)
        else:
            out.append(inline_text(child))
        tail = child.tail
        if tail and not tail.isspace():
            out.append(tail)


def block_text(el: Any, skip: Sequence[str] = ()) -> str:
    """One line per block element, whitespace collapsed, tables as "cell | cell"."""
    blocks: list[str] = []
    _blocks(el, DROPPED.union(skip), blocks)
    # a printable line has no whitespace but spaces: most lines of an issue need no
    # collapsing, and seeing that costs less than splitting them into words
    lines = [
        line
        if line.isprintable() and "  " not in line and line[:1] != " " and line[-1:] != " "
        else squeeze(line)
        for line in "\n".join(blocks).split("\n")
    ]
    return "\n".join(filter(None, lines))


# --- tables -------------------------------------------------------------------------


def parse_table(el: Any) -> Table:
    """A `GPOTABLE` into leaf headings and rows of cells."""
    title_el = el.find("TTITLE")
    title = squeeze(inline_text(title_el)) if title_el is not None else ""
    return Table(headers=_headers(el), rows=[_row(r) for r in el.iter("ROW")], title=title or None)


def _headers(el: Any) -> list[str]:
    box = el.find("BOXHD")
    if box is None:
        return []
    cheds = [(int(c.get("H", "1") or 1), squeeze(inline_text(c))) for c in box.iter("CHED")]
    leaves: list[str] = []
    path: list[str] = []
    for i, (level, text) in enumerate(cheds):
        path = [*path[: level - 1], text]
        nxt = cheds[i + 1][0] if i + 1 < len(cheds) else 0
        if nxt <= level:
            leaves.append(" — ".join(p for p in path if p))
    return leaves


def _row(el: Any) -> list[Cell]:
    cells = []
    for ent in el.iter("ENT"):
        raw = inline_text(ent, lines=True)
        lines = tuple(s for s in (squeeze(x) for x in raw.split("\n")) if s)
        marks = tuple(squeeze(inline_text(su)) for su in ent.iter("SU"))
        cells.append(Cell(text=squeeze(raw), lines=lines, footnotes=marks))
    return cells


# --- regulatory text ------------------------------------------------------------------


def _regtext(el: Any, default_title: str | None) -> RegText:
    reg = RegText(title=el.get("TITLE") or default_title, part=el.get("PART"))
    _walk_regtext(el, reg)
    return reg


def _implicit_regtext(body: Any, title: str | None) -> RegText | None:
    """Proposed rules sometimes print PART/AMDPAR/SECTION straight in SUPLINF."""
    if next(body.iterchildren("AMDPAR", "SECTION"), None) is None:
        return None
    reg = RegText(title=title, part=None, implicit=True)
    _walk_regtext(body, reg, only=("PART", "AMDPAR", "SECTION", "AUTH"))
    return reg


class _Unit:
    """A supplement or appendix being filled from the elements after its heading."""

    def __init__(self, section: Section) -> None:
        self.section = section
        self.items: list[tuple[Any, bool]] = []  # (element, after STARS)
        self.gap = False


def _walk_regtext(el: Any, reg: RegText, only: Sequence[str] = ()) -> None:
    unit: _Unit | None = None

    def close() -> None:
        nonlocal unit
        if unit is not None:
            _label_paragraphs(unit.section, unit.items)
            unit = None

    def open_unit(section: Section) -> _Unit:
        nonlocal unit
        close()
        unit = _Unit(section)
        reg.sections.append(section)
        return unit

    def walk(node: Any, top: bool) -> None:
        for child in node:
            tag = _tag(child)
            if tag is None or tag in DROPPED or (top and only and tag not in only):
                continue
            if tag == "PART":
                heading = child.find("HD")
                if heading is not None and reg.part_heading is None:
                    reg.part_heading = squeeze(inline_text(heading))
                    match = _PART_HD.match(reg.part_heading)
                    if match and reg.part is None:
                        reg.part = match.group(1)
                walk(child, False)
            elif tag in ("SUBPART", "SUBJGRP"):
                walk(child, False)
            elif tag == "CONTENTS":
                continue  # the part's table of contents repeats the headings only
            elif tag == "AUTH":
                reg.authority = block_text(child, skip=("HD",)) or None
            elif tag == "AMDPAR":
                close()
                reg.amdpars.append(squeeze(inline_text(child)))
            elif tag == "SECTION":
                close()
                reg.sections.append(_section(child, reg))
            elif tag == "HD" and (found := _unit_heading(squeeze(inline_text(child)), reg)):
                open_unit(found)
            elif unit is None:
                if tag == "GPOTABLE":
                    open_unit(_unit_from_amdpar(reg)).section.tables.append(parse_table(child))
            elif tag == "STARS":
                unit.gap = True
            elif tag == "GPOTABLE":
                unit.section.tables.append(parse_table(child))
            else:
                unit.items.append((child, unit.gap))
                unit.gap = False

    walk(el, True)
    close()


def _unit_heading(heading: str, reg: RegText, anywhere: bool = False) -> Section | None:
    """The supplement or appendix a heading ("Supplement No. 4 to Part 744—Entity
    List") opens; with `anywhere`, the first one an AMDPAR names."""
    for kind, pattern in (("supplement", _SUPPLEMENT), ("appendix", _APPENDIX)):
        match = pattern.search(heading) if anywhere else pattern.match(heading.strip())
        if not match:
            continue
        rest = re.sub(r"^[\s—–-]+", "", heading.strip()[match.end() :]) if not anywhere else ""
        part = match.group(2)
        if kind == "supplement":
            number = match.group(1)
            sid = f"Supp. {number} to Part {part}"
        else:
            number = match.group(1).upper()
            sid = f"Appendix {number} to Part {part}"
        return Section(sid, kind, number, reg.title, part, rest)
    return None


def _unit_from_amdpar(reg: RegText) -> Section:
    """A table printed after an AMDPAR with no heading: named after that AMDPAR."""
    found = _unit_heading(reg.amdpars[-1], reg, anywhere=True) if reg.amdpars else None
    if found is not None:
        return found
    label = f"{reg.title} CFR Part {reg.part}" if reg.part else "table"
    return Section(label, "table", "", reg.title, reg.part, "")


def _section(el: Any, reg: RegText) -> Section:
    sectno = el.find("SECTNO")
    raw = squeeze(inline_text(sectno)) if sectno is not None else ""
    number = re.sub(r"^§+\s*", "", raw).strip().rstrip(".")
    subject_el = el.find("SUBJECT")
    subject = squeeze(inline_text(subject_el)) if subject_el is not None else ""
    title = reg.title
    sid = f"{title} CFR {number}" if title and number else (number or "section")
    part = number.split(".")[0] if "." in number else reg.part
    section = Section(sid, "section", number, title, part, subject)
    items: list[tuple[Any, bool]] = []
    gap = False
    for child in el:
        tag = _tag(child)
        if tag in (None, "SECTNO", "SUBJECT", *DROPPED):
            continue
        if tag == "STARS":
            gap = True
        elif tag == "GPOTABLE":
            section.tables.append(parse_table(child))
        else:
            items.append((child, gap))
            gap = False
    _label_paragraphs(section, items)
    return section


# --- paragraph labels ---------------------------------------------------------------

KINDS = ("lower", "digit", "roman", "upper", "idigit", "iroman")
DEPTH = {k: i for i, k in enumerate(KINDS)}
LABEL_MARK = r"\((?:\d{1,3}|[a-z]{1,4}|[A-Z]{1,2})\)"  # "(a)", "(3)", "(iv)", "(B)"
LEADING_LABELS = re.compile(rf"^\s*((?:{LABEL_MARK}\s*)+)")  # "(a)(3) " opening a paragraph
LABEL_TOKEN = re.compile(r"\((\d{1,3}|[a-z]{1,4}|[A-Z]{1,2})\)")
_ROMAN = re.compile(r"^(?=[ivxlc])c{0,3}(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def roman_to_int(token: str) -> int:
    total = 0
    for i, ch in enumerate(token):
        value = _ROMAN_VALUES[ch]
        if i + 1 < len(token) and _ROMAN_VALUES[token[i + 1]] > value:
            total -= value
        else:
            total += value
    return total


def int_to_roman(value: int) -> str:
    out = []
    for number, letters in (
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ):
        while value >= number:
            out.append(letters)
            value -= number
    return "".join(out)


def _letter_ordinal(token: str) -> int | None:
    t = token.lower()
    if len(t) == 1:
        return ord(t) - 96
    if len(set(t)) == 1:  # aa, bbb: the letters after z
        return 26 * (len(t) - 1) + ord(t[0]) - 96
    return None


def candidates(token: str, italic: bool = False) -> list[tuple[str, int]]:
    """The paragraph levels a marker token could stand for, with its ordinal."""
    out: list[tuple[str, int]] = []
    if token.isdigit():
        out.append(("idigit" if italic else "digit", int(token)))
    elif token.islower():
        if _ROMAN.match(token):
            out.append(("iroman" if italic else "roman", roman_to_int(token)))
        if not italic and (n := _letter_ordinal(token)) is not None:
            out.append(("lower", n))
    elif token.isupper() and (n := _letter_ordinal(token)) is not None:
        out.append(("upper", n))
    return out


Level = tuple[str, str, int]  # kind, token, ordinal


def level_score(kind: str, ordinal: int, stack: list[Level | None], gap: bool = False) -> float:
    """How well a marker of `kind` and `ordinal` continues the labels in `stack`;
    `gap` when a printed excerpt skipped text (after stars), so any level may follow."""
    depth = DEPTH[kind]
    if depth < len(stack):
        level = stack[depth]
        if level is None:
            return 1.0
        if ordinal == level[2] + 1:
            return 3.0
        return 1.0 if ordinal > level[2] else 0.1
    if depth == len(stack):
        if ordinal == 1:
            return 3.0
        return 1.0 if gap else 0.5
    return 0.2 if gap or not stack else 0.05


def choose_level(
    options: Sequence[tuple[str, int]],
    stack: list[Level | None],
    lookahead: str | None,
    gap: bool = False,
) -> tuple[str, int] | None:
    """The (kind, ordinal) of `options` (see `candidates`) that best continues the
    labels in `stack`; `lookahead` is the next paragraph's first marker token."""
    if not options:
        return None
    scored = sorted(
        ((level_score(kind, n, stack, gap), -DEPTH[kind], kind, n) for kind, n in options),
        reverse=True,
    )
    best = scored[0]
    if len(scored) > 1 and scored[1][0] == best[0]:
        # "(i)" after "(h)(3)": a letter, unless the next marker is "(ii)"
        roman = next((s for s in scored if s[2] in ("roman", "iroman")), None)
        if roman is not None and lookahead == int_to_roman(roman[3] + 1):
            best = roman
    return best[2], best[3]


def push_level(stack: list[Level | None], level: Level) -> None:
    """Put `level` on the label stack, dropping the levels at and below its depth."""
    depth = DEPTH[level[0]]
    del stack[depth:]
    while len(stack) < depth:
        stack.append(None)  # a level the printed excerpt skipped (after STARS)
    stack.append(level)


def label_path(stack: list[Level | None]) -> str:
    """The full label of the stack: "(a)(3)(i)"."""
    return "".join(f"({level[1]})" for level in stack if level is not None)


def _markers(el: Any) -> tuple[list[str], bool, str]:
    """The leading marker tokens of a paragraph, whether the first is italic, and
    the paragraph's text."""
    text = squeeze(inline_text(el))
    first = next((c for c in el if _tag(c) is not None and _tag(c) not in DROPPED), None)
    italic = (
        first is not None
        and _tag(first) == "E"
        and first.get("T") == "03"
        and not (el.text or "").strip()
        and bool(LEADING_LABELS.match(inline_text(first)))
    )
    lead = LEADING_LABELS.match(text)
    tokens = LABEL_TOKEN.findall(lead.group(1)) if lead else []
    if lead and tokens:
        # "(c) <E T="03">Regulations.</E> (1) Vessels ...": a heading, then the first child
        rest = text[lead.end() :]
        heading = re.match(r"^([^()]{1,200}?[.:—])\s*—?\s*\((1|i|A)\)\s", rest)
        if heading and _italic_heading(el, heading.group(1)):
            tokens.append(heading.group(2))
    return tokens, italic, text


def _italic_heading(el: Any, heading: str) -> bool:
    for child in el:
        if _tag(child) == "E" and child.get("T") in ("03", "04"):
            words = squeeze(inline_text(child)).rstrip(".:—")
            return bool(words) and heading.startswith(words)
    return False


def _label_paragraphs(section: Section, items: list[tuple[Any, bool]]) -> None:
    base = section.id
    stack: list[Level | None] = []
    unlabelled: Counter[str] = Counter()
    prepared: list[tuple[list[str], bool, str, bool]] = []  # tokens, italic, text, gap
    for el, gap in items:
        for block, free in _paragraph_blocks(el):
            if free:
                text = block_text(block) if _is_block(block) else squeeze(inline_text(block))
                prepared.append(([], False, text.replace("\n", " "), gap))
            else:
                tokens, italic, text = _markers(block)
                prepared.append((tokens, italic, text, gap))
            gap = False
    for i, (tokens, italic, text, gap) in enumerate(prepared):
        if not text:
            continue
        lookahead = next((p[0][0] for p in prepared[i + 1 :] if p[0]), None)
        labelled = False
        for j, token in enumerate(tokens):
            options = candidates(token, italic and j == 0)
            chosen = choose_level(options, stack, lookahead if j == 0 else None, gap)
            if chosen is None:
                break
            push_level(stack, (chosen[0], token, chosen[1]))
            labelled = True
        path = label_path(stack)
        if labelled:
            section.paragraphs.append(Paragraph(f"{base}{path}", path, text))
        else:
            unlabelled[path] += 1
            section.paragraphs.append(Paragraph(f"{base}{path}#p{unlabelled[path]}", None, text))


def _paragraph_blocks(el: Any) -> Iterator[tuple[Any, bool]]:
    """(element, free) pairs: `P`/`FP` carry labels; notes, extracts and headings are
    free text under the current paragraph."""
    tag = _tag(el)
    if tag in ("P", "FP", "PSPACE"):
        yield el, False
    elif tag in ("NOTE", "EXTRACT", "FTNT", "EXAMPLE"):
        for child in el:
            if _tag(child) not in (None, *DROPPED, "STARS"):
                yield child, True
    else:
        yield el, True
