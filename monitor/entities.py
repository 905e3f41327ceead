"""Entity List entries (Supplement No. 4 to part 744): from the GPOTABLE of a rule's
REGTEXT and from trade.gov's Consolidated Screening List CSV; the preamble's counts
cross-checked against the parse; two list versions diffed.

A rule's table has five columns, Country | Entity | License requirement | License
review policy | Federal Register citation. The country cell is filled only on the
first row of each destination (its upper-case heading, "CHINA, PEOPLE'S REPUBLIC
OF"); the rows under it leave it empty. The entity cell holds the name, optionally
"a.k.a., the following N aliases:" with one "—alias" per line, then the addresses
separated by ";". The license requirement carries footnote marks as superscripts
(`<SU>4</SU>`: footnote 4, the foreign direct product rule of § 734.9(e)(2)).

The CSL CSV has no country column: the country is read from the first address
(its trailing ISO code, "..., HK", or a country name, "..., China").
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from monitor.amendments import amendments_of
from monitor.fedreg_xml import ENTITY_LIST, Document, Table, parse_document, squeeze
from monitor.knowledge import countries

# --- destinations -------------------------------------------------------------------


def country_code(name: str | None) -> str | None:
    """ISO code of an Entity List heading or a country name: "CHINA, PEOPLE'S
    REPUBLIC OF" -> "CN", "the United Arab Emirates (UAE)" -> "AE"; None if unknown."""
    return countries.code_of(squeeze(name)) if name else None


# --- the entry ------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityEntry:
    country: str | None  # ISO alpha-2 of the heading the entry is listed under
    name: str
    aliases: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    license_requirement: str = ""
    footnotes: tuple[int, ...] = ()  # 4: the § 734.9(e)(2) foreign direct product rule
    review_policy: str = ""
    citation: str = ""  # "88 FR 71991, 10/19/2023"
    country_heading: str | None = None  # as printed, "CHINA, PEOPLE'S REPUBLIC OF"
    source: str = ""  # "fr" (a rule's table) or "csl"

    @property
    def key(self) -> tuple[str, str]:
        return (self.country or "", normalise_name(self.name))


DIFF_FIELDS = (
    "name",
    "aliases",
    "addresses",
    "license_requirement",
    "footnotes",
    "review_policy",
    "citation",
)


def _fix_c1(text: str) -> str:
    """Undo a common mojibake: cp1252 punctuation stored as C1 control characters
    ("HA\\x92Assif" -> "HA’Assif")."""
    if not re.search("[\x80-\x9f]", text):
        return text
    return re.sub(
        "[\x80-\x9f]", lambda m: bytes([ord(m.group())]).decode("cp1252", "replace"), text
    )


def normalise_text(text: str) -> str:
    text = _fix_c1(unicodedata.normalize("NFC", text))
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return squeeze(text)


def normalise_name(name: str) -> str:
    """Case, accents, punctuation and spacing folded: "Co., Ltd." == "Co. Ltd"."""
    text = unicodedata.normalize("NFKD", normalise_text(name))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ")
    return squeeze(re.sub(r"[^\w]+", " ", text))


# --- the entity cell ------------------------------------------------------------------

# not from inside a run of spaces (each start would scan the rest of the run: quadratic)
_AKA = re.compile(
    r",?(?<!\s)\s*a\.?k\.?a\.?,?\s*(?:the\s+following\s+(\w+)\s+alias(?:es)?\s*:)?\s*",
    re.IGNORECASE,
)
_DASH = "—"
_ADDRESS_START = re.compile(
    r"^(?:No\.|Nos\.|Number\s|Room\b|Rm\.|Flat\b|Unit\b|Suite\b|Ste\.|Floor\b|Fl\.|"
    r"\d+(?:st|nd|rd|th)?\s+Floor|\d+/F\b|Building\b|Bldg\.|Block\b|Blk\.|Tower\b|"
    r"P\.\s?O\.\s?Box|Post Office Box|PO Box|Apt\.|Apartment\b|Office\b|Level\b|Plot\b|"
    r"House\b|Km\b|Kilometer\b|Lot\b|Villa\b|Zone\b|Area\b|Park\b|District\b|Street\b|"
    r"Road\b|Avenue\b|[#\d])",
    re.IGNORECASE,
)
_LEGAL = re.compile(
    r"^(?:Ltd\.?|Limited|Inc\.?|LLC|L\.L\.C\.|Co\.|Corp\.?|Corporation|GmbH|S\.A\.?|"
    r"A\.G\.|AG|JSC|PJSC|OJSC|CJSC|LLP|L\.P\.|LP|PLC|Pte\.?(?: Ltd\.?)?|S\.R\.L\.|SRL|"
    r"B\.V\.|BV|N\.V\.|Sdn\.? Bhd\.?|FZE|FZCO|FZ-LLC|DMCC|Company|Group)$",
    re.IGNORECASE,
)
_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}


