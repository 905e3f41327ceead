"""The fast line and word matching behind `monitor diff` (`monitor.matching`), against
difflib on the REAL daily issue of 2016-04-15 (tests/fixtures/fr_xml/PROVENANCE.md);
the edits made to it here, and the short texts, are placeholders written for these
tests, not regulatory text."""

from __future__ import annotations

import difflib
import itertools
import random
from pathlib import Path

import pytest

from monitor.diff import units_from_fr, word_diff
from monitor.matching import equal_runs, opcodes, quick_opcodes

ISSUE = Path(__file__).resolve().parent / "fixtures" / "fr_xml" / "FR-2016-04-15_full_issue.xml"


@pytest.fixture(scope="module")
def texts() -> list[list[str]]:
    """The texts of the real issue's units, by section."""
    units, _ = units_from_fr(ISSUE.read_bytes())
    by_section = itertools.groupby(units, key=lambda u: u.section)
    return [[u.text for u in group] for _, group in by_section]


@pytest.fixture(scope="module")
def lines(texts: list[list[str]]) -> list[str]:
    """The lines of the longest document of the real issue (~22,000)."""
    return max(texts, key=len)


def difflib_runs(a: list[str], b: list[str]) -> list[tuple[int, int, int]]:
    blocks = difflib.SequenceMatcher(None, a, b).get_matching_blocks()
    return [tuple(block) for block in blocks if block.size]


def test_equal_runs_are_difflibs_on_a_real_document_with_scattered_edits_and_a_moved_block(
    lines: list[str],
) -> None:
    assert len(lines) > 20_000
    edited = list(lines)
    for k in range(100, len(edited), 997):  # ~20 edits spread over the whole document
        edited[k] = edited[k].replace(" ", " EDITED ", 1)
    del edited[5_000:5_003]
    edited.insert(300, "A line added at the start.")
    block = edited[8_000:8_008]
    del edited[8_000:8_008]
    edited[15_000:15_000] = block  # moved further down
    runs = equal_runs(lines, edited)
    assert runs == difflib_runs(lines, edited)
    assert sum(n for _, _, n in runs) > len(lines) - 40


def test_equal_runs_are_equal_and_in_order_where_no_line_is_unique() -> None:
    rng = random.Random(7)
    for _ in range(300):
        a = [str(rng.randrange(4)) for _ in range(rng.randrange(400))]
        b = list(a)
        for _ in range(rng.randrange(8)):
            b.insert(rng.randrange(len(b) + 1), str(rng.randrange(4)))
        i0 = j0 = 0
        for i, j, n in equal_runs(a, b):
            assert i >= i0 and j >= j0 and n > 0
            assert a[i : i + n] == b[j : j + n]
            i0, j0 = i + n, j + n
    assert equal_runs(["x"] * 3, ["x"] * 3) == [(0, 0, 3)]
    assert equal_runs(["x", "y"], ["z"]) == []


def test_quick_opcodes_are_difflibs() -> None:
    for m, n in itertools.product(range(3), repeat=2):
        for a in itertools.product("xy", repeat=m):
            for b in itertools.product("xy", repeat=n):
                for junk in (True, False):
                    expected = difflib.SequenceMatcher(None, a, b, autojunk=junk).get_opcodes()
                    assert quick_opcodes(a, b, junk) == expected, (a, b)


def test_opcodes_of_a_paragraph_revised_in_one_word_are_difflibs(
    texts: list[list[str]],
) -> None:
    rng = random.Random(3)
    paragraphs = [text for section in texts for text in section if len(text.split()) > 30]
    for line in rng.sample(paragraphs, 200):
        a = line.split()
        b = list(a)
        b[rng.randrange(len(b))] = "EDITED"
        assert opcodes(a, b) == difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def test_word_diffs_match_the_shared_start_first() -> None:
    # a quoted word printed twice: the second one is the insertion
    words = word_diff(
        "The term “item” means a test item.", 'The term "item" "item" means a test item.'
    )
    assert words == [
        ("equal", 'The term "item" '),
        ("insert", '"item"'),
        ("equal", " means a test item."),
    ]
