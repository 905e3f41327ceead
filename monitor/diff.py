"""Diffs of rule texts, keyed by CFR paragraph label, and of Entity List versions.

The way eRegs' regulations-parser diffs a regulation tree: each side is a list of
`Unit`s (a section, a paragraph label such as "(a)(3)", and its text), and the diff
says per label what was added, modified or deleted. Text without a label (a
preamble line, a note, a table row) is compared as a sequence of lines inside its
section. On top of that:

- **normalised before comparing**: Unicode NFC; soft hyphens and zero-width
  characters dropped; typographic quotes, dashes and ellipses as ASCII; end-of-line
  hyphenation ("semi-\\nconductor") and hyphens inside words ignored; whitespace
  collapsed. A reflowed, re-spaced or re-quoted paragraph is no change, and a run of
  unlabelled lines that only breaks differently ("a\\nb" vs "a b") is none either;
- **moved paragraphs**: a paragraph whose text (without its leading label) leaves one
  label or position and appears, unchanged, at another (a redesignation, a paragraph
  moved to another section) is reported as moved, not as a deletion and an addition;
- **section-aware**: a section present on one side only is "added" or "removed" as a
  whole, and changes are grouped by section;
- **word-level detail** for a modified paragraph (difflib on word tokens; in two of
  more than 4,000 characters together, the lines (as read) or sentences printed the
  same on both sides are matched first, and only the others are split into words; in
  two of more than 40,000, what they share is also normalised once for both sides);
- **bounded work on any input**: lines and words are matched by anchors
  (`monitor.matching`), difflib only inside small gaps; a long run of changed lines
  pairs in order; moves are found by hashing their text.

Inputs: a mapping label -> text (`units_from_mapping`: "15 CFR 744.23(a)(3)" ->
text, as `monitor.fedreg_xml` names paragraphs), a parsed Federal Register XML file
(`units_from_fr`), an eCFR XML part or stored eCFR `Document` (its text split into
paragraphs by their labels, `units_from_document`), or plain text (`units_from_text`).
Entity List data (a Consolidated Screening List CSV, FR XML with Supplement No. 4
tables, or the eCFR's Supplement No. 4 itself, its table stored a row per line:
`entity_rows`) is diffed entry by entry, keyed by country and name (`entity_diff`,
`monitor.entities.diff_entries`).

Renders: `TextDiff.render_text()` (unified-style text with `[-old-]{+new+}` word
marks), `render_html()` (inline `<ins>`/`<del>`, built by an autoescaping Jinja2
template), `summary()` ("§744.23(a)(3) revised; 2 paragraphs added; 1 moved;
3 Entity List entries added: China 2, Taiwan 1") and `to_json()`.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from itertools import accumulate, compress, groupby, repeat
from operator import attrgetter, is_, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from monitor.fedreg_xml import (
    LABEL_MARK,
    LABEL_TOKEN,
    LEADING_LABELS,
    Level,
    candidates,
    choose_level,
    label_path,
    push_level,
    squeeze,
)
from monitor.matching import equal_runs, opcodes, quick_opcodes, trim

if TYPE_CHECKING:  # pragma: no cover
    from monitor.document import Document
    from monitor.entities import EntityDiff, EntityEntry


class DiffInputError(ValueError):
    """An input that cannot be diffed (missing, unknown format, malformed): one line."""


# --- normalisation --------------------------------------------------------------------

# str.translate looks every character up in a dict, and a regular expression calls back
# into Python for each character it replaces (slow on long non-ASCII text): each
# character found in the text is replaced by str.replace instead
_INVISIBLE = dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", "")
_FOLDED = _INVISIBLE | {
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "‒": "-", "−": "-",
    "–": " - ", "—": " - ", "―": " - ",
    "…": "...",
}  # fmt: skip


def _replaced(text: str, table: dict[str, str]) -> str:
    """Each character of `table` in `text` replaced; a dash folded to " - " takes the
    spaces next to it along, so that a text with one space between words keeps one
    (and need not be split and joined again)."""
    for char, by in table.items():
        if char in text:
            if by == " - ":
                text = text.replace(f" {char} ", by).replace(f" {char}", by)
                text = text.replace(f"{char} ", by)
            text = text.replace(char, by)
    return text


# "end-user", "semi-\nconductor"; the hyphen first, then what is before it: the regex
# engine then skips to each hyphen instead of trying the look-behind everywhere (one
# expression per hyphen: a literal is found faster than a character class)
_EOL_HYPHENS = {h: re.compile(rf"{h}(?<=\w{h})[ \t]*\r?\n\s*(?=\w)") for h in "-‐‑"}
_WORD_HYPHEN = re.compile(r"-(?<=\w-)(?:[ \t]*\r?\n\s*)?(?=\w)")
# "a--b", "a -- b": the same dash as "a — b", with the one space on each side (the
# whitespace around it is collapsed after; matching all of it here, "\s*-{2,}\s*",
# would scan a long run of spaces again from each of its positions)
_DASHES = re.compile(r" ?-{2,} ?")
_SECTION_SIGN = re.compile(r"§\s+")
# the whitespace characters but " " (str.isspace), ASCII first
_ASCII_SPACES = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
_OTHER_SPACES = (
    "\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
)


_SPACES = _ASCII_SPACES + _OTHER_SPACES


def _collapsed(text: str) -> bool:
    """Whether `" ".join(text.split())` is `text`, as most long texts already are (a
    paragraph as read): found by a few searches in C instead of a split and a join of
    each of its words (on a short text, splitting is as fast); a search for one
    character is faster than `str.isprintable`, and an ASCII text needs nine."""
    if len(text) < 1000 or "  " in text or text[:1] == " " or text[-1:] == " ":
        return False
    return not any(c in text for c in (_ASCII_SPACES if text.isascii() else _SPACES))


def clean(text: str) -> str:
    """Text as shown: NFC, invisible characters dropped, end-of-line hyphenation
    joined (the hyphen kept), whitespace collapsed. The invisible characters go first:
    one between a letter and its accent would keep them apart."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", _replaced(text, _INVISIBLE))
    if "\n" in text:
        for hyphen, joined in _EOL_HYPHENS.items():
            if hyphen in text:
                text = joined.sub(hyphen, text)
    return text if _collapsed(text) else " ".join(text.split())