def word_number(word: str | None) -> int | None:
    if not word:
        return None
    word = word.lower().replace("-", " ")
    if word.isdigit():
        return int(word)
    if word in _NUMBERS:
        return _NUMBERS[word]
    parts = word.split()
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in _NUMBERS and _NUMBERS[parts[1]] < 10:
        return _TENS[parts[0]] + _NUMBERS[parts[1]]
    if word in _TENS:
        return _TENS[word]
    if word.endswith(" hundred") and word.split()[0] in _NUMBERS:
        return _NUMBERS[word.split()[0]] * 100
    return None


def _clean_item(text: str) -> str:
    text = squeeze(text).strip()
    text = re.sub(r"^(?:and|&)\s+", "", text)
    text = re.sub(r"[;,]?\s*(?:and)?\s*$", "", text)
    return text.strip(" ;,")


_ABBREVIATION = re.compile(
    r"(?:\b(?:Ltd|Co|Inc|Corp|Bhd|Pte|Jr|Sr|St|Ave|Rd|Blvd|Bldg|No|Dept|Univ|Ind)|\.\w{1,3})\.$"
)


def strip_period(text: str) -> str:
    """The full stop that closes a list item, not the one of "Ltd." or "U.A.E."."""
    text = text.strip()
    if text.endswith(".") and not _ABBREVIATION.search(text):
        return text[:-1].rstrip()
    return text


def split_name_address(text: str) -> tuple[str, str]:
    """ "Example Co., Ltd., Room 1, No. 2 Road, Shenzhen, China." -> name, address.

    The name ends before the first comma-separated part (or sentence) that starts
    like an address; company-form suffixes ("Ltd.", "Inc.") stay with the name.
    """
    text = squeeze(text)
    # "Sample Ltd. Building 1, ...": a full stop, then an address
    for match in re.finditer(r"(?<=\.)\s+(?=\S)", text):
        if _ADDRESS_START.match(text[match.end() :]):
            head = text[: match.start()]
            if not re.search(r"\b(?:No|Nos|Rm|St|Ste|Bldg|Blk|Apt)\.$", head):
                return head.rstrip(" ,"), text[match.end() :]
    parts = text.split(", ")
    for i, part in enumerate(parts[1:], start=1):
        if _ADDRESS_START.match(part) and not _LEGAL.match(part.strip()):
            return ", ".join(parts[:i]).rstrip(" ,"), ", ".join(parts[i:])
    if len(parts) == 1:
        return text.rstrip(" ,"), ""
    end = 1
    while end < len(parts) and _LEGAL.match(parts[end].strip().rstrip(",")):
        end += 1
    return ", ".join(parts[:end]).rstrip(" ,"), ", ".join(parts[end:])


def split_addresses(text: str) -> tuple[str, ...]:
    items = [strip_period(_clean_item(a)) for a in re.split(r";", text)]
    return tuple(a for a in items if a)


