"""Whole-word phrase search in one pass (Aho-Corasick), for the fixed word lists the
scorer looks for in every document: country names, control-class terms.

A regular expression alternation of such lists is tried at every position of a long
text; the automaton reads the text once, which keeps scoring near grep's speed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import ahocorasick


class Phrases:
    """Find any of `phrases` (phrase -> value) in a text, as whole words."""

    def __init__(self, phrases: Mapping[str, str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for phrase, value in phrases.items():
            self._automaton.add_word(phrase, (len(phrase), value, phrase))
        self._empty = not phrases
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> Iterator[tuple[str, str]]:
        """(value, phrase) of each whole-word hit, in text order."""
        if self._empty:
            return
        for end, (size, value, phrase) in self._automaton.iter(text):
            start = end - size + 1
            before = text[start - 1] if start else " "
            after = text[end + 1] if end + 1 < len(text) else " "
            if not (before.isalnum() or before in "._") and not (after.isalnum() or after == "_"):
                yield value, phrase