def normalise(text: str) -> str:
    """The comparison key of a text: typographic quotes and dashes as ASCII, soft
    hyphens, end-of-line hyphenation, hyphens inside words and whitespace folded.
    Case and every other character count."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
        text = _replaced(text, _FOLDED)
        if "§" in text:
            text = _SECTION_SIGN.sub("§", text)
    if "-" in text:
        text = _WORD_HYPHEN.sub("", text)
        if "--" in text:
            text = _DASHES.sub(" - ", text)
    return text if _collapsed(text) else " ".join(text.split())


_FOLDS = {char: by for char, by in _FOLDED.items() if char not in _INVISIBLE}


def _normalise_clean(text: str) -> str:
    """`normalise` of a clean text (`clean`: NFC, no invisible character, one space
    between words), which needs no Unicode normalisation and no check for
    whitespace to collapse unless a dash folded to " - " meets another or an end of
    the text: each dash splits the text, and the spaces next to it are dropped from
    the pieces it leaves (one pass, not one per way a space can stand by it)."""
    single = True  # one space between words
    if not text.isascii():
        for char, by in _FOLDS.items():
            if char not in text:
                continue
            if by != " - ":
                text = text.replace(char, by)
                continue
            pieces = text.split(char)
            last = len(pieces) - 1
            for k, piece in enumerate(pieces):
                if k and piece[:1] == " ":
                    piece = piece[1:]
                if k < last and piece[-1:] == " ":
                    piece = piece[:-1]
                pieces[k] = piece
                single = single and bool(piece)
            text = " - ".join(pieces)
        if "§ " in text:
            text = _SECTION_SIGN.sub("§", text)
    if "-" in text:
        text = _WORD_HYPHEN.sub("", text)
        if "--" in text:
            text = _DASHES.sub(" - ", text)
            single = False
    return text if single else " ".join(text.split())


# --- paragraph labels -----------------------------------------------------------------

_MARK = re.compile(LABEL_MARK)


def split_ident(key: str) -> tuple[str, str | None, str | None]:
    """(section, label, n) of a paragraph id: "15 CFR 744.23(a)(3)" -> ("15 CFR
    744.23", "(a)(3)", None), "15 CFR 744.23(a)#p2" -> (..., "(a)", "2"), "Supp. 4 to
    Part 744" -> (it, None, None). Read from the end, one marker at a time: a regex
    looking for the shortest section would try every position of the key, and match
    the markers after each one again."""
    head, mark, part = key.rpartition("#p")
    n: str | None = part if mark and part.isdecimal() else None
    if n is None:
        head = key
    end = len(head)
    while head.endswith(")", 0, end):
        start = head.rfind("(", 0, end)
        if start < 0 or not _MARK.fullmatch(head, start, end):
            break
        end = start
    return head[:end], head[end:] or None, n


def _choose(token: str, stack: list[Level | None], lookahead: str | None) -> Level | None:
    """The level a marker stands for after the labels in `stack` (the CFR hierarchy
    (a) > (1) > (i) > (A) > italic (1) > italic (i), italics lost in plain text)."""
    options = candidates(token)
    if len(stack) >= 4:  # below (A): "(1)" and "(i)" may be the italic levels
        options += [o for o in candidates(token, italic=True) if o not in options]
    chosen = choose_level(options, stack, lookahead)
    return None if chosen is None else (chosen[0], token, chosen[1])


def label_paragraphs(paragraphs: Sequence[str]) -> list[tuple[str | None, str]]:
    """(label, parent) of each paragraph: "(a)", "(1)", "(i)" at the start of a
    paragraph give the full label path ("(a)(1)(i)"); a paragraph without one has no
    label and sits under the last label seen (its parent)."""
    leads = [
        LABEL_TOKEN.findall(m.group(1)) if (m := LEADING_LABELS.match(p)) else []
        for p in paragraphs
    ]
    # the first marker of the next paragraph that has one, from each paragraph on
    ahead: list[str | None] = [None] * len(leads)
    upcoming = None
    for i in range(len(leads) - 1, -1, -1):
        ahead[i] = upcoming
        if leads[i]:
            upcoming = leads[i][0]
    stack: list[Level | None] = []
    out: list[tuple[str | None, str]] = []
    for tokens, lookahead in zip(leads, ahead, strict=True):
        labelled = False
        for j, token in enumerate(tokens):
            level = _choose(token, stack, lookahead if j == 0 else None)
            if level is None:
                break
            push_level(stack, level)
            labelled = True
        path = label_path(stack)
        out.append((path, "") if labelled else (None, path))
    return out


def strip_label(text: str) -> str:
    """The text without its leading paragraph markers."""
    match = LEADING_LABELS.match(text)
    return text[match.end() :] if match else text


# --- units ----------------------------------------------------------------------------


class Unit(NamedTuple):
    """One comparable piece of a text (a tuple: a daily issue makes ~30,000 a side,
    built and compared in C)."""

    section: str  # "15 CFR 744.23", "Supp. 4 to Part 744", "FR Doc. 2016-08717", ""
    label: str | None  # "(a)(3)", or a name ("heading", "title"); None: unlabelled text
    text: str
    parent: str = ""  # unlabelled text: the label it sits under


_SECTION_HEAD = re.compile(r"^\s*§+\s*(\d+\.\d+[A-Za-z0-9-]*)\.?(?:\s|$)")
_SUPPLEMENT_HEAD = re.compile(r"^\s*Supplement\s+No\.?\s*(\d+)\s+to\s+Part\s+(\d+)", re.I)
_APPENDIX_HEAD = re.compile(r"^\s*Appendix\s+([A-Z0-9]+(?:-\d+)?)\s+to\s+Part\s+(\d+)", re.I)
_STARS = re.compile(r"^\s*\*[\s*]*$")  # "* * *"; "\s*" first: no two ways to read a star
_CLOSERS = frozenset(".;:!?")  # the last character of a line that closes a sentence...
_CLOSING = "\"')]"  # ...before these
_HEADS = frozenset("SsſAa")  # what "Supplement" and "Appendix" start with (ignoring case)
# the first character of a line that opens a paragraph of its own: a label, "* * *", a
# heading; any other line is read without a regular expression
_OPENERS = frozenset("(*§") | _HEADS


def _closes_sentence(line: str) -> bool:
    return line.rstrip(_CLOSING)[-1:] in _CLOSERS


def _heading_section(line: str) -> str | None:
    """The section a plain-text heading line opens ("§ 744.23 Title." -> "§744.23")."""
    if len(line) > 200:
        return None
    first = line.lstrip()[:1]
    if first == "§" and (m := _SECTION_HEAD.match(line)):
        return f"§{m.group(1)}"
    if first not in _HEADS:
        return None
    if m := _SUPPLEMENT_HEAD.match(line):
        return f"Supp. {m.group(1)} to Part {m.group(2)}"
    if m := _APPENDIX_HEAD.match(line):
        return f"Appendix {m.group(1).upper()} to Part {m.group(2)}"
    return None


def split_paragraphs(
    text: str, reflow: bool = False, lines: dict[str, list[str]] | None = None
) -> list[str]:
    """Paragraphs of a text. Without `reflow`, one per line (the XML-derived texts).
    With it (plain text, hard-wrapped), a paragraph runs on until a blank line, a line
    opening with a paragraph label, a section heading or "* * *"; without blank lines
    in the text, a line also ends an unlabelled paragraph when it closes a sentence
    and the next one starts like a new sentence. `lines` gets the lines of each long
    paragraph that is its lines joined by spaces, which `_Aligned` compares."""
    raw = text.splitlines()
    if not reflow:
        return [c for c in (clean(line) for line in raw) if c]
    stripped = list(map(str.strip, raw))
    count = len(stripped)
    blank_mode = not all(stripped[1:-1])
    # the blank lines and those whose first character may open a paragraph of their
    # own (found in C): a labelled paragraph, or any between blank lines, takes every
    # line up to the next of them
    stops = list(compress(range(count), map(_STOPS.__contains__, map(_FIRST, stripped))))
    stops.append(count)
    out: list[list[str]] = []
    current: list[str] | None = None
    # what the first line of the current paragraph is: labelled, "* * *", a heading
    labelled = stars = heading = False
    k = 0
    while k < count:
        line = stripped[k]
        k += 1
        if not line:
            current = None
            continue
        label = star = head = False
        if _may_open(line):
            first = line[0]
            if first == "(":
                label = LEADING_LABELS.match(line) is not None
            elif first == "*":
                star = _STARS.match(line) is not None
            else:
                head = _heading_section(line) is not None
        if (
            current is not None
            and not (label or star or head or stars or heading)
            and (labelled or blank_mode or not _closes_sentence(current[-1]) or line[0].islower())
        ):
            current.append(line)
        else:
            current = [line]
            labelled, stars, heading = label, star, head
            out.append(current)
        if (labelled or blank_mode) and not (stars or heading):
            up_to = stops[bisect.bisect_left(stops, k)]
            current += stripped[k:up_to]
            k = up_to
    paragraphs: list[str] = []
    for group in out:
        if len(group) == 1:
            paragraph = clean(group[0])
        else:
            # joined by newlines where a line ends as hyphenation can, else by spaces
            # (the same once cleaned, and one space between words is kept as it is)
            ends = set(map(_LAST, group))
            spaced = _JOINERS.isdisjoint(ends)
            joined = (" " if spaced else "\n").join(group)
            paragraph = clean(joined)
            # its lines joined by spaces when cleaning changed nothing; not where a
            # line ends with "§", which takes the space after it
            as_joined = paragraph is joined and len(paragraph) > LONG
            if lines is not None and as_joined and "§" not in ends:
                lines[paragraph] = group
        if paragraph:
            paragraphs.append(paragraph)
    return paragraphs


_FIRST = itemgetter(slice(0, 1))  # a line's first character ("" for a blank line)
_LAST = itemgetter(-1)
_STOPS = _OPENERS | {""}


def _may_open(line: str) -> bool:
    """Whether a stripped line may open a paragraph of its own: a label, "* * *", a
    heading ("§ 744.23", "Supplement No. 4 to Part 744", "Appendix A to Part 744")."""
    first = line[0]
    return first in "(*§" or (first in _HEADS and line[1:2] in "uUpP")  # "Su", "Ap"


# the last characters of a line that may join the next without a space: a hyphen, and
# what cleaning drops (end-of-line hyphenation is read after it)
_JOINERS = frozenset("-‐‑") | frozenset(_INVISIBLE)


def units_from_text(
    text: str,
    section: str = "",
    *,
    reflow: bool = True,
    labels: bool = True,
    lines: dict[str, list[str]] | None = None,
) -> list[Unit]:
    """Units of a text: paragraphs labelled by their leading "(a)", "(1)"...; with
    `reflow` (plain text) "§ 744.23 ..." and "Supplement No. 4 to Part 744" heading
    lines open sections of their own. `lines`: see `split_paragraphs`."""
    groups: list[tuple[str, list[str]]] = [(section, [])]
    for paragraph in split_paragraphs(text, reflow, lines):
        opened = _heading_section(paragraph) if reflow else None
        if opened is not None:
            groups.append((opened, [paragraph]))
        else:
            groups[-1][1].append(paragraph)
    units: list[Unit] = []
    for name, paragraphs in groups:
        if not paragraphs:
            continue
        body = paragraphs
        if reflow and name != section and _heading_section(paragraphs[0]) == name:
            units.append(Unit(name, "heading", paragraphs[0]))
            body = paragraphs[1:]
        marks = label_paragraphs(body) if labels else [(None, "")] * len(body)
        units.extend(Unit(name, lab, p, par) for (lab, par), p in zip(marks, body, strict=True))
    return units


def units_from_mapping(mapping: Mapping[str, str], *, reflow: bool = False) -> list[Unit]:
    """Units of a mapping label -> text: "15 CFR 744.23(a)(3)" is the paragraph (a)(3)
    of section "15 CFR 744.23", "15 CFR 744.23(a)#p1" unlabelled text under (a), and a
    key without a label ("15 CFR 744.23", an eCFR section) a whole text split by its
    paragraph labels."""
    units: list[Unit] = []
    for key, text in mapping.items():
        section, label, n = split_ident(key.strip())
        section = section.strip()
        if n:
            units.append(Unit(section, None, clean(text), label or ""))
        elif label:
            units.append(Unit(section, label, clean(text)))
        else:
            units.extend(units_from_text(text, key.strip(), reflow=reflow))
    return units


def _ecfr_units(label: str, title: str | None, text: str | None) -> list[Unit]:
    """Units of an eCFR section as the `ecfr` watcher stores it: its heading, and its
    text (a paragraph per line) split by paragraph labels."""
    units = [Unit(label, "heading", clean(title))] if title else []
    return units + units_from_text(text or "", label, reflow=False)


def units_from_document(doc: Document) -> list[Unit]:
    """Units of a stored document: an eCFR section's heading and its text split by
    paragraph labels; for other documents the title, action, abstract and dates, and
    the text line by line."""
    if doc.collection == "ecfr":
        return _ecfr_units(doc.document_number, doc.title, doc.text)
    section = f"FR Doc. {doc.document_number}" if doc.collection == "fr" else doc.document_number
    units = [
        Unit(section, name, clean(value))
        for name in ("title", "action", "abstract", "dates", "citation")
        if (value := getattr(doc, name, None))
    ]
    text = units_from_text(doc.text or "", section, reflow=False, labels=False)
    return units + text


def read_document(doc: Document) -> tuple[list[Unit], list[EntityEntry] | None]:
    """Units of a stored document and, for an eCFR text holding the Entity List table
    (Supplement No. 4 to part 744), its entries in place of its rows (`entity_rows`)."""
    units = units_from_document(doc)
    return entity_rows(units) if doc.collection == "ecfr" else (units, None)


def _destination(cell: str) -> bool:
    """A cell naming a destination as the list heads it ("CHINA, PEOPLE'S REPUBLIC OF")."""
    from monitor.entities import country_code

    return cell.isupper() and country_code(cell) is not None


def entity_rows(units: list[Unit]) -> tuple[list[Unit], list[EntityEntry] | None]:
    """The Entity List table in a text stored by the `ecfr` watcher, read entry by
    entry, and the units left; None for the entries when the text has no such table.

    The watcher stores a row per line, its cells joined by " | " and the empty ones
    left out: five cells are Country | Entity | License requirement | License review
    policy | Federal Register citation; four, an entry under the destination of a row
    above (its country cell empty); one naming a destination, the row heading it.
    Entries are keyed by country and name (`monitor.entities.diff_entries`), so an
    entry added, removed or revised is one change. A row read any other way (a cell
    missing inside it) stays a line of text, compared as one."""
    from monitor.entities import COLUMNS, is_entity_table
    from monitor.fedreg_xml import Table

    start = next(
        (
            k
            for k, unit in enumerate(units)
            if unit.label is None
            and " | " in unit.text
            and is_entity_table(Table(unit.text.split(" | "), []))
        ),
        None,
    )
    if start is None:
        return units, None
    headers = tuple(units[start].text.split(" | "))
    entries: list[EntityEntry] = []
    rest = units[:start]
    heading = ""  # the destination the rows are under
    for unit in units[start + 1 :]:
        cells = tuple(unit.text.split(" | ")) if unit.label is None else ()
        if cells == headers:  # the heading row again: the table goes on
            continue
        if len(cells) == 1 and _destination(cells[0]):
            heading = cells[0]
        elif len(cells) == 4 and not _destination(cells[0]):
            entry = _row_entry(headers, (heading, *cells))
            entries += [entry] if entry is not None else []
        elif len(cells) == len(COLUMNS):
            heading = cells[0] or heading
            entry = _row_entry(headers, (heading, *cells[1:]))
            entries += [entry] if entry is not None else []
        else:
            rest.append(unit)
    return rest, entries


@lru_cache(maxsize=16_384)  # a row printed alike in both versions is read once
def _row_entry(headers: tuple[str, ...], cells: tuple[str, ...]) -> EntityEntry | None:
    """The entry of one row, its destination's heading in its country cell."""
    from monitor.entities import entries_from_table
    from monitor.fedreg_xml import Cell, Table

    row = [Cell(text=c, lines=(c,) if c else ()) for c in cells]
    found = entries_from_table(Table(list(headers), [row]))
    return found[0] if found else None


def entity_diff(old: Sequence[EntityEntry], new: Sequence[EntityEntry]) -> EntityDiff:
    """`monitor.entities.diff_entries` of the entries whose key is not listed alike on
    both sides (the same result: an entry listed alike is no change, and one sharing
    a key with a changed one is kept with it): the thousands of entries a new version
    of the whole list leaves as they are are not compared field by field."""
    from monitor.entities import diff_entries

    keys: dict[int, tuple[str, str]] = {}  # an entry read once is one object, keyed once

    def key(entry: EntityEntry) -> tuple[str, str]:
        found = keys.get(id(entry))
        if found is None:
            found = keys[id(entry)] = entry.key
        return found

    groups_old: defaultdict[tuple[str, str], list[EntityEntry]] = defaultdict(list)
    groups_new: defaultdict[tuple[str, str], list[EntityEntry]] = defaultdict(list)
    for entry in old:
        groups_old[key(entry)].append(entry)
    for entry in new:
        groups_new[key(entry)].append(entry)
    alike = {k for k, group in groups_old.items() if groups_new.get(k) == group}
    return diff_entries(
        [e for e in old if key(e) not in alike], [e for e in new if key(e) not in alike]
    )


# --- comparing ------------------------------------------------------------------------

MIN_MOVE = 20  # characters of normalised text a paragraph needs to count as moved
# a word or another character, and the whitespace after it (every other character is
# in a token, so the whitespace is all that lies between two tokens)
_WORDS = re.compile(r"(\w+(?:[-‐‑'’]\w+)*|[^\w\s])(\s*)")


@dataclass(eq=False)
class _Item:
    """A unit that differs from what the other side has at its place. Its comparison
    keys are computed when asked for: two long paragraphs found different by their
    alignment (`_Findings.same`) are never normalised unless one may have moved."""

    unit: Unit
    index: int  # position in its section
    findings: _Findings = field(repr=False)
    slot: str = ""  # the label, made unique in the section; "" for unlabelled text
    number: int = 0  # unlabelled: n-th under its parent

    @cached_property
    def key(self) -> str:  # normalised text
        return self.findings.key(self.unit.text)

    @cached_property
    def body(self) -> str:  # normalised text without its leading label
        text, label = self.unit.text, self.unit.label
        labelled = label is not None and label.startswith("(")
        return self.findings.body(text, self.key) if labelled else self.key

    @cached_property
    def letters(self) -> int:
        """How many "e" its body holds, read from its text: normalising a clean text
        changes no letter, so two texts with one body hold as many (`_Sources`)."""
        text, label = self.unit.text, self.unit.label
        found = LEADING_LABELS.match(text) if label is not None and label[:1] == "(" else None
        return text.count("e", found.end() if found else 0)

    @property
    def deferred(self) -> bool:
        """A long clean text: looked for among moves by `letters` before its body."""
        return self.findings.cleaned and len(self.unit.text) > LONG

    @property
    def ident(self) -> str:
        u = self.unit
        if u.label is None:
            return f"{u.section}{u.parent}#p{self.number}"
        if u.label.startswith("("):
            return f"{u.section}{self.slot}"
        return f"{u.section} {self.slot}".strip()

    @property
    def display(self) -> str:
        u = self.unit
        short = section_display(u.section)
        if u.label is None:
            return f"{short}{u.parent} ¶{self.number}"
        if u.label.startswith("("):
            return f"{short}{self.slot}"
        return f"{short} {self.slot}"


@cache  # a few sections, shown once per change
def section_display(section: str) -> str:
    """ "15 CFR 744.23" -> "§744.23"; other sections as they are ("" -> "text")."""
    match = re.fullmatch(r"\d+ CFR (\d+\.\d+\S*)", section)
    if match:
        return f"§{match.group(1)}"
    return section or "text"


def _by_section(units: Iterable[Unit]) -> dict[str, list[Unit]]:
    sections: dict[str, list[Unit]] = {}
    for section, run in groupby(units, attrgetter("section")):  # a section's units in a row
        sections.setdefault(section, []).extend(run)
    return sections


def _word_at(text: str, i: int) -> str | None:
    """The word (or mark) that starts at `i`, if one does."""
    m = _WORDS.match(text, i)
    return m[1] if m else None


def _key(token: str) -> str:
    """A token's comparison key: most tokens are plain ASCII words, their own key, and
    so is the shared text around a change (the only token with a space)."""
    if (token.isascii() and "-" not in token) or " " in token:
        return token
    return normalise(token)


def _keys(tokens: list[tuple[str, str]]) -> list[str]:
    """`_key` of each (token, whitespace), without a call for each plain word."""
    return [t if (t.isascii() and "-" not in t) or " " in t else normalise(t) for t, _ in tokens]


def _around_change(old: str, new: str) -> tuple[list, list] | None:
    """The (token, whitespace) of two cleaned paragraphs, split into words only where
    they differ: what they share at their start, and at their end, cut at a space, is
    one token on each side (the same on both, so it compares equal and shows as it
    is). None when difflib could then match otherwise than word by word: when the
    words on the two sides of a cut compare equal, or in a paragraph long enough for
    difflib's junk heuristic."""
    if len(new) > 2000:
        return None
    head, tail = trim(old, new)
    q = old.rfind(" ", 0, head) + 1  # the shared start ends after a space
    start = len(old) - tail  # the shared end starts after a space on both sides
    if start and old[start - 1] == " " and new[len(new) - tail - 1] == " ":
        r = start
    else:
        r = old.find(" ", start) + 1 or len(old)
    rb = r + len(new) - len(old)
    middle_a, middle_b = _WORDS.findall(old, q, r), _WORDS.findall(new, q, rb)
    first_a = middle_a[0][0] if middle_a else r < len(old) and _word_at(old, r)
    first_b = middle_b[0][0] if middle_b else rb < len(new) and _word_at(new, rb)
    if first_a and first_b and _key(first_a) == _key(first_b):
        return None
    before = q and _WORDS.findall(old, old.rfind(" ", 0, q - 1) + 1, q)[-1][0]
    last_a = middle_a[-1][0] if middle_a else before
    last_b = middle_b[-1][0] if middle_b else before
    if last_a and last_b and _key(last_a) == _key(last_b):
        return None
    shared_head = [(old[: q - 1], " ")] if q else []
    shared_tail = [(old[r:], "")] if r < len(old) else []
    return shared_head + middle_a + shared_tail, shared_head + middle_b + shared_tail


LONG = 20_000  # characters of a paragraph past which it is compared by its lines or sentences
WORDY = 4_000  # characters of two paragraphs past which their word diff is too


@dataclass
class _Aligned:
    """Two long texts (a whole unlabelled text can be one paragraph) in pieces: the
    lines they were read from, joined by spaces, or else cut after each ". "; and the
    runs of pieces printed the same on both sides. What differs between the texts is
    what lies between these runs, and only that is normalised twice or split into
    words. Normalising is local at such a cut (no fold, hyphen, dash or space rule
    reaches over a ". " or over the space between two lines, but after a "§", which
    `split_paragraphs` sees to), so a text's key is the keys of its stretches joined
    by a space, and a stretch printed the same on both sides is normalised once."""

    old: str
    new: str
    at_old: list[int]  # where each piece starts, and one past the end
    at_new: list[int]
    runs: list[tuple[int, int, int]]  # (i, j, n): pieces i.. of old are j.. of new

    @classmethod
    def of(
        cls,
        old: str,
        new: str,
        lines_old: list[str] | None = None,
        lines_new: list[str] | None = None,
    ) -> _Aligned:
        """The alignment of two texts, by their lines when both sides have them."""
        if lines_old is not None and lines_new is not None:
            pieces_old, pieces_new, cut = list(lines_old), list(lines_new), " "
        else:
            pieces_old, pieces_new, cut = old.split(". "), new.split(". "), ". "
        step = len(cut).__add__
        at_old = list(accumulate(map(step, map(len, pieces_old)), initial=0))
        at_new = list(accumulate(map(step, map(len, pieces_new)), initial=0))
        # the last piece has no cut after it: it equals the last piece only (no other
        # piece ends with the cut)
        pieces_old[-1] += cut
        pieces_new[-1] += cut
        return cls(old, new, at_old, at_new, equal_runs(pieces_old, pieces_new))

    def stretches(self) -> Iterator[tuple[bool, int, int, int, int]]:
        """(shared, start, end in old, start, end in new) of each stretch in order."""
        at_old, at_new = self.at_old, self.at_new
        i0 = j0 = 0
        for i, j, n in [*self.runs, (len(at_old) - 1, len(at_new) - 1, 0)]:
            if i0 < i or j0 < j:
                yield False, at_old[i0], at_old[i], at_new[j0], at_new[j]
            if n:
                yield True, at_old[i], at_old[i + n], at_new[j], at_new[j + n]
            i0, j0 = i + n, j + n

    def verdict(self, key: Callable[[str], str]) -> bool | None:
        """Whether the texts are the same once normalised, from the stretches they do not
        share: the same when each of these is (their keys being the keys of their
        stretches joined by a space), not when the keys these make differ in length
        (what they share adds as much to both); None when that does not tell."""
        lengths = [0, 0]
        equal = True
        for shared, a1, a2, b1, b2 in self.stretches():
            if shared:
                continue
            key_old = key(self.old[a1 : a2 - 1]) if a1 < a2 else ""
            key_new = key(self.new[b1 : b2 - 1]) if b1 < b2 else ""
            equal = equal and key_old == key_new
            # each stretch with a key adds a space between it and the next one
            lengths[0] += len(key_old) + bool(key_old)
            lengths[1] += len(key_new) + bool(key_new)
        if equal or not self.runs:  # no shared stretch: one, the whole of each text
            return equal
        if lengths[0] != lengths[1]:  # a shared stretch's key and a space on each side
            return False
        return None

    def keys(self, key: Callable[[str], str]) -> tuple[str, str]:
        """The comparison keys of both texts, `key` normalising each stretch (without
        the space its last cut ends with, which normalising drops: what is left of a
        text with one space between words is one too, not split and joined again)."""
        old_keys: list[str] = []
        new_keys: list[str] = []
        for shared, a1, a2, b1, b2 in self.stretches():
            found = key(self.new[b1 : b2 - 1]) if b1 < b2 else ""
            new_keys.append(found)
            if not shared:
                found = key(self.old[a1 : a2 - 1]) if a1 < a2 else ""
            old_keys.append(found)
        return " ".join(filter(None, old_keys)), " ".join(filter(None, new_keys))

    def tokens(
        self,
    ) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[int, int]]]:
        """The (token, whitespace) of both texts: a shared stretch is one token, the
        same on both sides (it compares equal and shows as it is), and only the other
        stretches are split into words; and where the shared ones are on each side."""
        a: list[tuple[str, str]] = []
        b: list[tuple[str, str]] = []
        shared_at: list[tuple[int, int]] = []
        new = self.new
        for shared, a1, a2, b1, b2 in self.stretches():
            if shared:
                # a stretch ends with the space of its cut, but the last one
                body = new[b1 : b2 - 1] if b2 <= len(new) else new[b1:].rstrip(" ")
                shared_at.append((len(a), len(b)))
                a.append((body, " " if b2 <= len(new) else new[b1 + len(body) :]))
                b.append(a[-1])
            else:
                a += _WORDS.findall(self.old, a1, a2)
                b += _WORDS.findall(self.new, b1, b2)
        return a, b, shared_at

    def mostly_shared(self) -> bool:
        """Whether the stretches both texts share hold most of each (their word diff is
        then matched between these stretches only: a paragraph revised here and there,
        not two texts that happen to share a sentence or two)."""
        size_old = size_new = 0
        for i, j, n in self.runs:
            size_old += self.at_old[i + n] - self.at_old[i]
            size_new += self.at_new[j + n] - self.at_new[j]
        return 10 * size_old >= 9 * len(self.old) and 10 * size_new >= 9 * len(self.new)