def parse_entity_cell(lines: Sequence[str]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The entity cell (its lines, as split at `LI` breaks) into name, aliases and
    addresses. Works on a flattened cell too ("..., a.k.a., the following two
    aliases: —A; and —B. Address.")."""
    lines = [normalise_text(x) for x in lines if x.strip()]
    if not lines:
        return "", (), ()
    text = "\n".join(lines)
    aka = _AKA.search(text)
    if aka is None or aka.start() == 0:
        name, first_address = split_name_address(lines[0])
        others = [first_address, *lines[1:]] if first_address else lines[1:]
        return name, (), split_addresses("; ".join(others))
    name = squeeze(text[: aka.start()]).rstrip(" ,")
    count = word_number(aka.group(1))
    rest = text[aka.end() :]
    if count is None and _DASH not in rest:
        # old style "X, a.k.a., Y, address": one alias inline
        first, _, after = rest.partition("\n")
        alias, address = split_name_address(first.replace(";", ","))
        tail = "; ".join(x for x in (address, after.replace("\n", "; ")) if x.strip())
        return name, (strip_period(_clean_item(alias)),), split_addresses(tail)
    pieces = re.split(rf"\s*{_DASH}\s*", rest)
    lead, items = pieces[0], pieces[1:]
    aliases: list[str] = []
    address_text = lead.strip()
    for i, item in enumerate(items):
        last = i == len(items) - 1
        if "\n" in item:  # the alias line ends; the addresses follow on the next lines
            alias, _, after = item.partition("\n")
            aliases.append(strip_period(_clean_item(alias)))
            address_text = "; ".join(x for x in (address_text, after.replace("\n", "; ")) if x)
        elif last:
            alias, address = _split_last_alias(item, len(aliases) + 1, count)
            aliases.append(alias)
            address_text = "; ".join(x for x in (address_text, address) if x)
        else:
            aliases.append(strip_period(_clean_item(item)))
    return name, tuple(a for a in aliases if a), split_addresses(address_text)


def _split_last_alias(item: str, index: int, count: int | None) -> tuple[str, str]:
    """The last "—alias" of a flattened cell runs into the address."""
    item = squeeze(item)
    for match in re.finditer(r"(?<=[.;])\s+", item):
        head, tail = item[: match.start()], item[match.end() :]
        if _ADDRESS_START.match(tail) or (count is not None and index >= count and tail):
            if re.search(r"\b(?:No|Nos|Rm|St|Ste|Bldg|Blk|Apt|Co)\.$", head):
                continue
            return strip_period(_clean_item(head)), tail
    return strip_period(_clean_item(item)), ""


# --- footnotes ----------------------------------------------------------------------

_SUPERSCRIPTS = {c: str(i) for i, c in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}


def footnotes_in(text: str) -> tuple[int, ...]:
    """Footnote marks in a license-requirement text: Unicode superscripts
    ("734.9(e)(2)⁴") or the digit the CSV flattens a superscript to
    ("§§ 734.9(g),3 746.8(a)(3)")."""
    found: list[int] = []
    for run in re.findall(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+", text):
        found.append(int("".join(_SUPERSCRIPTS[c] for c in run)))
    for match in re.finditer(r"\d{3}\.\d+[a-z]?(?:\([a-z0-9]+\))+,?(\d)(?![\d.(/])", text):
        found.append(int(match.group(1)))
    return tuple(dict.fromkeys(found))


# --- a rule's table -------------------------------------------------------------------

COLUMNS = ("country", "entity", "license", "policy", "citation")
_HEADER_WORDS = (
    ("country", r"country|destination"),
    ("entity", r"entity|name"),
    ("license", r"license requirement"),
    ("policy", r"review policy|policy"),
    ("citation", r"citation|federal register"),
)


def is_entity_table(table: Table) -> bool:
    heads = " | ".join(table.headers).lower()
    return "license requirement" in heads and "entity" in heads


def _columns(table: Table) -> dict[str, int]:
    columns: dict[str, int] = {}
    for i, header in enumerate(table.headers):
        for name, pattern in _HEADER_WORDS:
            if name not in columns and re.search(pattern, header, re.IGNORECASE):
                columns[name] = i
                break
    if len(columns) < 5:
        return {name: i for i, name in enumerate(COLUMNS)}
    return columns


def _is_stars(text: str) -> bool:
    return bool(text) and set(text.replace(" ", "")) <= {"*"}


def entries_from_table(table: Table) -> list[EntityEntry]:
    """The entries of an Entity List GPOTABLE, in printed order. Heading-only rows
    and "* * *" rows are skipped; the country carries down from the row that names it."""
    columns = _columns(table)
    entries: list[EntityEntry] = []
    heading: str | None = None
    for row in table.rows:

        def cell(name: str, row=row):
            i = columns[name]
            return row[i] if i < len(row) else None

        country_cell = cell("country")
        if country_cell is not None and country_cell.text and not _is_stars(country_cell.text):
            heading = normalise_text(country_cell.text)
        entity = cell("entity")
        if entity is None or not entity.text or _is_stars(entity.text):
            continue
        name, aliases, addresses = parse_entity_cell(entity.lines or (entity.text,))
        license_cell = cell("license")
        license_text = normalise_text(license_cell.text) if license_cell else ""
        marks = license_cell.footnotes if license_cell else ()
        footnotes = tuple(int(m) for m in marks if m.strip().isdigit()) or footnotes_in(
            license_text
        )
        policy, citation = cell("policy"), cell("citation")
        entries.append(
            EntityEntry(
                country=country_code(heading),
                name=name,
                aliases=aliases,
                addresses=addresses,
                license_requirement=license_text,
                footnotes=footnotes,
                review_policy=normalise_text(policy.text) if policy else "",
                citation=normalise_text(citation.text) if citation else "",
                country_heading=heading,
                source="fr",
            )
        )
    return entries


def entity_tables(doc: Document) -> list[Table]:
    """The Entity List tables of a rule: those printed under Supplement No. 4 to
    part 744, or any table with the Entity List's columns."""
    out = []
    for section in doc.sections:
        for table in section.tables:
            if section.id == ENTITY_LIST or is_entity_table(table):
                out.append(table)
    return out


# --- the CSL CSV ----------------------------------------------------------------------

ENTITY_LIST_SOURCE = "Entity List (EL) - Bureau of Industry and Security"


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _csl_addresses(text: str) -> tuple[str, ...]:
    items = [_clean_item(a).rstrip(",").strip() for a in re.split(r";", normalise_text(text))]
    return tuple(a for a in items if a)


def _address_country(address: str) -> str | None:
    last = address.rstrip(" .,").rsplit(",", 1)[-1].strip()
    if len(last) == 2 and last.isalpha() and last.isupper():
        return last  # the CSL writes the address country as an ISO code
    return country_code(last)


def parse_csl(
    data: bytes | str, sources: Iterable[str] = (ENTITY_LIST_SOURCE,)
) -> list[EntityEntry]:
    """Entity List rows of a Consolidated Screening List CSV (both the older layout
    and the one with `_id`). Other lists' rows are skipped."""
    wanted = {s.casefold() for s in sources}
    rows = csv.DictReader(io.StringIO(_decode(data)))
    if rows.fieldnames is None or "source" not in rows.fieldnames or "name" not in rows.fieldnames:
        raise ValueError("not a Consolidated Screening List CSV: no 'source' and 'name' columns")
    entries = []
    for row in rows:
        if (row.get("source") or "").strip().casefold() not in wanted:
            continue
        addresses = _csl_addresses(row.get("addresses") or "")
        license_text = normalise_text(row.get("license_requirement") or "")
        aliases = tuple(
            a
            for a in (_clean_item(x) for x in normalise_text(row.get("alt_names") or "").split(";"))
            if a
        )
        entries.append(
            EntityEntry(
                country=_address_country(addresses[0]) if addresses else None,
                name=normalise_text(row.get("name") or ""),
                aliases=aliases,
                addresses=addresses,
                license_requirement=license_text,
                footnotes=footnotes_in(license_text),
                review_policy=normalise_text(row.get("license_policy") or ""),
                citation=normalise_text(row.get("federal_register_notice") or ""),
                source="csl",
            )
        )
    return entries


# --- preamble counts ------------------------------------------------------------------


@dataclass
class PreambleCounts:
    """What a preamble says it adds: "adding four entities under nine entries ...
    under the destinations of Costa Rica (1), Ecuador (1), ...".

    `by_country` is keyed by ISO code; a destination that cannot be mapped stays
    in `unmapped` under its printed name."""

    sentence: str
    entities: int | None = None
    entries: int | None = None
    by_country: dict[str, int] = field(default_factory=dict)
    unmapped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CountMismatch:
    country: str | None  # ISO code, a printed name if unmapped, None for the total
    expected: int  # what the preamble says
    found: int  # what the table holds

    def __str__(self) -> str:
        where = self.country or "total"
        return f"{where}: preamble says {self.expected}, table has {self.found}"


_COUNT = re.compile(r"\((\d+)\)")
_TOTAL = re.compile(
    r"\badd(?:s|ing|ed)?\s+([\w-]+)\s+(?:new\s+)?(?:entities|entity|persons|parties|entries)"
    r"(?:[^.]*?\bunder\s+(?:a\s+total\s+of\s+)?([\w-]+)\s+entr(?:y|ies))?",
    re.IGNORECASE,
)
_LIST_STARTS = (
    re.compile(r"\bdestinations?\s+of\s*:?\s*", re.I),
    re.compile(r"\bunder\s+(?:the\s+)?(?:destinations?\s*:?\s*)?", re.I),
)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.])\s+(?=[A-Z])", squeeze(text)) if s]


def preamble_counts(text: str) -> PreambleCounts | None:
    """The per-destination counts of the first sentence that gives them ("China,
    People's Republic of (China) (11) and Taiwan (1)"), and the totals of the
    sentence that says how many entities are added. None if no counts are given."""
    text = normalise_text(text)
    sentences = _sentences(text)
    total_entities = total_entries = None
    for sentence in sentences:
        found = _TOTAL.search(sentence)
        if found:
            total_entities = word_number(found.group(1))
            total_entries = word_number(found.group(2)) if found.group(2) else None
            if total_entities is not None:
                break
    for sentence in sentences:
        first = _COUNT.search(sentence)
        if first is None or not re.search(r"entit|entr|destination", sentence, re.I):
            continue
        counts = PreambleCounts(sentence, total_entities, total_entries)
        start = 0
        prefix = sentence[: first.start()]
        for pattern in _LIST_STARTS:
            starts = list(pattern.finditer(prefix))
            if starts:
                start = starts[-1].end()
                break
        for match in _COUNT.finditer(sentence):
            chunk = sentence[start : match.start()]
            start = match.end()
            name = re.sub(r"^[\s,;:]*(?:and\s+)?(?:the\s+)?", "", chunk, flags=re.I)
            name = re.sub(r"\s*\([^)]*\)\s*$", "", name).strip(" ,;")
            code = country_code(name) or _last_words_code(name)
            n = int(match.group(1))
            if code:
                counts.by_country[code] = counts.by_country.get(code, 0) + n
            else:
                counts.unmapped[name] = counts.unmapped.get(name, 0) + n
        if counts.by_country or counts.unmapped:
            return counts
    if total_entities is not None:
        return PreambleCounts("", total_entities, total_entries)
    return None


def _last_words_code(name: str) -> str | None:
    words = name.split()
    for n in range(min(5, len(words)), 0, -1):
        code = country_code(" ".join(words[-n:]))
        if code:
            return code
    return None


def cross_check(counts: PreambleCounts, entries: Sequence[EntityEntry]) -> list[CountMismatch]:
    """Every difference between the preamble's counts and the parsed entries (by
    destination, then the total). An empty list means they agree."""
    found = Counter(e.country or "" for e in entries)
    mismatches = []
    for code, expected in counts.by_country.items():
        if found.get(code, 0) != expected:
            mismatches.append(CountMismatch(code, expected, found.get(code, 0)))
    for name, expected in counts.unmapped.items():
        mismatches.append(CountMismatch(name, expected, 0))
    if counts.by_country or counts.unmapped:
        listed = set(counts.by_country)
        for code, n in sorted(found.items()):
            if code not in listed:
                mismatches.append(CountMismatch(code or None, 0, n))
    listed_total = sum(counts.by_country.values()) + sum(counts.unmapped.values())
    total = next(
        (n for n in (counts.entries, counts.entities, listed_total or None) if n is not None), None
    )
    if total is not None and total != len(entries):
        mismatches.append(CountMismatch(None, total, len(entries)))
    return mismatches


# --- a whole rule -------------------------------------------------------------------


@dataclass
class RuleEntities:
    """The Entity List changes of one rule: its table's entries sorted by the action
    its AMDPARs name for them, the preamble's counts and the cross-check."""

    document_number: str | None
    added: list[EntityEntry]
    revised: list[EntityEntry]
    removed: list[tuple[str | None, str]]  # (country, name) named in a removal
    counts: PreambleCounts | None
    mismatches: list[CountMismatch]


def parse_rule(data: bytes | Document) -> RuleEntities:
    """Entity List additions, revisions and removals of an FR rule (XML bytes or a
    parsed document), cross-checked against its SUMMARY's counts."""
    doc = data if isinstance(data, Document) else parse_document(data)
    entries = [e for t in entity_tables(doc) for e in entries_from_table(t)]
    actions: dict[tuple[str, str], str] = {}
    removed: list[tuple[str | None, str]] = []
    country_actions: dict[str, set[str]] = defaultdict(set)
    for amendment in amendments_of(doc):
        if amendment.unit != ENTITY_LIST:
            continue
        code = amendment.country_code or ""
        country_actions[code].add(amendment.action)
        for name in amendment.entries:
            actions[(code, normalise_name(name))] = amendment.action
            if amendment.action == "removed":
                removed.append((amendment.country_code, name))
    added: list[EntityEntry] = []
    revised: list[EntityEntry] = []
    for entry in entries:
        action = actions.get(entry.key)
        if action is None:
            named = country_actions.get(entry.country or "", set()) - {"removed"}
            action = next(iter(named)) if len(named) == 1 else "added"
        (revised if action == "revised" else added).append(entry)
    summary = " ".join(t for t in (doc.summary, doc.supplementary) if t)
    counts = preamble_counts(doc.summary or "") or preamble_counts(summary)
    mismatches = cross_check(counts, added) if counts is not None else []
    return RuleEntities(doc.document_number, added, revised, removed, counts, mismatches)


# --- diff -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryChange:
    key: tuple[str, str]
    old: EntityEntry
    new: EntityEntry
    fields: tuple[str, ...]  # the DIFF_FIELDS that differ


@dataclass
class EntityDiff:
    added: list[EntityEntry]
    removed: list[EntityEntry]
    modified: list[EntryChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.modified)


def merge_duplicates(entries: Iterable[EntityEntry]) -> dict[tuple[str, str], EntityEntry]:
    """One entry per key: rows repeating a key (the CSL lists a person once per
    address) are merged, their aliases and addresses united in order."""
    merged: dict[tuple[str, str], EntityEntry] = {}
    for entry in entries:
        seen = merged.get(entry.key)
        if seen is None:
            merged[entry.key] = entry
            continue
        merged[entry.key] = replace(
            seen,
            aliases=tuple(dict.fromkeys((*seen.aliases, *entry.aliases))),
            addresses=tuple(dict.fromkeys((*seen.addresses, *entry.addresses))),
            footnotes=tuple(dict.fromkeys((*seen.footnotes, *entry.footnotes))),
        )
    return merged


def _comparable(entry: EntityEntry, name: str) -> object:
    value = getattr(entry, name)
    if name == "footnotes":
        return tuple(sorted(value))
    if name in ("aliases", "addresses"):
        return tuple(sorted(normalise_name(v) for v in value))
    return normalise_text(value)


def diff_entries(old: Iterable[EntityEntry], new: Iterable[EntityEntry]) -> EntityDiff:
    """Entries added, removed and modified between two versions of the list, keyed
    by (country, normalised name); a modification names the fields that changed."""
    before, after = merge_duplicates(old), merge_duplicates(new)
    added = [e for k, e in after.items() if k not in before]
    removed = [e for k, e in before.items() if k not in after]
    modified = []
    for key, entry in after.items():
        if key not in before:
            continue
        previous = before[key]
        fields = tuple(f for f in DIFF_FIELDS if _comparable(previous, f) != _comparable(entry, f))
        if fields:
            modified.append(EntryChange(key, previous, entry, fields))
    return EntityDiff(added, removed, modified)
