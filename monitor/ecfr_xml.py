"""eCFR XML (a versioner `full` answer, or a bulk file) into its sections and appendices.

The reading the `ecfr` watcher stores and `monitor diff` compares, without HTTP:
every section (`DIV8`) and appendix or supplement (`DIV9`) of a part becomes a
`Section`, keyed by its label (`15 CFR 744.23`, `15 CFR 744 Supp. 4`), its text one
paragraph per line (a table row per line, its cells joined by " | "). The watcher
turns sections into `Document`s; `monitor.diff` reads them as they are, so a diff of
two XML files loads neither the HTTP stack nor the document model.

The XML is parsed with entity resolution, DTD loading and network access turned
off: a `DOCTYPE` declaring entities cannot pull a file or a URL into the text, and
an entity reference contributes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from lxml import etree

from monitor.fedreg_xml import safe_parser

READER = "https://www.ecfr.gov/current/"  # the public reader, for each section's link
LABEL_MAX = 50  # documents.document_number is a String(50)

# Elements that hold blocks (each child is a paragraph of its own) and table rows
# (their cells become one line). Anything else under a section is one paragraph,
# its inline markup (<I>, <E>, <SU>, ...) flattened into it.
CONTAINERS = {
    "DIV", "EXTRACT", "NOTE", "NOTES", "EDNOTE", "FTNT", "AUTH", "SOURCE", "APPRO",
    "GPOTABLE", "TABLE", "THEAD", "TBODY", "TFOOT", "CAPTION", "FIG", "SECAUTH",
}  # fmt: skip
ROWS = {"TR", "ROW", "BOXHD"}
ROOTS = {"ECFR", "DLPSTEXTCLASS", "TEXT", "BODY", "ECFRBRWS"}  # wrappers of the bulk files
LEAVES = ("DIV8", "DIV9")


class EcfrXMLError(ValueError):
    """Bytes that are not eCFR XML: one line naming where they came from."""


@dataclass(frozen=True)
class Section:
    """A section, appendix or supplement of a part, as read from the XML."""

    label: str  # "15 CFR 744.23", "15 CFR 744 Supp. 4" (at most LABEL_MAX characters)
    identifier: str  # its identifier in the versions list: "744.23", "Supplement No. 4 ..."
    title: str  # its heading, else its label
    text: str | None  # one paragraph per line, the heading left out; None when empty
    link: str  # the public reader's page


def _inline(el: Any) -> str:
    """The text of an element and its inline children; entity references add nothing."""
    if not len(el):  # most table cells
        return el.text or ""
    chunks = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            chunks.append(_inline(child))
        chunks.append(child.tail or "")
    return "".join(chunks)


def _blocks(el: Any, top: bool = False) -> Iterator[str]:
    """The paragraphs of an element, whitespace squeezed (some of them empty)."""
    if el.text and el.text.strip():
        yield _squeeze(el.text)
    for child in el:
        tag = child.tag if isinstance(child.tag, str) else None
        if tag is None or (top and tag == "HEAD"):
            pass
        elif tag in CONTAINERS:
            yield from _blocks(child)
        elif tag in ROWS:
            cells = [" ".join(_inline(cell).split()) for cell in child if isinstance(cell.tag, str)]
            yield " | ".join(filter(None, cells))
        else:
            yield _squeeze(_inline(child))
        if child.tail and child.tail.strip():
            yield _squeeze(child.tail)


def _squeeze(text: str) -> str:
    return " ".join(text.split())


def section_text(node: Any) -> str:
    """Whitespace normalised, one paragraph per line, the heading left out."""
    return "\n".join(filter(None, _blocks(node, top=True)))


def _heading(node: Any) -> str:
    head = node.find("HEAD")
    return _squeeze(_inline(head)) if head is not None else ""


def _part_of(node: Any) -> str | None:
    for ancestor in node.iterancestors("DIV5"):
        return _squeeze(ancestor.get("N", "")) or None
    match = re.search(r"/part-([0-9A-Za-z]+)", node.get("hierarchy_metadata", ""))
    return match.group(1) if match else None


def _short(label: str) -> str:
    if len(label) <= LABEL_MAX:
        return label
    digest = hashlib.sha1(label.encode()).hexdigest()[:8]
    return f"{label[: LABEL_MAX - 9]}~{digest}"


def _section_number(node: Any, heading: str) -> str:
    number = _squeeze(node.get("N", "")).lstrip("§ ").strip()
    if not number:
        match = re.match(r"§+\s*([0-9A-Za-z.\-]+)", heading)
        number = match.group(1).rstrip(".") if match else ""
    return number


def label_of(node: Any, title: int, part: str, heading: str) -> tuple[str, str, str]:
    """The label, the versions-list identifier and the reader link of a node."""
    if node.tag == "DIV8":
        number = _section_number(node, heading)
        link = f"{READER}title-{title}/section-{quote(number)}"
        return _short(f"{title} CFR {number}"), number, link
    name = _squeeze(node.get("N", "")) or heading
    link = f"{READER}title-{title}/part-{quote(part)}/appendix-{quote(name)}"
    supplement = re.fullmatch(r"(?i)supplement\s+no\.?\s*(\S+)\s+to\s+part\s+(\S+)", name)
    appendix = re.fullmatch(r"(?i)appendix\s+(\S+)\s+to\s+part\s+(\S+)", name)
    if supplement:
        label = f"{title} CFR {supplement.group(2)} Supp. {supplement.group(1)}"
    elif appendix:
        label = f"{title} CFR {appendix.group(2)} App. {appendix.group(1)}"
    else:
        label = f"{title} CFR {part} {name}"
    return _short(label), name, link


def read_part(body: bytes, shown: str, title: int, part: str) -> tuple[list[Section], list[str]]:
    """Every section and appendix of `part` in eCFR XML, and notes on what was skipped;
    `shown` names the input in errors and notes (a URL with its secrets masked, a
    file name)."""
    try:
        root = etree.fromstring(body, safe_parser())
    except etree.XMLSyntaxError as exc:
        head = body[:40].decode("utf-8", "replace")
        raise EcfrXMLError(
            f"{shown}: not well-formed XML ({_squeeze(str(exc))}; starts {_squeeze(head)!r})"
        ) from None
    if root is None:
        raise EcfrXMLError(f"{shown}: empty XML document")
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag.lower() == "html" or tag.lower().endswith("}html"):
        raise EcfrXMLError(f"{shown}: an HTML page, not eCFR XML")
    if not (re.fullmatch(r"DIV[1-9]", tag) or tag in ROOTS):
        raise EcfrXMLError(f"{shown}: not eCFR XML (root element <{tag}>)")
    nodes = [
        n
        for n in root.iter(*LEAVES)
        if next(n.iterancestors(*LEAVES), None) is None and _part_of(n) in (part, None)
    ]
    sections: list[Section] = []
    notes: list[str] = []
    seen: set[str] = set()
    for node in nodes:
        heading = _heading(node)
        label, identifier, link = label_of(node, title, part, heading)
        if label in seen:  # one section per label, or the second would "change" the first
            notes.append(f"{shown}: a second {label!r} skipped")
            continue
        seen.add(label)
        sections.append(
            Section(label, identifier, heading or label, section_text(node) or None, link)
        )
    if not sections:
        notes.append(f"{shown}: no sections or appendices of part {part}")
    return sections, notes