def _between(
    a: list[str], b: list[str], shared_at: list[tuple[int, int]]
) -> list[tuple[str, int, int, int, int]]:
    """The opcodes of two token lists whose tokens at `shared_at` are equal, the others
    matched between them only."""
    ops: list[tuple[str, int, int, int, int]] = []
    i0 = j0 = 0
    for i, j in [*shared_at, (len(a), len(b))]:
        if i0 < i or j0 < j:
            found = opcodes(a[i0:i], b[j0:j], autojunk=j - j0 > 2000)
            ops += [(t, x1 + i0, x2 + i0, y1 + j0, y2 + j0) for t, x1, x2, y1, y2 in found]
        if i < len(a):
            ops.append(("equal", i, i + 1, j, j + 1))
        i0, j0 = i + 1, j + 1
    return ops


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """(op, text) runs, op "equal", "delete" or "insert", of two paragraphs compared
    word by word on their normalised tokens; equal runs show the new text."""
    return _word_runs(clean(old), clean(new))


def _word_runs(old: str, new: str, aligned: _Aligned | None = None) -> list[tuple[str, str]]:
    """`word_diff` of two cleaned paragraphs; two long ones word by word only where
    their lines or sentences differ (`aligned`, made here when not given)."""
    if aligned is None and len(old) + len(new) > WORDY:
        aligned = _Aligned.of(old, new)
    shared_at: list[tuple[int, int]] = []
    if aligned is not None:
        a, b, shared_at = aligned.tokens()
    else:
        a, b = _around_change(old, new) or (_WORDS.findall(old), _WORDS.findall(new))
    ka, kb = _keys(a), _keys(b)
    if aligned is not None and aligned.mostly_shared():
        ops = _between(ka, kb, shared_at)
    else:
        ops = opcodes(ka, kb, autojunk=len(b) > 2000)
    out: list[tuple[str, str]] = []
    pending = ""  # whitespace after a change, shown before the next equal run

    def add(op: str, text: str) -> None:
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            run = b[j1:j2]
            text = "".join(map("".join, run[:-1]))
            last_sep = run[-1][1] or a[i2 - 1][1]
            text += run[-1][0] + (" " if last_sep else "")
            add("equal", (pending if not text[:1].isspace() else "") + text)
            pending = ""
            continue
        deleted = "".join(map("".join, a[i1:i2]))
        inserted = "".join(map("".join, b[j1:j2]))
        if out and out[-1][0] == "equal" and not out[-1][1][-1:].isspace():
            first = (deleted or inserted)[:1]
            if first.isalnum() and out[-1][1][-1:].isalnum():
                add("equal", " ")
        add("delete", deleted.rstrip())
        add("insert", inserted.rstrip())
        tail = (inserted or deleted)[len((inserted or deleted).rstrip()) :]
        pending = " " if tail else ""
    return out


