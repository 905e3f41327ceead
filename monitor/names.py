"""Every watched name in a text, found in one pass.

The score looks for every name and alias of every customer and chip, and every
watch term, in every document. One regex per name means tens of thousands of
scans of each document for a real portfolio; `NameIndex` folds each name once
into one Aho-Corasick automaton and finds all of them in one scan of the text.

The rules, the same for every name:
- text and names are folded: NFKC, every run of non-word characters one space;
- a legal form ending a name is dropped ("Huawei Technologies Co., Ltd." is looked
  for as "Huawei Technologies"); a name that is only a legal form ("Ltd.", from a
  YAML flow list split at the comma of "Co., Ltd.") names nobody;
- a short name (5 characters or fewer: SMIC, A100) matches case included, a longer
  one in any case; both as whole words only;
- a name in Chinese or Japanese script matches anywhere, case included (those
  scripts put no spaces between words);
- a hit inside a longer hit of another owner of the same group is a look-alike and
  is dropped: "Biren Capital Partners" names the decoy, not Biren Technology.

Any case means equal under `str.lower`, character by character; `re.IGNORECASE`
also equates a few letters that `str.lower` does not (Turkish dotless ı and i,
final ς and σ), and the index does not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ahocorasick

from monitor.portfolio import Portfolio, derived

Entries = Sequence[tuple[str, Sequence[str]]]  # (owner, the owner's names)

_LEGAL_SUFFIX = re.compile(
    r"\b(co ltd|company limited|co|ltd|limited|inc|incorporated|llc|corp|corporation|"
    r"gmbh|ag|s a|pte ltd|pte|plc|pvt ltd)$",
    re.IGNORECASE,
)
_ASCII = bytes(range(128))
# ASCII bytes that are not word characters become spaces; UTF-8 bytes >= 0x80 pass
_ASCII_NON_WORD = bytes(
    b if chr(b).isalnum() or b == ord("_") or b >= 0x80 else ord(" ") for b in range(256)
)
_SPACES = re.compile(rb"  +")
_WORD = re.compile(r"\w")


def fold(text: str) -> str:
    """Punctuation to spaces, whitespace collapsed, case kept (CJK is kept as word chars).

    Equal to `" ".join(re.sub(r"[^\\w]+", " ", NFKC(text)).split())`, several times
    faster on long texts: ASCII goes through a byte table, and only the few distinct
    other characters of a text are looked at one by one.
    """
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        others = text.encode(errors="surrogatepass").translate(None, _ASCII)
        for char in set(others.decode(errors="surrogatepass")):
            if not _WORD.match(char):
                text = text.replace(char, " ")
    return _SPACES.sub(b" ", text.encode().translate(_ASCII_NON_WORD)).strip(b" ").decode()


def _lower(folded: str) -> str:
    """Lower case of equal length, so that an offset in it is an offset in `folded`."""
    lower = folded.lower()
    if len(lower) == len(folded):
        return lower
    return "".join(low if len(low := char.lower()) == 1 else char for char in folded)


def _has_cjk(text: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" for ch in text)


@dataclass(frozen=True, slots=True)
class _Target:
    """One name of one owner behind an automaton key."""

    group: int
    entry: int  # the owner's place in its group
    name: int  # the name's place among the owner's names
    size: int  # length of the folded name
    shift: int  # characters between the key's end and the name's end (the space after it)
    exact: str | None  # the folded name a hit must equal, case included; None: any case


def _target(name: str, group: int, entry: int, index: int) -> tuple[str, _Target] | None:
    """The automaton key of a name (lower case) and what a hit of it must satisfy.

    Whole-word names are keyed with a space either side and looked for in the
    lower-cased text with a space either side, so only whole words hit.
    """
    folded = fold(name)
    if _has_cjk(folded):
        return _lower(folded), _Target(group, entry, index, len(folded), 0, folded)
    bare = _LEGAL_SUFFIX.sub("", folded).strip()
    if not bare:
        return None
    if len(folded) <= 5:
        return f" {_lower(folded)} ", _Target(group, entry, index, len(folded), 1, folded)
    return f" {_lower(bare)} ", _Target(group, entry, index, len(bare), 1, None)


@dataclass(frozen=True, slots=True)
class _Hit:
    owner: str
    entry: int
    name: int
    start: int
    end: int

    def inside(self, other: _Hit) -> bool:
        return (
            other.owner != self.owner
            and other.start <= self.start
            and self.end <= other.end
            and other.end - other.start > self.end - self.start
        )


class NameIndex:
    """Groups of owners (customers, chips, watch terms) and their names, in one automaton.

    Look-alikes are dropped within a group only: a chip's name does not hide a
    customer's.
    """

    def __init__(self, groups: Mapping[str, Entries]) -> None:
        self.groups = list(groups)
        self._owners = [[owner for owner, _ in entries] for entries in groups.values()]
        self._names = [[list(names) for _, names in entries] for entries in groups.values()]
        keyed: dict[str, list[_Target]] = {}
        for g, entries in enumerate(groups.values()):
            for e, (_, names) in enumerate(entries):
                for n, name in enumerate(names):
                    if (found := _target(name, g, e, n)) is not None:
                        keyed.setdefault(found[0], []).append(found[1])
        self._automaton: ahocorasick.Automaton | None = None
        if keyed:
            self._automaton = ahocorasick.Automaton()
            for key, targets in keyed.items():
                self._automaton.add_word(key, tuple(targets))
            self._automaton.make_automaton()

    def find(self, text: str) -> dict[str, dict[str, str]]:
        """Per group, the owners `text` names, each with the first of its names named."""
        hits: list[list[_Hit]] = [[] for _ in self.groups]
        if self._automaton is not None:
            folded = fold(text)
            last_end: dict[_Target, int] = {}  # a name's hits do not overlap (as re.finditer)
            for key_end, targets in self._automaton.iter(f" {_lower(folded)} "):
                for t in targets:
                    end = key_end - t.shift
                    start = end - t.size
                    if start < last_end.get(t, 0):
                        continue
                    if t.exact is not None and folded[start:end] != t.exact:
                        continue
                    last_end[t] = end
                    owner = self._owners[t.group][t.entry]
                    hits[t.group].append(_Hit(owner, t.entry, t.name, start, end))
        return {group: self._kept(g, hits[g]) for g, group in enumerate(self.groups)}

    def _kept(self, group: int, hits: list[_Hit]) -> dict[str, str]:
        """Owners with a hit that is no look-alike, in the order the group lists them."""
        kept: dict[str, str] = {}
        for hit in sorted(hits, key=lambda h: (h.entry, h.name)):
            if not any(hit.inside(other) for other in hits):
                kept.setdefault(hit.owner, self._names[group][hit.entry][hit.name])
        return kept


def portfolio_index(portfolio: Portfolio) -> NameIndex:
    """The index of a portfolio's customers, chips and watch terms, built on first use
    (see `monitor.portfolio.derived`)."""
    return derived(portfolio, "names", _build)


def _build(portfolio: Portfolio) -> NameIndex:
    return NameIndex(
        {
            "customers": [(c.id, c.match_names) for c in portfolio.customers],
            "chips": [(c.id, c.match_names) for c in portfolio.chips],
            "watch_terms": [(t, [t]) for t in portfolio.watch_terms],
        }
    )