def _similarity(a: _Item, b: _Item) -> float:
    """difflib's ratio of the words of two texts (0.0 when its quick bounds are below
    0.5), computed on what lies between their equal head and tail."""
    ta, tb = a.key.split(), b.key.split()
    total = len(ta) + len(tb)
    if not total:
        return 1.0
    if 2.0 * min(len(ta), len(tb)) / total < 0.5:
        return 0.0
    head, tail = trim(ta, tb)
    ma, mb = ta[head : len(ta) - tail], tb[head : len(tb) - tail]
    if 2.0 * (head + tail + (Counter(ma) & Counter(mb)).total()) / total < 0.5:
        return 0.0
    matched = quick_opcodes(ma, mb, autojunk=False)
    same = sum(i2 - i1 for op, i1, i2, _, _ in matched if op == "equal")
    return 2.0 * (head + tail + same) / total


VERBS = {"added": "added", "modified": "revised", "deleted": "removed", "moved": "moved"}


@dataclass
class Change:
    op: str  # "added" | "modified" | "deleted" | "moved"
    section: str  # the section it is in (the new one for a move)
    label: str | None  # the CFR label ("(a)(3)") or name ("heading"); None: unlabelled
    ident: str  # "15 CFR 744.23(a)(3)"; unlabelled text: "15 CFR 744.23(a)#p1"
    display: str  # "§744.23(a)(3)"
    old: str | None = None
    new: str | None = None
    old_ident: str | None = None  # where a moved or modified paragraph was
    old_display: str | None = None
    words: list[tuple[str, str]] = field(default_factory=list)
    order: float = 0.0

    @property
    def verb(self) -> str:
        return VERBS[self.op]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "op": self.op,
            "section": self.section,
            "label": self.label,
            "id": self.ident,
            "display": self.display,
            "old": self.old,
            "new": self.new,
        }
        if self.old_ident is not None:
            data["old_id"], data["old_display"] = self.old_ident, self.old_display
        if self.words:
            data["words"] = [list(w) for w in self.words]
        return data


@dataclass
class SectionChanges:
    section: str
    status: str  # "added" | "removed" | "changed"
    changes: list[Change]

    @property
    def display(self) -> str:
        return section_display(self.section)


def _change(op: str, old: _Item | None, new: _Item | None, order: float) -> Change:
    item = new or old
    assert item is not None
    change = Change(
        op=op,
        section=item.unit.section,
        label=item.unit.label,
        ident=item.ident,
        display=item.display,
        old=old.unit.text if old else None,
        new=new.unit.text if new else None,
        order=order,
    )
    if old is not None and new is not None and old.ident != new.ident:
        change.old_ident, change.old_display = old.ident, old.display
    return change


def _rejoined(items: Sequence[_Item]) -> str:
    if len(items) == 1:
        return items[0].key
    return normalise("\n".join(i.unit.text for i in items))


def _same_rejoined(a: Sequence[_Item], b: Sequence[_Item]) -> bool:
    """Whether two runs of lines are the same text broken differently. Rejoining
    changes nothing but spaces and hyphens, so their keys without these are compared
    first (cheap; normalising the joined text is not)."""
    bare_a = "".join(i.key for i in a).replace(" ", "").replace("-", "")
    bare_b = "".join(i.key for i in b).replace(" ", "").replace("-", "")
    return bare_a == bare_b and _rejoined(a) == _rejoined(b)


def _rebroken(
    olds: list[_Item], news: list[_Item], window: int = 3
) -> tuple[list[_Item], list[_Item], list[tuple[_Item, _Item]]]:
    """Lines of a changed run that only break differently ("a b" / "a" + "b"): the
    whole run, or up to `window` lines at a time at its start and at its end. Returns
    what is left of each side and the (old, new) lines found equal."""
    same: list[tuple[_Item, _Item]] = []
    if len(olds) == len(news) == 1:  # one line for another: their keys differ
        return olds, news, same
    if olds and news and _same_rejoined(olds, news):
        return [], [], [(o, news[0]) for o in olds]
    for front in (True, False):
        found = True
        while found and olds and news:
            found = False
            ends_old = [
                olds[:a] if front else olds[-a:] for a in range(1, min(window, len(olds)) + 1)
            ]
            ends_new = [
                news[:b] if front else news[-b:] for b in range(1, min(window, len(news)) + 1)
            ]
            for part_old in ends_old:
                part_new = next((p for p in ends_new if _same_rejoined(part_old, p)), None)
                if part_new is not None:
                    same += [(o, part_new[0]) for o in part_old]
                    olds = olds[len(part_old) :] if front else olds[: -len(part_old)]
                    news = news[len(part_new) :] if front else news[: -len(part_new)]
                    found = True
                    break
    return olds, news, same


class _Side:
    """A section's units on one side: the positions of the labelled ones and of the
    unlabelled ones, these ones' texts and, when asked, their numbers under their
    parents. A section of lines only (a document's preamble, 20,000 lines at times)
    is read in C."""

    def __init__(self, units: list[Unit]) -> None:
        self.units = units
        if all(map(is_, map(attrgetter("label"), units), repeat(None))):
            self.labelled: list[int] = []
            self.free: Sequence[int] = range(len(units))
            self.texts = list(map(attrgetter("text"), units))
        else:
            self.labelled = [k for k, unit in enumerate(units) if unit.label is not None]
            self.free = [k for k, unit in enumerate(units) if unit.label is None]
            self.texts = [units[k].text for k in self.free]

    @cached_property
    def numbers(self) -> Sequence[int]:
        if isinstance(self.free, range):
            parents = list(map(attrgetter("parent"), self.units))
        else:
            parents = [self.units[k].parent for k in self.free]
        if parents.count(parents[0] if parents else "") == len(parents):
            return range(1, len(parents) + 1)
        seen: Counter[str] = Counter()
        numbers = []
        for parent in parents:
            seen[parent] += 1
            numbers.append(seen[parent])
        return numbers


def _slots(side: _Side) -> dict[str, int]:
    """Slot (the label, made unique in the section) -> position of the labelled units."""
    seen: Counter[str] = Counter()
    slots = {}
    for k in side.labelled:
        label = side.units[k].label or ""  # labelled: never empty
        seen[label] += 1
        slots[label if seen[label] == 1 else f"{label}~{seen[label]}"] = k
    return slots


@dataclass
class _Findings:
    """What comparing the sections finds: the units left without a partner (each with
    the group it may pair within), where old units went (runs of old index, new index
    and length, by section) and the changes so far. Comparison keys are computed only
    for units that differ as printed (`cache`: text -> key, for both sides)."""

    cleaned: bool = False  # the texts are clean (`clean`) already
    read_lines: Mapping[str, list[str]] = field(default_factory=dict)  # of long texts
    cache: dict[str, str] = field(default_factory=dict)
    aligned: dict[tuple[str, str], _Aligned] = field(default_factory=dict)
    pool_old: list[tuple[_Item, tuple]] = field(default_factory=list)
    pool_new: list[tuple[_Item, tuple]] = field(default_factory=list)
    placed: defaultdict[str, list[tuple[int, int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    changes: list[Change] = field(default_factory=list)

    def normalise(self, text: str) -> str:
        return _normalise_clean(text) if self.cleaned else normalise(text)

    def key(self, text: str) -> str:
        found = self.cache.get(text)
        if found is None:
            found = self.cache[text] = self.normalise(text)
        return found

    def item(self, unit: Unit, index: int, slot: str = "", number: int = 0) -> _Item:
        return _Item(unit, index, self, slot, number)

    def body(self, text: str, key: str) -> str:
        """The key of a text without its leading label. Its key without the label when
        what follows the label is a character normalising leaves as it is and that
        cannot start another label (no second pass over a long paragraph)."""
        label = LEADING_LABELS.match(text)
        if label is None:
            return key
        rest = text[label.end() :]
        first = rest[:1]
        if first.isascii() and first not in "-(" and (found := LEADING_LABELS.match(key)):
            return key[found.end() :]
        return self.key(rest)

    def same(self, old: str, new: str) -> bool:
        """Whether two texts are the same once normalised; two long ones are aligned by
        their lines or sentences first (`_Aligned`), and what they share is normalised
        once, or not at all when what they do not share decides."""
        if old == new:
            return True
        cache = self.cache
        if len(old) + len(new) > 2 * LONG and (old not in cache or new not in cache):
            lines = self.read_lines
            aligned = _Aligned.of(old, new, lines.get(old), lines.get(new))
            self.aligned[old, new] = aligned
            verdict = aligned.verdict(self.normalise)
            if verdict is not None:
                return verdict
            key_old, key_new = aligned.keys(self.normalise)
            cache.setdefault(old, key_old)
            cache.setdefault(new, key_new)
        return self.key(old) == self.key(new)

    def words(self, old: str, new: str) -> list[tuple[str, str]]:
        """The word diff of two texts, with their alignment if `same` made one."""
        if not self.cleaned:
            old, new = clean(old), clean(new)
        return _word_runs(old, new, self.aligned.get((old, new)))

    def place(self, old: _Item, new: _Item) -> None:
        self.placed[old.unit.section].append((old.index, new.index, 1))

    def place_run(self, section: str, olds: _Side, news: _Side, i: int, j: int, n: int) -> None:
        """Equal unlabelled lines i.. and j..: one run when they are in a row in their
        sections too (no labelled paragraph between them)."""
        x, y = olds.free, news.free
        if x[i + n - 1] - x[i] == y[j + n - 1] - y[j] == n - 1:
            self.placed[section].append((x[i], y[j], n))
        else:
            self.placed[section] += [(x[i + d], y[j + d], 1) for d in range(n)]

    def labels(self, section: str, olds: _Side, news: _Side) -> None:
        """Labelled units: the same label with the same text is kept, else pooled."""
        old_slots, new_slots = _slots(olds), _slots(news)
        kept = []
        for slot, k in new_slots.items():
            was = old_slots.get(slot)
            if was is not None and self.same(olds.units[was].text, news.units[k].text):
                self.placed[section].append((was, k, 1))
                kept.append(slot)
            else:
                self.pool_new.append((self.item(news.units[k], k, slot), ("label", section, slot)))
        staying = set(kept)
        self.pool_old += [
            (self.item(olds.units[k], k, s), ("label", section, s))
            for s, k in old_slots.items()
            if s not in staying
        ]
        # labels kept word for word but printed in another order: moved
        order_old = sorted(kept, key=old_slots.__getitem__)
        if order_old == kept:
            return
        in_place = {s for a, _, n in equal_runs(order_old, kept) for s in order_old[a : a + n]}
        for slot in kept:
            if slot not in in_place:
                was, now = old_slots[slot], new_slots[slot]
                old_item = self.item(olds.units[was], was, slot)
                new_item = self.item(news.units[now], now, slot)
                self.changes.append(_change("moved", old_item, new_item, now))

    def lines(self, section: str, olds: _Side, news: _Side) -> None:
        """Unlabelled text, a sequence of lines: matched as printed first (most of it is
        the same), then each run that differs by its comparison keys."""
        a, b = olds.texts, news.texts
        i0 = j0 = 0
        for i, j, n in [*equal_runs(a, b), (len(a), len(b), 0)]:
            if i0 < i or j0 < j:
                self.changed_run(section, olds, news, range(i0, i), range(j0, j))
            if n:
                self.place_run(section, olds, news, i, j, n)
            i0, j0 = i + n, j + n

    def changed_run(self, section: str, olds: _Side, news: _Side, xs: range, ys: range) -> None:
        """Lines that differ as printed: the same after normalisation, only broken
        differently, or changed (pooled, grouped by the run of keys they are in)."""
        run_old = [
            self.item(olds.units[olds.free[x]], olds.free[x], number=olds.numbers[x]) for x in xs
        ]
        run_new = [
            self.item(news.units[news.free[y]], news.free[y], number=news.numbers[y]) for y in ys
        ]
        keys_old, keys_new = [i.key for i in run_old], [i.key for i in run_new]
        for tag, i1, i2, j1, j2 in quick_opcodes(keys_old, keys_new):
            if tag == "equal":
                for a, b in zip(run_old[i1:i2], run_new[j1:j2], strict=True):
                    self.place(a, b)
                continue
            group = ("text", section, xs.start + i1, ys.start + j1)
            rest_old, rest_new, same = _rebroken(run_old[i1:i2], run_new[j1:j2])
            for a, b in same:  # only the line breaks differ
                self.place(a, b)
            self.pool_old += [(i, group) for i in rest_old]
            self.pool_new += [(i, group) for i in rest_new]


class _Sources:
    """The old units a new one may have moved from: the first one, in the order they
    were pooled, whose body is its body (at least MIN_MOVE characters). A deferred
    (long) unit is filed by `letters` and its body only compared, so normalised, when
    a unit on the other side holds as many "e"."""

    def __init__(self, pool: list[tuple[_Item, tuple]]) -> None:
        self.by_body: defaultdict[str, deque[tuple[int, _Item]]] = defaultdict(deque)
        self.by_letters: defaultdict[int, list[tuple[int, _Item]]] = defaultdict(list)
        self.letters: set[int] | None = None  # those of the bodies in by_body, when asked
        for position, (item, _) in enumerate(pool):
            if item.deferred:
                self.by_letters[item.letters].append((position, item))
            elif len(item.body) >= MIN_MOVE:
                self.by_body[item.body].append((position, item))

    def take(self, item: _Item) -> _Item | None:
        """The unit `item` moved from, no longer a source; None if none."""
        if item.deferred:
            if self.letters is None:
                self.letters = {body.count("e") for body in self.by_body}
            if item.letters not in self.letters and not self.by_letters.get(item.letters):
                return None
        elif len(item.body) < MIN_MOVE:
            return None
        body = item.body
        found = self.by_body.get(body)
        first = found[0] if found else None
        longs = self.by_letters.get(item.letters) if self.by_letters else None
        other = next((s for s in longs if s[1].body == body), None) if longs else None
        if other is not None and (first is None or other[0] < first[0]):
            assert longs is not None
            longs.remove(other)
            return other[1]
        if found:
            return found.popleft()[1]
        return None


def diff_units(
    old: Iterable[Unit],
    new: Iterable[Unit],
    *,
    old_name: str = "old",
    new_name: str = "new",
    cleaned: bool = False,
    lines: Mapping[str, list[str]] | None = None,
) -> TextDiff:
    """The changes from `old` to `new`, section by section and label by label.
    `cleaned`: the units' texts are clean already (`clean`), as every `units_from_*`
    but `units_from_fr` makes them, so word diffs need not clean them again. `lines`:
    the lines long texts were read from (`split_paragraphs`), by which two of them
    are compared rather than by sentence."""
    old_sections, new_sections = _by_section(old), _by_section(new)
    findings = _Findings(cleaned=cleaned, read_lines=lines or {})
    for section in dict.fromkeys([*new_sections, *old_sections]):
        units_old, units_new = old_sections.get(section, []), new_sections.get(section, [])
        # a section printed the same on both sides has nothing to say, nor anything
        # moved into or out of it: it is not compared at all
        if units_old == units_new:
            continue
        olds, news = _Side(units_old), _Side(units_new)
        if olds.labelled or news.labelled:
            findings.labels(section, olds, news)
        findings.lines(section, olds, news)
    pool_old, pool_new, changes = findings.pool_old, findings.pool_new, findings.changes

    # moves: the same text (without its label) left one place and appears at another
    sources = _Sources(pool_old)
    moved_old: set[int] = set()
    rest_new: list[tuple[_Item, tuple]] = []
    for item, group in pool_new:
        source = sources.take(item)
        if source is not None:
            moved_old.add(id(source))
            if source.unit.section == item.unit.section:
                findings.place(source, item)
            changes.append(_change("moved", source, item, item.index))
        else:
            rest_new.append((item, group))
    rest_old = [(i, g) for i, g in pool_old if id(i) not in moved_old]
    # a short text moves too when it is the only one of its words in its section (no
    # text of MIN_MOVE characters is left on both sides: a long one is not looked at)
    once_old = Counter((i.unit.section, i.body) for i, _ in rest_old if not i.deferred)
    once_new = Counter((i.unit.section, i.body) for i, _ in rest_new if not i.deferred)
    short = {
        spot: (i, g)
        for i, g in rest_old
        if not i.deferred
        and once_old[spot := (i.unit.section, i.body)] == 1
        and once_new[spot] == 1
        and _movable(i.body)
    }
    still_new = []
    for item, group in rest_new:
        where = None if item.deferred else (item.unit.section, item.body)
        if where in short:
            source, _ = short.pop(where)
            moved_old.add(id(source))
            findings.place(source, item)
            changes.append(_change("moved", source, item, item.index))
        else:
            still_new.append((item, group))
    rest_new = still_new
    rest_old = [(i, g) for i, g in rest_old if id(i) not in moved_old]

    # what is left: the same label, or lines in the same changed run, are modified
    old_groups: dict[tuple, list[_Item]] = defaultdict(list)
    for item, group in rest_old:
        old_groups[group].append(item)
    paired_old: set[int] = set()
    # in each group, the first old item not paired yet and how many are left: a group
    # of thousands (a run rewritten throughout) is not scanned again for each new item
    first_free: Counter[tuple] = Counter()
    left = Counter({group: len(items) for group, items in old_groups.items()})
    for item, group in rest_new:
        pool = old_groups.get(group, [])
        start = first_free[group]
        while start < len(pool) and id(pool[start]) in paired_old:
            start += 1
        first_free[group] = start
        partner = None
        if group[0] == "label":
            partner = pool[start] if start < len(pool) else None
        elif start < len(pool):
            if left[group] * len(pool) > 400:  # a large group pairs in order, not by score
                candidates = [pool[start]]
            else:
                candidates = [c for c in pool[start:] if id(c) not in paired_old]
            scored = [(_similarity(c, item), -k, c) for k, c in enumerate(candidates)]
            best = max(scored, key=lambda s: (s[0], s[1]))
            partner = best[2] if best[0] >= 0.5 else None
        if partner is not None:
            left[group] -= 1
            paired_old.add(id(partner))
            findings.place(partner, item)
            change = _change("modified", partner, item, item.index)
            change.words = findings.words(partner.unit.text, item.unit.text)
            changes.append(change)
        else:
            changes.append(_change("added", None, item, item.index))
    for runs in findings.placed.values():
        runs.sort()
    for item, _ in rest_old:
        if id(item) in paired_old:
            continue
        place = _place(item, findings.placed[item.unit.section])
        changes.append(_change("deleted", item, None, place))

    sections: list[SectionChanges] = []
    by_section: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        by_section[change.section].append(change)
    for section in _section_order(old_sections, new_sections):
        found = sorted(by_section.get(section, []), key=lambda c: c.order)
        if not found:
            continue
        status = (
            "added"
            if section not in old_sections
            else "removed"
            if section not in new_sections
            else "changed"
        )
        sections.append(SectionChanges(section, status, found))
    return TextDiff(sections, old_name=old_name, new_name=new_name)


def _movable(body: str) -> bool:
    """Text that means something on its own: words, not "[Reserved]" or "* * *"."""
    words = re.findall(r"[^\W\d_]{2,}", body)
    return len(words) >= 2 and body.strip("[]. ").lower() != "reserved"


def _place(item: _Item, runs: list[tuple[int, int, int]]) -> float:
    """Where a deleted paragraph goes among the new ones: after the new place of the
    nearest paragraph before it that survived (`runs`: its section's old index, new
    index and length of what survived, sorted)."""
    k = bisect.bisect_left(runs, (item.index,))
    if k:
        old, new, n = runs[k - 1]
        return new + min(item.index - 1 - old, n - 1) + 0.5
    return -0.5 + item.index / 1e6


def _section_order(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The new version's sections in order, each removed one after its predecessor."""
    order = list(after)
    old_order = list(before)
    for i, section in enumerate(old_order):
        if section in after:
            continue
        previous = next((s for s in reversed(old_order[:i]) if s in order), None)
        order.insert(order.index(previous) + 1 if previous is not None else 0, section)
    return order


# --- the result -----------------------------------------------------------------------


def country_name(code: str | None) -> str:
    """A short display name of an ISO code: "CN" -> "China", "AE" -> "United Arab
    Emirates"; the code itself when unknown."""
    from monitor.knowledge import countries

    return countries.name_of(code)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _entry_json(entry: EntityEntry) -> dict[str, Any]:
    return {
        "country": entry.country,
        "name": entry.name,
        "aliases": list(entry.aliases),
        "addresses": list(entry.addresses),
        "license_requirement": entry.license_requirement,
        "footnotes": list(entry.footnotes),
        "review_policy": entry.review_policy,
        "citation": entry.citation,
    }


def _field(entry: EntityEntry, name: str) -> Any:
    value = getattr(entry, name)
    return list(value) if isinstance(value, tuple) else value


def entity_summary(diff: EntityDiff) -> str:
    """ "3 Entity List entries added: China 2, Taiwan 1; 1 revised; 1 removed"."""
    parts: list[str] = []
    if diff.added:
        by = Counter(country_name(e.country) for e in diff.added)
        listed = ", ".join(f"{c} {n}" for c, n in sorted(by.items(), key=lambda x: (-x[1], x[0])))
        noun = _plural(len(diff.added), "Entity List entry", "Entity List entries")
        parts.append(f"{noun} added: {listed}")
    for entries, verb in ((diff.modified, "revised"), (diff.removed, "removed")):
        if entries and parts:
            parts.append(f"{len(entries)} {verb}")
        elif entries:
            parts.append(
                f"{_plural(len(entries), 'Entity List entry', 'Entity List entries')} {verb}"
            )
    return "; ".join(parts)


@dataclass
class TextDiff:
    sections: list[SectionChanges]
    entities: EntityDiff | None = None
    old_name: str = "old"
    new_name: str = "new"

    @property
    def changes(self) -> list[Change]:
        return [c for s in self.sections for c in s.changes]

    @property
    def empty(self) -> bool:
        return not self.sections and (self.entities is None or self.entities.empty)

    def counts(self) -> dict[str, int]:
        inside = [c for s in self.sections if s.status == "changed" for c in s.changes]
        counted = Counter(c.op for c in inside)
        moved = sum(c.op == "moved" for c in self.changes)
        data = {
            "sections_added": sum(s.status == "added" for s in self.sections),
            "sections_removed": sum(s.status == "removed" for s in self.sections),
            "sections_changed": sum(s.status == "changed" for s in self.sections),
            "modified": counted["modified"],
            "added": counted["added"],
            "deleted": counted["deleted"],
            "moved": moved,
        }
        if self.entities is not None:
            data |= {
                "entities_added": len(self.entities.added),
                "entities_revised": len(self.entities.modified),
                "entities_removed": len(self.entities.removed),
            }
        return data

    def summary(self, named: int = 3) -> str:
        """One line for a Slack message: "§744.23(a)(3) revised; 2 paragraphs added;
        1 moved; 140 Entity List entries added: China 100, ..."."""
        parts: list[str] = []
        inside = [c for s in self.sections if s.status == "changed" for c in s.changes]
        revised = [c for c in inside if c.op == "modified"]
        if 0 < len(revised) <= named:
            parts += [f"{c.display} revised" for c in revised]
        elif revised:
            parts.append(f"{len(revised)} paragraphs revised")
        for status, op in (("added", "added"), ("removed", "deleted")):
            found = [s for s in self.sections if s.status == status]
            if 0 < len(found) <= named:
                parts += [f"{s.display} {status}" for s in found]
            elif found:
                parts.append(f"{len(found)} sections {status}")
            paragraphs = [c for c in inside if c.op == op]
            if len(paragraphs) == 1:
                parts.append(f"{paragraphs[0].display} {status}")
            elif paragraphs:
                parts.append(f"{len(paragraphs)} paragraphs {status}")
        moved = sum(c.op == "moved" for c in self.changes)
        if moved:
            parts.append(f"{moved} moved")
        if self.entities is not None and not self.entities.empty:
            parts.append(entity_summary(self.entities))
        return "; ".join(parts) or "no changes"

    def entities_json(self) -> dict[str, Any] | None:
        if self.entities is None:
            return None
        diff = self.entities
        return {
            "summary": entity_summary(diff) or "no changes",
            "added_by_country": dict(Counter(e.country or "" for e in diff.added)),
            "added": [_entry_json(e) for e in diff.added],
            "removed": [_entry_json(e) for e in diff.removed],
            "revised": [
                {
                    "country": c.new.country,
                    "name": c.new.name,
                    "fields": list(c.fields),
                    "old": {f: _field(c.old, f) for f in c.fields},
                    "new": {f: _field(c.new, f) for f in c.fields},
                }
                for c in diff.modified
            ],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "old": self.old_name,
            "new": self.new_name,
            "summary": self.summary(),
            "counts": self.counts(),
            "sections": [
                {
                    "section": s.section,
                    "display": s.display,
                    "status": s.status,
                    "changes": [c.to_json() for c in s.changes],
                }
                for s in self.sections
            ],
            "entity_list": self.entities_json(),
        }

    def render_text(self) -> str:
        """Unified-style text: "@@ section @@" headers, "-"/"+" lines, and for a
        revised paragraph a "~" line marking words [-removed-]{+added+}."""
        return "".join(self.text_parts())

    def text_parts(self) -> Iterator[str]:
        """`render_text` in the order it is written, its lines ended by newlines: the
        texts of a change as they are, not copied into lines (`monitor diff` writes
        them as they come, without one string of the whole output)."""
        yield f"--- {self.old_name}\n+++ {self.new_name}\n# {self.summary()}\n"
        for section in self.sections:
            yield f"@@ {section.display} ({section.status}) @@\n"
            if section.status != "changed":
                mark = "+" if section.status == "added" else "-"
                for c in section.changes:
                    if c.op == "moved":
                        origin = f"from {c.old_display}" if c.old_display else "within it"
                        yield f"> {c.display} moved {origin}\n"
                    yield from (f"{mark} ", c.new if c.new is not None else c.old or "", "\n")
                continue
            for c in section.changes:
                if c.op == "modified":
                    where = f" (was {c.old_display})" if c.old_display else ""
                    yield f"~ {c.display} revised{where}\n"
                    yield from ("- ", c.old or "", "\n+ ", c.new or "", "\n~ ")
                    for op, t in c.words:
                        if op == "equal":
                            yield t
                        else:
                            yield from ("[-", t, "-]") if op == "delete" else ("{+", t, "+}")
                    yield "\n"
                elif c.op == "added":
                    yield from (f"+ {c.display} added\n+ ", c.new or "", "\n")
                elif c.op == "deleted":
                    yield from (f"- {c.display} removed\n- ", c.old or "", "\n")
                else:
                    origin = f"from {c.old_display}" if c.old_display else "within its section"
                    yield from (f"> {c.display} moved {origin}\n  ", c.new or "", "\n")
        if self.entities is not None and not self.entities.empty:
            yield "@@ Entity List @@\n"
            for e in self.entities.added:
                yield f"+ [{e.country or '?'}] {_entry_line(e)}\n"
            for e in self.entities.removed:
                yield f"- [{e.country or '?'}] {_entry_line(e)}\n"
            for e_c in self.entities.modified:
                new_e, fields = e_c.new, e_c.fields
                yield f"~ [{new_e.country or '?'}] {new_e.name}: revised {', '.join(fields)}\n"
                for f in fields:
                    yield f"  - {f}: {_show(_field(e_c.old, f))}\n"
                    yield f"  + {f}: {_show(_field(new_e, f))}\n"

    def render_html(self, title: str | None = None) -> str:
        """A whole HTML page, every text autoescaped, insertions and deletions inline."""
        from jinja2 import Environment

        env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
        template = env.from_string(HTML_TEMPLATE)
        return template.render(
            title=title or f"{self.old_name} → {self.new_name}",
            summary=self.summary(),
            sections=self.sections,
            entities=self.entities
            if self.entities is not None and not self.entities.empty
            else None,
            show=_show,
            field=_field,
        )


def _entry_line(entry: EntityEntry) -> str:
    extra = "; ".join(entry.addresses)
    return f"{entry.name}" + (f" — {extra}" if extra else "")


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60em;margin:1em auto;line-height:1.45}
ins{background:#d7f5dd;text-decoration:none}
del{background:#fbdada}
.change{border-left:4px solid #bbb;padding:.2em .8em;margin:.6em 0}
.added{border-color:#2a8f3c}.deleted,.removed{border-color:#c0392b}
.modified{border-color:#d4a017}.moved{border-color:#2c6fbb}
h3{font-size:1em;margin:.2em 0}
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="summary">{{ summary }}</p>
{% for s in sections %}
<section class="section {{ s.status }}">
<h2>{{ s.display }} <small>({{ s.status }})</small></h2>
{% for c in s.changes %}
<div class="change {{ c.op }}" data-id="{{ c.ident }}">
<h3>{{ c.display }} {{ c.verb }}{% if c.old_display %} (from {{ c.old_display }}){% endif %}</h3>
{% if c.op == "modified" %}
<p>{% for op, text in c.words -%}
{% if op == "insert" %}<ins>{{ text }}</ins>
{%- elif op == "delete" %}<del>{{ text }}</del>
{%- else %}{{ text }}{% endif %}
{%- endfor %}</p>
{% elif c.op == "added" %}
<p><ins>{{ c.new }}</ins></p>
{% elif c.op == "deleted" %}
<p><del>{{ c.old }}</del></p>
{% else %}
<p>{{ c.new }}</p>
{% endif %}
</div>
{% endfor %}
</section>
{% endfor %}
{% if entities %}
<section class="section entity-list">
<h2>Entity List</h2>
{% for e in entities.added %}
<div class="change added"><h3>[{{ e.country or "?" }}] {{ e.name }} added</h3>
<p><ins>{{ e.addresses | join("; ") }}</ins></p></div>
{% endfor %}
{% for e in entities.removed %}
<div class="change deleted"><h3>[{{ e.country or "?" }}] {{ e.name }} removed</h3>
<p><del>{{ e.addresses | join("; ") }}</del></p></div>
{% endfor %}
{% for c in entities.modified %}
<div class="change modified"><h3>[{{ c.new.country or "?" }}] {{ c.new.name }} revised</h3>
<ul>
{% for f in c.fields %}
<li>{{ f }}: <del>{{ show(field(c.old, f)) }}</del> <ins>{{ show(field(c.new, f)) }}</ins></li>
{% endfor %}
</ul></div>
{% endfor %}
</section>
{% endif %}
</body>
</html>
"""


# --- inputs ---------------------------------------------------------------------------


@dataclass
class Loaded:
    """One side of a diff: its units and, for Entity List data, its entries."""

    kind: str  # "fr_xml" | "ecfr_xml" | "csl" | "text" | "document"
    name: str
    units: list[Unit]
    entities: list[EntityEntry] | None = None
    lines: dict[str, list[str]] = field(default_factory=dict)  # of long paragraphs


KIND_NAMES = {
    "fr_xml": "Federal Register XML",
    "ecfr_xml": "eCFR XML",
    "csl": "a Consolidated Screening List CSV",
    "text": "plain text",
    "document": "a stored document",
}
FR_ROOTS = ("FEDREG", "RULE", "PRORULE", "NOTICE", "PRESDOCU", "RULES", "PRORULES", "NOTICES")
ECFR_ROOTS = ("ECFR", "DLPSTEXTCLASS", "TEXT", "BODY", "ECFRBRWS")
_PROLOG = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>|\s)*", re.S)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_LEAD = re.compile(rb"[\xef\xbb\xbf]*\s*")  # what lstrip(BOM bytes), then lstrip() skip


def _root_tag(data: bytes, pos: int) -> str | None:
    start = _PROLOG.match(data, pos)
    match = _ROOT.match(data, start.end() if start else pos)
    return match.group(1).decode("ascii", "replace") if match else None


def _line_units(section: str, lines: Iterable[str]) -> Iterator[Unit]:
    """Unlabelled units, one per line, built in C (a daily issue has ~25,000 lines):
    tuple.__new__ skips Unit's Python-level constructor."""
    fields = zip(repeat(section), repeat(None), lines, repeat(""))
    return map(tuple.__new__, repeat(Unit), fields)


def units_from_fr(data: bytes) -> tuple[list[Unit], list[EntityEntry] | None]:
    """Units of Federal Register XML (a daily issue or one document): each document's
    preamble and supplementary text line by line (section "FR Doc. <number>"), and
    each regulatory-text section by paragraph label. Entity List tables are returned
    as entries instead (None when there is none)."""
    from monitor.entities import ENTITY_LIST, entries_from_table, is_entity_table
    from monitor.fedreg_xml import parse_issue

    issue = parse_issue(data)
    units: list[Unit] = []
    entries: list[EntityEntry] | None = None
    seen: Counter[str] = Counter()
    for n, doc in enumerate(issue.documents, start=1):
        prose = f"FR Doc. {doc.document_number}" if doc.document_number else f"FR document {n}"
        seen[prose] += 1
        if seen[prose] > 1:
            prose = f"{prose} ({seen[prose]})"
        # a proposed rule may print its sections straight in SUPLINF (an implicit
        # REGTEXT): they are compared by label below, not twice
        printed = {
            p.text for r in doc.regtexts if r.implicit for s in r.sections for p in s.paragraphs
        }
        lines = filter(None, doc.text.split("\n"))
        units += _line_units(prose, [x for x in lines if x not in printed] if printed else lines)
        for section in doc.sections:
            sid = section.id
            seen[sid] += 1
            if seen[sid] > 1:
                sid = f"{sid} ({prose})"
            for p in section.paragraphs:
                if p.label is not None:
                    units.append(Unit(sid, p.label, p.text))
                else:
                    parent = p.id[len(section.id) :].split("#", 1)[0]
                    units.append(Unit(sid, None, p.text, parent))
            for table in section.tables:
                if section.id == ENTITY_LIST or is_entity_table(table):
                    entries = (entries or []) + entries_from_table(table)
                    continue
                rows = table.text().split("\n")
                units += [Unit(sid, None, row) for row in rows if row]
    return units, entries


def units_from_ecfr(
    data: bytes, name: str = "eCFR XML"
) -> tuple[list[Unit], list[EntityEntry] | None]:
    """Units of an eCFR XML answer (a part, or a bulk file): each section and
    appendix as the `ecfr` watcher stores it (`monitor.ecfr_xml`), its text split by
    paragraph labels; the Entity List table's rows as entries instead (None when
    there is none)."""
    from monitor.ecfr_xml import EcfrXMLError, Section, read_part

    head = data[:200_000]
    # a "<DIV5" is read up to the next tag at most (no "<" in an attribute), not to
    # the end of the head from each one; the title's digits from where they start
    parts = [p.decode() for p in re.findall(rb"<DIV5\b[^<>]*?\bN=\"([^\"<]+)\"", head)]
    if not parts:
        parts = [p.decode() for p in re.findall(rb"/part-([0-9A-Za-z]+)", head)][:1] or [""]
    title = re.search(rb"/title-(\d+)", head) or re.search(rb"(?<!\d)(\d+) CFR", head)
    sections: dict[str, Section] = {}
    for part in dict.fromkeys(parts):
        try:
            found, _ = read_part(data, name, int(title.group(1)) if title else 15, part)
        except EcfrXMLError as exc:
            raise DiffInputError(squeeze(str(exc))) from None
        for section in found:
            sections.setdefault(section.label, section)
    units: list[Unit] = []
    entries: list[EntityEntry] | None = None
    for section in sections.values():
        found_units, found_entries = entity_rows(
            _ecfr_units(section.label, section.title, section.text)
        )
        units += found_units
        if found_entries is not None:
            entries = (entries or []) + found_entries
    return units, entries


def _is_csl(data: bytes, name: str) -> bool:
    if name.lower().endswith(".csv"):
        return True
    data = data.lstrip(b"\xef\xbb\xbf")
    end = data.find(b"\n")  # the first line, not a copy of the rest of the file
    first = (data if end < 0 else data[:end]).decode("utf-8", "replace").lower()
    return {"source", "name"} <= {c.strip().strip('"') for c in first.split(",")}


def load_bytes(data: bytes, name: str) -> Loaded:
    """One side of a diff from the bytes of a file: Federal Register XML, eCFR XML,
    a CSL CSV (by extension or its header) or plain text."""
    if not data or data.isspace():  # not strip(): that copies the 3 MB of an issue
        raise DiffInputError(f"{name}: empty file")
    lead = _LEAD.match(data)  # matches anywhere: every part of it is optional
    start = lead.end() if lead else 0
    if data.startswith(b"<", start):
        tag = _root_tag(data, start) or ""
        if tag.lower() == "html":
            raise DiffInputError(f"{name}: unknown format: an HTML page, not FR or eCFR XML")
        if tag in FR_ROOTS:
            from monitor.fedreg_xml import FedRegXMLError

            try:
                units, entries = units_from_fr(data)
            except FedRegXMLError as exc:
                raise DiffInputError(f"{name}: {squeeze(str(exc))}") from None
            return Loaded("fr_xml", name, units, entries)
        if re.fullmatch(r"DIV[1-9]", tag) or tag in ECFR_ROOTS:
            return Loaded("ecfr_xml", name, *units_from_ecfr(data, name))
        raise DiffInputError(
            f"{name}: unknown format: XML with root <{tag or '?'}> is neither Federal Register"
            " nor eCFR XML"
        )
    if b"\x00" in data[:8192]:
        raise DiffInputError(f"{name}: unknown format: binary data")
    if _is_csl(data, name):
        from monitor.entities import parse_csl

        try:
            return Loaded("csl", name, [], parse_csl(data))
        except (ValueError, UnicodeDecodeError) as exc:
            raise DiffInputError(f"{name}: {squeeze(str(exc))}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DiffInputError(f"{name}: unknown format: not UTF-8 text, XML or CSV") from None
    lines: dict[str, list[str]] = {}
    return Loaded("text", name, units_from_text(text, lines=lines), lines=lines)


def load_path(path: Path | str) -> Loaded:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DiffInputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DiffInputError(f"{path}: a folder, not a file") from None
    except OSError as exc:
        raise DiffInputError(f"{path}: cannot read ({squeeze(exc.strerror or str(exc))})") from None
    return load_bytes(data, str(path))


def load_document(doc: Document, name: str) -> Loaded:
    return Loaded("document", name, *read_document(doc))


def diff_loaded(old: Loaded, new: Loaded) -> TextDiff:
    """The diff of two loaded inputs: the text by label, and the Entity List entry by
    entry when both sides are Entity List data, or inputs of one kind and either holds
    an Entity List table (a rule adding the first entries, a supplement emptied)."""
    if (old.kind == "csl") != (new.kind == "csl"):
        raise DiffInputError(
            f"cannot compare {KIND_NAMES[old.kind]} ({old.name}) with "
            f"{KIND_NAMES[new.kind]} ({new.name})"
        )
    cleaned = "fr_xml" not in (old.kind, new.kind)
    result = diff_units(
        old.units,
        new.units,
        old_name=old.name,
        new_name=new.name,
        cleaned=cleaned,
        lines=old.lines | new.lines,
    )
    both = old.entities is not None and new.entities is not None
    either = old.kind == new.kind and (old.entities is not None or new.entities is not None)
    if both or either:
        result.entities = entity_diff(old.entities or [], new.entities or [])
    return result


def diff_files(old: Path | str, new: Path | str) -> TextDiff:
    return diff_loaded(load_path(old), load_path(new))


def diff_mappings(
    old: Mapping[str, str], new: Mapping[str, str], *, reflow: bool = False
) -> TextDiff:
    """The diff of two mappings label -> text (see `units_from_mapping`)."""
    return diff_units(
        units_from_mapping(old, reflow=reflow),
        units_from_mapping(new, reflow=reflow),
        cleaned=True,
    )


def diff_texts(old: str, new: str, section: str = "") -> TextDiff:
    """The diff of two plain texts (hard-wrapped lines are joined into paragraphs)."""
    lines: dict[str, list[str]] = {}
    return diff_units(
        units_from_text(old, section, lines=lines),
        units_from_text(new, section, lines=lines),
        cleaned=True,
        lines=lines,
    )


def diff_documents(old: Document, new: Document) -> TextDiff:
    """The diff of two stored versions of a document (the Entity List supplement's
    table entry by entry)."""
    return diff_loaded(load_document(old, "old"), load_document(new, "new"))
